// Shared pieces of the k6 scripts: parameters from the environment, the gRPC connection
// (through server reflection: no protos needed) and the checks every call goes through.
//
// Parameters (environment variables, `k6 run -e NAME=value` works too):
//   ENDPOINT           host:port of the gRPC API (an http:// prefix is dropped); 127.0.0.1:50051
//   STATE_MACHINE_ARN  what to start; the `hello` example by default
//   INPUT_FILE         the execution input (JSON); examples/hello.input.json by default
//   RATE, DURATION, VUS, P99_MS: see each script.
import grpc from 'k6/net/grpc';
import { check } from 'k6';
import { Rate } from 'k6/metrics';

export const ENDPOINT = (__ENV.ENDPOINT || '127.0.0.1:50051').replace(/^https?:\/\//, '');
export const STATE_MACHINE_ARN =
  __ENV.STATE_MACHINE_ARN || 'arn:aws:states:us-east-1:000000000000:stateMachine:hello';
export const DURATION = __ENV.DURATION || '30s';
export const RATE = parseInt(__ENV.RATE || '1000', 10);
export const VUS = parseInt(__ENV.VUS || '8', 10);
// p99 latency the thresholds accept, in milliseconds. Generous by default: the load generator
// usually shares the machine with the server.
export const P99_MS = parseFloat(__ENV.P99_MS || '250');

// open() resolves relative paths against this file, so the default works from any directory.
// Parsed and re-serialised once here: a malformed input fails at start, not per call.
export const INPUT = JSON.stringify(JSON.parse(open(__ENV.INPUT_FILE || '../../examples/hello.input.json')));

// One share of calls that failed (gRPC status not OK, or an unexpected answer), per call kind
// through the `call` tag; thresholds hold it under 1 %.
export const callErrors = new Rate('call_errors');

// Duration string ("30s", "2m", "1m30s", "500ms") to seconds, for thresholds that scale with
// the run's length.
export function seconds(d) {
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let m;
  while ((m = re.exec(d)) !== null) {
    total += parseFloat(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2]];
  }
  if (total === 0) throw new Error(`cannot read the duration ${d}`);
  return total;
}

// Each VU has its own JavaScript runtime and so its own client; it connects on its first
// iteration (connecting is not allowed in the init context) and keeps the connection.
const client = new grpc.Client();
let connected = false;

export function connect() {
  if (!connected) {
    client.connect(ENDPOINT, { plaintext: true, reflect: true, timeout: '10s' });
    connected = true;
  }
}

// Connecting through reflection takes a VU tens of milliseconds (more on a busy machine), and
// an arrival-rate scenario counts the starts it cannot make meanwhile as dropped. So each script
// first runs this warm-up scenario: WARMUP_VUS VUs connect once, then return to k6's pool, from
// which the measured scenarios (starting at WARMUP, 2s by default) take them already connected.
// The warm-up's calls are none: it makes no requests besides reflection.
export const WARMUP = __ENV.WARMUP || '2s';
export function warmupScenario(vus) {
  return { executor: 'per-vu-iterations', exec: 'warmup', vus, iterations: 1, maxDuration: WARMUP, gracefulStop: '0s' };
}
export function warmup() {
  connect();
}

// Invoke `expressway.v1.<method>` with `request`; the `call` tag separates the kinds of calls
// in the metrics (grpc_req_duration{call:start}…). `ok` checks the answer beyond its status.
// Returns the response message, or null when the call failed.
export function invoke(method, request, call, ok) {
  connect();
  const tags = { call };
  const res = client.invoke(`expressway.v1.${method}`, request, { tags, timeout: '30s' });
  const good = check(
    res,
    {
      [`${call}: status OK`]: (r) => r && r.status === grpc.StatusOK,
      [`${call}: expected answer`]: (r) => r && r.status === grpc.StatusOK && (!ok || ok(r.message)),
    },
    tags,
  );
  callErrors.add(!good, tags);
  return good ? res.message : null;
}

// The thresholds of one kind of call: under 1 % errors and the p99 bound.
export function callThresholds(call) {
  return {
    [`call_errors{call:${call}}`]: ['rate<0.01'],
    [`grpc_req_duration{call:${call}}`]: [`p(99)<${P99_MS}`],
  };
}

// The statistics the end-of-test summary shows for every Trend (latencies).
export const summaryTrendStats = ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'];
