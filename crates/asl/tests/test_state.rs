//! TestState: one state run alone, checked against what AWS's TestState API answers for the
//! same definitions and inputs (the examples of AWS's TestState documentation, and responses
//! AWS recorded for them): output, status, next state and inspection data at each level, mocks
//! and their validation, Retry and Catch, variables and the Context object.

mod common;

use std::sync::Arc;

use common::{info, Script, Step, TokioClock};
use expressway_asl::{
    Clock, FieldValidationMode, InspectionLevel, Interpreter, Limits, ManualClock, Mock, MockError, StateConfiguration,
    TestStateError, TestStateOutput, TestStateRequest, TestStatus,
};
use serde_json::{json, Value};

fn request(definition: Value, input: Value, level: InspectionLevel) -> TestStateRequest {
    TestStateRequest {
        definition: definition.to_string(),
        input: Some(input.to_string()),
        inspection_level: level,
        ..TestStateRequest::default()
    }
}

fn mock_result(v: Value) -> Option<Mock> {
    Some(Mock { result: Some(v.to_string()), ..Mock::default() })
}

fn mock_error(error: &str, cause: &str) -> Option<Mock> {
    Some(Mock {
        error_output: Some(MockError { error: Some(error.into()), cause: Some(cause.into()) }),
        ..Mock::default()
    })
}

async fn test_with(req: &TestStateRequest, tasks: Arc<Script>) -> Result<TestStateOutput, TestStateError> {
    let interp = Interpreter::new(tasks, Arc::new(TokioClock::new()), Limits::default());
    interp.test_state(req, info()).await
}

async fn test(req: &TestStateRequest) -> TestStateOutput {
    test_with(req, Arc::new(Script::default())).await.expect("the request is valid")
}

async fn refused(req: &TestStateRequest) -> TestStateError {
    match test_with(req, Arc::new(Script::default())).await {
        Err(e) => e,
        Ok(out) => panic!("expected the request to be refused, got {out:?}"),
    }
}

fn io_input() -> Value {
    json!({"initialData": {"fieldFromInput": "value from input", "otherField": "other"},
           "unrelatedData": {"someOtherField": 1234}})
}

#[tokio::test(start_paused = true)]
async fn pass_state_at_debug_shows_each_data_flow_step() {
    let def = json!({"Type": "Pass", "InputPath": "$.initialData",
                     "Parameters": {"staticValue": "some value", "inputValue.$": "$.fieldFromInput"},
                     "ResultPath": "$.modifiedData", "End": true});
    let out = test(&request(def, io_input(), InspectionLevel::Debug)).await;
    let modified = json!({"staticValue": "some value", "inputValue": "value from input"});
    let mut expected = io_input();
    expected["modifiedData"] = modified.clone();
    assert_eq!(out.status, TestStatus::Succeeded);
    assert_eq!(out.output, Some(expected.clone()));
    assert_eq!(out.next_state, None);
    assert_eq!((out.error, out.cause), (None, None));
    let d = out.inspection_data.expect("DEBUG inspects");
    assert_eq!(d.input, Some(io_input()));
    assert_eq!(d.after_input_path, Some(io_input()["initialData"].clone()));
    assert_eq!(d.after_parameters, Some(modified.clone()));
    assert_eq!(d.after_result_selector, Some(modified));
    assert_eq!(d.after_result_path, Some(expected));
    assert_eq!(d.result, None, "a Pass state without Result shows no raw result");
    assert_eq!(d.variables, None);
}

