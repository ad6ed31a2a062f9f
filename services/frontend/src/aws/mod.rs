//! The AWS JSON protocol (`awsJson1.0`) of the Step Functions API, so that boto3, the AWS CLI
//! and the other AWS SDKs work unmodified: `POST /` with
//! `X-Amz-Target: AWSStepFunctions.<Operation>` and a JSON body, answered with JSON or an
//! AWS-shaped error ([`error`]). Each operation decodes its input shape, runs the same
//! operation as the gRPC API ([`crate::ops`]) and encodes AWS's output shape ([`operations`]).
//!
//! Any `Host` is accepted, `sync-<host>` included (the SDKs send StartSyncExecution there).
//! With authentication off (the default) any credentials are accepted, the SDKs' dummy ones
//! included, and signatures are not checked. With it on, a call is either signed with SigV4
//! by a configured access key ([`sigv4`]: an unknown key is `UnrecognizedClientException`, a
//! wrong signature `InvalidSignatureException`) or carries `Authorization: Bearer <token>` as
//! on gRPC; the key's or token's principal is then held to the same policies.

pub mod error;
pub mod operations;
pub mod sigv4;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, Method, Uri};
use axum::response::{IntoResponse, Response};

pub use error::AwsError;

use crate::auth::{Auth, Principal};
use crate::{Call, Frontend};

/// The content type of awsJson1.0 requests and answers.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.0";

/// The `X-Amz-Target` prefix of the Step Functions operations.
const TARGET_PREFIX: &str = "AWSStepFunctions.";

/// Largest request body read: a definition (1 MiB) escaped as a JSON string, with room to
/// spare. What is inside is checked by the operations (definition 1 MiB, input 256 KiB).
pub const MAX_BODY_BYTES: usize = 4 << 20;

/// The request as it arrived, for authentication.
pub struct Request<'a> {
    pub method: &'a Method,
    pub uri: &'a Uri,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// Who calls: nobody in particular with authentication off; with it on, the principal of the
/// access key that signed the request, or of its bearer token.
fn caller(frontend: &Frontend, req: &Request<'_>) -> Result<Call, AwsError> {
    let Some(auth) = &frontend.auth else { return Ok(Call::default()) };
    let header = req.headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
    if header.starts_with("AWS4-") {
        let signed = sigv4::parse(header).map_err(|e| AwsError::InvalidSignature(e.to_string()))?;
        let (secret, principal) = auth.access_key(signed.access_key_id).ok_or_else(|| {
            AwsError::UnrecognizedClient(sigv4::SigV4Error::UnknownKey(signed.access_key_id.to_string()).to_string())
        })?;
        let now = chrono::Utc::now().timestamp();
        sigv4::verify(&signed, secret, req.method, req.uri, req.headers, req.body, now)
            .map_err(|e| AwsError::InvalidSignature(e.to_string()))?;
        return Ok(Call { principal: Some(principal), ..Call::default() });
    }
    bearer(auth, header)
}

/// Who calls, from a bearer token alone (the console's calls, which are not signed).
pub fn bearer_caller(frontend: &Frontend, headers: &HeaderMap) -> Result<Call, AwsError> {
    let Some(auth) = &frontend.auth else { return Ok(Call::default()) };
    bearer(auth, headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or(""))
}

fn bearer(auth: &Auth, header: &str) -> Result<Call, AwsError> {
    let bearer = header.strip_prefix("Bearer ").or_else(|| header.strip_prefix("bearer ")).ok_or_else(|| {
        AwsError::UnrecognizedClient("this server needs a bearer token (Authorization: Bearer …)".into())
    })?;
    let principal: Principal =
        auth.authenticate(bearer.trim()).map_err(|s| AwsError::UnrecognizedClient(s.message().to_string()))?;
    Ok(Call { principal: Some(principal), ..Call::default() })
}

/// The operation named by `X-Amz-Target`.
fn operation(headers: &HeaderMap) -> Result<&str, AwsError> {
    let target = headers
        .get("x-amz-target")
        .ok_or_else(|| AwsError::UnknownOperation("the request names no operation (X-Amz-Target)".into()))?
        .to_str()
        .map_err(|_| AwsError::UnknownOperation("X-Amz-Target is not text".into()))?;
    target.strip_prefix(TARGET_PREFIX).ok_or_else(|| {
        AwsError::UnknownOperation(format!("unknown target '{target}': this server offers {TARGET_PREFIX}<Operation>"))
    })
}

/// Answer one AWS JSON request.
pub async fn handle(frontend: &Frontend, method: &Method, uri: &Uri, headers: &HeaderMap, body: Body) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let mut resp = match answer(frontend, method, uri, headers, body).await {
        Ok(v) => {
            let mut r = v.to_string().into_response();
            r.headers_mut().insert("content-type", HeaderValue::from_static(CONTENT_TYPE));
            r
        }
        Err(e) => {
            if e.kind().0.is_server_error() {
                tracing::warn!(error = %e, "AWS API call failed");
            }
            e.into_response()
        }
    };
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-amzn-requestid", v);
    }
    resp
}

async fn answer(
    frontend: &Frontend,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
) -> Result<serde_json::Value, AwsError> {
    let op = operation(headers)?;
    let body: Bytes = axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| {
        AwsError::Validation(format!("the request body is larger than {MAX_BODY_BYTES} bytes or was cut off"))
    })?;
    let call = caller(frontend, &Request { method, uri, headers, body: &body })?;
    operations::run(frontend, &call, op, &body).await
}
