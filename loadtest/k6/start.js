// Open model: StartExecution at a constant arrival rate, whatever the latency; k6 adds VUs
// (up to MAX_VUS) when answers slow down and counts the starts it could not make in time as
// dropped_iterations.
//
//   RATE      starts per second (1000)
//   DURATION  how long (30s)
//   MAX_VUS   most concurrent callers k6 may use (max(50, RATE/20))
//   PRE_VUS   VUs connected before the measured part (max(50, RATE/100), at most MAX_VUS):
//             a VU k6 adds mid-run connects first, and starts are dropped meanwhile
//   P99_MS    the p99 latency the thresholds accept (250)
// plus ENDPOINT, STATE_MACHINE_ARN, INPUT_FILE (lib.js).
import { DURATION, WARMUP, warmupScenario, INPUT, RATE, STATE_MACHINE_ARN, callThresholds, invoke, seconds, summaryTrendStats } from './lib.js';

const MAX_VUS = parseInt(__ENV.MAX_VUS || String(Math.max(50, Math.ceil(RATE / 20))), 10);
// VUs connected before the measured part begins.
const PRE_VUS = Math.min(MAX_VUS, parseInt(__ENV.PRE_VUS || String(Math.max(50, Math.ceil(RATE / 100))), 10));

export const options = {
  scenarios: {
    warmup: warmupScenario(PRE_VUS),
    start: {
      executor: 'constant-arrival-rate',
      startTime: WARMUP,
      rate: RATE,
      timeUnit: '1s',
      duration: DURATION,
      preAllocatedVUs: PRE_VUS,
      maxVUs: MAX_VUS,
    },
  },
  thresholds: {
    ...callThresholds('start'),
    // The rate was held: at most 1 % of the planned starts were dropped.
    'dropped_iterations{scenario:start}': [`count<=${Math.floor(RATE * seconds(DURATION) * 0.01)}`],
  },
  summaryTrendStats,
};

export default function () {
  invoke(
    'Executions/StartExecution',
    { stateMachineArn: STATE_MACHINE_ARN, input: INPUT },
    'start',
    (m) => String(m.executionArn || '').startsWith('arn:'),
  );
}

export { warmup } from './lib.js';
