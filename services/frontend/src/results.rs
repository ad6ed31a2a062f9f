//! The Results service: subscriptions to the results stream (outcomes and history events, with
//! positions to resume from) and execution history from the execution store. It runs in the
//! embedded server, in every frontend and in `expressway results`.

use std::pin::Pin;
use std::sync::Arc;

use expressway_bus::{Delivered, ResultsHub};
use expressway_proto::v1 as pb;
use expressway_store::ExecutionStore;
use expressway_telemetry::metrics;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use crate::{convert, FrontendError};

/// Subscriptions follow `hub`; history comes from `executions`.
#[derive(Clone)]
pub struct ResultsApi {
    pub hub: Arc<dyn ResultsHub>,
    pub executions: Arc<dyn ExecutionStore>,
    /// Messages a subscriber may have in flight to it before it falls behind.
    pub stream_buffer: usize,
    /// Turns true when the server shuts down: open result streams end so the server can drain.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    /// Who may do what; `None`: authentication is off.
    pub auth: Option<Arc<crate::auth::Auth>>,
}

type SubscribeStream = Pin<Box<dyn Stream<Item = Result<pb::SubscribeResponse, Status>> + Send>>;

#[tonic::async_trait]
impl pb::results_server::Results for ResultsApi {
    type SubscribeStream = SubscribeStream;

    async fn subscribe(&self, request: Request<pb::SubscribeRequest>) -> Result<Response<SubscribeStream>, Status> {
        let resource = match (&request.get_ref().execution_arn, &request.get_ref().state_machine_arn) {
            (e, _) if !e.is_empty() => e.clone(),
            (_, m) if !m.is_empty() => m.clone(),
            _ => "*".to_string(),
        };
        crate::auth::authorize(&self.auth, &request, "expressway:Subscribe", &resource)?;
        let req = request.into_inner();
        let filter = convert::Filter::new(&req).map_err(FrontendError::Invalid)?;
        let mut sub = self.hub.subscribe(req.from_position);
        // A small buffer per subscriber: a slow reader makes the hub report FellBehind instead
        // of holding memory for it, and never holds up other subscribers.
        let (tx, rx) = tokio::sync::mpsc::channel(self.stream_buffer.max(1));
        let mut shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            let _connected = metrics::while_alive(metrics::SUBSCRIBERS);
            loop {
                let item = tokio::select! {
                    item = sub.next() => match item { Some(i) => i, None => break },
                    _ = shutdown.wait_for(|s| *s) => break,
                    // A subscriber that hung up is gone now, not when the next message comes.
                    _ = tx.closed() => break,
                };
                let msg = match item {
                    Delivered::Message { position, message } => match filter.render(position, &message) {
                        Some(m) => m,
                        None => continue,
                    },
                    Delivered::FellBehind { skipped, resume_from } => {
                        metrics::count(metrics::FELL_BEHIND);
                        pb::SubscribeResponse {
                            position: resume_from,
                            body: Some(pb::subscribe_response::Body::FellBehind(pb::FellBehind {
                                skipped,
                                resume_from,
                            })),
                        }
                    }
                };
                if tx.send(Ok(msg)).await.is_err() {
                    break; // the subscriber went away
                }
            }
        });
        Ok(Response::new(Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx))))
    }

    async fn get_execution_history(
        &self,
        request: Request<pb::GetExecutionHistoryRequest>,
    ) -> Result<Response<pb::GetExecutionHistoryResponse>, Status> {
        let call = crate::Call {
            principal: request.extensions().get::<crate::auth::Principal>().cloned(),
            ..Default::default()
        };
        let history =
            crate::ops::get_execution_history(self.auth.as_deref(), &*self.executions, &call, request.into_inner());
        Ok(Response::new(history.await?))
    }
}