#[tokio::test(start_paused = true)]
async fn pass_state_with_result_shows_the_result_not_the_input_path() {
    let def = json!({"Type": "Pass", "Result": {"resultKey": "result value"}, "ResultPath": "$.modifiedData",
                     "End": true});
    let out = test(&request(def, io_input(), InspectionLevel::Trace)).await;
    let mut expected = io_input();
    expected["modifiedData"] = json!({"resultKey": "result value"});
    assert_eq!(out.output, Some(expected.clone()));
    let d = out.inspection_data.expect("TRACE inspects");
    assert_eq!(d.result, Some(json!({"resultKey": "result value"})));
    assert_eq!(d.after_result_selector, Some(json!({"resultKey": "result value"})));
    assert_eq!(d.after_result_path, Some(expected));
    assert_eq!((d.after_input_path, d.after_parameters), (None, None));
}

#[tokio::test(start_paused = true)]
async fn info_level_answers_without_inspection_data() {
    // The Pass example of AWS's TestState documentation.
    let def = json!({"Type": "Pass", "Next": "Second State", "Parameters": {"payload.$": "$.customer.firstName"}});
    let out = test(&request(def, json!({"customer": {"firstName": "Jane"}}), InspectionLevel::Info)).await;
    assert_eq!(out.status, TestStatus::Succeeded);
    assert_eq!(out.output, Some(json!({"payload": "Jane"})));
    assert_eq!(out.next_state.as_deref(), Some("Second State"));
    assert_eq!(out.inspection_data, None);
}

#[tokio::test(start_paused = true)]
async fn choice_state_names_the_next_state() {
    let def = json!({"Type": "Choice", "Default": "DefaultState", "Choices": [
        {"Variable": "$.type", "StringEquals": "Public", "Next": "PublicState"},
        {"And": [{"Variable": "$.value", "NumericGreaterThanEquals": 20},
                 {"Variable": "$.value", "NumericLessThan": 30}], "Next": "ValueInTwenties"}]});
    let input = json!({"type": "Private", "value": 22});
    let out = test(&request(def.clone(), input.clone(), InspectionLevel::Debug)).await;
    assert_eq!(out.status, TestStatus::Succeeded);
    assert_eq!(out.next_state.as_deref(), Some("ValueInTwenties"));
    assert_eq!(out.output, Some(input.clone()));
    let d = out.inspection_data.expect("DEBUG inspects");
    assert_eq!((d.input, d.after_input_path), (Some(input.clone()), Some(input)));
    let out = test(&request(def, json!({"type": "Private", "value": 3}), InspectionLevel::Info)).await;
    assert_eq!(out.next_state.as_deref(), Some("DefaultState"));
}

#[tokio::test(start_paused = true)]
async fn fail_state_fails_with_its_error_and_cause() {
    let def = json!({"Type": "Fail", "Error": "SomeFailure",
                     "Cause": "This state machines raises a 'SomeFailure' failure."});
    let input = json!({"Value": "HelloWorld"});
    let out = test(&request(def, input.clone(), InspectionLevel::Debug)).await;
    assert_eq!(out.status, TestStatus::Failed);
    assert_eq!(out.error.as_deref(), Some("SomeFailure"));
    assert_eq!(out.cause.as_deref(), Some("This state machines raises a 'SomeFailure' failure."));
    assert_eq!((out.output, out.next_state), (None, None));
    let d = out.inspection_data.expect("DEBUG inspects");
    assert_eq!((d.input, d.after_input_path), (Some(input.clone()), Some(input)));
}

#[tokio::test]
async fn wait_state_does_not_wait() {
    let clock = Arc::new(ManualClock::new(1_700_000_000_000));
    let interp = Interpreter::new(Arc::new(Script::default()), clock.clone(), Limits::default());
    let def = json!({"Type": "Wait", "Seconds": 3600, "Next": "After"});
    let out = interp.test_state(&request(def, json!({"a": 1}), InspectionLevel::Info), info()).await.expect("valid");
    assert_eq!(out.status, TestStatus::Succeeded);
    assert_eq!(out.next_state.as_deref(), Some("After"));
    assert_eq!(out.output, Some(json!({"a": 1})));
    assert_eq!(clock.now_millis(), 1_700_000_000_000, "no time passed");
    // A SecondsPath that reads nothing still fails as it would in an execution.
    let def = json!({"Type": "Wait", "SecondsPath": "$.missing", "End": true});
    let out = interp.test_state(&request(def, json!({}), InspectionLevel::Info), info()).await.expect("valid");
    assert_eq!(out.status, TestStatus::Failed);
    assert_eq!(out.error.as_deref(), Some("States.Runtime"));
}

