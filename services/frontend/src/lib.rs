//! The frontend: the public API, as gRPC (`expressway.v1`) and as the AWS JSON protocol of
//! Step Functions, over the registry, the execution store, the execution bus, the results
//! stream and reply routing.
//!
//! Layout: [`Frontend`] holds the parts; [`ops`] implements each operation once, and two
//! encodings call it: the gRPC services `StateMachines` and `Executions` (here) and the AWS
//! JSON protocol ([`aws`], served by the process's HTTP router, [`http`]);
//! [`auth`] says who calls and what they may do;
//! [`results::ResultsApi`] implements `Results` (served by frontends and by the results
//! service); [`error`] maps every failure to a precise gRPC status ([`aws::error`]: to an AWS
//! exception); [`convert`] translates
//! between API messages and store records.

pub mod auth;
pub mod aws;
pub mod convert;
pub mod error;
pub mod http;
pub mod ops;
pub mod results;

use std::sync::Arc;
use std::time::Duration;

use expressway_asl::{MachineType, StateMachine};
use expressway_bus::{ExecutionBus, ReplyRouter, ResultsHub, StartCommand, Stops};
use expressway_proto::v1 as pb;
use expressway_store::arn::{self, Partition, Qualifier};
use expressway_store::starter::{self, Resolver, StartPolicy, StartRequest};
use expressway_store::{now_ms, ExecutionRecord, ExecutionStatus, ExecutionStore, MachineKind, Registry, Revision};
use tonic::{Request, Response, Status};

pub use error::FrontendError;
pub use ops::Call;
pub use results::ResultsApi;

/// Frontend settings.
#[derive(Debug, Clone)]
pub struct FrontendConfig {
    pub partition: Partition,
    /// How long a named StartExecution is deduplicated.
    pub dedupe_window: Duration,
    /// Largest accepted execution input (AWS: 256 KiB).
    pub max_input_bytes: usize,
    /// Longest a StartSyncExecution waits (Express: 5 minutes), before the caller's deadline.
    pub sync_timeout: Duration,
    /// How deep executions started by nested-execution tasks may go.
    pub max_nesting_depth: u32,
}

/// The gRPC header with which a nested-execution task says how deep its execution is.
pub const NESTING_HEADER: &str = "x-expressway-nesting-depth";

impl Default for FrontendConfig {
    fn default() -> Self {
        FrontendConfig {
            partition: Partition::default(),
            dedupe_window: Duration::from_secs(300),
            max_input_bytes: 256 * 1024,
            sync_timeout: Duration::from_secs(300),
            max_nesting_depth: 5,
        }
    }
}

/// The parts the API works with.
#[derive(Clone)]
pub struct Frontend {
    pub config: FrontendConfig,
    pub registry: Arc<dyn Registry>,
    /// The registry as starts read it (see [`Resolver`]); forgets what this frontend changes.
    pub resolver: Arc<Resolver>,
    pub executions: Arc<dyn ExecutionStore>,
    pub bus: Arc<dyn ExecutionBus>,
    pub hub: Arc<dyn ResultsHub>,
    pub replies: Arc<dyn ReplyRouter>,
    /// Tells the worker running a stopped execution to end its run.
    pub stops: Arc<dyn Stops>,
    /// Who may do what; `None`: authentication is off.
    pub auth: Option<Arc<auth::Auth>>,
    /// The Task integrations TestState calls for a Task state without a mock
    /// ([`expressway_asl::NoTasks`] where the process runs none).
    pub tasks: Arc<dyn expressway_asl::TaskInvoker>,
}

/// How often a synchronous caller waiting for a routed reply also looks at the store.
const REPLY_BACKSTOP: Duration = Duration::from_secs(2);

/// Remaining time of the caller's `grpc-timeout`, if it sent one.
fn caller_deadline<T>(req: &Request<T>) -> Option<Duration> {
    let v = req.metadata().get("grpc-timeout")?.to_str().ok()?;
    let (num, unit) = v.split_at(v.len().checked_sub(1)?);
    let n: u64 = num.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n * 3600),
        "M" => Duration::from_secs(n * 60),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

/// What a gRPC call says about itself: its principal, nesting depth and deadline.
fn call_of<T>(req: &Request<T>) -> Call {
    Call {
        principal: req.extensions().get::<auth::Principal>().cloned(),
        // A start from a nested-execution task says how deep it is.
        depth: req
            .metadata()
            .get(NESTING_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0),
        deadline: caller_deadline(req),
    }
}

