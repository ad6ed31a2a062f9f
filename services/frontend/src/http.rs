//! The process's one HTTP surface, which the `expressway` binary serves on `--http-listen`:
//! today the AWS JSON protocol ([`crate::aws`]) at `POST /`, whatever the `Host` (the SDKs
//! send StartSyncExecution to `sync-<host>`). Anything else is answered as AWS answers an
//! unknown operation, never with an empty page.

use axum::body::Body;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;

use crate::aws::{self, AwsError};
use crate::Frontend;

/// The router of a process that serves `frontend`'s API.
pub fn router(frontend: Frontend) -> Router {
    Router::new().route("/", post(aws_json).fallback(unknown)).fallback(unknown).with_state(frontend)
}

async fn unknown() -> Response {
    AwsError::UnknownOperation("this server answers the AWS JSON protocol with POST /".into()).into_response()
}

async fn aws_json(
    axum::extract::State(frontend): axum::extract::State<Frontend>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    aws::handle(&frontend, &method, &uri, &headers, body).await
}
