//! The client subcommands, one per Step Functions operation, with the AWS CLI's names and
//! flags (`expressway describe-state-machine --state-machine-arn …` as `aws stepfunctions
//! describe-state-machine --state-machine-arn …`), described by one table ([`OPERATIONS`]).
//!
//! Each flag fills one member of the operation's AWS input shape, as the AWS CLI builds it:
//! `--state-machine-arn` → `stateMachineArn`; structures take JSON or the AWS CLI's shorthand
//! (`--routing-configuration stateMachineVersionArn=…,weight=100`), lists take several values
//! or a JSON array, booleans come as `--publish` / `--no-publish`, and any value may be
//! `file://PATH` (read as the AWS CLI reads it; definitions and inputs also take `@PATH`).
//! The input then goes the way [`crate::client`] describes.

use anyhow::{anyhow, bail, Context as _};
use clap::{Arg, ArgAction, ArgMatches};
use serde_json::{json, Map, Value};

/// How a flag's values become its member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string.
    Text,
    /// A JSON document as a string (an input): inline, `file://PATH` or `@PATH`.
    Document,
    /// A definition: as [`Kind::Document`], or a plain path to its file.
    Definition,
    Int,
    /// `--flag` / `--no-flag`.
    Bool,
    /// A structure: JSON, or shorthand `a=1,b=x`; the members named are not strings.
    Struct(&'static [&'static str]),
    /// A list of structures: a JSON array, or one shorthand structure per value.
    StructList(&'static [&'static str]),
    /// A list of strings: several values, or a JSON array.
    TextList,
    /// Accepted and not sent (AWS-only settings such as `--role-arn`).
    Ignored,
}

/// One flag of a subcommand.
#[derive(Debug)]
pub struct Param {
    pub flag: &'static str,
    /// The member it fills; `a.b` fills member `b` of structure `a`.
    pub member: &'static str,
    pub kind: Kind,
    pub required: bool,
    /// Kept for the commands' earlier spelling; not listed in `--help`.
    pub hidden: bool,
    pub help: &'static str,
}

const fn p(flag: &'static str, member: &'static str, kind: Kind, help: &'static str) -> Param {
    Param { flag, member, kind, required: false, hidden: false, help }
}

const fn req(flag: &'static str, member: &'static str, kind: Kind, help: &'static str) -> Param {
    Param { flag, member, kind, required: true, hidden: false, help }
}

const fn hidden(flag: &'static str, member: &'static str, kind: Kind) -> Param {
    Param { flag, member, kind, required: false, hidden: true, help: "" }
}

/// One subcommand: an operation of the API.
#[derive(Debug)]
pub struct Operation {
    pub command: &'static str,
    /// The operation's name in the API (`X-Amz-Target`, the gRPC method).
    pub name: &'static str,
    pub about: &'static str,
    pub params: &'static [Param],
    /// For the operations the AWS CLI paginates: the member that holds a page's items.
    /// Every page is fetched and printed as one ([`Paging`]), unless `--max-results`,
    /// `--next-token` or `--no-paginate` asks for one call.
    pub pages: Option<&'static str>,
}

const STATE_MACHINE_ARN: Param = req("state-machine-arn", "stateMachineArn", Kind::Text, "The state machine's ARN.");
const EXECUTION_ARN: Param = req("execution-arn", "executionArn", Kind::Text, "The execution's ARN.");
const ALIAS_ARN: Param = req("state-machine-alias-arn", "stateMachineAliasArn", Kind::Text, "The alias's ARN.");
const RESOURCE_ARN: Param = req("resource-arn", "resourceArn", Kind::Text, "The state machine's ARN.");
const MAX_RESULTS: Param = p("max-results", "maxResults", Kind::Int, "At most this many items (one page).");
const NEXT_TOKEN: Param = p("next-token", "nextToken", Kind::Text, "The page after the one that gave this token.");
const ROLE_ARN: Param =
    p("role-arn", "roleArn", Kind::Ignored, "Accepted and not used (Expressway assumes no IAM role).");
