"""The AWS JSON protocol driven by boto3, unmodified: every operation Expressway offers and
each error's exception name, against the endpoint given as the first argument. Run by
services/cli/tests/aws_api.rs; exits non-zero at the first assertion that fails."""

import json
import sys
import time
from datetime import datetime

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = sys.argv[1]
ROLE = "arn:aws:iam::000000000000:role/unused"
PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"hello": "world"}, "End": True}}})
ECHO = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
FAIL = json.dumps({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Oops", "Cause": "on purpose"}}})
WAIT = json.dumps({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 30, "End": True}}})

# StartSyncExecution is modelled with the host prefix `sync-`: boto3 would send it to
# sync-127.0.0.1, which does not resolve. inject_host_prefix=False keeps the endpoint as given.
sfn = boto3.client(
    "stepfunctions",
    endpoint_url=ENDPOINT,
    region_name="us-east-1",
    aws_access_key_id="test",
    aws_secret_access_key="test",
    config=Config(inject_host_prefix=False, retries={"max_attempts": 1}),
)


def error_code(call, **kwargs):
    try:
        call(**kwargs)
    except ClientError as e:
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400, e.response
        return e.response["Error"]["Code"]
    raise AssertionError(f"{call.__name__} {kwargs} succeeded; an error was expected")


def expect_error(code, call, **kwargs):
    got = error_code(call, **kwargs)
    assert got == code, f"{call.__name__}: expected {code}, got {got}"
    print(f"ok {code} from {call.__name__}")


# Create, describe, update. Expressway keeps an Express execution's history as AWS logs it:
# by the state machine's logging configuration.
LOGGING = {"level": "ALL", "includeExecutionData": True}
created = sfn.create_state_machine(name="hello", definition=PASS, roleArn=ROLE, type="EXPRESS", loggingConfiguration=LOGGING)
arn = created["stateMachineArn"]
assert arn.endswith(":stateMachine:hello"), arn
assert isinstance(created["creationDate"], datetime), created
d = sfn.describe_state_machine(stateMachineArn=arn)
assert d["name"] == "hello" and d["type"] == "EXPRESS" and d["status"] == "ACTIVE", d
assert json.loads(d["definition"]) == json.loads(PASS), d
assert d["loggingConfiguration"] == LOGGING, d
updated = sfn.update_state_machine(stateMachineArn=arn, definition=ECHO)
assert updated["revisionId"] and isinstance(updated["updateDate"], datetime), updated
assert json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"]) == json.loads(ECHO)
sfn.update_state_machine(stateMachineArn=arn, definition=PASS)
print("ok create, describe, update")

# List, page by page and through boto3's paginator.
for i in range(4):
    sfn.create_state_machine(name=f"page-{i}", definition=PASS, roleArn=ROLE, type="EXPRESS")
first = sfn.list_state_machines(maxResults=2)
assert len(first["stateMachines"]) == 2 and first.get("nextToken"), first
names = [m["name"] for m in first["stateMachines"]]
token = first["nextToken"]
while token:
    page = sfn.list_state_machines(maxResults=2, nextToken=token)
    names += [m["name"] for m in page["stateMachines"]]
    token = page.get("nextToken")
assert sorted(names) == sorted(["hello"] + [f"page-{i}" for i in range(4)]), names
paged = [m["name"] for p in sfn.get_paginator("list_state_machines").paginate(PaginationConfig={"PageSize": 3}) for m in p["stateMachines"]]
assert sorted(paged) == sorted(names), paged
print("ok list with pagination")

# Synchronous executions: success and failure.
sync = sfn.start_sync_execution(stateMachineArn=arn, name="sync-1", input='{"a":1}')
assert sync["status"] == "SUCCEEDED", sync
assert json.loads(sync["output"]) == {"hello": "world"}, sync
assert sync["input"] == '{"a":1}' and sync["name"] == "sync-1", sync
assert isinstance(sync["startDate"], datetime) and sync["stopDate"] >= sync["startDate"], sync
assert sync["billingDetails"]["billedDurationInMilliseconds"] >= 100, sync
fail_arn = sfn.create_state_machine(name="fails", definition=FAIL, roleArn=ROLE, type="EXPRESS")["stateMachineArn"]
failed = sfn.start_sync_execution(stateMachineArn=fail_arn)
assert failed["status"] == "FAILED" and failed["error"] == "Oops" and failed["cause"] == "on purpose", failed
assert "output" not in failed, failed
print("ok start_sync_execution")

