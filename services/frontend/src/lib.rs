//! The gRPC frontend: the public API (`expressway.v1`) over the registry, the execution store,
//! the execution bus, the results stream and reply routing.
//!
//! Layout: [`Frontend`] holds the parts and implements `StateMachines` and `Executions`;
//! [`auth`] says who calls and what they may do;
//! [`results::ResultsApi`] implements `Results` (served by frontends and by the results
//! service); [`error`] maps every failure to a precise gRPC status; [`convert`] translates
//! between API messages and store records.

pub mod auth;
pub mod convert;
pub mod error;
pub mod results;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use expressway_asl::{MachineType, StateMachine};
use expressway_bus::{ExecutionBus, ReplyRouter, ResultMessage, ResultsHub, StartCommand, Stops};
use expressway_proto::v1 as pb;
use expressway_store::arn::{self, Partition, Qualifier};
use expressway_store::starter::{self, Resolver, StartPolicy, StartRequest};
use expressway_store::{
    now_ms, Alias, ExecutionRecord, ExecutionStatus, ExecutionStore, Finished, MachineKind, NewStateMachine, Registry,
    Revision, StateMachineUpdate,
};
use tonic::{Request, Response, Status};

use convert::{kind_from_pb, kind_to_pb, logging_from_pb, logging_to_pb, status_to_pb, timestamp};
pub use error::FrontendError;
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