/// Forgets a synchronous caller's reply slot when its call ends, however it ends.
pub(crate) struct ReplyGuard<'a> {
    pub(crate) replies: &'a dyn ReplyRouter,
    pub(crate) execution_arn: String,
}

impl Drop for ReplyGuard<'_> {
    fn drop(&mut self) {
        self.replies.cancel(&self.execution_arn);
    }
}

impl Frontend {
    fn machine_type(kind: MachineKind) -> MachineType {
        match kind {
            MachineKind::Express => MachineType::Express,
            MachineKind::Standard => MachineType::Standard,
        }
    }

    fn validate_definition(definition: &str, kind: MachineKind) -> Result<(), FrontendError> {
        StateMachine::from_json_with(definition, Self::machine_type(kind))
            .map(|_| ())
            .map_err(FrontendError::Definition)
    }

    fn name_of(&self, state_machine_arn: &str) -> Result<(String, Qualifier), FrontendError> {
        let r = arn::parse_state_machine(state_machine_arn)
            .ok_or_else(|| FrontendError::InvalidArn(state_machine_arn.to_string()))?;
        Ok((r.name, r.qualifier))
    }

    fn policy(&self) -> StartPolicy {
        StartPolicy {
            partition: self.config.partition.clone(),
            dedupe_window: self.config.dedupe_window,
            max_input_bytes: self.config.max_input_bytes,
        }
    }

    async fn resolve(&self, state_machine_arn: &str) -> Result<Revision, FrontendError> {
        Ok(starter::resolve(&*self.registry, state_machine_arn).await?)
    }

    /// Validate, record and queue an execution started `depth` deep by nested-execution
    /// tasks. Returns the record and whether it is new.
    async fn start(
        &self,
        req: &pb::StartExecutionRequest,
        depth: u32,
        reply_to: Option<String>,
    ) -> Result<(ExecutionRecord, bool), FrontendError> {
        // Each level holds a worker slot while it waits (a synchronous call), so a chain that
        // calls itself must end.
        if depth > self.config.max_nesting_depth {
            return Err(FrontendError::TooDeep { limit: self.config.max_nesting_depth });
        }
        let sreq = StartRequest {
            state_machine_arn: req.state_machine_arn.clone(),
            name: req.name.clone(),
            input: req.input.clone(),
        };
        let (r, new) = starter::prepare(&self.resolver, &*self.executions, &self.policy(), &sreq).await?;
        if !new && r.status != ExecutionStatus::Running {
            return Ok((r, false));
        }
        // A repeated start of an execution still running is queued again: the first start may
        // have been recorded without being queued (its answer timed out, or it failed to queue
        // and could not be forgotten), and this caller is then told it is accepted. Workers run
        // a queued execution once however often it is queued.
        let cmd = StartCommand {
            execution_arn: r.execution_arn.clone(),
            execution_name: r.name.clone(),
            state_machine_arn: r.state_machine_arn.clone(),
            revision_id: r.revision_id.clone(),
            input: r.input.clone(),
            start_ms: r.start_ms,
            reply_to,
            // The call's own span when traces are on (so the worker's spans join its trace),
            // else whatever context the caller sent along.
            trace_header: expressway_telemetry::propagation::traceparent(&tracing::Span::current())
                .or_else(|| (!req.trace_header.is_empty()).then(|| req.trace_header.clone())),
            depth,
        };
        if let Err(e) = self.bus.publish(cmd).await {
            if matches!(e, expressway_bus::BusError::Full) {
                expressway_telemetry::metrics::execution_throttled(&r.state_machine_arn);
            }
            if new {
                // Not queued: forget it so that the caller's retry starts it afresh.
                let _ = self.executions.forget(&r.execution_arn).await;
            }
            return Err(e.into());
        }
        if new {
            expressway_telemetry::metrics::execution_started(&r.state_machine_arn);
        }
        Ok((r, new))
    }

