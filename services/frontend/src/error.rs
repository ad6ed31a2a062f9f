//! Every failure of the API as a precise gRPC status: INVALID_ARGUMENT with field violations
//! (validation diagnostics carry their JSON location), NOT_FOUND, ALREADY_EXISTS,
//! RESOURCE_EXHAUSTED when the queue is full, UNAVAILABLE when a backing service is down.
//! Every status also names AWS's exception for the failure ([`FrontendError::exception`]) in
//! an `ErrorInfo` detail (domain [`ERROR_DOMAIN`]), so a gRPC client (the `expressway` CLI)
//! can report it as the AWS CLI does.

use expressway_asl::{DefinitionError, TestStateError};
use expressway_bus::BusError;
use expressway_store::starter::StartError;
use expressway_store::StoreError;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

#[derive(Debug, thiserror::Error)]
pub enum FrontendError {
    #[error("{0}")]
    Definition(DefinitionError),
    #[error("invalid ARN: {0}")]
    InvalidArn(String),
    #[error("invalid name '{0}': 1 to 80 characters, no whitespace, brackets, wildcards or special punctuation")]
    InvalidName(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Start(#[from] StartError),
    #[error(transparent)]
    Bus(#[from] BusError),
    #[error("the reply for execution {0} was lost; its outcome is in DescribeExecution")]
    ReplyLost(String),
    #[error("the caller's deadline passed before execution {0} finished; it keeps running")]
    Deadline(String),
    #[error("executions started by nested-execution tasks may nest at most {limit} deep")]
    TooDeep { limit: u32 },
    /// A TestState call refused (an invalid definition, request or input).
    #[error(transparent)]
    TestState(TestStateError),
    #[error("invalid pagination token '{0}'")]
    InvalidToken(String),
    #[error("the call was not authenticated")]
    Unauthenticated,
    #[error("'{principal}' is not allowed to perform {action} on {resource}")]
    Denied { principal: String, action: String, resource: String },
    /// What AWS does not offer for this type of state machine (ListExecutions of Express).
    #[error("{0}")]
    TypeNotSupported(String),
}

/// The `ErrorInfo` domain whose `reason` is the AWS exception name.
pub const ERROR_DOMAIN: &str = "states.amazonaws.com";

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

fn store_exception(e: &StoreError) -> &'static str {
    match e {
        StoreError::NotFound { what } => {
            named(what, "StateMachineDoesNotExist", "ExecutionDoesNotExist", "ResourceNotFound")
        }
        StoreError::AlreadyExists { what } => {
            named(what, "StateMachineAlreadyExists", "ExecutionAlreadyExists", "ConflictException")
        }
        StoreError::Conflict(_) => "ConflictException",
        StoreError::Invalid(_) => "ValidationException",
        StoreError::Full(_) => "ThrottlingException",
        StoreError::Unavailable(_) => "ServiceUnavailable",
    }
}

impl FrontendError {
    pub fn code(&self) -> Code {
        match self {
            FrontendError::Definition(_)
            | FrontendError::InvalidArn(_)
            | FrontendError::InvalidName(_)
            | FrontendError::Invalid(_)
            | FrontendError::TestState(_)
            | FrontendError::InvalidToken(_) => Code::InvalidArgument,
            FrontendError::Start(StartError::Store(e)) => FrontendError::Store(e.clone()).code(),
            FrontendError::Start(_) => Code::InvalidArgument,
            FrontendError::Store(StoreError::NotFound { .. }) => Code::NotFound,
            FrontendError::Store(StoreError::AlreadyExists { .. }) => Code::AlreadyExists,
            FrontendError::Store(StoreError::Conflict(_)) => Code::FailedPrecondition,
            FrontendError::Store(StoreError::Invalid(_)) => Code::InvalidArgument,
            FrontendError::Store(StoreError::Unavailable(_)) => Code::Unavailable,
            FrontendError::Store(StoreError::Full(_)) => Code::ResourceExhausted,
            FrontendError::Bus(BusError::Full) => Code::ResourceExhausted,
            FrontendError::Bus(_) => Code::Unavailable,
            FrontendError::ReplyLost(_) => Code::Internal,
            FrontendError::Deadline(_) => Code::DeadlineExceeded,
            FrontendError::TooDeep { .. } => Code::FailedPrecondition,
            FrontendError::Unauthenticated => Code::Unauthenticated,
            FrontendError::Denied { .. } => Code::PermissionDenied,
            FrontendError::TypeNotSupported(_) => Code::Unimplemented,
        }
    }

    /// The name of AWS's exception for this failure (`StateMachineDoesNotExist`…), as the
    /// Step Functions API reference names it.
    pub fn exception(&self) -> &'static str {
        match self {
            FrontendError::Definition(_)
            | FrontendError::TestState(TestStateError::Definition(_) | TestStateError::Unsupported(_)) => {
                "InvalidDefinition"
            }
            FrontendError::TestState(TestStateError::Validation(_)) => "ValidationException",
            FrontendError::TestState(TestStateError::Input(_)) => "InvalidExecutionInput",
            FrontendError::InvalidArn(_) | FrontendError::Start(StartError::InvalidArn(_)) => "InvalidArn",
            FrontendError::InvalidName(_) | FrontendError::Start(StartError::InvalidName(_)) => "InvalidName",
            FrontendError::Start(StartError::InvalidInput(_) | StartError::InputTooLarge { .. }) => {
                "InvalidExecutionInput"
            }
            FrontendError::Invalid(_) | FrontendError::TooDeep { .. } => "ValidationException",
            FrontendError::InvalidToken(_) => "InvalidToken",
            FrontendError::Start(StartError::Store(e)) | FrontendError::Store(e) => store_exception(e),
            FrontendError::Bus(BusError::Full) => "ThrottlingException",
            FrontendError::Bus(_) => "ServiceUnavailable",
            FrontendError::ReplyLost(_) | FrontendError::Deadline(_) => "InternalFailure",
            FrontendError::Unauthenticated => "UnrecognizedClientException",
            FrontendError::Denied { .. } => "AccessDeniedException",
            FrontendError::TypeNotSupported(_) => "StateMachineTypeNotSupported",
        }
    }

    /// Whether the caller may retry the same request.
    pub fn is_retryable(&self) -> bool {
        matches!(self.code(), Code::Unavailable | Code::ResourceExhausted)
    }
}

impl From<FrontendError> for Status {
    fn from(e: FrontendError) -> Status {
        let code = e.code();
        let message = e.to_string();
        let mut details = ErrorDetails::new();
        details.set_error_info(e.exception(), ERROR_DOMAIN, std::collections::HashMap::<String, String>::new());
        match &e {
            FrontendError::Definition(d) | FrontendError::TestState(TestStateError::Definition(d)) => {
                // Bounded: the details travel in a header. All of them are in the body of
                // ValidateStateMachineDefinition's answer.
                for diag in d.diagnostics().into_iter().take(expressway_asl::error::DIAGNOSTICS_SHOWN) {
                    let field = if diag.location.is_empty() { "/".to_string() } else { diag.location.clone() };
                    details.add_bad_request_violation(field, format!("{}: {}", diag.code, diag.message));
                }
                Status::with_error_details(code, message, details)
            }
            FrontendError::Bus(BusError::Full) => {
                details.set_retry_info(Some(std::time::Duration::from_millis(100)));
                Status::with_error_details(code, message, details)
            }
            _ => Status::with_error_details(code, message, details),
        }
    }
}