/// Forgets a synchronous caller's reply slot when its call ends, however it ends.
struct ReplyGuard<'a> {
    replies: &'a dyn ReplyRouter,
    execution_arn: String,
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

    /// Validate, record and queue an execution. Returns the record and whether it is new.
    async fn start(
        &self,
        request: &Request<pb::StartExecutionRequest>,
        reply_to: Option<String>,
    ) -> Result<(ExecutionRecord, bool), FrontendError> {
        let req = request.get_ref();
        // A start from a nested-execution task says how deep it is; each level holds a worker
        // slot while it waits (a synchronous call), so a chain that calls itself must end.
        let depth = request
            .metadata()
            .get(NESTING_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0);
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

#[tonic::async_trait]
impl pb::state_machines_server::StateMachines for Frontend {
    async fn create_state_machine(
        &self,
        request: Request<pb::CreateStateMachineRequest>,
    ) -> Result<Response<pb::CreateStateMachineResponse>, Status> {
        auth::authorize(
            &self.auth,
            &request,
            "states:CreateStateMachine",
            &self.config.partition.state_machine(&request.get_ref().name),
        )?;
        let req = request.into_inner();
        if !arn::valid_name(&req.name) {
            return Err(FrontendError::InvalidName(req.name).into());
        }
        let kind = kind_from_pb(req.r#type);
        Self::validate_definition(&req.definition, kind)?;
        let now = now_ms();
        let rec = self
            .registry
            .create(NewStateMachine {
                arn: self.config.partition.state_machine(&req.name),
                name: req.name.clone(),
                definition: req.definition,
                kind,
                logging: logging_from_pb(req.logging_configuration.as_ref()),
                tracing: req.tracing_configuration.is_some_and(|t| t.enabled),
                tags: req.tags.into_iter().map(|t| (t.key, t.value)).collect::<BTreeMap<_, _>>(),
                now_ms: now,
            })
            .await
            .map_err(FrontendError::from)?;
        self.resolver.forget(&rec.name);
        let version_arn = if req.publish {
            self.registry
                .publish_version(&rec.name, None, &req.version_description)
                .await
                .map_err(FrontendError::from)?
                .arn
        } else {
            String::new()
        };
        Ok(Response::new(pb::CreateStateMachineResponse {
            state_machine_arn: rec.arn,
            creation_date: Some(timestamp(rec.created_ms)),
            state_machine_version_arn: version_arn,
        }))
    }

    async fn update_state_machine(
        &self,
        request: Request<pb::UpdateStateMachineRequest>,
    ) -> Result<Response<pb::UpdateStateMachineResponse>, Status> {
        auth::authorize(&self.auth, &request, "states:UpdateStateMachine", &request.get_ref().state_machine_arn)?;
        let req = request.into_inner();
        let (name, q) = self.name_of(&req.state_machine_arn)?;
        if q != Qualifier::Latest {
            return Err(FrontendError::InvalidArn(req.state_machine_arn).into());
        }
        let current = self.registry.get(&name).await.map_err(FrontendError::from)?;
        if let Some(d) = &req.definition {
            Self::validate_definition(d, current.current.kind)?;
        }
        let rec = self
            .registry
            .update(
                &name,
                StateMachineUpdate {
                    definition: req.definition,
                    logging: req.logging_configuration.as_ref().map(|l| logging_from_pb(Some(l))),
                    tracing: req.tracing_configuration.map(|t| t.enabled),
                    now_ms: now_ms(),
                },
            )
            .await
            .map_err(FrontendError::from)?;
        self.resolver.forget(&name);
        let version_arn = if req.publish {
            self.registry.publish_version(&name, None, &req.version_description).await.map_err(FrontendError::from)?.arn
        } else {
            String::new()
        };
        Ok(Response::new(pb::UpdateStateMachineResponse {
            update_date: Some(timestamp(rec.updated_ms)),
            revision_id: rec.current.revision_id,
            state_machine_version_arn: version_arn,
        }))
    }

    async fn describe_state_machine(
        &self,
        request: Request<pb::DescribeStateMachineRequest>,
    ) -> Result<Response<pb::DescribeStateMachineResponse>, Status> {
        auth::authorize(&self.auth, &request, "states:DescribeStateMachine", &request.get_ref().state_machine_arn)?;
        let req = request.into_inner();
        let (name, q) = self.name_of(&req.state_machine_arn)?;
        let rec = self.registry.get(&name).await.map_err(FrontendError::from)?;
        let (revision, description, created) = match q {
            Qualifier::Latest => (rec.current.clone(), String::new(), rec.created_ms),
            Qualifier::Version(n) => {
                let v = self.registry.version(&name, n).await.map_err(FrontendError::from)?;
                let r = self.registry.revision(&v.revision_id).await.map_err(FrontendError::from)?;
                (r, v.description, v.created_ms)
            }
            Qualifier::Alias(_) => (self.resolve(&req.state_machine_arn).await?, String::new(), rec.created_ms),
        };
        Ok(Response::new(pb::DescribeStateMachineResponse {
            state_machine_arn: req.state_machine_arn,
            name: rec.name,
            status: "ACTIVE".into(),
            definition: revision.definition,
            r#type: kind_to_pb(revision.kind) as i32,
            creation_date: Some(timestamp(created)),
            logging_configuration: Some(logging_to_pb(&revision.logging)),
            tracing_configuration: Some(pb::TracingConfiguration { enabled: revision.tracing }),
            revision_id: revision.revision_id,
            description,
            tags: rec.tags.into_iter().map(|(key, value)| pb::Tag { key, value }).collect(),
        }))
    }

    async fn list_state_machines(
        &self,
        request: Request<pb::ListStateMachinesRequest>,
    ) -> Result<Response<pb::ListStateMachinesResponse>, Status> {
        auth::authorize(&self.auth, &request, "states:ListStateMachines", "*")?;
        let req = request.into_inner();
        let limit = match req.max_results {
            0 => 100,
            n if (1..=1000).contains(&n) => n as usize,
            n => return Err(FrontendError::Invalid(format!("max_results must be between 1 and 1000, got {n}")).into()),
        };
        let after = (!req.next_token.is_empty()).then_some(req.next_token.as_str());
        let mut page = self.registry.list(after, limit + 1).await.map_err(FrontendError::from)?;
        let next_token = if page.len() > limit {
            page.truncate(limit);
            page.last().map(|r| r.name.clone()).unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(pb::ListStateMachinesResponse {
            state_machines: page
                .into_iter()
                .map(|r| pb::StateMachineListItem {
                    state_machine_arn: r.arn,
                    name: r.name,
                    r#type: kind_to_pb(r.current.kind) as i32,
                    creation_date: Some(timestamp(r.created_ms)),
                })
                .collect(),
            next_token,
        }))
    }

    async fn delete_state_machine(
        &self,
        request: Request<pb::DeleteStateMachineRequest>,
    ) -> Result<Response<pb::DeleteStateMachineResponse>, Status> {
        auth::authorize(&self.auth, &request, "states:DeleteStateMachine", &request.get_ref().state_machine_arn)?;
        let (name, _) = self.name_of(&request.get_ref().state_machine_arn)?;
        self.registry.delete(&name).await.map_err(FrontendError::from)?;
        self.resolver.forget(&name);
        Ok(Response::new(pb::DeleteStateMachineResponse {}))
    }

    async fn publish_state_machine_version(
        &self,
        request: Request<pb::PublishStateMachineVersionRequest>,
    ) -> Result<Response<pb::PublishStateMachineVersionResponse>, Status> {
        auth::authorize(
            &self.auth,
            &request,
            "states:PublishStateMachineVersion",
            &request.get_ref().state_machine_arn,
        )?;
        let req = request.into_inner();
        let (name, _) = self.name_of(&req.state_machine_arn)?;
        let expect = (!req.revision_id.is_empty()).then_some(req.revision_id.as_str());
        let v = self.registry.publish_version(&name, expect, &req.description).await.map_err(FrontendError::from)?;
        self.resolver.forget(&name);
        Ok(Response::new(pb::PublishStateMachineVersionResponse {
            creation_date: Some(timestamp(v.created_ms)),
            state_machine_version_arn: v.arn,
        }))
    }

    async fn create_state_machine_alias(
        &self,
        request: Request<pb::CreateStateMachineAliasRequest>,
    ) -> Result<Response<pb::CreateStateMachineAliasResponse>, Status> {
        auth::authorize(
            &self.auth,
            &request,
            "states:CreateStateMachineAlias",
            request.get_ref().routing_configuration.first().map_or("*", |r| r.state_machine_version_arn.as_str()),
        )?;
        let req = request.into_inner();
        if !arn::valid_name(&req.name) || req.name.parse::<u32>().is_ok() {
            return Err(FrontendError::InvalidName(req.name).into());
        }
        let mut routing = Vec::new();
        let mut machine: Option<String> = None;
        for r in &req.routing_configuration {
            let (name, q) = self.name_of(&r.state_machine_version_arn)?;
            let Qualifier::Version(n) = q else {
                return Err(FrontendError::InvalidArn(r.state_machine_version_arn.clone()).into());
            };
            if machine.as_ref().is_some_and(|m| *m != name) {
                return Err(FrontendError::Invalid(
                    "all routes of an alias must name versions of one state machine".into(),
                )
                .into());
            }
            machine = Some(name);
            routing.push((n, r.weight));
        }
        let total: u32 = routing.iter().map(|(_, w)| *w).sum();
        if routing.is_empty() || routing.len() > 2 || total != 100 {
            return Err(FrontendError::Invalid(
                "an alias routes to one or two versions whose weights add up to 100".into(),
            )
            .into());
        }
        let machine = machine.unwrap_or_default();
        let now = now_ms();
        let alias = self
            .registry
            .create_alias(
                &machine,
                Alias {
                    arn: self.config.partition.alias(&machine, &req.name),
                    name: req.name,
                    description: req.description,
                    routing,
                    created_ms: now,
                },
            )
            .await
            .map_err(FrontendError::from)?;
        self.resolver.forget(&machine);
        Ok(Response::new(pb::CreateStateMachineAliasResponse {
            state_machine_alias_arn: alias.arn,
            creation_date: Some(timestamp(alias.created_ms)),
        }))
    }

    async fn validate_state_machine_definition(
        &self,
        request: Request<pb::ValidateStateMachineDefinitionRequest>,
    ) -> Result<Response<pb::ValidateStateMachineDefinitionResponse>, Status> {
        auth::authorize(&self.auth, &request, "states:ValidateStateMachineDefinition", "*")?;
        let req = request.into_inner();
        let kind = kind_from_pb(req.r#type);
        let diagnostics = match StateMachine::from_json_with(&req.definition, Self::machine_type(kind)) {
            Ok(_) => Vec::new(),
            Err(e) => e.diagnostics(),
        };
        Ok(Response::new(pb::ValidateStateMachineDefinitionResponse {
            result: if diagnostics.is_empty() { "OK" } else { "FAIL" }.into(),
            diagnostics: diagnostics
                .into_iter()
                .map(|d| pb::Diagnostic {
                    severity: "ERROR".into(),
                    code: d.code.into(),
                    message: d.message,
                    location: d.location,
                })
                .collect(),
        }))
    }
}

#[tonic::async_trait]
impl pb::executions_server::Executions for Frontend {
    async fn start_execution(
        &self,
        request: Request<pb::StartExecutionRequest>,
    ) -> Result<Response<pb::StartExecutionResponse>, Status> {
        auth::authorize(&self.auth, &request, "states:StartExecution", &request.get_ref().state_machine_arn)?;
        let (record, _) = self.start(&request, None).await?;
        Ok(Response::new(pb::StartExecutionResponse {
            execution_arn: record.execution_arn,
            start_date: Some(timestamp(record.start_ms)),
        }))
    }

    async fn start_sync_execution(
        &self,
        request: Request<pb::StartExecutionRequest>,
    ) -> Result<Response<pb::StartSyncExecutionResponse>, Status> {
        auth::authorize(&self.auth, &request, "states:StartSyncExecution", &request.get_ref().state_machine_arn)?;
        // The execution's own time limit ends it as TIMED_OUT (the interpreter enforces it);
        // a shorter caller deadline only ends this call, and the execution keeps running.
        let own_limit = self.config.sync_timeout + Duration::from_secs(5);
        // Answer a little before the caller's deadline so it gets DEADLINE_EXCEEDED from us
        // rather than a transport-level cancellation.
        let caller = caller_deadline(&request)
            .filter(|d| *d < own_limit)
            .map(|d| d.saturating_sub(Duration::from_millis(20).min(d / 10)));
        let limit = caller.unwrap_or(own_limit);
        let routed = self.replies.routes_replies();
        let reply_to = routed.then(|| self.replies.address());
        let (record, new) = self.start(&request, reply_to).await?;
        // A repeated start follows the store: the first caller waits for the routed reply.
        let rx = (new && routed).then(|| self.replies.expect(&record.execution_arn));
        let _guard = ReplyGuard { replies: &*self.replies, execution_arn: record.execution_arn.clone() };
        // The worker may have finished before `expect`: it records the outcome before it
        // replies, so checking the store after registering cannot miss it.
        let rx = match rx {
            Some(rx) => {
                let r = self.executions.get(&record.execution_arn).await.map_err(FrontendError::from)?;
                if r.status == ExecutionStatus::Running {
                    Some(rx)
                } else {
                    None
                }
            }
            None => None,
        };
        let outcome = self.wait_for_outcome(&record, rx, limit).await?;
        let resp = match outcome {
            Some(o) => pb::StartSyncExecutionResponse {
                execution_arn: o.execution_arn,
                state_machine_arn: o.state_machine_arn,
                name: o.execution_name,
                start_date: Some(timestamp(o.start_ms)),
                stop_date: Some(timestamp(o.stop_ms)),
                status: status_to_pb(o.status) as i32,
                error: o.error.unwrap_or_default(),
                cause: o.cause.unwrap_or_default(),
                input: record.input.clone(),
                output: o.output.unwrap_or_default(),
                billing_details: Some(pb::BillingDetails {
                    billed_memory_used_in_mb: 64,
                    // AWS bills Express in 100 ms increments, rounded up.
                    billed_duration_in_milliseconds: ((o.stop_ms - o.start_ms).max(0) as u64).div_ceil(100).max(1)
                        * 100,
                }),
            },
            None if caller.is_some() => return Err(FrontendError::Deadline(record.execution_arn.clone()).into()),
            None => {
                // Past the time limit: the execution ends as TIMED_OUT for this caller.
                let stop = now_ms();
                let cause = "the synchronous execution did not finish within its time limit".to_string();
                let _ = self
                    .executions
                    .finish(
                        &record.execution_arn,
                        Finished {
                            status: ExecutionStatus::TimedOut,
                            output: None,
                            error: Some("States.Timeout".into()),
                            cause: Some(cause.clone()),
                            stop_ms: stop,
                        },
                    )
                    .await;
                pb::StartSyncExecutionResponse {
                    execution_arn: record.execution_arn.clone(),
                    state_machine_arn: record.state_machine_arn.clone(),
                    name: record.name.clone(),
                    start_date: Some(timestamp(record.start_ms)),
                    stop_date: Some(timestamp(stop)),
                    status: pb::ExecutionStatus::TimedOut as i32,
                    error: "States.Timeout".into(),
                    cause,
                    input: record.input.clone(),
                    output: String::new(),
                    billing_details: None,
                }
            }
        };
        Ok(Response::new(resp))
    }

    async fn describe_execution(
        &self,
        request: Request<pb::DescribeExecutionRequest>,
    ) -> Result<Response<pb::DescribeExecutionResponse>, Status> {
        auth::authorize(&self.auth, &request, "states:DescribeExecution", &request.get_ref().execution_arn)?;
        let r = self.executions.get(&request.get_ref().execution_arn).await.map_err(FrontendError::from)?;
        Ok(Response::new(convert::describe(r)))
    }

    async fn stop_execution(
        &self,
        request: Request<pb::StopExecutionRequest>,
    ) -> Result<Response<pb::StopExecutionResponse>, Status> {
        auth::authorize(&self.auth, &request, "states:StopExecution", &request.get_ref().execution_arn)?;
        let req = request.into_inner();
        let stop = now_ms();
        let first = self
            .executions
            .finish(
                &req.execution_arn,
                Finished {
                    status: ExecutionStatus::Aborted,
                    output: None,
                    error: (!req.error.is_empty()).then_some(req.error),
                    cause: (!req.cause.is_empty()).then_some(req.cause),
                    stop_ms: stop,
                },
            )
            .await
            .map_err(FrontendError::from)?;
        if first {
            if let Err(e) = self.stops.send(&req.execution_arn).await {
                tracing::warn!(execution_arn = %req.execution_arn, error = %e, "the stop is recorded but its run was not told; it ends on its own, its outcome discarded");
            }
            let r = self.executions.get(&req.execution_arn).await.map_err(FrontendError::from)?;
            let outcome = convert::outcome_of(&r);
            if self.hub.publish(ResultMessage::Outcome(outcome.clone())).durable().await.is_err() {
                tracing::warn!(execution_arn = %req.execution_arn, "the stop is recorded but its outcome did not reach the results stream");
            }
            let _ = self.replies.reply(&self.replies.address(), outcome).await;
        }
        Ok(Response::new(pb::StopExecutionResponse { stop_date: Some(timestamp(stop)) }))
    }
}