const LOGGING: Param = p(
    "logging-configuration",
    "loggingConfiguration",
    Kind::Struct(&["includeExecutionData"]),
    "level=ALL|ERROR|FATAL|OFF,includeExecutionData=true|false (or JSON).",
);
const TRACING: Param =
    p("tracing-configuration", "tracingConfiguration", Kind::Struct(&["enabled"]), "enabled=true|false (or JSON).");
const ROUTING: Param = p(
    "routing-configuration",
    "routingConfiguration",
    Kind::StructList(&["weight"]),
    "stateMachineVersionArn=ARN,weight=N for each version (or a JSON array).",
);
const START: &[Param] = &[
    STATE_MACHINE_ARN,
    p("name", "name", Kind::Text, "The execution's name (a start with the same name and input is the same execution)."),
    p("input", "input", Kind::Document, "The input: JSON, file://PATH or @PATH."),
    p("trace-header", "traceHeader", Kind::Text, "A trace header to pass along."),
];

/// Every client subcommand.
pub const OPERATIONS: &[Operation] = &[
    Operation {
        command: "create-state-machine",
        name: "CreateStateMachine",
        about: "Create a state machine.",
        params: &[
            req("name", "name", Kind::Text, "The state machine's name."),
            req(
                "definition",
                "definition",
                Kind::Definition,
                "The definition (ASL): JSON, file://PATH, @PATH or a path.",
            ),
            ROLE_ARN,
            p("type", "type", Kind::Text, "EXPRESS (the default) or STANDARD."),
            LOGGING,
            TRACING,
            p("tags", "tags", Kind::StructList(&[]), "key=K,value=V for each tag (or a JSON array)."),
            p("publish", "publish", Kind::Bool, "Publish version 1 as well."),
            p("version-description", "versionDescription", Kind::Text, "The published version's description."),
            hidden("logging-level", "loggingConfiguration.level", Kind::Text),
            hidden("include-execution-data", "loggingConfiguration.includeExecutionData", Kind::Bool),
        ],
        pages: None,
    },
    Operation {
        command: "describe-state-machine",
        name: "DescribeStateMachine",
        about: "Describe a state machine, a version or an alias's current target.",
        params: &[STATE_MACHINE_ARN],
        pages: None,
    },
    Operation {
        command: "update-state-machine",
        name: "UpdateStateMachine",
        about: "Change a state machine's definition or settings (a new revision).",
        params: &[
            STATE_MACHINE_ARN,
            p("definition", "definition", Kind::Definition, "The new definition."),
            ROLE_ARN,
            LOGGING,
            TRACING,
            p("publish", "publish", Kind::Bool, "Publish the new revision as a version."),
            p("version-description", "versionDescription", Kind::Text, "The published version's description."),
        ],
        pages: None,
    },
    Operation {
        command: "delete-state-machine",
        name: "DeleteStateMachine",
        about: "Delete a state machine.",
        params: &[STATE_MACHINE_ARN],
        pages: None,
    },
    Operation {
        command: "list-state-machines",
        name: "ListStateMachines",
        about: "List state machines.",
        params: &[MAX_RESULTS, NEXT_TOKEN],
        pages: Some("stateMachines"),
    },
    Operation {
        command: "describe-state-machine-for-execution",
        name: "DescribeStateMachineForExecution",
        about: "Describe the state machine revision an execution runs.",
        params: &[EXECUTION_ARN],
        pages: None,
    },
    Operation {
        command: "validate-state-machine-definition",
        name: "ValidateStateMachineDefinition",
        about: "Check a definition on the server and list every diagnostic.",
        params: &[
            req("definition", "definition", Kind::Definition, "The definition to check."),
            p("type", "type", Kind::Text, "EXPRESS (the default) or STANDARD."),
            p("severity", "severity", Kind::Text, "ERROR or WARNING."),
            p("max-results", "maxResults", Kind::Int, "At most this many diagnostics."),
        ],
        pages: None,
    },
    Operation {
        command: "publish-state-machine-version",
        name: "PublishStateMachineVersion",
        about: "Publish the current revision as a version.",
        params: &[
            STATE_MACHINE_ARN,
            p("revision-id", "revisionId", Kind::Text, "Publish only if this is still the current revision."),
            p("description", "description", Kind::Text, "The version's description."),
        ],
        pages: None,
    },
    Operation {
        command: "list-state-machine-versions",
        name: "ListStateMachineVersions",
        about: "List a state machine's versions, newest first.",
        params: &[STATE_MACHINE_ARN, MAX_RESULTS, NEXT_TOKEN],
        pages: None,
    },
    Operation {
        command: "delete-state-machine-version",
        name: "DeleteStateMachineVersion",
        about: "Delete a version (not one an alias routes to).",
        params: &[req("state-machine-version-arn", "stateMachineVersionArn", Kind::Text, "The version's ARN.")],
        pages: None,
    },
    Operation {
        command: "create-state-machine-alias",
        name: "CreateStateMachineAlias",
        about: "Create an alias routing to one or two versions.",
        params: &[
            req("name", "name", Kind::Text, "The alias's name."),
            p("description", "description", Kind::Text, "The alias's description."),
            Param { required: true, ..ROUTING },
        ],
        pages: None,
    },
    Operation {
        command: "describe-state-machine-alias",
        name: "DescribeStateMachineAlias",
        about: "Describe an alias.",
        params: &[ALIAS_ARN],
        pages: None,
    },
    Operation {
        command: "update-state-machine-alias",
        name: "UpdateStateMachineAlias",
        about: "Change an alias's description or routing.",
        params: &[ALIAS_ARN, p("description", "description", Kind::Text, "The new description."), ROUTING],
        pages: None,
    },
    Operation {
        command: "delete-state-machine-alias",
        name: "DeleteStateMachineAlias",
        about: "Delete an alias.",
        params: &[ALIAS_ARN],
        pages: None,
    },
    Operation {
        command: "list-state-machine-aliases",
        name: "ListStateMachineAliases",
        about: "List a state machine's aliases.",
        params: &[STATE_MACHINE_ARN, MAX_RESULTS, NEXT_TOKEN],
        pages: None,
    },
    Operation {
        command: "start-execution",
        name: "StartExecution",
        about: "Start an execution (prints executionArn).",
        params: START,
        pages: None,
    },
    Operation {
        command: "start-sync-execution",
        name: "StartSyncExecution",
        about: "Start an execution and wait for its outcome.",
        params: START,
        pages: None,
    },
    Operation {
        command: "stop-execution",
        name: "StopExecution",
        about: "Stop a running execution (ABORTED).",
        params: &[
            EXECUTION_ARN,
            p("error", "error", Kind::Text, "The error to record."),
            p("cause", "cause", Kind::Text, "The cause to record."),
        ],
        pages: None,
    },
    Operation {
        command: "describe-execution",
        name: "DescribeExecution",
        about: "Describe an execution.",
        params: &[EXECUTION_ARN],
        pages: None,
    },
    Operation {
        command: "list-executions",
        name: "ListExecutions",
        about: "List executions (Express executions are not listed, as on AWS).",
        params: &[
            STATE_MACHINE_ARN,
            p("status-filter", "statusFilter", Kind::Text, "RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED."),
            MAX_RESULTS,
            NEXT_TOKEN,
        ],
        pages: Some("executions"),
    },
    Operation {
        command: "get-execution-history",
        name: "GetExecutionHistory",
        about: "An execution's history events (as its logging configuration keeps them).",
        params: &[
            EXECUTION_ARN,
            MAX_RESULTS,
            p("reverse-order", "reverseOrder", Kind::Bool, "Newest first."),
            NEXT_TOKEN,
            p("include-execution-data", "includeExecutionData", Kind::Bool, "With inputs and outputs (the default)."),
        ],
        pages: Some("events"),
    },
    Operation {
        command: "tag-resource",
        name: "TagResource",
        about: "Add tags to a state machine.",
        params: &[
            RESOURCE_ARN,
            Param {
                required: true,
                ..p("tags", "tags", Kind::StructList(&[]), "key=K,value=V for each tag (or a JSON array).")
            },
        ],
        pages: None,
    },
    Operation {
        command: "untag-resource",
        name: "UntagResource",
        about: "Remove tags from a state machine.",
        params: &[RESOURCE_ARN, req("tag-keys", "tagKeys", Kind::TextList, "The keys of the tags to remove.")],
        pages: None,
    },
    Operation {
        command: "list-tags-for-resource",
        name: "ListTagsForResource",
        about: "A state machine's tags.",
        params: &[RESOURCE_ARN],
        pages: None,
    },
];