fn lambda_task() -> Value {
    json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
           "Parameters": {"FunctionName": "f", "Payload.$": "$"},
           "ResultSelector": {"body.$": "$.Payload"}, "ResultPath": "$.taskResult", "Next": "Done",
           "Retry": [{"ErrorEquals": ["Lambda.ServiceException"], "IntervalSeconds": 2, "BackoffRate": 3,
                      "MaxAttempts": 2}],
           "Catch": [{"ErrorEquals": ["Lambda.TooManyRequestsException"], "Next": "Throttled"},
                     {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "HandleError"}]})
}

#[tokio::test(start_paused = true)]
async fn mocked_task_result_flows_through_selector_and_result_path_without_a_call() {
    let tasks = Arc::new(Script::default());
    let mut req = request(lambda_task(), json!({"order": 7}), InspectionLevel::Debug);
    req.mock = mock_result(json!({"StatusCode": 200, "Payload": {"ok": true}}));
    let out = test_with(&req, tasks.clone()).await.expect("valid");
    assert!(tasks.calls().is_empty(), "a mocked Task calls nothing");
    assert_eq!(out.status, TestStatus::Succeeded);
    assert_eq!(out.next_state.as_deref(), Some("Done"));
    assert_eq!(out.output, Some(json!({"order": 7, "taskResult": {"body": {"ok": true}}})));
    let d = out.inspection_data.expect("DEBUG inspects");
    assert_eq!(d.after_parameters, Some(json!({"FunctionName": "f", "Payload": {"order": 7}})));
    assert_eq!(d.result, Some(json!({"StatusCode": 200, "Payload": {"ok": true}})));
    assert_eq!(d.after_result_selector, Some(json!({"body": {"ok": true}})));
    assert_eq!(d.after_result_path, out.output);
}

#[tokio::test(start_paused = true)]
async fn mocked_error_caught_leads_to_the_catcher() {
    let mut req = request(lambda_task(), json!({"order": 7}), InspectionLevel::Debug);
    req.mock = mock_error("Lambda.Unknown", "it broke");
    let out = test(&req).await;
    assert_eq!(out.status, TestStatus::CaughtError);
    assert_eq!(out.next_state.as_deref(), Some("HandleError"));
    assert_eq!(out.error.as_deref(), Some("Lambda.Unknown"));
    assert_eq!(out.cause.as_deref(), Some("it broke"));
    assert_eq!(out.output, Some(json!({"order": 7, "error": {"Error": "Lambda.Unknown", "Cause": "it broke"}})));
    let details = out.inspection_data.and_then(|d| d.error_details).expect("error details");
    assert_eq!((details.catch_index, details.retry_index), (Some(1), None));
}

#[tokio::test(start_paused = true)]
async fn mocked_error_a_retrier_matches_is_retriable_until_its_attempts_are_spent() {
    let mut req = request(lambda_task(), json!({"order": 7}), InspectionLevel::Debug);
    req.mock = mock_error("Lambda.ServiceException", "try again");
    let out = test(&req).await;
    assert_eq!(out.status, TestStatus::Retriable);
    assert_eq!(out.error.as_deref(), Some("Lambda.ServiceException"));
    assert_eq!((out.output, out.next_state), (None, None));
    let details = out.inspection_data.and_then(|d| d.error_details).expect("error details");
    assert_eq!((details.retry_index, details.retry_backoff_interval_seconds), (Some(0), Some(2)));
    // After one retry the next backoff is 2 * 3 seconds.
    req.state_configuration = StateConfiguration { retrier_retry_count: Some(1), ..StateConfiguration::default() };
    let details = test(&req).await.inspection_data.and_then(|d| d.error_details).expect("error details");
    assert_eq!(details.retry_backoff_interval_seconds, Some(6));
    // With its attempts spent, the catcher takes the error.
    req.state_configuration.retrier_retry_count = Some(2);
    let out = test(&req).await;
    assert_eq!(out.status, TestStatus::CaughtError);
    assert_eq!(out.next_state.as_deref(), Some("HandleError"));
}

