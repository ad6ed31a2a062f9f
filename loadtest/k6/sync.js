// Closed model: VUS callers, each calling StartSyncExecution again as soon as the previous
// call answered, so the rate is whatever the server's latency allows.
//
//   VUS       concurrent callers (8)
//   DURATION  how long (30s)
//   P99_MS    the p99 latency the thresholds accept (250)
// plus ENDPOINT, STATE_MACHINE_ARN, INPUT_FILE (lib.js).
import { DURATION, WARMUP, warmupScenario, INPUT, STATE_MACHINE_ARN, VUS, callThresholds, invoke, summaryTrendStats } from './lib.js';

export const options = {
  scenarios: {
    warmup: warmupScenario(VUS),
    sync: { executor: 'constant-vus', vus: VUS, duration: DURATION, startTime: WARMUP },
  },
  thresholds: callThresholds('sync'),
  summaryTrendStats,
};

export default function () {
  // An answer counts only if the execution itself succeeded.
  invoke(
    'Executions/StartSyncExecution',
    { stateMachineArn: STATE_MACHINE_ARN, input: INPUT },
    'sync',
    (m) => m.status === 'SUCCEEDED',
  );
}

export { warmup } from './lib.js';
