// Mixed traffic, the three at once:
//   - async:    StartExecution at RATE per second (open model), each VU remembering what it
//               started;
//   - describe: in the same iterations, DescribeExecution of the execution the VU started the
//               iteration before (k6 VUs share no memory, so each describes its own starts),
//               which must be known and RUNNING or SUCCEEDED;
//   - sync:     VUS callers of StartSyncExecution (closed model).
//
//   RATE      asynchronous starts per second (500)
//   VUS       synchronous callers (4)
//   DURATION  how long (30s)
//   MAX_VUS   most VUs for the asynchronous part (max(50, RATE/20))
//   PRE_VUS   VUs connected before the measured part (max(50, RATE/100), at most MAX_VUS):
//             a VU k6 adds mid-run connects first, and starts are dropped meanwhile
//   P99_MS    the p99 latency the thresholds accept, for every kind of call (250)
// plus ENDPOINT, STATE_MACHINE_ARN, INPUT_FILE (lib.js).
import { DURATION, WARMUP, warmupScenario, INPUT, STATE_MACHINE_ARN, callThresholds, invoke, seconds, summaryTrendStats } from './lib.js';

const RATE = parseInt(__ENV.RATE || '500', 10);
const VUS = parseInt(__ENV.VUS || '4', 10);
const MAX_VUS = parseInt(__ENV.MAX_VUS || String(Math.max(50, Math.ceil(RATE / 20))), 10);
// VUs connected before the measured part begins.
const PRE_VUS = Math.min(MAX_VUS, parseInt(__ENV.PRE_VUS || String(Math.max(50, Math.ceil(RATE / 100))), 10));

export const options = {
  scenarios: {
    warmup: warmupScenario(PRE_VUS + VUS),
    async: {
      executor: 'constant-arrival-rate',
      startTime: WARMUP,
      exec: 'startAndDescribe',
      rate: RATE,
      timeUnit: '1s',
      duration: DURATION,
      preAllocatedVUs: PRE_VUS,
      maxVUs: MAX_VUS,
    },
    sync: { executor: 'constant-vus', exec: 'sync', vus: VUS, duration: DURATION, startTime: WARMUP },
  },
  thresholds: {
    ...callThresholds('start'),
    ...callThresholds('describe'),
    ...callThresholds('sync'),
    'dropped_iterations{scenario:async}': [`count<=${Math.floor(RATE * seconds(DURATION) * 0.01)}`],
  },
  summaryTrendStats,
};

// The execution this VU started last, described on its next iteration.
let previous = null;

export function startAndDescribe() {
  if (previous !== null) {
    invoke('Executions/DescribeExecution', { executionArn: previous }, 'describe', (m) =>
      ['RUNNING', 'SUCCEEDED'].includes(m.status),
    );
  }
  const started = invoke(
    'Executions/StartExecution',
    { stateMachineArn: STATE_MACHINE_ARN, input: INPUT },
    'start',
    (m) => String(m.executionArn || '').startsWith('arn:'),
  );
  previous = started ? started.executionArn : null;
}

export function sync() {
  invoke(
    'Executions/StartSyncExecution',
    { stateMachineArn: STATE_MACHINE_ARN, input: INPUT },
    'sync',
    (m) => m.status === 'SUCCEEDED',
  );
}

export { warmup } from './lib.js';