#[tokio::test(start_paused = true)]
async fn task_without_mock_calls_its_integration_and_fails_uncaught() {
    let def = json!({"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f", "End": true});
    let tasks = Arc::new(Script::default().on("arn:aws:lambda:us-east-1:1:function:f", vec![Step::Ok(json!(42))]));
    let out =
        test_with(&request(def.clone(), json!({"x": 1}), InspectionLevel::Info), tasks.clone()).await.expect("valid");
    assert_eq!(tasks.calls().len(), 1);
    assert_eq!(tasks.calls()[0].1, json!({"x": 1}));
    assert_eq!((out.status, out.output), (TestStatus::Succeeded, Some(json!(42))));
    let tasks = Arc::new(Script::default().on("arn:aws:lambda:us-east-1:1:function:f", vec![Step::Err("Boom", "no")]));
    let out = test_with(&request(def, json!({}), InspectionLevel::Info), tasks).await.expect("valid");
    assert_eq!(out.status, TestStatus::Failed);
    assert_eq!((out.error.as_deref(), out.cause.as_deref()), (Some("Boom"), Some("no")));
}

#[tokio::test(start_paused = true)]
async fn http_task_at_trace_shows_request_and_response() {
    let def = json!({"Type": "Task", "Resource": "arn:aws:states:::http:invoke", "End": true,
                     "Parameters": {"ApiEndpoint": "https://api.example.com/items", "Method": "post",
                                    "QueryParameters": {"q": "a b"}, "Headers": {"x-k": "v"},
                                    "RequestBody": {"n": 1}}});
    let response = json!({"StatusCode": 201, "StatusText": "Created", "Headers": {"content-type": "application/json"},
                          "ResponseBody": {"id": "i-1"}});
    let tasks = Arc::new(Script::default().on("arn:aws:states:::http:invoke", vec![Step::Ok(response.clone())]));
    let out = test_with(&request(def.clone(), json!({}), InspectionLevel::Trace), tasks.clone()).await.expect("valid");
    let d = out.inspection_data.expect("TRACE inspects");
    let req = d.request.expect("the request");
    assert_eq!((req.protocol.as_str(), req.method.as_str()), ("https", "POST"));
    assert_eq!(req.url, "https://api.example.com/items?q=a%20b");
    assert_eq!(req.headers, r#"{"x-k":"v"}"#);
    assert_eq!(req.body, r#"{"n":1}"#);
    let resp = d.response.expect("the response");
    assert_eq!((resp.status_code.as_str(), resp.status_message.as_str()), ("201", "Created"));
    assert_eq!(resp.body, r#"{"id":"i-1"}"#);
    // DEBUG leaves the exchange out.
    let out = test_with(&request(def, json!({}), InspectionLevel::Debug), tasks).await.expect("valid");
    assert_eq!(out.inspection_data.and_then(|d| d.request), None);
}

#[tokio::test(start_paused = true)]
async fn a_named_state_of_a_whole_definition_is_tested() {
    let def = json!({"StartAt": "State0", "States": {
        "State0": {"Type": "Pass", "Next": "State1"},
        "State1": {"Type": "Fail", "Error": "SomeFailure", "Cause": "This state machines raises a 'SomeFailure' failure."}}});
    let mut req = request(def, json!({"Value": "HelloWorld"}), InspectionLevel::Info);
    req.state_name = Some("State0".into());
    let out = test(&req).await;
    assert_eq!(out.status, TestStatus::Succeeded);
    assert_eq!(out.next_state.as_deref(), Some("State1"));
    assert_eq!(out.output, Some(json!({"Value": "HelloWorld"})));
    req.state_name = Some("State1".into());
    let out = test(&req).await;
    assert_eq!((out.status, out.error.as_deref()), (TestStatus::Failed, Some("SomeFailure")));
    req.state_name = Some("dne".into());
    assert!(matches!(refused(&req).await, TestStateError::Validation(m) if m == "State not found in definition"));
    req.state_name = None;
    assert!(matches!(refused(&req).await, TestStateError::Validation(m) if m.contains("stateName")));
}

#[tokio::test(start_paused = true)]
async fn a_state_inside_a_map_can_be_named() {
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true, "ItemProcessor": {
        "StartAt": "Inner", "States": {"Inner": {"Type": "Pass", "Result": "x", "Next": "Last"},
                                       "Last": {"Type": "Succeed"}}}}}});
    let mut req = request(def, json!({}), InspectionLevel::Info);
    req.state_name = Some("Inner".into());
    let out = test(&req).await;
    assert_eq!((out.output, out.next_state.as_deref()), (Some(json!("x")), Some("Last")));
}