/// Flags every client subcommand takes, as the AWS CLI's do.
const CLI_INPUT_JSON: &str = "cli-input-json";
const QUERY: &str = "query";
const OUTPUT: &str = "output";
const NO_PAGINATE: &str = "no-paginate";
/// The AWS CLI's pagination flags, on the operations it paginates.
const STARTING_TOKEN: &str = "starting-token";
const PAGE_SIZE: &str = "page-size";
const MAX_ITEMS: &str = "max-items";

/// The flag's argument id (`--no-x` gets its own).
fn negated(flag: &str) -> String {
    format!("no-{flag}")
}

impl Operation {
    /// The clap subcommand.
    fn command(&'static self) -> clap::Command {
        let mut cmd = clap::Command::new(self.command)
            .about(self.about)
            .arg(Arg::new(CLI_INPUT_JSON).long(CLI_INPUT_JSON).help(
                "The operation's input as JSON (inline or file://PATH), in AWS's member names; flags given as well override its members.",
            ))
            .arg(Arg::new(QUERY).long(QUERY).help("A JMESPath expression that picks what to print, as the AWS CLI's --query."))
            .arg(
                Arg::new(OUTPUT)
                    .long(OUTPUT)
                    .value_parser(["json", "text"])
                    .default_value("json")
                    .help("json, or text: tab-separated, as the AWS CLI prints it."),
            )
            .arg(
                Arg::new(NO_PAGINATE)
                    .long(NO_PAGINATE)
                    .action(ArgAction::SetTrue)
                    .help("One call, its page printed as it is (operations that page only)."),
            );
        if self.pages.is_some() {
            cmd = cmd
                .arg(
                    Arg::new(STARTING_TOKEN).long(STARTING_TOKEN).help(
                        "Where to start: the NextToken a previous command printed when --max-items cut it short.",
                    ),
                )
                .arg(
                    Arg::new(PAGE_SIZE)
                        .long(PAGE_SIZE)
                        .value_parser(clap::value_parser!(i64))
                        .help("Items per call (more calls, the same output)."),
                )
                .arg(
                    Arg::new(MAX_ITEMS)
                        .long(MAX_ITEMS)
                        .value_parser(clap::value_parser!(i64))
                        .help("At most this many items in all; a NextToken is printed when there are more."),
                );
        }
        for param in self.params {
            let arg = Arg::new(param.flag).long(param.flag).help(param.help).hide(param.hidden);
            // A required member may come from --cli-input-json instead.
            let arg = if param.required { arg.required_unless_present(CLI_INPUT_JSON) } else { arg };
            cmd = match param.kind {
                Kind::Bool => cmd.arg(arg.action(ArgAction::SetTrue).overrides_with(negated(param.flag))).arg(
                    Arg::new(negated(param.flag))
                        .long(negated(param.flag))
                        .action(ArgAction::SetTrue)
                        .hide(true)
                        .overrides_with(param.flag),
                ),
                Kind::StructList(_) | Kind::TextList => cmd.arg(arg.num_args(1..).action(ArgAction::Append)),
                Kind::Int => cmd.arg(arg.value_parser(clap::value_parser!(i64))),
                _ => cmd.arg(arg),
            };
        }
        cmd
    }

