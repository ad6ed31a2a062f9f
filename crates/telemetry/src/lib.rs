//! Telemetry for every Expressway process: logs, OpenTelemetry traces and Prometheus metrics.
//!
//! Layout: [`init`] installs the process's `tracing` subscriber (logs to stderr, filtered by
//! `EXPRESSWAY_LOG`) and, when an OTLP endpoint is configured through the standard `OTEL_*`
//! environment variables, a layer that exports spans over OTLP (gRPC or HTTP/protobuf);
//! [`Telemetry::shutdown`] flushes them. [`propagation`] carries W3C trace context across
//! hops (gRPC metadata, Kafka headers, HTTP task calls). [`metrics`] names the engine's
//! metrics (AWS/States names where AWS has one) and renders them in Prometheus text format.

pub mod metrics;
pub mod propagation;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

/// Spans of this target describe executions (one per execution, one per state, one per task
/// call): exported whenever traces are on, whatever the log filter says.
pub const EXECUTION_TARGET: &str = expressway_asl::TRACE_TARGET;

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("unsupported OTLP protocol {0:?} (use grpc or http/protobuf)")]
    Protocol(String),
    #[error("building the OTLP span exporter: {0}")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
    #[error("installing the log subscriber: {0}")]
    Subscriber(String),
}

/// Where spans go, from the standard OpenTelemetry environment variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceExport {
    pub protocol: Protocol,
    /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (a full URL) or `OTEL_EXPORTER_OTLP_ENDPOINT` (a base).
    pub endpoint: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Grpc,
    HttpProtobuf,
}

impl TraceExport {
    /// Traces are exported when an endpoint is set and neither `OTEL_SDK_DISABLED=true` nor
    /// `OTEL_TRACES_EXPORTER=none` says otherwise; off by default.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Option<TraceExport>, TelemetryError> {
        let set = |k: &str| var(k).filter(|v| !v.trim().is_empty());
        if set("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"))
            || set("OTEL_TRACES_EXPORTER").is_some_and(|v| v.eq_ignore_ascii_case("none"))
        {
            return Ok(None);
        }
        let traces = set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
        if traces.is_none() && set("OTEL_EXPORTER_OTLP_ENDPOINT").is_none() {
            return Ok(None);
        }
        let protocol = match set("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL").or_else(|| set("OTEL_EXPORTER_OTLP_PROTOCOL")) {
            None => Protocol::HttpProtobuf, // the specification's default
            Some(p) if p == "grpc" => Protocol::Grpc,
            Some(p) if p == "http/protobuf" => Protocol::HttpProtobuf,
            Some(other) => return Err(TelemetryError::Protocol(other)),
        };
        Ok(Some(TraceExport { protocol, endpoint: traces }))
    }
}

/// What [`init`] installed; [`Telemetry::shutdown`] flushes what is still buffered.
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Whether spans are exported.
    pub fn tracing(&self) -> bool {
        self.provider.is_some()
    }

    /// Export the spans still buffered and stop the exporter (at the end of the process).
    pub fn shutdown(self) {
        if let Some(p) = self.provider {
            if let Err(e) = p.shutdown() {
                eprintln!("flushing traces: {e}");
            }
        }
    }
}

/// Install logging, and tracing export when configured. `service` names the process in traces
/// unless `OTEL_SERVICE_NAME` does. Must be called inside a tokio runtime when traces are on
/// (the exporter batches on it).
pub fn init(service: &str) -> Result<Telemetry, TelemetryError> {
    use std::io::IsTerminal;
    let filter = EnvFilter::try_from_env("EXPRESSWAY_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt::layer()
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .with_filter(filter);
    let export = TraceExport::from_env(|k| std::env::var(k).ok())?;
    let provider = export.map(|e| provider(&e, service)).transpose()?;
    let traces = provider.as_ref().map(|p| {
        opentelemetry::global::set_text_map_propagator(opentelemetry_sdk::propagation::TraceContextPropagator::new());
        let tracer = p.tracer("expressway");
        // Only the spans that describe executions: the rest is for logs.
        tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_filter(EnvFilter::new(format!("{EXECUTION_TARGET}=trace")))
    });
    tracing_subscriber::registry()
        .with(logs)
        .with(traces)
        .try_init()
        .map_err(|e| TelemetryError::Subscriber(e.to_string()))?;
    Ok(Telemetry { provider })
}

fn provider(export: &TraceExport, service: &str) -> Result<SdkTracerProvider, TelemetryError> {
    let exporter = match export.protocol {
        Protocol::Grpc => {
            let b = opentelemetry_otlp::SpanExporter::builder().with_tonic();
            match &export.endpoint {
                Some(e) => b.with_endpoint(e.clone()).build()?,
                None => b.build()?,
            }
        }
        Protocol::HttpProtobuf => {
            let b = opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_protocol(opentelemetry_otlp::Protocol::HttpBinary);
            match &export.endpoint {
                Some(e) => b.with_endpoint(e.clone()).build()?,
                None => b.build()?,
            }
        }
    };
    // The resource reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES; the sampler
    // OTEL_TRACES_SAMPLER and its argument.
    let mut resource = opentelemetry_sdk::Resource::builder();
    if std::env::var("OTEL_SERVICE_NAME").map_or(true, |v| v.trim().is_empty()) {
        resource = resource.with_service_name(format!("expressway-{service}"));
    }
    Ok(SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource.build()).build())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn traces_are_off_unless_an_endpoint_is_set() {
        assert_eq!(TraceExport::from_env(env(&[])).expect("ok"), None);
        assert_eq!(TraceExport::from_env(env(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")])).expect("ok"), None);
        let on = [("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")];
        assert_eq!(
            TraceExport::from_env(env(&on)).expect("ok"),
            Some(TraceExport { protocol: Protocol::HttpProtobuf, endpoint: None })
        );
        let off = [on[0], ("OTEL_SDK_DISABLED", "true")];
        assert_eq!(TraceExport::from_env(env(&off)).expect("ok"), None);
        let none = [on[0], ("OTEL_TRACES_EXPORTER", "none")];
        assert_eq!(TraceExport::from_env(env(&none)).expect("ok"), None);
    }

    #[test]
    fn the_traces_variables_win_over_the_general_ones() {
        let vars = [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://127.0.0.1:4317"),
        ];
        assert_eq!(
            TraceExport::from_env(env(&vars)).expect("ok"),
            Some(TraceExport { protocol: Protocol::Grpc, endpoint: Some("http://127.0.0.1:4317".into()) })
        );
        let bad = [vars[0], ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")];
        assert!(matches!(TraceExport::from_env(env(&bad)), Err(TelemetryError::Protocol(p)) if p == "http/json"));
    }
}
