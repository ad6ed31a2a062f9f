//! Task integrations: what Task states do. Express supports only the request-response pattern,
//! so every integration here sends one request and maps the answer or the failure to AWS's
//! result shapes and error names, so existing Retry/Catch blocks keep working.
//!
//! - Functions (Lambda-compatible): `arn:aws:states:::lambda:invoke` (optimized integration,
//!   result `{ExecutedVersion, Payload, StatusCode}`) and plain function ARNs as Resource (the
//!   bare payload), resolved through a function registry (name or ARN → HTTP endpoint).
//! - HTTP: `arn:aws:states:::http:invoke` with named connections (basic, API key, OAuth client
//!   credentials, the token cached until shortly before it expires) and an allowlist of target
//!   hosts. Redirects are not followed; names resolve only to public addresses unless private
//!   networks are allowed, and link-local (cloud metadata) addresses only when named as such.
//! - Kafka: `arn:aws:states:::kafka:publish` (Topic, Key, Value, Headers) on the configured cluster.
//! - Nested executions: `arn:aws:states:::states:startExecution` (returns ExecutionArn and
//!   StartDate) and `arn:aws:states:::states:startSyncExecution` (returns the execution's
//!   outcome as StartSyncExecution does), against an Expressway endpoint.
//!
//! Credentials come from configuration and are added to requests only; they never appear in
//! task results, errors or logs, even when an endpoint echoes them back. Response bodies are
//! read up to a limit, never whole.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use expressway_asl::{StatesError, TaskInvoker, TaskRequest};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// Where a function runs: an HTTP endpoint that takes the payload as the request body and
/// answers with the function's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionTarget {
    pub url: String,
}

/// How an HTTP connection authenticates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Authentication {
    Basic { username: String, password: String },
    ApiKey { header: String, value: String },
    OauthClientCredentials { token_url: String, client_id: String, client_secret: String, scope: Option<String> },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TasksConfig {
    /// Function name or ARN → endpoint.
    pub functions: BTreeMap<String, FunctionTarget>,
    /// Connection name or ARN → authentication.
    pub connections: BTreeMap<String, Authentication>,
    /// Hosts HTTP tasks may call: exact names, `*.example.com`, or `*` for any public host.
    /// An IP address listed as such may be called whatever its range.
    pub http_allowlist: Vec<String>,
    /// Whether allowed names may resolve to loopback and private addresses (10/8,
    /// 172.16/12, 192.168/16, 100.64/10, fc00::/7). Link-local addresses (169.254/16, where
    /// cloud metadata services answer) are never reached through a name.
    pub http_allow_private_networks: bool,
    /// Largest response body read from a function or an HTTP endpoint (AWS's payload limit).
    pub max_response_bytes: usize,
    /// Upper bound for one request when the state sets no TimeoutSeconds.
    pub request_timeout_seconds: u64,
    pub max_idle_connections_per_host: usize,
    /// Kafka bootstrap servers for `kafka:publish` (empty: the integration is off).
    pub kafka_bootstrap_servers: String,
    /// Other clusters `kafka:publish` may name with `Cluster`: name → bootstrap servers.
    pub kafka_clusters: BTreeMap<String, String>,
    /// The Expressway gRPC endpoint nested executions are started on (empty: off).
    pub expressway_endpoint: String,
}

impl Default for TasksConfig {
    fn default() -> Self {
        TasksConfig {
            functions: BTreeMap::new(),
            connections: BTreeMap::new(),
            http_allowlist: Vec::new(),
            http_allow_private_networks: false,
            max_response_bytes: 256 * 1024,
            request_timeout_seconds: 60,
            max_idle_connections_per_host: 64,
            kafka_bootstrap_servers: String::new(),
            kafka_clusters: BTreeMap::new(),
            expressway_endpoint: String::new(),
        }
    }
}

