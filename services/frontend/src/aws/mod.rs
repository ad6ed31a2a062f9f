//! The AWS JSON protocol (`awsJson1.0`) of the Step Functions API, so that boto3, the AWS CLI
//! and the other AWS SDKs work unmodified: `POST /` with
//! `X-Amz-Target: AWSStepFunctions.<Operation>` and a JSON body, answered with JSON or an
//! AWS-shaped error ([`error`]). Each operation decodes its input shape, runs the same
//! operation as the gRPC API ([`crate::ops`]) and encodes AWS's output shape ([`operations`]).
//!
//! Any `Host` is accepted, `sync-<host>` included (the SDKs send StartSyncExecution there).
//! SigV4 signatures are not verified: with authentication off (the default) the SDKs' dummy
//! credentials are accepted; with it on, a call needs `Authorization: Bearer <token>` as on
//! gRPC, and a SigV4-signed call is refused (`UnrecognizedClientException`).

pub mod error;
pub mod operations;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};

pub use error::AwsError;

use crate::auth::Principal;
use crate::{Call, Frontend};

/// The content type of awsJson1.0 requests and answers.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.0";

/// The `X-Amz-Target` prefix of the Step Functions operations.
const TARGET_PREFIX: &str = "AWSStepFunctions.";

/// Largest request body read: a definition (1 MiB) escaped as a JSON string, with room to
/// spare. What is inside is checked by the operations (definition 1 MiB, input 256 KiB).
pub const MAX_BODY_BYTES: usize = 4 << 20;

/// Who calls: nobody in particular with authentication off; the bearer token's principal
/// with it on.
pub fn caller(frontend: &Frontend, headers: &HeaderMap) -> Result<Call, AwsError> {
    let Some(auth) = &frontend.auth else { return Ok(Call::default()) };
    let header = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
    if header.starts_with("AWS4-") {
        return Err(AwsError::UnrecognizedClient(
            "this server authenticates bearer tokens (Authorization: Bearer <token>); it does not verify SigV4 signatures"
                .into(),
        ));
    }
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
pub async fn handle(frontend: &Frontend, headers: &HeaderMap, body: Body) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let mut resp = match answer(frontend, headers, body).await {
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

async fn answer(frontend: &Frontend, headers: &HeaderMap, body: Body) -> Result<serde_json::Value, AwsError> {
    let op = operation(headers)?;
    let call = caller(frontend, headers)?;
    let body: Bytes = axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| {
        AwsError::Validation(format!("the request body is larger than {MAX_BODY_BYTES} bytes or was cut off"))
    })?;
    operations::run(frontend, &call, op, &body).await
}
