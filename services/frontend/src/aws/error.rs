//! Every failure of the AWS JSON protocol as AWS answers it: an HTTP status (400 for the
//! caller's mistakes, 5xx for ours) and `{"__type": "<ExceptionName>", "message": "…"}`, with
//! the exception names of the Step Functions API reference, so that the SDKs raise their
//! modelled exceptions (`StateMachineDoesNotExist`, `ExecutionAlreadyExists`…).

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use expressway_asl::TestStateError;
use expressway_bus::BusError;
use expressway_store::starter::StartError;
use expressway_store::StoreError;

use crate::FrontendError;

#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    #[error(transparent)]
    Frontend(#[from] FrontendError),
    /// No `X-Amz-Target`, or one naming no operation this server offers.
    #[error("{0}")]
    UnknownOperation(String),
    /// A body that is not JSON of the operation's input shape.
    #[error("{0}")]
    Serialization(String),
    /// A member missing or out of its bounds.
    #[error("{0}")]
    Validation(String),
    /// An operation AWS does not offer for Express state machines (`ListExecutions`).
    #[error("{0}")]
    TypeNotSupported(String),
    /// A request whose credentials this server cannot accept.
    #[error("{0}")]
    UnrecognizedClient(String),
}

impl AwsError {
    /// `1 validation error detected: Value null at 'stateMachineArn' …`, in AWS's words.
    pub fn missing(member: &str) -> AwsError {
        AwsError::Validation(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))
    }

    /// The HTTP status and exception name AWS answers with.
    pub fn kind(&self) -> (StatusCode, &'static str) {
        let bad = StatusCode::BAD_REQUEST;
        match self {
            AwsError::Frontend(e) => frontend_kind(e),
            AwsError::UnknownOperation(_) => (bad, "UnknownOperationException"),
            AwsError::Serialization(_) => (bad, "SerializationException"),
            AwsError::Validation(_) => (bad, "ValidationException"),
            AwsError::TypeNotSupported(_) => (bad, "StateMachineTypeNotSupported"),
            AwsError::UnrecognizedClient(_) => (bad, "UnrecognizedClientException"),
        }
    }
}

/// What a missing or duplicate thing is called, from the store's description of it.
fn named(what: &str, machine: &'static str, execution: &'static str, other: &'static str) -> &'static str {
    if what.starts_with("state machine") || what.starts_with("version") || what.starts_with("revision") {
        machine
    } else if what.starts_with("execution") {
        execution
    } else {
        other
    }
}

fn store_kind(e: &StoreError) -> (StatusCode, &'static str) {
    let bad = StatusCode::BAD_REQUEST;
    match e {
        StoreError::NotFound { what } => {
            (bad, named(what, "StateMachineDoesNotExist", "ExecutionDoesNotExist", "ResourceNotFound"))
        }
        StoreError::AlreadyExists { what } => {
            (bad, named(what, "StateMachineAlreadyExists", "ExecutionAlreadyExists", "ConflictException"))
        }
        StoreError::Conflict(_) => (bad, "ConflictException"),
        StoreError::Invalid(_) => (bad, "ValidationException"),
        StoreError::Full(_) => (bad, "ThrottlingException"),
        StoreError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable"),
    }
}

fn frontend_kind(e: &FrontendError) -> (StatusCode, &'static str) {
    let bad = StatusCode::BAD_REQUEST;
    match e {
        FrontendError::Definition(_) => (bad, "InvalidDefinition"),
        FrontendError::TestState(TestStateError::Definition(_) | TestStateError::Unsupported(_)) => {
            (bad, "InvalidDefinition")
        }
        FrontendError::TestState(TestStateError::Validation(_)) => (bad, "ValidationException"),
        FrontendError::TestState(TestStateError::Input(_)) => (bad, "InvalidExecutionInput"),
        FrontendError::InvalidArn(_) | FrontendError::Start(StartError::InvalidArn(_)) => (bad, "InvalidArn"),
        FrontendError::InvalidName(_) | FrontendError::Start(StartError::InvalidName(_)) => (bad, "InvalidName"),
        FrontendError::Start(StartError::InvalidInput(_) | StartError::InputTooLarge { .. }) => {
            (bad, "InvalidExecutionInput")
        }
        FrontendError::Invalid(_) | FrontendError::TooDeep { .. } => (bad, "ValidationException"),
        FrontendError::InvalidToken(_) => (bad, "InvalidToken"),
        FrontendError::Start(StartError::Store(e)) | FrontendError::Store(e) => store_kind(e),
        FrontendError::Bus(BusError::Full) => (bad, "ThrottlingException"),
        FrontendError::Bus(_) => (StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable"),
        FrontendError::ReplyLost(_) | FrontendError::Deadline(_) => {
            (StatusCode::INTERNAL_SERVER_ERROR, "InternalFailure")
        }
        FrontendError::Unauthenticated => (bad, "UnrecognizedClientException"),
        FrontendError::Denied { .. } => (bad, "AccessDeniedException"),
    }
}

impl IntoResponse for AwsError {
    fn into_response(self) -> Response {
        let (status, kind) = self.kind();
        let body = serde_json::json!({ "__type": kind, "message": self.to_string() });
        let mut resp = (status, body.to_string()).into_response();
        resp.headers_mut().insert("content-type", HeaderValue::from_static(super::CONTENT_TYPE));
        // The SDKs read the exception name from this header as well as from the body.
        resp.headers_mut().insert("x-amzn-errortype", HeaderValue::from_static(kind));
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_failures_take_aws_names() {
        let nf = |what: &str| AwsError::from(FrontendError::Store(StoreError::NotFound { what: what.into() })).kind();
        assert_eq!(nf("state machine 'm'").1, "StateMachineDoesNotExist");
        assert_eq!(nf("execution 'arn'").1, "ExecutionDoesNotExist");
        assert_eq!(nf("alias 'a'").1, "ResourceNotFound");
        let dup = AwsError::from(FrontendError::Start(StartError::Store(StoreError::AlreadyExists {
            what: "execution 'e'".into(),
        })));
        assert_eq!(dup.kind(), (StatusCode::BAD_REQUEST, "ExecutionAlreadyExists"));
        assert_eq!(AwsError::from(FrontendError::Bus(BusError::Full)).kind().1, "ThrottlingException");
        assert_eq!(
            AwsError::from(FrontendError::Bus(BusError::Unavailable("down".into()))).kind().0,
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
}
