// The AWS SDK for JavaScript v3 (@aws-sdk/client-sfn), unmodified, against the endpoint given
// as the first argument: the calls a JS user makes first, each answer checked. Run by
// services/cli/tests/aws_api.rs; exits non-zero at the first check that fails.
import assert from 'node:assert/strict';
import {
  SFNClient,
  CreateStateMachineCommand,
  DescribeStateMachineCommand,
  StartExecutionCommand,
  StartSyncExecutionCommand,
  DescribeExecutionCommand,
  TestStateCommand,
  StateMachineDoesNotExist,
} from '@aws-sdk/client-sfn';

const endpoint = process.argv[2];
// StartSyncExecution and TestState are modelled with the host prefix `sync-`: disableHostPrefix
// keeps the endpoint as given (sync-127.0.0.1 does not resolve).
const sfn = new SFNClient({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  disableHostPrefix: true,
  maxAttempts: 1,
});

const definition = JSON.stringify({
  StartAt: 'Greet',
  States: { Greet: { Type: 'Pass', Parameters: { 'greeting.$': "States.Format('Hello, {}!', $.name)" }, End: true } },
});
const created = await sfn.send(new CreateStateMachineCommand({
  name: 'js-hello', definition, roleArn: 'arn:aws:iam::000000000000:role/unused', type: 'EXPRESS',
}));
assert.match(created.stateMachineArn, /:stateMachine:js-hello$/);
assert.ok(created.creationDate instanceof Date, 'creationDate is a Date');

const described = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: created.stateMachineArn }));
assert.equal(described.name, 'js-hello');
assert.equal(described.type, 'EXPRESS');
assert.deepEqual(JSON.parse(described.definition), JSON.parse(definition));

const sync = await sfn.send(new StartSyncExecutionCommand({
  stateMachineArn: created.stateMachineArn, input: JSON.stringify({ name: 'js' }),
}));
assert.equal(sync.status, 'SUCCEEDED');
assert.deepEqual(JSON.parse(sync.output), { greeting: 'Hello, js!' });
assert.ok(sync.stopDate instanceof Date && sync.startDate instanceof Date);

const started = await sfn.send(new StartExecutionCommand({
  stateMachineArn: created.stateMachineArn, name: 'js-1', input: JSON.stringify({ name: 'async' }),
}));
let execution;
for (let i = 0; i < 100; i++) {
  execution = await sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
  if (execution.status !== 'RUNNING') break;
  await new Promise((r) => setTimeout(r, 50));
}
assert.equal(execution.status, 'SUCCEEDED');
assert.equal(execution.name, 'js-1');

const tested = await sfn.send(new TestStateCommand({
  definition: JSON.stringify({ Type: 'Pass', Result: { ok: true }, ResultPath: '$.r', End: true }),
  input: '{"a":1}',
  inspectionLevel: 'DEBUG',
}));
assert.equal(tested.status, 'SUCCEEDED');
assert.deepEqual(JSON.parse(tested.output), { a: 1, r: { ok: true } });
assert.deepEqual(JSON.parse(tested.inspectionData.afterResultPath), { a: 1, r: { ok: true } });

// Errors arrive as the SDK's own exception classes.
await assert.rejects(
  sfn.send(new DescribeStateMachineCommand({ stateMachineArn: `${created.stateMachineArn}-missing` })),
  (e) => e instanceof StateMachineDoesNotExist && e.$metadata.httpStatusCode === 400,
);

console.log('js sdk v3 passed');