#[tokio::test(start_paused = true)]
async fn variables_are_read_and_the_assigned_ones_shown() {
    let def = json!({"Type": "Pass", "Parameters": {"greeting.$": "States.Format('hello {}', $name)"},
                     "Assign": {"said.$": "$.greeting"}, "End": true});
    let mut req = request(def, json!({"n": 3}), InspectionLevel::Debug);
    req.variables = Some(json!({"name": "Ada"}).to_string());
    let out = test(&req).await;
    assert_eq!(out.output, Some(json!({"greeting": "hello Ada"})), "{out:?}");
    let d = out.inspection_data.expect("DEBUG inspects");
    assert_eq!(d.variables, Some(json!({"name": "Ada", "said": "hello Ada"})));
    req.variables = Some("[1]".into());
    assert!(matches!(refused(&req).await, TestStateError::Validation(_)));
}

#[tokio::test(start_paused = true)]
async fn jsonata_task_with_mock_shows_arguments_and_output() {
    let def = json!({"QueryLanguage": "JSONata", "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                     "Arguments": {"FunctionName": "f", "Payload": "{% $states.input.n * $factor %}"},
                     "Output": "{% $states.result.Payload %}", "Assign": {"last": "{% $states.result.Payload %}"},
                     "Next": "After"});
    let mut req = request(def, json!({"n": 4}), InspectionLevel::Debug);
    req.variables = Some(json!({"factor": 10}).to_string());
    req.mock = mock_result(json!({"StatusCode": 200, "Payload": 41}));
    let out = test(&req).await;
    assert_eq!((out.status, out.output.clone()), (TestStatus::Succeeded, Some(json!(41))));
    assert_eq!(out.next_state.as_deref(), Some("After"));
    let d = out.inspection_data.expect("DEBUG inspects");
    assert_eq!(d.after_arguments, Some(json!({"FunctionName": "f", "Payload": 40})));
    assert_eq!(d.result, Some(json!({"StatusCode": 200, "Payload": 41})));
    assert_eq!(d.after_input_path, None, "JSONata has no InputPath");
    assert_eq!(d.variables, Some(json!({"factor": 10, "last": 41})));
}