# Asynchronous execution, described until it ends, then its history.
started = sfn.start_execution(stateMachineArn=arn, name="async-1", input='{"b":2}')
exec_arn = started["executionArn"]
assert isinstance(started["startDate"], datetime), started
for _ in range(200):
    desc = sfn.describe_execution(executionArn=exec_arn)
    if desc["status"] != "RUNNING":
        break
    time.sleep(0.05)
assert desc["status"] == "SUCCEEDED" and json.loads(desc["output"]) == {"hello": "world"}, desc
assert desc["stateMachineArn"] == arn and desc["name"] == "async-1" and desc["input"] == '{"b":2}', desc
# The same name and input again is the same execution; another input is a conflict.
assert sfn.start_execution(stateMachineArn=arn, name="async-1", input='{"b":2}')["executionArn"] == exec_arn
expect_error("ExecutionAlreadyExists", sfn.start_execution, stateMachineArn=arn, name="async-1", input='{"b":3}')
history = sfn.get_execution_history(executionArn=exec_arn)
types = [e["type"] for e in history["events"]]
assert types[0] == "ExecutionStarted" and types[-1] == "ExecutionSucceeded", types
assert json.loads(history["events"][0]["executionStartedEventDetails"]["input"]) == {"b": 2}, history["events"][0]
entered = next(e for e in history["events"] if e["type"] == "PassStateEntered")
assert entered["stateEnteredEventDetails"]["name"] == "P", entered
one = sfn.get_execution_history(executionArn=exec_arn, maxResults=1, reverseOrder=True)
assert [e["type"] for e in one["events"]] == ["ExecutionSucceeded"] and one["nextToken"], one
rest = sfn.get_execution_history(executionArn=exec_arn, maxResults=1000, reverseOrder=True, nextToken=one["nextToken"])
assert len(rest["events"]) == len(types) - 1 and "nextToken" not in rest, rest
for_exec = sfn.describe_state_machine_for_execution(executionArn=exec_arn)
assert for_exec["stateMachineArn"] == arn and json.loads(for_exec["definition"]) == json.loads(PASS), for_exec
print("ok start_execution, describe_execution, get_execution_history, describe_state_machine_for_execution")

# Stop a running execution.
wait_arn = sfn.create_state_machine(name="waits", definition=WAIT, roleArn=ROLE, type="EXPRESS")["stateMachineArn"]
running = sfn.start_execution(stateMachineArn=wait_arn)["executionArn"]
stopped = sfn.stop_execution(executionArn=running, error="Halt", cause="by the test")
assert isinstance(stopped["stopDate"], datetime), stopped
desc = sfn.describe_execution(executionArn=running)
assert desc["status"] == "ABORTED" and desc["error"] == "Halt" and desc["cause"] == "by the test", desc
print("ok stop_execution")

# Validation.
ok = sfn.validate_state_machine_definition(definition=PASS, type="EXPRESS")
assert ok["result"] == "OK" and ok["diagnostics"] == [], ok
bad = sfn.validate_state_machine_definition(definition='{"StartAt": "Nowhere", "States": {}}', type="EXPRESS")
assert bad["result"] == "FAIL" and bad["diagnostics"], bad
assert all(d["severity"] == "ERROR" and d["code"] and d["message"] for d in bad["diagnostics"]), bad
print("ok validate_state_machine_definition")

