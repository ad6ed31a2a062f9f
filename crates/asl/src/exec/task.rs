//! Task states: the request to the integration, its timeout and heartbeat, and the task events.

use super::*;

impl Run<'_> {
    pub(super) async fn task(
        &self,
        st: &State,
        resource: &str,
        input: Value,
        attempt: u32,
        timeout: Option<u64>,
        heartbeat: Option<u64>,
    ) -> Result<Value, StatesError> {
        self.emit(
            EventType::TaskScheduled,
            Some(&st.name),
            || serde_json::json!({"resource": resource, "parameters": input}),
        );
        self.emit(EventType::TaskStarted, Some(&st.name), || Value::Null);
        let req = TaskRequest {
            resource,
            input,
            state_name: &st.name,
            execution_arn: &self.exec.execution_arn,
            attempt,
            timeout: timeout.map(Duration::from_secs),
            heartbeat: heartbeat.map(Duration::from_secs),
            depth: self.exec.depth,
        };
        let span = if self.traced {
            tracing::trace_span!(
                target: TRACE_TARGET,
                "task",
                task.resource = resource,
                task.attempt = attempt,
                error = tracing::field::Empty,
            )
        } else {
            tracing::Span::none()
        };
        let call = self.invoker.invoke(req).instrument(span.clone());
        let r = match timeout {
            None => call.await,
            Some(t) => match future::select(call, self.clock.sleep(Duration::from_secs(t))).await {
                Either::Left((r, _)) => r,
                Either::Right(_) => {
                    let e = StatesError::new(errors::TIMEOUT, "Task timed out.");
                    self.emit(EventType::TaskTimedOut, Some(&st.name), || err_details(&e));
                    return Err(e);
                }
            },
        };
        if let Err(e) = &r {
            span.record("error", e.error.as_deref().unwrap_or_default());
        }
        match &r {
            Ok(v) => self.emit(EventType::TaskSucceeded, Some(&st.name), || serde_json::json!({ "output": v })),
            Err(e) => self.emit(EventType::TaskFailed, Some(&st.name), || err_details(e)),
        };
        r
    }
}