    async fn wait_for_outcome(
        &self,
        record: &ExecutionRecord,
        rx: Option<tokio::sync::oneshot::Receiver<expressway_bus::OutcomeMessage>>,
        limit: Duration,
    ) -> Result<Option<expressway_bus::OutcomeMessage>, FrontendError> {
        let deadline = tokio::time::Instant::now() + limit;
        let _waiting = expressway_telemetry::metrics::while_alive(expressway_telemetry::metrics::SYNC_CALLS_WAITING);
        if let Some(mut rx) = rx {
            // Replies are routed, but a reply can be lost (the reply channel reconnected):
            // the store, where the outcome is recorded before the reply is sent, settles it.
            let mut backstop = tokio::time::interval_at(tokio::time::Instant::now() + REPLY_BACKSTOP, REPLY_BACKSTOP);
            loop {
                tokio::select! {
                    reply = &mut rx => return match reply {
                        Ok(o) => Ok(Some(o)),
                        Err(_) => Err(FrontendError::ReplyLost(record.execution_arn.clone())),
                    },
                    _ = tokio::time::sleep_until(deadline) => return Ok(None),
                    _ = backstop.tick() => {
                        let r = self.executions.get(&record.execution_arn).await?;
                        if r.status != ExecutionStatus::Running {
                            return Ok(Some(expressway_bus::OutcomeMessage::from_record(r, now_ms())));
                        }
                    }
                }
            }
        }
        // A duplicate of an earlier start: follow the store until it ends.
        loop {
            let r = self.executions.get(&record.execution_arn).await?;
            if r.status != ExecutionStatus::Running {
                return Ok(Some(expressway_bus::OutcomeMessage::from_record(r, now_ms())));
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

// The gRPC encoding: each method learns who calls from the request and runs the operation.

#[tonic::async_trait]
impl pb::state_machines_server::StateMachines for Frontend {
    async fn create_state_machine(
        &self,
        request: Request<pb::CreateStateMachineRequest>,
    ) -> Result<Response<pb::CreateStateMachineResponse>, Status> {
        let call = call_of(&request);
        Ok(Response::new(ops::create_state_machine(self, &call, request.into_inner()).await?))
    }

    async fn update_state_machine(
        &self,
        request: Request<pb::UpdateStateMachineRequest>,
    ) -> Result<Response<pb::UpdateStateMachineResponse>, Status> {
        let call = call_of(&request);
        Ok(Response::new(ops::update_state_machine(self, &call, request.into_inner()).await?))
    }

    async fn describe_state_machine(
        &self,
        request: Request<pb::DescribeStateMachineRequest>,
    ) -> Result<Response<pb::DescribeStateMachineResponse>, Status> {
        let call = call_of(&request);
        Ok(Response::new(ops::describe_state_machine(self, &call, request.into_inner()).await?))
    }

    async fn list_state_machines(
        &self,
        request: Request<pb::ListStateMachinesRequest>,
    ) -> Result<Response<pb::ListStateMachinesResponse>, Status> {
        let call = call_of(&request);
        Ok(Response::new(ops::list_state_machines(self, &call, request.into_inner()).await?))
    }

    async fn delete_state_machine(
        &self,
        request: Request<pb::DeleteStateMachineRequest>,
    ) -> Result<Response<pb::DeleteStateMachineResponse>, Status> {
        let call = call_of(&request);
        Ok(Response::new(ops::delete_state_machine(self, &call, request.into_inner()).await?))
    }

    async fn publish_state_machine_version(
        &self,
        request: Request<pb::PublishStateMachineVersionRequest>,
    ) -> Result<Response<pb::PublishStateMachineVersionResponse>, Status> {
        let call = call_of(&request);
        Ok(Response::new(ops::publish_state_machine_version(self, &call, request.into_inner()).await?))
    }

    async fn create_state_machine_alias(
        &self,
        request: Request<pb::CreateStateMachineAliasRequest>,
    ) -> Result<Response<pb::CreateStateMachineAliasResponse>, Status> {
        let call = call_of(&request);
        Ok(Response::new(ops::create_state_machine_alias(self, &call, request.into_inner()).await?))
    }

    async fn validate_state_machine_definition(
        &self,
        request: Request<pb::ValidateStateMachineDefinitionRequest>,
    ) -> Result<Response<pb::ValidateStateMachineDefinitionResponse>, Status> {
        let call = call_of(&request);
        Ok(Response::new(ops::validate_state_machine_definition(self, &call, request.into_inner()).await?))
    }
    async fn describe_state_machine_for_execution(
        &self,
        request: Request<pb::DescribeStateMachineForExecutionRequest>,
    ) -> Result<Response<pb::DescribeStateMachineForExecutionResponse>, Status> {
        let call = call_of(&request);
        Ok(Response::new(ops::describe_state_machine_for_execution(self, &call, request.into_inner()).await?))
    }

    async fn list_state_machine_versions(
        &self,
        request: Request<pb::ListStateMachineVersionsRequest>,
    ) -> Result<Response<pb::ListStateMachineVersionsResponse>, Status> {
        let call = call_of(&request);
        Ok(Response::new(ops::list_state_machine_versions(self, &call, request.into_inner()).await?))
    }

    async fn delete_state_machine_version(
        &self,
        request: Request<pb::DeleteStateMachineVersionRequest>,
    ) -> Result<Response<pb::DeleteStateMachineVersionResponse>, Status> {
        let call = call_of(&request);
        Ok(Response::new(ops::delete_state_machine_version(self, &call, request.into_inner()).await?))
    }

    async fn describe_state_machine_alias(
        &self,
        request: Request<pb::DescribeStateMachineAliasRequest>,
    ) -> Result<Response<pb::DescribeStateMachineAliasResponse>, Status> {
        let call = call_of(&request);
        Ok(Response::new(ops::describe_state_machine_alias(self, &call, request.into_inner()).await?))
    }

    async fn update_state_machine_alias(
        &self,
        request: Request<pb::UpdateStateMachineAliasRequest>,
    ) -> Result<Response<pb::UpdateStateMachineAliasResponse>, Status> {
        let call = call_of(&request);
        Ok(Response::new(ops::update_state_machine_alias(self, &call, request.into_inner()).await?))
    }

    async fn delete_state_machine_alias(
        &self,
        request: Request<pb::DeleteStateMachineAliasRequest>,
    ) -> Result<Response<pb::DeleteStateMachineAliasResponse>, Status> {
        let call = call_of(&request);
        Ok(Response::new(ops::delete_state_machine_alias(self, &call, request.into_inner()).await?))
    }

    async fn list_state_machine_aliases(
        &self,
        request: Request<pb::ListStateMachineAliasesRequest>,
    ) -> Result<Response<pb::ListStateMachineAliasesResponse>, Status> {
        let call = call_of(&request);
        Ok(Response::new(ops::list_state_machine_aliases(self, &call, request.into_inner()).await?))
    }

    async fn tag_resource(
        &self,
        request: Request<pb::TagResourceRequest>,
    ) -> Result<Response<pb::TagResourceResponse>, Status> {
        let call = call_of(&request);
        Ok(Response::new(ops::tag_resource(self, &call, request.into_inner()).await?))
    }

    async fn untag_resource(
        &self,
        request: Request<pb::UntagResourceRequest>,
    ) -> Result<Response<pb::UntagResourceResponse>, Status> {
        let call = call_of(&request);
        Ok(Response::new(ops::untag_resource(self, &call, request.into_inner()).await?))
    }

    async fn list_tags_for_resource(
        &self,
        request: Request<pb::ListTagsForResourceRequest>,
    ) -> Result<Response<pb::ListTagsForResourceResponse>, Status> {
        let call = call_of(&request);
        Ok(Response::new(ops::list_tags_for_resource(self, &call, request.into_inner()).await?))
    }

    async fn test_state(
        &self,
        request: Request<pb::TestStateRequest>,
    ) -> Result<Response<pb::TestStateResponse>, Status> {
        let call = call_of(&request);
        Ok(Response::new(ops::test_state(self, &call, request.into_inner()).await?))
    }
}

#[tonic::async_trait]
impl pb::executions_server::Executions for Frontend {
    async fn start_execution(
        &self,
        request: Request<pb::StartExecutionRequest>,
    ) -> Result<Response<pb::StartExecutionResponse>, Status> {
        let call = call_of(&request);
        Ok(Response::new(ops::start_execution(self, &call, request.into_inner()).await?))
    }

    async fn start_sync_execution(
        &self,
        request: Request<pb::StartExecutionRequest>,
    ) -> Result<Response<pb::StartSyncExecutionResponse>, Status> {
        let call = call_of(&request);
        Ok(Response::new(ops::start_sync_execution(self, &call, request.into_inner()).await?))
    }

    async fn describe_execution(
        &self,
        request: Request<pb::DescribeExecutionRequest>,
    ) -> Result<Response<pb::DescribeExecutionResponse>, Status> {
        let call = call_of(&request);
        Ok(Response::new(ops::describe_execution(self, &call, request.into_inner()).await?))
    }

    async fn stop_execution(
        &self,
        request: Request<pb::StopExecutionRequest>,
    ) -> Result<Response<pb::StopExecutionResponse>, Status> {
        let call = call_of(&request);
        Ok(Response::new(ops::stop_execution(self, &call, request.into_inner()).await?))
    }
    async fn list_executions(
        &self,
        request: Request<pb::ListExecutionsRequest>,
    ) -> Result<Response<pb::ListExecutionsResponse>, Status> {
        let call = call_of(&request);
        Ok(Response::new(ops::list_executions(self, &call, request.into_inner()).await?))
    }
}