/// Routes Task states to the integrations.
pub struct Integrations {
    cfg: TasksConfig,
    /// For the endpoints the operator configured (functions, OAuth token URLs).
    http: reqwest::Client,
    /// For `http:invoke`, whose targets come from state machines: guarded resolution.
    http_tasks: reqwest::Client,
    /// OAuth access tokens by connection, with when to fetch a new one.
    tokens: Mutex<HashMap<String, (String, Instant)>>,
    kafka: Option<rdkafka::producer::FutureProducer>,
    clusters: BTreeMap<String, rdkafka::producer::FutureProducer>,
    nested: Option<tonic::transport::Channel>,
    fallback: Option<Arc<dyn TaskInvoker>>,
}

fn err(name: &str, cause: impl Into<String>) -> StatesError {
    StatesError::new(name, cause)
}

/// The function name inside a name, a full ARN or a partial ARN.
fn function_name(s: &str) -> &str {
    match s.find(":function:") {
        Some(i) => s[i + ":function:".len()..].split(':').next().unwrap_or(s),
        None => s,
    }
}

fn host_allowed(allow: &[String], host: &str) -> bool {
    allow.iter().any(|p| {
        p == "*"
            || p.eq_ignore_ascii_case(host)
            || p.strip_prefix("*.").is_some_and(|d| host.ends_with(&format!(".{d}")))
    })
}

/// Why an HTTP task may not reach `ip`, if it may not.
fn ip_denied(ip: IpAddr, allow_private: bool) -> Option<&'static str> {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    };
    let (link_local, private) = match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            (
                v4.is_link_local() || v4.is_unspecified() || v4.is_broadcast() || v4.is_multicast(),
                v4.is_loopback() || v4.is_private() || (a == 100 && (64..128).contains(&b)),
            )
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            (
                // fd00:ec2::254: the IPv6 address of the EC2 metadata service.
                (first & 0xffc0) == 0xfe80
                    || v6.is_unspecified()
                    || v6.is_multicast()
                    || v6 == std::net::Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254),
                v6.is_loopback() || (first & 0xfe00) == 0xfc00,
            )
        }
    };
    if link_local {
        Some("a link-local, unspecified or multicast address (where cloud metadata services answer)")
    } else if private && !allow_private {
        Some("a loopback or private address (tasks.http_allow_private_networks is off)")
    } else {
        None
    }
}

/// The reason a guarded resolution refused a name (found again in reqwest's error chain).
#[derive(Debug)]
struct Denied(String);

impl std::fmt::Display for Denied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Denied {}

/// Resolves names for `http:invoke`, keeping only the addresses a task may reach: checking
/// the address actually connected to, not the name, is what stops a name that points (or is
/// re-pointed) at an internal service.
struct GuardedResolver {
    allow_private: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut why = None;
            let usable: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| match ip_denied(a.ip(), allow_private) {
                    Some(w) => {
                        why = Some(w);
                        false
                    }
                    None => true,
                })
                .collect();
            if usable.is_empty() {
                let why = why.unwrap_or("no address");
                return Err(Box::new(Denied(format!("The host '{host}' resolves only to {why}"))) as _);
            }
            Ok(Box::new(usable.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The [`Denied`] reason inside a request error, if that is why it failed.
fn denied_reason(e: &reqwest::Error) -> Option<String> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(d) = s.downcast_ref::<Denied>() {
            return Some(d.0.clone());
        }
        source = s.source();
    }
    None
}

