//! The operations of the API, once, whatever the encoding: the gRPC services (`expressway.v1`)
//! and the AWS JSON protocol ([`crate::aws`]) decode their requests into these messages, learn
//! who calls from their transport ([`Call`]), and encode what comes back, errors included
//! ([`FrontendError`]). Each operation authorizes itself here, so no encoding can skip it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use expressway_asl::exec::test_state as ts;
use expressway_asl::{Clock, ExecutionInfo, Interpreter, Limits, StateMachine};
use expressway_bus::{OutcomeMessage, ResultMessage};
use expressway_proto::v1 as pb;
use expressway_store::arn::{self, Qualifier};
use expressway_store::{
    now_ms, Alias, ExecutionStatus, ExecutionStore, Finished, MetadataChange, NewStateMachine, StateMachineUpdate,
    StoreError,
};

use crate::auth::{Auth, Principal};
use crate::convert::{self, kind_from_pb, kind_to_pb, logging_from_pb, logging_to_pb, status_to_pb, timestamp};
use crate::{Frontend, FrontendError, ReplyGuard};

/// What an encoding learns about a call from its transport.
#[derive(Debug, Clone, Default)]
pub struct Call {
    /// Who calls, when authentication is on.
    pub principal: Option<Principal>,
    /// How deep a start from a nested-execution task is (0: a start from outside).
    pub depth: u32,
    /// What is left of the caller's own deadline, if it sent one.
    pub deadline: Option<Duration>,
}

/// Allow the call, or say why not. Off (`auth` is `None`), every call is allowed.
pub fn authorize(auth: Option<&Auth>, call: &Call, action: &str, resource: &str) -> Result<(), FrontendError> {
    let Some(auth) = auth else { return Ok(()) };
    let principal = call.principal.as_ref().ok_or(FrontendError::Unauthenticated)?;
    if auth.allows(principal, action, resource) {
        Ok(())
    } else {
        Err(FrontendError::Denied { principal: principal.0.clone(), action: action.into(), resource: resource.into() })
    }
}

fn page_size(max_results: i32, default: usize) -> Result<usize, FrontendError> {
    match max_results {
        0 => Ok(default),
        n if (1..=1000).contains(&n) => Ok(n as usize),
        n => Err(FrontendError::Invalid(format!("max_results must be between 1 and 1000, got {n}"))),
    }
}

/// One page of `items`, from the index that `next_token` holds; and the next page's token,
/// empty after the last page.
fn page_of<T>(
    items: Vec<T>,
    max_results: i32,
    default: usize,
    next_token: &str,
) -> Result<(Vec<T>, String), FrontendError> {
    let limit = page_size(max_results, default)?;
    let start: usize = if next_token.is_empty() {
        0
    } else {
        next_token.parse().map_err(|_| FrontendError::InvalidToken(next_token.to_string()))?
    };
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(start).take(limit).collect();
    let next = if start + page.len() < total { (start + page.len()).to_string() } else { String::new() };
    Ok((page, next))
}

impl Frontend {
    /// An alias's routes: the state machine whose versions they name, and (version, weight)
    /// pairs; one or two versions of one machine whose weights add up to 100.
    fn routing_of(&self, routes: &[pb::RoutingConfiguration]) -> Result<(String, Vec<(u32, u32)>), FrontendError> {
        let mut routing = Vec::new();
        let mut machine: Option<String> = None;
        for r in routes {
            let (name, q) = self.name_of(&r.state_machine_version_arn)?;
            let Qualifier::Version(n) = q else {
                return Err(FrontendError::InvalidArn(r.state_machine_version_arn.clone()));
            };
            if machine.as_ref().is_some_and(|m| *m != name) {
                return Err(FrontendError::Invalid(
                    "all routes of an alias must name versions of one state machine".into(),
                ));
            }
            machine = Some(name);
            routing.push((n, r.weight));
        }
        let total: u32 = routing.iter().map(|(_, w)| *w).sum();
        if routing.is_empty() || routing.len() > 2 || total != 100 {
            return Err(FrontendError::Invalid(
                "an alias routes to one or two versions whose weights add up to 100".into(),
            ));
        }
        Ok((machine.unwrap_or_default(), routing))
    }