# Versions, aliases, tags.
v1 = sfn.publish_state_machine_version(stateMachineArn=arn, description="first")["stateMachineVersionArn"]
assert v1 == arn + ":1", v1
alias = sfn.create_state_machine_alias(name="live", routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 100}])
alias_arn = alias["stateMachineAliasArn"]
assert alias_arn == arn + ":live", alias
described = sfn.describe_state_machine_alias(stateMachineAliasArn=alias_arn)
assert described["name"] == "live" and described["routingConfiguration"] == [{"stateMachineVersionArn": v1, "weight": 100}], described
via_alias = sfn.start_sync_execution(stateMachineArn=alias_arn)
assert via_alias["status"] == "SUCCEEDED", via_alias
sfn.update_state_machine(stateMachineArn=arn, definition=ECHO)
v2 = sfn.publish_state_machine_version(stateMachineArn=arn)["stateMachineVersionArn"]
assert v2 == arn + ":2", v2
versions = sfn.list_state_machine_versions(stateMachineArn=arn, maxResults=1)
assert [v["stateMachineVersionArn"] for v in versions["stateMachineVersions"]] == [v2] and versions["nextToken"], versions
older = sfn.list_state_machine_versions(stateMachineArn=arn, nextToken=versions["nextToken"])
assert [v["stateMachineVersionArn"] for v in older["stateMachineVersions"]] == [v1] and "nextToken" not in older, older
aliases = sfn.list_state_machine_aliases(stateMachineArn=arn)["stateMachineAliases"]
assert [a["stateMachineAliasArn"] for a in aliases] == [alias_arn] and isinstance(aliases[0]["creationDate"], datetime), aliases
expect_error("InvalidToken", sfn.list_state_machine_versions, stateMachineArn=arn, nextToken="not-a-token")
# Re-route the alias to both versions, then to v2 alone, and delete it.
split = [{"stateMachineVersionArn": v1, "weight": 30}, {"stateMachineVersionArn": v2, "weight": 70}]
sfn.update_state_machine_alias(stateMachineAliasArn=alias_arn, description="canary", routingConfiguration=split)
described = sfn.describe_state_machine_alias(stateMachineAliasArn=alias_arn)
assert described["description"] == "canary" and described["routingConfiguration"] == split, described
assert described["updateDate"] >= described["creationDate"], described
sfn.update_state_machine_alias(stateMachineAliasArn=alias_arn, routingConfiguration=[{"stateMachineVersionArn": v2, "weight": 100}])
assert sfn.start_sync_execution(stateMachineArn=alias_arn, input='{"x":1}')["output"] == '{"x":1}', "v2 (ECHO) answers"
expect_error("ResourceNotFound", sfn.update_state_machine_alias, stateMachineAliasArn=arn + ":nope", description="x")
expect_error("ValidationException", sfn.update_state_machine_alias, stateMachineAliasArn=alias_arn, routingConfiguration=[{"stateMachineVersionArn": v2, "weight": 99}])
# A version an alias routes to cannot be deleted; once the alias is gone it can, and deleting
# a version that is not there is no error, as on AWS.
expect_error("ConflictException", sfn.delete_state_machine_version, stateMachineVersionArn=v2)
sfn.delete_state_machine_alias(stateMachineAliasArn=alias_arn)
assert sfn.list_state_machine_aliases(stateMachineArn=arn)["stateMachineAliases"] == []
expect_error("ResourceNotFound", sfn.describe_state_machine_alias, stateMachineAliasArn=alias_arn)
sfn.delete_state_machine_version(stateMachineVersionArn=v1)
sfn.delete_state_machine_version(stateMachineVersionArn=v1)
remaining = sfn.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"]
assert [v["stateMachineVersionArn"] for v in remaining] == [v2], remaining
expect_error("StateMachineDoesNotExist", sfn.start_execution, stateMachineArn=v1)
expect_error("InvalidArn", sfn.delete_state_machine_version, stateMachineVersionArn=arn)
print("ok delete_state_machine_version")
tagged = sfn.create_state_machine(name="tagged", definition=PASS, roleArn=ROLE, type="EXPRESS", tags=[{"key": "team", "value": "core"}])
assert sfn.list_tags_for_resource(resourceArn=tagged["stateMachineArn"])["tags"] == [{"key": "team", "value": "core"}]
sfn.tag_resource(resourceArn=tagged["stateMachineArn"], tags=[{"key": "env", "value": "prod"}, {"key": "team", "value": "edge"}])
sfn.untag_resource(resourceArn=tagged["stateMachineArn"], tagKeys=["env"])
assert sfn.list_tags_for_resource(resourceArn=tagged["stateMachineArn"])["tags"] == [{"key": "team", "value": "edge"}]
expect_error("ResourceNotFound", sfn.tag_resource, resourceArn=arn.replace(":hello", ":missing"), tags=[{"key": "a", "value": "b"}])
print("ok versions, aliases (create, describe, list, update, delete), tags (tag, untag, list)")