/// Replace every secret in the strings of `v` (keys included) by `***`.
fn redact(v: &mut Value, secrets: &[String]) {
    fn clean(s: &str, secrets: &[String]) -> Option<String> {
        let mut out: Option<String> = None;
        for secret in secrets {
            let cur = out.as_deref().unwrap_or(s);
            if cur.contains(secret.as_str()) {
                out = Some(cur.replace(secret.as_str(), "***"));
            }
        }
        out
    }
    match v {
        Value::String(s) => {
            if let Some(c) = clean(s, secrets) {
                *s = c;
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| redact(x, secrets)),
        Value::Object(o) => {
            let entries = std::mem::take(o);
            for (k, mut x) in entries {
                redact(&mut x, secrets);
                o.insert(clean(&k, secrets).unwrap_or(k), x);
            }
        }
        _ => {}
    }
}

/// Read a response body up to `limit` bytes.
async fn read_limited(mut resp: reqwest::Response, limit: usize, what: &str) -> Result<String, StatesError> {
    let too_big = || {
        err("States.DataLimitExceeded", format!("The {what} is larger than {limit} bytes (tasks.max_response_bytes)"))
    };
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Err(too_big());
    }
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > limit {
                    return Err(too_big());
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(_) => return Err(err("States.Http.Socket", format!("The {what} was cut off"))),
        }
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

impl Integrations {
    pub fn new(cfg: TasksConfig) -> Result<Self, String> {
        let builder = || {
            reqwest::Client::builder()
                .pool_max_idle_per_host(cfg.max_idle_connections_per_host)
                .connect_timeout(Duration::from_secs(10))
                .timeout(Duration::from_secs(cfg.request_timeout_seconds.max(1)))
                // A redirect could lead a request (and the connection's credentials) to a
                // host the allowlist does not name: the 3xx is the task's answer instead.
                .redirect(reqwest::redirect::Policy::none())
        };
        let http = builder().build().map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let http_tasks = builder()
            .dns_resolver(Arc::new(GuardedResolver { allow_private: cfg.http_allow_private_networks }))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let producer = |servers: &str| -> Result<rdkafka::producer::FutureProducer, String> {
            rdkafka::ClientConfig::new()
                .set("bootstrap.servers", servers)
                .set("enable.idempotence", "true")
                .set("acks", "all")
                .set("linger.ms", "5")
                .create()
                .map_err(|e| format!("cannot create the Kafka producer for kafka:publish: {e}"))
        };
        let kafka =
            if cfg.kafka_bootstrap_servers.is_empty() { None } else { Some(producer(&cfg.kafka_bootstrap_servers)?) };
        let mut clusters = BTreeMap::new();
        for (name, servers) in &cfg.kafka_clusters {
            clusters.insert(name.clone(), producer(servers)?);
        }
        let nested = if cfg.expressway_endpoint.is_empty() {
            None
        } else {
            Some(
                tonic::transport::Channel::from_shared(cfg.expressway_endpoint.clone())
                    .map_err(|e| format!("invalid expressway_endpoint: {e}"))?
                    .connect_lazy(),
            )
        };
        Ok(Integrations { cfg, http, http_tasks, tokens: Mutex::default(), kafka, clusters, nested, fallback: None })
    }

    /// Resources no integration knows go to `fallback` (e.g. a test invoker) instead of failing.
    pub fn with_fallback(mut self, fallback: Arc<dyn TaskInvoker>) -> Self {
        self.fallback = Some(fallback);
        self
    }

    fn function(&self, name_or_arn: &str) -> Option<&FunctionTarget> {
        self.cfg.functions.get(name_or_arn).or_else(|| self.cfg.functions.get(function_name(name_or_arn)))
    }

    /// Call a function; returns (status code, payload) or the function's error.
    async fn call_function(&self, name_or_arn: &str, payload: &Value) -> Result<(u16, Value), StatesError> {
        let target = self
            .function(name_or_arn)
            .ok_or_else(|| err("Lambda.ResourceNotFoundException", format!("Function not found: {name_or_arn}")))?;
        let body =
            serde_json::to_vec(payload).map_err(|e| err("Lambda.InvalidRequestContentException", e.to_string()))?;
        let resp = with_trace(self.http.post(&target.url))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| {
                let what = if e.is_timeout() { "timed out" } else { "could not be reached" };
                err("Lambda.ServiceException", format!("The function endpoint for {name_or_arn} {what}"))
            })?;
        let status = resp.status().as_u16();
        let function_error = resp.headers().get("x-amz-function-error").is_some();
        let text = read_limited(resp, self.cfg.max_response_bytes, "function's response").await.map_err(|e| {
            if e.error.as_deref() == Some("States.Http.Socket") {
                err("Lambda.ServiceException", "The function's response was cut off")
            } else {
                e
            }
        })?;
        let parsed: Option<Value> =
            if text.trim().is_empty() { Some(Value::Null) } else { serde_json::from_str(&text).ok() };
        let error_type = parsed.as_ref().and_then(|v| v.get("errorType")).and_then(Value::as_str).map(str::to_string);
        if function_error || (status >= 400 && error_type.is_some()) {
            // As Lambda: the error type becomes the error name, the error document the cause.
            return Err(err(&error_type.unwrap_or_else(|| "Lambda.Unknown".into()), text));
        }
        match status {
            200..=299 => match parsed {
                Some(v) => Ok((status, v)),
                None => Err(err("Lambda.Unknown", "The function's response is not JSON")),
            },
            429 => Err(err("Lambda.TooManyRequestsException", format!("The function endpoint answered {status}"))),
            404 => Err(err("Lambda.ResourceNotFoundException", format!("The function endpoint answered {status}"))),
            _ => Err(err("Lambda.ServiceException", format!("The function endpoint answered {status}"))),
        }
    }

    async fn lambda_invoke(&self, input: &Value) -> Result<Value, StatesError> {
        let name = input.get("FunctionName").and_then(Value::as_str).ok_or_else(|| {
            err("States.Runtime", "The field 'FunctionName' is required by arn:aws:states:::lambda:invoke")
        })?;
        let payload = input.get("Payload").cloned().unwrap_or(Value::Object(Map::new()));
        let (status, result) = self.call_function(name, &payload).await?;
        Ok(json!({"ExecutedVersion": "$LATEST", "Payload": result, "StatusCode": status}))
    }

    /// The headers a connection adds, and the secret strings they carry (to redact).
    async fn auth_headers(&self, connection: &str) -> Result<(Vec<(String, String)>, Vec<String>), StatesError> {
        // arn:aws:events:REGION:ACCOUNT:connection/NAME/ID, or the bare name.
        let name = connection
            .split_once(":connection/")
            .map_or(connection, |(_, rest)| rest.split('/').next().unwrap_or(rest));
        let (key, auth) = self
            .cfg
            .connections
            .get_key_value(connection)
            .or_else(|| self.cfg.connections.get_key_value(name))
            .ok_or_else(|| err("States.Runtime", format!("Unknown connection: {connection}")))?;
        Ok(match auth {
            Authentication::Basic { username, password } => {
                use base64::Engine as _;
                let token = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
                (vec![("authorization".into(), format!("Basic {token}"))], vec![token, password.clone()])
            }
            Authentication::ApiKey { header, value } => (vec![(header.clone(), value.clone())], vec![value.clone()]),
            Authentication::OauthClientCredentials { client_secret, .. } => {
                let token = self.oauth_token(key, auth).await?;
                (vec![("authorization".into(), format!("Bearer {token}"))], vec![token, client_secret.clone()])
            }
        })
    }

    /// A connection's access token: the cached one until a minute before it expires (or
    /// five minutes when the token endpoint does not say), else a new one.
    async fn oauth_token(&self, key: &str, auth: &Authentication) -> Result<String, StatesError> {
        let Authentication::OauthClientCredentials { token_url, client_id, client_secret, scope } = auth else {
            return Err(err("States.Runtime", "not an OAuth connection"));
        };
        if let Some((token, until)) = self.tokens.lock().unwrap_or_else(|p| p.into_inner()).get(key) {
            if Instant::now() < *until {
                return Ok(token.clone());
            }
        }
        let mut form = vec![("grant_type", "client_credentials".to_string())];
        if let Some(s) = scope {
            form.push(("scope", s.clone()));
        }
        let body = form.iter().map(|(k, v)| format!("{k}={}", urlencode(v))).collect::<Vec<_>>().join("&");
        let resp = self
            .http
            .post(token_url)
            .basic_auth(client_id, Some(client_secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|_| err("States.Http.Socket", "The OAuth token endpoint could not be reached"))?;
        let status = resp.status().as_u16();
        let text = read_limited(resp, self.cfg.max_response_bytes, "OAuth token response").await?;
        let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        match answer.get("access_token").and_then(Value::as_str) {
            Some(t) if (200..300).contains(&status) => {
                let lifetime = answer
                    .get("expires_in")
                    .and_then(|v| v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok())))
                    .map(|s| Duration::from_secs(s.saturating_sub(60)))
                    .unwrap_or(Duration::from_secs(300));
                let until = Instant::now() + lifetime;
                self.tokens.lock().unwrap_or_else(|p| p.into_inner()).insert(key.to_string(), (t.to_string(), until));
                Ok(t.to_string())
            }
            _ => Err(err("States.Http.StatusCode.401", format!("The OAuth token endpoint answered {status}"))),
        }
    }

    async fn http_invoke(&self, input: &Value) -> Result<Value, StatesError> {
        let endpoint = input.get("ApiEndpoint").and_then(Value::as_str).ok_or_else(|| {
            err("States.Runtime", "The field 'ApiEndpoint' is required by arn:aws:states:::http:invoke")
        })?;
        let method = input.get("Method").and_then(Value::as_str).unwrap_or("GET").to_ascii_uppercase();
        let mut url = reqwest::Url::parse(endpoint)
            .map_err(|e| err("States.Runtime", format!("ApiEndpoint is not a valid URL: {e}")))?;
        let host = url.host_str().unwrap_or_default().to_string();
        if !host_allowed(&self.cfg.http_allowlist, &host) {
            return Err(err("States.Permissions", format!("The host '{host}' is not in the HTTP allowlist")));
        }
        // An address in the URL is not resolved: check it here, unless listed as such.
        let literal = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().ok();
        if let Some(ip) = literal {
            let named = self
                .cfg
                .http_allowlist
                .iter()
                .any(|p| p.trim_start_matches('[').trim_end_matches(']') == ip.to_string());
            if let (false, Some(why)) = (named, ip_denied(ip, self.cfg.http_allow_private_networks)) {
                return Err(err("States.Permissions", format!("The host '{host}' is {why}")));
            }
        }
        if let Some(q) = input.get("QueryParameters").and_then(Value::as_object) {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in q {
                pairs.append_pair(k, &plain(v));
            }
        }
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|_| err("States.Runtime", format!("Unsupported HTTP method '{method}'")))?;
        let mut req = with_trace(self.http_tasks.request(method, url));
        if let Some(h) = input.get("Headers").and_then(Value::as_object) {
            for (k, v) in h {
                req = req.header(k.as_str(), plain(v));
            }
        }
        let mut secrets = Vec::new();
        if let Some(conn) = input.get("Authentication").and_then(|a| a.get("ConnectionArn")).and_then(Value::as_str) {
            let (headers, hidden) = self.auth_headers(conn).await?;
            for (k, v) in headers {
                req = req.header(k, v);
            }
            // Too short to hide without mangling everything else; such a secret is no secret.
            secrets = hidden.into_iter().filter(|s| s.len() >= 4).collect();
        }
        if let Some(body) = input.get("RequestBody") {
            req = match body {
                Value::String(s) => req.body(s.clone()),
                other => req.header("content-type", "application/json").body(other.to_string()),
            };
        }
        let resp = req.send().await.map_err(|e| {
            if let Some(why) = denied_reason(&e) {
                err("States.Permissions", why)
            } else if e.is_timeout() {
                err("States.Http.Socket", "The HTTP request timed out")
            } else {
                err("States.Http.Socket", format!("The HTTP endpoint {host} could not be reached"))
            }
        })?;
        let status = resp.status();
        let mut headers = Map::new();
        for (k, v) in resp.headers() {
            headers.insert(k.as_str().to_string(), Value::String(v.to_str().unwrap_or_default().to_string()));
        }
        let text = read_limited(resp, self.cfg.max_response_bytes, "HTTP response body").await?;
        let body = serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text));
        let mut out = json!({
            "StatusCode": status.as_u16(),
            "StatusText": status.canonical_reason().unwrap_or(""),
            "Headers": headers,
            "ResponseBody": body,
        });
        redact(&mut out, &secrets);
        if !status.is_success() {
            return Err(err(&format!("States.Http.StatusCode.{}", status.as_u16()), out.to_string()));
        }
        Ok(out)
    }
}