#[tokio::test(start_paused = true)]
async fn mocked_map_over_its_failure_tolerance_is_caught() {
    let def = json!({"Type": "Map", "ItemsPath": "$.Values", "ToleratedFailureCount": 1, "Next": "Done",
                     "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
                     "Catch": [{"ErrorEquals": ["States.ExceedToleratedFailureThreshold"], "Next": "HandleThreshold"}]});
    let input = json!({"Values": ["first", "second", "third"]});
    let mut req = request(def, input.clone(), InspectionLevel::Debug);
    req.mock = mock_result(json!([1, 1, 1]));
    req.state_configuration.map_iteration_failure_count = Some(1);
    let out = test(&req).await;
    assert_eq!((out.status, out.output.clone()), (TestStatus::Succeeded, Some(json!([1, 1, 1]))));
    let d = out.inspection_data.expect("DEBUG inspects");
    assert_eq!(d.after_items_path, Some(json!(["first", "second", "third"])));
    assert_eq!((d.max_concurrency, d.tolerated_failure_count), (Some(0), Some(1)));
    req.state_configuration.map_iteration_failure_count = Some(2);
    let out = test(&req).await;
    assert_eq!(out.status, TestStatus::CaughtError);
    assert_eq!(out.error.as_deref(), Some("States.ExceedToleratedFailureThreshold"));
    assert_eq!(out.next_state.as_deref(), Some("HandleThreshold"));
    assert_eq!(
        out.output,
        Some(json!({"Error": "States.ExceedToleratedFailureThreshold",
                    "Cause": "The specified tolerated failure threshold was exceeded"}))
    );
}

#[tokio::test(start_paused = true)]
async fn mocked_parallel_result_is_the_branch_outputs() {
    let branch = json!({"StartAt": "B", "States": {"B": {"Type": "Pass", "End": true}}});
    let def = json!({"Type": "Parallel", "Branches": [branch, branch], "ResultPath": "$.both", "End": true});
    let mut req = request(def, json!({"k": 0}), InspectionLevel::Info);
    req.mock = mock_result(json!(["a", "b"]));
    assert_eq!(test(&req).await.output, Some(json!({"k": 0, "both": ["a", "b"]})));
    req.mock = mock_result(json!(["a"]));
    assert!(matches!(refused(&req).await, TestStateError::Validation(m) if m.contains("number of Parallel branches")));
    req.mock = mock_result(json!({"a": 1}));
    assert!(matches!(refused(&req).await, TestStateError::Validation(m) if m == "Mocked result must be an array."));
}