    /// The operation's AWS input from the parsed flags (over `--cli-input-json`'s members).
    pub fn input(&self, m: &ArgMatches) -> anyhow::Result<Value> {
        let mut input = match m.get_one::<String>(CLI_INPUT_JSON) {
            None => Map::new(),
            Some(v) => match serde_json::from_str(&text(v)?) {
                Ok(Value::Object(given)) => given,
                Ok(_) => bail!("--{CLI_INPUT_JSON} must be a JSON object of the operation's input members"),
                Err(e) => bail!("--{CLI_INPUT_JSON} is not valid JSON: {e}"),
            },
        };
        for param in self.params {
            let value = match param.kind {
                Kind::Ignored => None,
                Kind::Bool => {
                    if m.get_flag(param.flag) {
                        Some(Value::Bool(true))
                    } else if m.get_flag(&negated(param.flag)) {
                        Some(Value::Bool(false))
                    } else {
                        None
                    }
                }
                Kind::Int => m.get_one::<i64>(param.flag).map(|n| json!(n)),
                Kind::StructList(typed) => match m.get_many::<String>(param.flag) {
                    Some(values) => {
                        Some(list(values.map(String::as_str).collect(), param, |v| structure(v, typed, param))?)
                    }
                    None => None,
                },
                Kind::TextList => match m.get_many::<String>(param.flag) {
                    Some(values) => {
                        Some(list(values.map(String::as_str).collect(), param, |v| Ok(Value::String(text(v)?)))?)
                    }
                    None => None,
                },
                Kind::Text | Kind::Document | Kind::Definition | Kind::Struct(_) => {
                    match m.get_one::<String>(param.flag) {
                        None => None,
                        Some(v) => Some(match param.kind {
                            Kind::Document => Value::String(document(v, false)?),
                            Kind::Definition => Value::String(document(v, true)?),
                            Kind::Struct(typed) => structure(v, typed, param)?,
                            _ => Value::String(text(v)?),
                        }),
                    }
                }
            };
            if let Some(v) = value {
                set(&mut input, param.member, v);
            }
        }
        let missing: Vec<String> = self
            .params
            .iter()
            .filter(|p| p.required && !input.contains_key(p.member.split('.').next().unwrap_or(p.member)))
            .map(|p| format!("--{}", p.flag))
            .collect();
        if !missing.is_empty() {
            bail!("the following arguments are required: {}", missing.join(", "));
        }
        Ok(Value::Object(input))
    }
}

