//! The Amazon States Language core of Expressway: parsing, validation and interpretation of
//! state machine definitions, with AWS Step Functions semantics.
//!
//! Layout:
//! - [`definition`]: load a definition, validate it (all diagnostics, with JSON locations)
//!   and compile it into an immutable [`StateMachine`].
//! - [`exec`]: the [`Interpreter`], runtime-agnostic; Task effects through [`TaskInvoker`],
//!   time through [`Clock`], history events to an [`EventSink`].
//! - [`jsonpath`], [`intrinsic`], [`payload`], [`choice`]: the JSONPath query language,
//!   intrinsic functions, payload templates and Choice rules.
//! - [`jsonata`]: the JSONata evaluator with AWS's added functions.
//!
//! The crate does no I/O and starts no runtime, so it can be tested exhaustively and run
//! anywhere.

pub mod choice;
pub mod definition;
pub mod env;
pub mod error;
pub mod events;
pub mod exec;
pub mod intrinsic;
pub mod jsonata;
pub mod jsonpath;
pub mod payload;

pub use definition::{MachineType, QueryLanguage, StateMachine};
pub use env::ExecutionInfo;
pub use error::{DefinitionError, Diagnostic, StatesError};
pub use events::{EventLog, EventSink, EventType, HistoryEvent, NoEvents};
pub use exec::test_state::{
    FieldValidationMode, InspectionData, InspectionLevel, Mock, MockError, StateConfiguration, TestStateError,
    TestStateOutput, TestStateRequest, TestStatus,
};
pub use exec::{Clock, Interpreter, Limits, ManualClock, NoTasks, Outcome, TaskInvoker, TaskRequest, TRACE_TARGET};