#[tokio::test(start_paused = true)]
async fn requests_aws_refuses_are_refused_with_its_exceptions() {
    let pass = json!({"Type": "Pass", "End": true});
    let mut req = request(pass, json!({}), InspectionLevel::Info);
    req.mock = mock_result(json!({}));
    assert!(matches!(refused(&req).await,
        TestStateError::Validation(m) if m == "State type 'Pass' is not supported when a mock is specified"));

    let map = json!({"Type": "Map", "End": true,
                     "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}});
    assert!(matches!(refused(&request(map, json!([]), InspectionLevel::Info)).await,
        TestStateError::Unsupported(m) if m.starts_with("TestState API does not support Map or Parallel states")));

    let mut req = request(lambda_task(), json!({}), InspectionLevel::Info);
    req.mock = Some(Mock { result: Some("{}".into()), error_output: Some(MockError::default()), ..Mock::default() });
    assert!(matches!(refused(&req).await, TestStateError::Validation(m) if m.contains("only one of")));
    req.mock = mock_result(json!({}));
    req.reveal_secrets = true;
    assert!(matches!(refused(&req).await, TestStateError::Validation(m) if m.contains("RevealSecrets")));

    let mut req = request(lambda_task(), json!({}), InspectionLevel::Info);
    req.input = Some("{not json".into());
    assert!(matches!(refused(&req).await, TestStateError::Input(_)));

    let req = request(json!({"Type": "Pass", "Next": 5}), json!({}), InspectionLevel::Info);
    match refused(&req).await {
        TestStateError::Definition(e) => {
            assert_eq!(e.diagnostics()[0].location, "/Next", "located in the state as written: {e}")
        }
        other => panic!("expected InvalidDefinition, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn mocked_results_are_checked_against_the_integration_shape() {
    let def = json!({"Type": "Task", "Resource": "arn:aws:states:::states:startExecution", "End": true,
                     "Parameters": {"StateMachineArn": "arn:aws:states:us-east-1:1:stateMachine:t"}});
    let mut req = request(def, json!({}), InspectionLevel::Info);
    req.mock = mock_result(json!({"StartDate": "2025-01-01T00:00:00Z"}));
    assert!(matches!(refused(&req).await,
        TestStateError::Validation(m) if m == "Mock result schema validation error: Required field 'ExecutionArn' is missing"));
    // PRESENT checks only the fields given; NONE checks nothing.
    req.mock.as_mut().expect("a mock").field_validation_mode = FieldValidationMode::Present;
    assert_eq!(test(&req).await.status, TestStatus::Succeeded);
    req.mock = mock_result(json!({"ExecutionArn": 5, "StartDate": "d"}));
    req.mock.as_mut().expect("a mock").field_validation_mode = FieldValidationMode::Present;
    assert!(matches!(refused(&req).await,
        TestStateError::Validation(m) if m == "Mock result schema validation error: Field 'ExecutionArn' must be a string"));
    req.mock.as_mut().expect("a mock").field_validation_mode = FieldValidationMode::None;
    assert_eq!(test(&req).await.output, Some(json!({"ExecutionArn": 5, "StartDate": "d"})));
    // Fields the shape does not know are accepted.
    let def = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true,
                     "Parameters": {"FunctionName": "f"}});
    let mut req = request(def, json!({}), InspectionLevel::Info);
    req.mock = mock_result(json!({"random": "json"}));
    assert_eq!(test(&req).await.status, TestStatus::Succeeded);
    req.mock = mock_result(json!({"StatusCode": "200"}));
    assert!(
        matches!(refused(&req).await, TestStateError::Validation(m) if m.ends_with("Field 'StatusCode' must be a number"))
    );
}

#[tokio::test(start_paused = true)]
async fn a_given_context_object_is_what_the_state_reads() {
    let def = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true,
                     "Parameters": {"FunctionName": "f", "Payload": {"exec.$": "$$.Execution.Id"}},
                     "ResultSelector": {"sent.$": "$$.State.RetryCount"}});
    let mut req = request(def, json!({}), InspectionLevel::Debug);
    req.mock = mock_result(json!({}));
    req.context = Some(json!({"Execution": {"Id": "arn:my-exec"}, "State": {"RetryCount": 2}}).to_string());
    let out = test(&req).await;
    let d = out.inspection_data.expect("DEBUG inspects");
    assert_eq!(d.after_parameters, Some(json!({"FunctionName": "f", "Payload": {"exec": "arn:my-exec"}})));
    assert_eq!(out.output, Some(json!({"sent": 2})));
    req.mock = None;
    assert!(matches!(refused(&req).await, TestStateError::Validation(m) if m.contains("context")));
}

#[tokio::test(start_paused = true)]
async fn jsonata_choice_takes_the_chosen_rule_output_and_assign() {
    let def = json!({"QueryLanguage": "JSONata", "Type": "Choice", "Default": "Low", "Choices": [
        {"Condition": "{% $states.input.n > 10 %}", "Next": "High",
         "Output": {"level": "high"}, "Assign": {"seen": "{% $states.input.n %}"}}]});
    let out = test(&request(def.clone(), json!({"n": 12}), InspectionLevel::Debug)).await;
    assert_eq!((out.next_state.as_deref(), out.output), (Some("High"), Some(json!({"level": "high"}))));
    assert_eq!(out.inspection_data.and_then(|d| d.variables), Some(json!({"seen": 12})));
    let out = test(&request(def, json!({"n": 1}), InspectionLevel::Info)).await;
    assert_eq!((out.next_state.as_deref(), out.output), (Some("Low"), Some(json!({"n": 1}))));
}