impl Integrations {
    async fn kafka_publish(&self, input: &Value) -> Result<Value, StatesError> {
        use rdkafka::message::{Header, OwnedHeaders};
        let producer = match input.get("Cluster").and_then(Value::as_str) {
            Some(name) => self.clusters.get(name).ok_or_else(|| {
                err("States.Runtime", format!("Unknown Kafka cluster '{name}' (tasks.kafka_clusters)"))
            })?,
            None => self
                .kafka
                .as_ref()
                .ok_or_else(|| err("States.Runtime", "kafka:publish needs tasks.kafka_bootstrap_servers"))?,
        };
        let topic = input
            .get("Topic")
            .and_then(Value::as_str)
            .ok_or_else(|| err("States.Runtime", "The field 'Topic' is required by arn:aws:states:::kafka:publish"))?;
        let value = match input.get("Value") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => {
                return Err(err("States.Runtime", "The field 'Value' is required by arn:aws:states:::kafka:publish"))
            }
        };
        let key = input.get("Key").map(plain);
        let mut headers = OwnedHeaders::new();
        let trace = traceparent();
        if let Some(t) = &trace {
            headers =
                headers.insert(Header { key: expressway_telemetry::propagation::TRACEPARENT, value: Some(t.as_str()) });
        }
        if let Some(h) = input.get("Headers").and_then(Value::as_object) {
            for (k, v) in h {
                let v = plain(v);
                headers = headers.insert(Header { key: k, value: Some(v.as_str()) });
            }
        }
        let mut record = rdkafka::producer::FutureRecord::to(topic).payload(&value).headers(headers);
        if let Some(k) = &key {
            record = record.key(k);
        }
        match producer.send(record, Duration::from_secs(30)).await {
            Ok(d) => Ok(json!({"Topic": topic, "Partition": d.partition, "Offset": d.offset})),
            Err((e, _)) => Err(err("Kafka.PublishFailed", format!("publishing to {topic} failed: {e}"))),
        }
    }

    async fn nested(&self, input: &Value, sync: bool, depth: u32) -> Result<Value, StatesError> {
        use expressway_proto::v1 as pb;
        let channel = self
            .nested
            .clone()
            .ok_or_else(|| err("States.Runtime", "nested executions need tasks.expressway_endpoint"))?;
        let arn = input
            .get("StateMachineArn")
            .and_then(Value::as_str)
            .ok_or_else(|| err("States.Runtime", "The field 'StateMachineArn' is required to start an execution"))?;
        let req = pb::StartExecutionRequest {
            state_machine_arn: arn.to_string(),
            name: input.get("Name").and_then(Value::as_str).unwrap_or_default().to_string(),
            input: match input.get("Input") {
                None => "{}".into(),
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            },
            trace_header: traceparent().unwrap_or_default(),
        };
        let mut client = pb::executions_client::ExecutionsClient::new(channel);
        // The started execution is one level deeper than this one; the frontend refuses a
        // chain deeper than its limit.
        let request = |req: pb::StartExecutionRequest| {
            let mut r = tonic::Request::new(req);
            if let Ok(v) = (depth + 1).to_string().parse() {
                r.metadata_mut().insert("x-expressway-nesting-depth", v);
            }
            r
        };
        let to_err = |s: tonic::Status| {
            let name = match s.code() {
                tonic::Code::NotFound => "StepFunctions.StateMachineDoesNotExistException",
                tonic::Code::AlreadyExists => "StepFunctions.ExecutionAlreadyExistsException",
                tonic::Code::InvalidArgument => "StepFunctions.InvalidExecutionInputException",
                tonic::Code::ResourceExhausted | tonic::Code::FailedPrecondition => {
                    "StepFunctions.ExecutionLimitExceededException"
                }
                _ => "StepFunctions.ServiceException",
            };
            err(name, s.message().to_string())
        };
        let date = |t: Option<prost_types::Timestamp>| {
            t.map(|t| Value::from(t.seconds as f64 + f64::from(t.nanos) / 1e9)).unwrap_or(Value::Null)
        };
        if !sync {
            let r = client.start_execution(request(req)).await.map_err(to_err)?.into_inner();
            return Ok(json!({"ExecutionArn": r.execution_arn, "StartDate": date(r.start_date)}));
        }
        let r = client.start_sync_execution(request(req)).await.map_err(to_err)?.into_inner();
        let status = match pb::ExecutionStatus::try_from(r.status) {
            Ok(pb::ExecutionStatus::Succeeded) => "SUCCEEDED",
            Ok(pb::ExecutionStatus::Failed) => "FAILED",
            Ok(pb::ExecutionStatus::TimedOut) => "TIMED_OUT",
            Ok(pb::ExecutionStatus::Aborted) => "ABORTED",
            _ => "RUNNING",
        };
        let mut out = json!({
            "ExecutionArn": r.execution_arn,
            "StateMachineArn": r.state_machine_arn,
            "Name": r.name,
            "StartDate": date(r.start_date),
            "StopDate": date(r.stop_date),
            "Status": status,
            "Input": r.input,
        });
        for (k, v) in [("Output", r.output), ("Error", r.error), ("Cause", r.cause)] {
            if !v.is_empty() {
                out[k] = Value::String(v);
            }
        }
        Ok(out)
    }
}

fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl TaskInvoker for Integrations {
    fn invoke<'a>(&'a self, req: TaskRequest<'a>) -> BoxFuture<'a, Result<Value, StatesError>> {
        Box::pin(async move {
            let resource = req.resource;
            if resource == "arn:aws:states:::lambda:invoke" {
                return self.lambda_invoke(&req.input).await;
            }
            if resource == "arn:aws:states:::http:invoke" {
                return self.http_invoke(&req.input).await;
            }
            if resource == "arn:aws:states:::kafka:publish" {
                return self.kafka_publish(&req.input).await;
            }
            if resource == "arn:aws:states:::states:startExecution" {
                return self.nested(&req.input, false, req.depth).await;
            }
            if resource == "arn:aws:states:::states:startSyncExecution"
                || resource == "arn:aws:states:::aws-sdk:sfn:startSyncExecution"
            {
                return self.nested(&req.input, true, req.depth).await;
            }
            if resource.starts_with("arn:aws:lambda:") && resource.contains(":function:") {
                return self.call_function(resource, &req.input).await.map(|(_, v)| v);
            }
            match &self.fallback {
                Some(f) => f.invoke(req).await,
                None => Err(err(
                    "States.TaskFailed",
                    format!("no task integration is configured for resource '{resource}'"),
                )),
            }
        })
    }
}

