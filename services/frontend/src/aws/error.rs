//! Every failure of the AWS JSON protocol as AWS answers it: an HTTP status (400 for the
//! caller's mistakes, 5xx for ours) and `{"__type": "<ExceptionName>", "message": "…"}`, with
//! the exception names of the Step Functions API reference, so that the SDKs raise their
//! modelled exceptions (`StateMachineDoesNotExist`, `ExecutionAlreadyExists`…).

use crate::FrontendError;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

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
    /// A SigV4 signature that does not match the request (or is out of date).
    #[error("{0}")]
    InvalidSignature(String),
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
            AwsError::InvalidSignature(_) => (bad, "InvalidSignatureException"),
            AwsError::UnrecognizedClient(_) => (bad, "UnrecognizedClientException"),
        }
    }
}

fn frontend_kind(e: &FrontendError) -> (StatusCode, &'static str) {
    let name = e.exception();
    let status = match name {
        "ServiceUnavailable" => StatusCode::SERVICE_UNAVAILABLE,
        "InternalFailure" => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    (status, name)
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
    use expressway_bus::BusError;
    use expressway_store::starter::StartError;
    use expressway_store::StoreError;

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