    /// The state machine and alias an alias ARN names.
    fn alias_of(&self, alias_arn: &str) -> Result<(String, String), FrontendError> {
        match self.name_of(alias_arn)? {
            (machine, Qualifier::Alias(name)) => Ok((machine, name)),
            _ => Err(FrontendError::InvalidArn(alias_arn.to_string())),
        }
    }

    fn check(&self, call: &Call, action: &str, resource: &str) -> Result<(), FrontendError> {
        authorize(self.auth.as_deref(), call, action, resource)
    }
}

pub async fn create_state_machine(
    f: &Frontend,
    call: &Call,
    req: pb::CreateStateMachineRequest,
) -> Result<pb::CreateStateMachineResponse, FrontendError> {
    f.check(call, "states:CreateStateMachine", &f.config.partition.state_machine(&req.name))?;
    if !arn::valid_name(&req.name) {
        return Err(FrontendError::InvalidName(req.name));
    }
    let kind = kind_from_pb(req.r#type);
    Frontend::validate_definition(&req.definition, kind)?;
    let rec = f
        .registry
        .create(NewStateMachine {
            arn: f.config.partition.state_machine(&req.name),
            name: req.name.clone(),
            definition: req.definition,
            kind,
            logging: logging_from_pb(req.logging_configuration.as_ref()),
            tracing: req.tracing_configuration.is_some_and(|t| t.enabled),
            tags: req.tags.into_iter().map(|t| (t.key, t.value)).collect::<BTreeMap<_, _>>(),
            now_ms: now_ms(),
        })
        .await?;
    f.resolver.forget(&rec.name);
    let version_arn = if req.publish {
        f.registry.publish_version(&rec.name, None, &req.version_description).await?.arn
    } else {
        String::new()
    };
    Ok(pb::CreateStateMachineResponse {
        state_machine_arn: rec.arn,
        creation_date: Some(timestamp(rec.created_ms)),
        state_machine_version_arn: version_arn,
    })
}

pub async fn update_state_machine(
    f: &Frontend,
    call: &Call,
    req: pb::UpdateStateMachineRequest,
) -> Result<pb::UpdateStateMachineResponse, FrontendError> {
    f.check(call, "states:UpdateStateMachine", &req.state_machine_arn)?;
    let (name, q) = f.name_of(&req.state_machine_arn)?;
    if q != Qualifier::Latest {
        return Err(FrontendError::InvalidArn(req.state_machine_arn));
    }
    let current = f.registry.get(&name).await?;
    if let Some(d) = &req.definition {
        Frontend::validate_definition(d, current.current.kind)?;
    }
    let rec = f
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
        .await?;
    f.resolver.forget(&name);
    let version_arn = if req.publish {
        f.registry.publish_version(&name, None, &req.version_description).await?.arn
    } else {
        String::new()
    };
    Ok(pb::UpdateStateMachineResponse {
        update_date: Some(timestamp(rec.updated_ms)),
        revision_id: rec.current.revision_id,
        state_machine_version_arn: version_arn,
    })
}

pub async fn describe_state_machine(
    f: &Frontend,
    call: &Call,
    req: pb::DescribeStateMachineRequest,
) -> Result<pb::DescribeStateMachineResponse, FrontendError> {
    f.check(call, "states:DescribeStateMachine", &req.state_machine_arn)?;
    let (name, q) = f.name_of(&req.state_machine_arn)?;
    let rec = f.registry.get(&name).await?;
    let (revision, description, created) = match q {
        Qualifier::Latest => (rec.current.clone(), String::new(), rec.created_ms),
        Qualifier::Version(n) => {
            let v = f.registry.version(&name, n).await?;
            let r = f.registry.revision(&v.revision_id).await?;
            (r, v.description, v.created_ms)
        }
        Qualifier::Alias(_) => (f.resolve(&req.state_machine_arn).await?, String::new(), rec.created_ms),
    };
    Ok(pb::DescribeStateMachineResponse {
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
    })
}

/// The state machine revision an execution runs, with the ARN it was started on and when the
/// state machine last changed (the execution's start once it is deleted).
pub async fn describe_state_machine_for_execution(
    f: &Frontend,
    call: &Call,
    req: pb::DescribeStateMachineForExecutionRequest,
) -> Result<pb::DescribeStateMachineForExecutionResponse, FrontendError> {
    f.check(call, "states:DescribeStateMachineForExecution", &req.execution_arn)?;
    let r = f.executions.get(&req.execution_arn).await?;
    let revision = f.registry.revision(&r.revision_id).await?;
    let (name, updated) = match f.name_of(&r.state_machine_arn) {
        Ok((name, _)) => {
            let updated = f.registry.get(&name).await.map_or(r.start_ms, |m| m.updated_ms);
            (name, updated)
        }
        Err(_) => (String::new(), r.start_ms),
    };
    Ok(pb::DescribeStateMachineForExecutionResponse {
        state_machine_arn: r.state_machine_arn,
        name,
        definition: revision.definition,
        update_date: Some(timestamp(updated)),
        logging_configuration: Some(logging_to_pb(&revision.logging)),
        tracing_configuration: Some(pb::TracingConfiguration { enabled: revision.tracing }),
        revision_id: revision.revision_id,
    })
}

pub async fn list_state_machines(
    f: &Frontend,
    call: &Call,
    req: pb::ListStateMachinesRequest,
) -> Result<pb::ListStateMachinesResponse, FrontendError> {
    f.check(call, "states:ListStateMachines", "*")?;
    let limit = page_size(req.max_results, 100)?;
    let after = (!req.next_token.is_empty()).then_some(req.next_token.as_str());
    let mut page = f.registry.list(after, limit + 1).await?;
    let next_token = if page.len() > limit {
        page.truncate(limit);
        page.last().map(|r| r.name.clone()).unwrap_or_default()
    } else {
        String::new()
    };
    Ok(pb::ListStateMachinesResponse {
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
    })
}

pub async fn delete_state_machine(
    f: &Frontend,
    call: &Call,
    req: pb::DeleteStateMachineRequest,
) -> Result<pb::DeleteStateMachineResponse, FrontendError> {
    f.check(call, "states:DeleteStateMachine", &req.state_machine_arn)?;
    let (name, _) = f.name_of(&req.state_machine_arn)?;
    f.registry.delete(&name).await?;
    f.resolver.forget(&name);
    Ok(pb::DeleteStateMachineResponse {})
}

pub async fn publish_state_machine_version(
    f: &Frontend,
    call: &Call,
    req: pb::PublishStateMachineVersionRequest,
) -> Result<pb::PublishStateMachineVersionResponse, FrontendError> {
    f.check(call, "states:PublishStateMachineVersion", &req.state_machine_arn)?;
    let (name, _) = f.name_of(&req.state_machine_arn)?;
    let expect = (!req.revision_id.is_empty()).then_some(req.revision_id.as_str());
    let v = f.registry.publish_version(&name, expect, &req.description).await?;
    f.resolver.forget(&name);
    Ok(pb::PublishStateMachineVersionResponse {
        creation_date: Some(timestamp(v.created_ms)),
        state_machine_version_arn: v.arn,
    })
}

pub async fn create_state_machine_alias(
    f: &Frontend,
    call: &Call,
    req: pb::CreateStateMachineAliasRequest,
) -> Result<pb::CreateStateMachineAliasResponse, FrontendError> {
    f.check(
        call,
        "states:CreateStateMachineAlias",
        req.routing_configuration.first().map_or("*", |r| r.state_machine_version_arn.as_str()),
    )?;
    if !arn::valid_name(&req.name) || req.name.parse::<u32>().is_ok() {
        return Err(FrontendError::InvalidName(req.name));
    }
    let (machine, routing) = f.routing_of(&req.routing_configuration)?;
    let now = now_ms();
    let alias = f
        .registry
        .create_alias(
            &machine,
            Alias {
                arn: f.config.partition.alias(&machine, &req.name),
                name: req.name,
                description: req.description,
                routing,
                created_ms: now,
                updated_ms: now,
            },
        )
        .await?;
    f.resolver.forget(&machine);
    Ok(pb::CreateStateMachineAliasResponse {
        state_machine_alias_arn: alias.arn,
        creation_date: Some(timestamp(alias.created_ms)),
    })
}

pub async fn describe_state_machine_alias(
    f: &Frontend,
    call: &Call,
    req: pb::DescribeStateMachineAliasRequest,
) -> Result<pb::DescribeStateMachineAliasResponse, FrontendError> {
    f.check(call, "states:DescribeStateMachineAlias", &req.state_machine_alias_arn)?;
    let (machine, name) = f.alias_of(&req.state_machine_alias_arn)?;
    let alias = f.registry.alias(&machine, &name).await?;
    Ok(pb::DescribeStateMachineAliasResponse {
        state_machine_alias_arn: alias.arn,
        name: alias.name,
        description: alias.description,
        routing_configuration: alias
            .routing
            .iter()
            .map(|(n, w)| pb::RoutingConfiguration {
                state_machine_version_arn: f.config.partition.version(&machine, *n),
                weight: *w,
            })
            .collect(),
        creation_date: Some(timestamp(alias.created_ms)),
        // Records from before updates were kept say nothing: created is their last change.
        update_date: Some(timestamp(if alias.updated_ms > 0 { alias.updated_ms } else { alias.created_ms })),
    })
}

/// Change an alias's description and/or routing (its routes stay on its own machine).
pub async fn update_state_machine_alias(
    f: &Frontend,
    call: &Call,
    req: pb::UpdateStateMachineAliasRequest,
) -> Result<pb::UpdateStateMachineAliasResponse, FrontendError> {
    f.check(call, "states:UpdateStateMachineAlias", &req.state_machine_alias_arn)?;
    let (machine, name) = f.alias_of(&req.state_machine_alias_arn)?;
    if req.description.is_none() && req.routing_configuration.is_empty() {
        return Err(FrontendError::Invalid("give a description or a routing configuration to change".into()));
    }
    let routing = if req.routing_configuration.is_empty() {
        None
    } else {
        let (of, routing) = f.routing_of(&req.routing_configuration)?;
        if of != machine {
            return Err(FrontendError::Invalid("an alias routes to versions of its own state machine".into()));
        }
        Some(routing)
    };
    let now = now_ms();
    let change = MetadataChange::UpdateAlias { name, description: req.description, routing, now_ms: now };
    f.registry.change(&machine, change).await?;
    f.resolver.forget(&machine);
    Ok(pb::UpdateStateMachineAliasResponse { update_date: Some(timestamp(now)) })
}

pub async fn delete_state_machine_alias(
    f: &Frontend,
    call: &Call,
    req: pb::DeleteStateMachineAliasRequest,
) -> Result<pb::DeleteStateMachineAliasResponse, FrontendError> {
    f.check(call, "states:DeleteStateMachineAlias", &req.state_machine_alias_arn)?;
    let (machine, name) = f.alias_of(&req.state_machine_alias_arn)?;
    f.registry.change(&machine, MetadataChange::DeleteAlias(name)).await?;
    f.resolver.forget(&machine);
    Ok(pb::DeleteStateMachineAliasResponse {})
}

/// Delete a version. One an alias routes to is refused (`ConflictException`); one that does
/// not exist, or whose state machine does not, is no error, as on AWS.
pub async fn delete_state_machine_version(
    f: &Frontend,
    call: &Call,
    req: pb::DeleteStateMachineVersionRequest,
) -> Result<pb::DeleteStateMachineVersionResponse, FrontendError> {
    f.check(call, "states:DeleteStateMachineVersion", &req.state_machine_version_arn)?;
    let (machine, Qualifier::Version(n)) = f.name_of(&req.state_machine_version_arn)? else {
        return Err(FrontendError::InvalidArn(req.state_machine_version_arn));
    };
    match f.registry.change(&machine, MetadataChange::DeleteVersion(n)).await {
        Ok(_) | Err(StoreError::NotFound { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    f.resolver.forget(&machine);
    Ok(pb::DeleteStateMachineVersionResponse {})
}

/// The tagging operations say `ResourceNotFound` of a missing state machine, as AWS does.
fn resource_not_found(e: FrontendError) -> FrontendError {
    match e {
        FrontendError::Store(StoreError::NotFound { what }) => {
            FrontendError::Store(StoreError::NotFound { what: format!("resource {what}") })
        }
        e => e,
    }
}

/// Add tags to (`Tag`) or remove them from (`Untag`) a state machine.
async fn change_tags(
    f: &Frontend,
    call: &Call,
    resource_arn: &str,
    change: MetadataChange,
) -> Result<(), FrontendError> {
    let action = if matches!(change, MetadataChange::Untag(_)) { "states:UntagResource" } else { "states:TagResource" };
    f.check(call, action, resource_arn)?;
    let (machine, q) = f.name_of(resource_arn)?;
    if q != Qualifier::Latest {
        return Err(FrontendError::InvalidArn(resource_arn.to_string()));
    }
    f.registry.change(&machine, change).await.map_err(|e| resource_not_found(e.into()))?;
    Ok(())
}

pub async fn tag_resource(
    f: &Frontend,
    call: &Call,
    req: pb::TagResourceRequest,
) -> Result<pb::TagResourceResponse, FrontendError> {
    let tags = req.tags.into_iter().map(|t| (t.key, t.value)).collect();
    change_tags(f, call, &req.resource_arn, MetadataChange::Tag(tags)).await?;
    Ok(pb::TagResourceResponse {})
}

pub async fn untag_resource(
    f: &Frontend,
    call: &Call,
    req: pb::UntagResourceRequest,
) -> Result<pb::UntagResourceResponse, FrontendError> {
    change_tags(f, call, &req.resource_arn, MetadataChange::Untag(req.tag_keys)).await?;
    Ok(pb::UntagResourceResponse {})
}

/// A state machine's tags.
pub async fn list_tags_for_resource(
    f: &Frontend,
    call: &Call,
    req: pb::ListTagsForResourceRequest,
) -> Result<pb::ListTagsForResourceResponse, FrontendError> {
    f.check(call, "states:ListTagsForResource", &req.resource_arn)?;
    let (machine, _) = f.name_of(&req.resource_arn)?;
    let rec = f.registry.get(&machine).await.map_err(|e| resource_not_found(e.into()))?;
    Ok(pb::ListTagsForResourceResponse {
        tags: rec.tags.into_iter().map(|(key, value)| pb::Tag { key, value }).collect(),
    })
}

/// One page of a state machine's versions, newest first (as AWS lists them).
pub async fn list_state_machine_versions(
    f: &Frontend,
    call: &Call,
    req: pb::ListStateMachineVersionsRequest,
) -> Result<pb::ListStateMachineVersionsResponse, FrontendError> {
    f.check(call, "states:ListStateMachineVersions", &req.state_machine_arn)?;
    let (name, q) = f.name_of(&req.state_machine_arn)?;
    if q != Qualifier::Latest {
        return Err(FrontendError::InvalidArn(req.state_machine_arn));
    }
    let mut versions = f.registry.get(&name).await?.versions;
    versions.reverse();
    let (page, next_token) = page_of(versions, req.max_results, 100, &req.next_token)?;
    Ok(pb::ListStateMachineVersionsResponse {
        state_machine_versions: page
            .into_iter()
            .map(|v| pb::StateMachineVersionListItem {
                state_machine_version_arn: v.arn,
                creation_date: Some(timestamp(v.created_ms)),
            })
            .collect(),
        next_token,
    })
}

/// One page of a state machine's aliases, in the order they were created.
pub async fn list_state_machine_aliases(
    f: &Frontend,
    call: &Call,
    req: pb::ListStateMachineAliasesRequest,
) -> Result<pb::ListStateMachineAliasesResponse, FrontendError> {
    f.check(call, "states:ListStateMachineAliases", &req.state_machine_arn)?;
    let (name, q) = f.name_of(&req.state_machine_arn)?;
    if q != Qualifier::Latest {
        return Err(FrontendError::InvalidArn(req.state_machine_arn));
    }
    let aliases = f.registry.get(&name).await?.aliases;
    let (page, next_token) = page_of(aliases, req.max_results, 100, &req.next_token)?;
    Ok(pb::ListStateMachineAliasesResponse {
        state_machine_aliases: page
            .into_iter()
            .map(|a| pb::StateMachineAliasListItem {
                state_machine_alias_arn: a.arn,
                creation_date: Some(timestamp(a.created_ms)),
            })
            .collect(),
        next_token,
    })
}

/// AWS does not list Express executions (`StateMachineTypeNotSupported`), and Expressway
/// keeps no index of executions: the state machine is looked up, then the same answer.
pub async fn list_executions(
    f: &Frontend,
    call: &Call,
    req: pb::ListExecutionsRequest,
) -> Result<pb::ListExecutionsResponse, FrontendError> {
    f.check(call, "states:ListExecutions", &req.state_machine_arn)?;
    page_size(req.max_results, 100)?;
    let (name, _) = f.name_of(&req.state_machine_arn)?;
    f.registry.get(&name).await?;
    Err(FrontendError::TypeNotSupported("This operation is not supported by this type of state machine".into()))
}

pub async fn validate_state_machine_definition(
    f: &Frontend,
    call: &Call,
    req: pb::ValidateStateMachineDefinitionRequest,
) -> Result<pb::ValidateStateMachineDefinitionResponse, FrontendError> {
    f.check(call, "states:ValidateStateMachineDefinition", "*")?;
    if !["", "ERROR", "WARNING"].contains(&req.severity.as_str()) {
        return Err(FrontendError::Invalid(format!(
            "1 validation error detected: Value '{}' at 'severity' failed to satisfy constraint: Member must satisfy enum value set: [ERROR, WARNING]",
            req.severity
        )));
    }
    let limit = match req.max_results {
        0 => 100,
        n if (1..=100).contains(&n) => n as usize,
        n => return Err(FrontendError::Invalid(format!("max_results must be between 1 and 100, got {n}"))),
    };
    let kind = kind_from_pb(req.r#type);
    let diagnostics = match StateMachine::from_json_with(&req.definition, Frontend::machine_type(kind)) {
        Ok(_) => Vec::new(),
        Err(e) => e.diagnostics(),
    };
    // Every diagnostic Expressway reports is an ERROR, so either severity keeps them all.
    Ok(pb::ValidateStateMachineDefinitionResponse {
        result: if diagnostics.is_empty() { "OK" } else { "FAIL" }.into(),
        truncated: diagnostics.len() > limit,
        diagnostics: diagnostics
            .into_iter()
            .take(limit)
            .map(|d| pb::Diagnostic {
                severity: "ERROR".into(),
                code: d.code.into(),
                message: d.message,
                location: d.location,
            })
            .collect(),
    })
}

pub async fn start_execution(
    f: &Frontend,
    call: &Call,
    req: pb::StartExecutionRequest,
) -> Result<pb::StartExecutionResponse, FrontendError> {
    f.check(call, "states:StartExecution", &req.state_machine_arn)?;
    let (record, _) = f.start(&req, call.depth, None).await?;
    Ok(pb::StartExecutionResponse { execution_arn: record.execution_arn, start_date: Some(timestamp(record.start_ms)) })
}

pub async fn start_sync_execution(
    f: &Frontend,
    call: &Call,
    req: pb::StartExecutionRequest,
) -> Result<pb::StartSyncExecutionResponse, FrontendError> {
    f.check(call, "states:StartSyncExecution", &req.state_machine_arn)?;
    // The execution's own time limit ends it as TIMED_OUT (the interpreter enforces it);
    // a shorter caller deadline only ends this call, and the execution keeps running.
    let own_limit = f.config.sync_timeout + Duration::from_secs(5);
    // Answer a little before the caller's deadline so it gets DEADLINE_EXCEEDED from us
    // rather than a transport-level cancellation.
    let caller =
        call.deadline.filter(|d| *d < own_limit).map(|d| d.saturating_sub(Duration::from_millis(20).min(d / 10)));
    let limit = caller.unwrap_or(own_limit);
    let routed = f.replies.routes_replies();
    let reply_to = routed.then(|| f.replies.address());
    let (record, new) = f.start(&req, call.depth, reply_to).await?;
    // A repeated start follows the store: the first caller waits for the routed reply.
    let rx = (new && routed).then(|| f.replies.expect(&record.execution_arn));
    let _guard = ReplyGuard { replies: &*f.replies, execution_arn: record.execution_arn.clone() };
    // The worker may have finished before `expect`: it records the outcome before it
    // replies, so checking the store after registering cannot miss it.
    let rx = match rx {
        Some(rx) => {
            let r = f.executions.get(&record.execution_arn).await?;
            if r.status == ExecutionStatus::Running {
                Some(rx)
            } else {
                None
            }
        }
        None => None,
    };
    let outcome = f.wait_for_outcome(&record, rx, limit).await?;
    Ok(match outcome {
        Some(o) => pb::StartSyncExecutionResponse {
            trace_header: req.trace_header.clone(),
            ..sync_response(o, record.input.clone())
        },
        None if caller.is_some() => return Err(FrontendError::Deadline(record.execution_arn.clone())),
        None => {
            // Past the time limit: the execution ends as TIMED_OUT for this caller.
            let stop = now_ms();
            let cause = "the synchronous execution did not finish within its time limit".to_string();
            let _ = f
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
                trace_header: req.trace_header.clone(),
            }
        }
    })
}

fn sync_response(o: OutcomeMessage, input: String) -> pb::StartSyncExecutionResponse {
    pb::StartSyncExecutionResponse {
        execution_arn: o.execution_arn,
        state_machine_arn: o.state_machine_arn,
        name: o.execution_name,
        start_date: Some(timestamp(o.start_ms)),
        stop_date: Some(timestamp(o.stop_ms)),
        status: status_to_pb(o.status) as i32,
        error: o.error.unwrap_or_default(),
        cause: o.cause.unwrap_or_default(),
        input,
        output: o.output.unwrap_or_default(),
        trace_header: String::new(),
        billing_details: Some(pb::BillingDetails {
            billed_memory_used_in_mb: 64,
            // AWS bills Express in 100 ms increments, rounded up.
            billed_duration_in_milliseconds: ((o.stop_ms - o.start_ms).max(0) as u64).div_ceil(100).max(1) * 100,
        }),
    }
}

pub async fn describe_execution(
    f: &Frontend,
    call: &Call,
    req: pb::DescribeExecutionRequest,
) -> Result<pb::DescribeExecutionResponse, FrontendError> {
    f.check(call, "states:DescribeExecution", &req.execution_arn)?;
    Ok(convert::describe(f.executions.get(&req.execution_arn).await?))
}

pub async fn stop_execution(
    f: &Frontend,
    call: &Call,
    req: pb::StopExecutionRequest,
) -> Result<pb::StopExecutionResponse, FrontendError> {
    f.check(call, "states:StopExecution", &req.execution_arn)?;
    let stop = now_ms();
    let first = f
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
        .await?;
    if first {
        if let Err(e) = f.stops.send(&req.execution_arn).await {
            tracing::warn!(execution_arn = %req.execution_arn, error = %e, "the stop is recorded but its run was not told; it ends on its own, its outcome discarded");
        }
        let r = f.executions.get(&req.execution_arn).await?;
        let outcome = convert::outcome_of(&r);
        if f.hub.publish(ResultMessage::Outcome(outcome.clone())).durable().await.is_err() {
            tracing::warn!(execution_arn = %req.execution_arn, "the stop is recorded but its outcome did not reach the results stream");
        }
        let _ = f.replies.reply(&f.replies.address(), outcome).await;
    }
    Ok(pb::StopExecutionResponse { stop_date: Some(timestamp(stop)) })
}

/// One page of an execution's history. `next_token` is the index of the page's first event.
pub async fn get_execution_history(
    auth: Option<&Auth>,
    executions: &dyn ExecutionStore,
    call: &Call,
    req: pb::GetExecutionHistoryRequest,
) -> Result<pb::GetExecutionHistoryResponse, FrontendError> {
    authorize(auth, call, "states:GetExecutionHistory", &req.execution_arn)?;
    executions.get(&req.execution_arn).await?;
    let mut events = executions.history(&req.execution_arn).await?;
    if req.reverse_order {
        events.reverse();
    }
    let (events, next_token) = page_of(events, req.max_results, 1000, &req.next_token)?;
    let mut page: Vec<pb::HistoryEvent> = events.iter().map(convert::history_event).collect();
    if req.include_execution_data == Some(false) {
        for e in &mut page {
            without_data(e);
        }
    }
    Ok(pb::GetExecutionHistoryResponse { events: page, next_token })
}

/// An event without the input and output it carried (`includeExecutionData: false`).
fn without_data(e: &mut pb::HistoryEvent) {
    if let Ok(serde_json::Value::Object(mut m)) = serde_json::from_str::<serde_json::Value>(&e.details) {
        if m.remove("input").is_some() | m.remove("output").is_some() {
            e.details = serde_json::Value::Object(m).to_string();
        }
    }
}
/// Wall-clock time and tokio's timers, for the states TestState runs here.
struct WallClock;

impl Clock for WallClock {
    fn now_millis(&self) -> i64 {
        now_ms()
    }
    fn sleep(&self, duration: Duration) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
        Box::pin(tokio::time::sleep(duration))
    }
}

fn some_text(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

fn json_text(v: Option<serde_json::Value>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// TestState: one state run alone, with the Task integrations of this process (or a mock).
pub async fn test_state(
    f: &Frontend,
    call: &Call,
    req: pb::TestStateRequest,
) -> Result<pb::TestStateResponse, FrontendError> {
    f.check(call, "states:TestState", "*")?;
    let inspection_level = match pb::InspectionLevel::try_from(req.inspection_level) {
        Ok(pb::InspectionLevel::Debug) => ts::InspectionLevel::Debug,
        Ok(pb::InspectionLevel::Trace) => ts::InspectionLevel::Trace,
        _ => ts::InspectionLevel::Info,
    };
    let mock = req.mock.map(|m| ts::Mock {
        result: m.result,
        error_output: m.error_output.map(|e| ts::MockError { error: some_text(e.error), cause: some_text(e.cause) }),
        field_validation_mode: match pb::FieldValidationMode::try_from(m.field_validation_mode) {
            Ok(pb::FieldValidationMode::Present) => ts::FieldValidationMode::Present,
            Ok(pb::FieldValidationMode::None) => ts::FieldValidationMode::None,
            _ => ts::FieldValidationMode::Strict,
        },
    });
    let cfg = req.state_configuration.unwrap_or_default();
    let request = ts::TestStateRequest {
        definition: req.definition,
        state_name: some_text(req.state_name),
        input: some_text(req.input),
        variables: some_text(req.variables),
        inspection_level,
        reveal_secrets: req.reveal_secrets,
        mock,
        context: some_text(req.context),
        state_configuration: ts::StateConfiguration {
            retrier_retry_count: cfg.retrier_retry_count,
            error_caused_by_state: some_text(cfg.error_caused_by_state),
            map_iteration_failure_count: cfg.map_iteration_failure_count,
            map_item_reader_data: some_text(cfg.map_item_reader_data),
        },
    };
    // The Context object of an execution of a state machine of its own.
    let name = uuid::Uuid::new_v4().to_string();
    let info = ExecutionInfo {
        execution_arn: f.config.partition.express_execution("TestState", &name, &name),
        execution_name: name,
        state_machine_arn: f.config.partition.state_machine("TestState"),
        state_machine_name: "TestState".into(),
        role_arn: req.role_arn,
        ..ExecutionInfo::default()
    };
    let interpreter = Interpreter::new(f.tasks.clone(), Arc::new(WallClock), Limits::default());
    let out = interpreter.test_state(&request, info).await.map_err(FrontendError::TestState)?;
    Ok(pb::TestStateResponse {
        output: json_text(out.output),
        error: out.error.unwrap_or_default(),
        cause: out.cause.unwrap_or_default(),
        next_state: out.next_state.unwrap_or_default(),
        status: out.status.as_str().into(),
        inspection_data: out.inspection_data.map(|d| pb::InspectionData {
            input: json_text(d.input),
            after_input_path: json_text(d.after_input_path),
            after_parameters: json_text(d.after_parameters),
            after_arguments: json_text(d.after_arguments),
            result: json_text(d.result),
            after_result_selector: json_text(d.after_result_selector),
            after_result_path: json_text(d.after_result_path),
            variables: json_text(d.variables),
            error_details: d.error_details.map(|e| pb::InspectionErrorDetails {
                catch_index: e.catch_index,
                retry_index: e.retry_index,
                retry_backoff_interval_seconds: e.retry_backoff_interval_seconds,
            }),
            after_items_path: json_text(d.after_items_path),
            after_item_selector: json_text(d.after_item_selector),
            after_item_batcher: json_text(d.after_item_batcher),
            tolerated_failure_count: d.tolerated_failure_count,
            tolerated_failure_percentage: d.tolerated_failure_percentage,
            max_concurrency: d.max_concurrency,
            request: d.request.map(|r| pb::InspectionDataRequest {
                protocol: r.protocol,
                method: r.method,
                url: r.url,
                headers: r.headers,
                body: r.body,
            }),
            response: d.response.map(|r| pb::InspectionDataResponse {
                protocol: r.protocol,
                status_code: r.status_code,
                status_message: r.status_message,
                headers: r.headers,
                body: r.body,
            }),
        }),
    })
}