/// How to page through a paginated operation, as the AWS CLI does.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Paging {
    /// `--starting-token`, as given.
    pub starting_token: Option<String>,
    /// `--page-size`: the operation's `maxResults` on each call.
    pub page_size: Option<i64>,
    /// `--max-items`: at most this many items in the output.
    pub max_items: Option<i64>,
}

/// Set `member` (`a` or `a.b`) of `input`.
fn set(input: &mut Map<String, Value>, member: &str, value: Value) {
    match member.split_once('.') {
        None => {
            input.insert(member.to_string(), value);
        }
        Some((outer, inner)) => {
            let slot = input.entry(outer.to_string()).or_insert_with(|| json!({}));
            if let Value::Object(m) = slot {
                m.entry(inner.to_string()).or_insert(value);
            }
        }
    }
}

/// A value as the AWS CLI reads it: `file://PATH` is the file's text.
fn text(v: &str) -> anyhow::Result<String> {
    match v.strip_prefix("file://") {
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("cannot read {path}")),
        None => Ok(v.to_string()),
    }
}

/// A JSON document given inline, as `file://PATH` (as the AWS CLI reads it) or `@PATH`, or
/// (for definitions, `path_ok`) as a plain path.
pub fn document(v: &str, path_ok: bool) -> anyhow::Result<String> {
    if let Some(path) = v.strip_prefix("file://").or_else(|| v.strip_prefix('@')) {
        return std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"));
    }
    if path_ok && !v.trim_start().starts_with('{') {
        return std::fs::read_to_string(v).with_context(|| format!("cannot read the definition file {v}"));
    }
    Ok(v.to_string())
}