# Errors, each with AWS's exception name.
missing = arn.replace(":hello", ":missing")
expect_error("StateMachineAlreadyExists", sfn.create_state_machine, name="hello", definition=FAIL, roleArn=ROLE, type="EXPRESS")
expect_error("InvalidDefinition", sfn.create_state_machine, name="broken", definition='{"StartAt": "X"}', roleArn=ROLE)
expect_error("InvalidName", sfn.create_state_machine, name="no spaces allowed", definition=PASS, roleArn=ROLE)
expect_error("StateMachineDoesNotExist", sfn.describe_state_machine, stateMachineArn=missing)
expect_error("StateMachineDoesNotExist", sfn.start_execution, stateMachineArn=missing)
expect_error("InvalidArn", sfn.describe_state_machine, stateMachineArn="not-an-arn")
expect_error("InvalidArn", sfn.start_sync_execution, stateMachineArn="not-an-arn")
expect_error("ExecutionDoesNotExist", sfn.describe_execution, executionArn=exec_arn.replace("async-1", "nope"))
expect_error("ExecutionDoesNotExist", sfn.get_execution_history, executionArn=exec_arn.replace("async-1", "nope"))
expect_error("InvalidExecutionInput", sfn.start_execution, stateMachineArn=arn, input="{not json")
expect_error("InvalidExecutionInput", sfn.start_sync_execution, stateMachineArn=arn, input="x" * (256 * 1024 + 1))
expect_error("StateMachineTypeNotSupported", sfn.list_executions, stateMachineArn=arn)
expect_error("ResourceNotFound", sfn.describe_state_machine_alias, stateMachineAliasArn=arn + ":nope")
expect_error("ValidationException", sfn.create_state_machine_alias, name="split", routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 50}])

# TestState: one state alone, its Task mocked (nothing is called), at DEBUG with the data flow.
TASK = json.dumps({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "Done",
                   "Parameters": {"FunctionName": "price", "Payload.$": "$.order"},
                   "ResultSelector": {"total.$": "$.Payload.total"}, "ResultPath": "$.price",
                   "Catch": [{"ErrorEquals": ["Lambda.Unknown"], "ResultPath": "$.failure", "Next": "Recover"}]})
tested = sfn.test_state(definition=TASK, roleArn=ROLE, input='{"order": {"id": 7}}', inspectionLevel="DEBUG",
                        mock={"result": json.dumps({"StatusCode": 200, "Payload": {"total": 42}})})
assert tested["status"] == "SUCCEEDED" and tested["nextState"] == "Done", tested
assert json.loads(tested["output"]) == {"order": {"id": 7}, "price": {"total": 42}}, tested
data = tested["inspectionData"]
assert json.loads(data["afterParameters"]) == {"FunctionName": "price", "Payload": {"id": 7}}, data
assert json.loads(data["result"]) == {"StatusCode": 200, "Payload": {"total": 42}}, data
assert json.loads(data["afterResultSelector"]) == {"total": 42}, data
# A mocked error the Catch takes: CAUGHT_ERROR, on to the catcher's Next, its ResultPath applied.
caught = sfn.test_state(definition=TASK, input='{"order": {"id": 7}}', inspectionLevel="INFO",
                        mock={"errorOutput": {"error": "Lambda.Unknown", "cause": "gone"}})
assert caught["status"] == "CAUGHT_ERROR" and caught["nextState"] == "Recover", caught
assert caught["error"] == "Lambda.Unknown" and caught["cause"] == "gone", caught
assert json.loads(caught["output"]) == {"order": {"id": 7}, "failure": {"Error": "Lambda.Unknown", "Cause": "gone"}}, caught
assert "inspectionData" not in caught, caught
# A state of a whole definition, by name; a Choice answers with where it leads.
chosen = sfn.test_state(definition=json.dumps({"StartAt": "C", "States": {
    "C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 1, "Next": "Big"}], "Default": "Small"},
    "Big": {"Type": "Succeed"}, "Small": {"Type": "Succeed"}}}), stateName="C", input='{"n": 5}')
assert chosen["status"] == "SUCCEEDED" and chosen["nextState"] == "Big", chosen
expect_error("ValidationException", sfn.test_state, definition=json.dumps({"Type": "Pass", "End": True}),
             mock={"result": "{}"})
expect_error("ValidationException", sfn.test_state, definition=TASK, mock={"result": json.dumps({"StatusCode": "ok"})})
expect_error("InvalidDefinition", sfn.test_state, definition=json.dumps({"Type": "Pass"}))
expect_error("InvalidExecutionInput", sfn.test_state, definition=TASK, input="{not json", mock={"result": "{}"})
print("ok test_state")

# Delete.
sfn.delete_state_machine(stateMachineArn=tagged["stateMachineArn"])
expect_error("StateMachineDoesNotExist", sfn.describe_state_machine, stateMachineArn=tagged["stateMachineArn"])
print("ok delete_state_machine")
print("boto3 suite passed")