/// The trace context of the state calling out, when traces are on: every outgoing call
/// carries it, so the callee's spans join the execution's trace.
fn traceparent() -> Option<String> {
    expressway_telemetry::propagation::traceparent(&tracing::Span::current())
}

fn with_trace(req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    match traceparent() {
        Some(t) => req.header(expressway_telemetry::propagation::TRACEPARENT, t),
        None => req,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_hosts() {
        assert_eq!(function_name("arn:aws:lambda:us-east-1:123456789012:function:price:prod"), "price");
        assert_eq!(function_name("price"), "price");
        let allow = vec!["api.example.com".to_string(), "*.internal".to_string()];
        assert!(host_allowed(&allow, "api.example.com"));
        assert!(host_allowed(&allow, "orders.internal"));
        assert!(!host_allowed(&allow, "internal"));
        assert!(!host_allowed(&allow, "evil.com"));
        assert!(host_allowed(&["*".to_string()], "anything"));
    }

    #[test]
    fn address_ranges() {
        let denied = |ip: &str, private: bool| super::ip_denied(ip.parse().expect("ip"), private).is_some();
        for ip in ["169.254.169.254", "0.0.0.0", "224.0.0.1", "fe80::1", "::ffff:169.254.169.254", "fd00:ec2::254"] {
            assert!(denied(ip, true), "{ip} must never be reached through a name");
        }
        for ip in ["127.0.0.1", "10.1.2.3", "172.20.0.1", "192.168.1.1", "100.64.0.1", "::1", "fd12::1"] {
            assert!(denied(ip, false) && !denied(ip, true), "{ip} is private: opt-in");
        }
        for ip in ["93.184.216.34", "2606:4700::1111", "172.32.0.1", "100.128.0.1"] {
            assert!(!denied(ip, false), "{ip} is public");
        }
    }
}