/// A structure: JSON, or shorthand `a=x,b=2` (members in `typed` are read as JSON scalars,
/// the others are strings).
fn structure(v: &str, typed: &[&str], param: &Param) -> anyhow::Result<Value> {
    let v = text(v)?;
    if v.trim_start().starts_with('{') {
        return serde_json::from_str(&v).with_context(|| format!("--{} is not valid JSON", param.flag));
    }
    let mut m = Map::new();
    for pair in v.split(',') {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| anyhow!("--{}: expected key=value pairs separated by commas, got '{pair}'", param.flag))?;
        let value = if typed.contains(&key) {
            serde_json::from_str(value).map_err(|_| anyhow!("--{}: '{value}' is not a valid {key}", param.flag))?
        } else {
            Value::String(value.to_string())
        };
        m.insert(key.to_string(), value);
    }
    Ok(Value::Object(m))
}

/// A list: one JSON array, or one item per value.
fn list(values: Vec<&str>, param: &Param, item: impl Fn(&str) -> anyhow::Result<Value>) -> anyhow::Result<Value> {
    if let [one] = values.as_slice() {
        let one = text(one)?;
        if one.trim_start().starts_with('[') {
            let v: Value =
                serde_json::from_str(&one).with_context(|| format!("--{} is not a valid JSON array", param.flag))?;
            return Ok(v);
        }
    }
    Ok(Value::Array(values.into_iter().map(item).collect::<anyhow::Result<_>>()?))
}

/// The client subcommands as parsed: which operation, with which flags.
#[derive(Debug, Clone)]
pub struct ApiCall {
    pub operation: &'static Operation,
    pub matches: ArgMatches,
}

impl ApiCall {
    pub fn input(&self) -> anyhow::Result<Value> {
        self.operation.input(&self.matches)
    }

    /// `--query`, compiled (a bad one is refused before any call is made).
    pub fn query(&self) -> anyhow::Result<Option<crate::output::Query>> {
        self.matches.get_one::<String>(QUERY).map(|q| crate::output::Query::compile(q)).transpose()
    }

    /// How to page through the operation's results: `None` for one call (an operation that
    /// does not page, `--no-paginate`, or `--max-results`/`--next-token` given), which
    /// cannot be combined with the pagination flags.
    pub fn paging(&self) -> anyhow::Result<Option<Paging>> {
        let m = &self.matches;
        if self.operation.pages.is_none() {
            return Ok(None);
        }
        let manual = ["max-results", "next-token"].iter().any(|f| m.contains_id(f));
        let paging = Paging {
            starting_token: m.get_one::<String>(STARTING_TOKEN).cloned(),
            page_size: m.get_one::<i64>(PAGE_SIZE).copied(),
            max_items: m.get_one::<i64>(MAX_ITEMS).copied(),
        };
        if !(manual || m.get_flag(NO_PAGINATE)) {
            return Ok(Some(paging));
        }
        let used: Vec<String> = [
            (STARTING_TOKEN, paging.starting_token.is_some()),
            (PAGE_SIZE, paging.page_size.is_some()),
            (MAX_ITEMS, paging.max_items.is_some()),
        ]
        .iter()
        .filter(|(_, set)| *set)
        .map(|(f, _)| format!("--{f}"))
        .collect();
        if !used.is_empty() {
            bail!("Cannot specify --no-paginate along with pagination arguments: {}", used.join(", "));
        }
        Ok(None)
    }

    pub fn format(&self) -> anyhow::Result<crate::output::Format> {
        crate::output::Format::parse(self.matches.get_one::<String>(OUTPUT).map_or("json", String::as_str))
    }
}

impl clap::FromArgMatches for ApiCall {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        let (name, sub) = m.subcommand().ok_or_else(|| clap::Error::new(clap::error::ErrorKind::MissingSubcommand))?;
        let operation = OPERATIONS
            .iter()
            .find(|o| o.command == name)
            .ok_or_else(|| clap::Error::new(clap::error::ErrorKind::InvalidSubcommand))?;
        Ok(ApiCall { operation, matches: sub.clone() })
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

impl clap::Subcommand for ApiCall {
    fn augment_subcommands(cmd: clap::Command) -> clap::Command {
        OPERATIONS.iter().fold(cmd, |cmd, op| cmd.subcommand(op.command()))
    }

    fn augment_subcommands_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_subcommands(cmd)
    }

    fn has_subcommand(name: &str) -> bool {
        OPERATIONS.iter().any(|o| o.command == name)
    }
}
