//! Logs and traces: human-readable lines or JSON, and, when `[telemetry]` names a collector,
//! spans exported over OTLP/HTTP in batches. No request ever waits for the collector.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use axum::http::HeaderMap;
use bytes::{Bytes, BytesMut};
use opentelemetry::trace::{TraceContextExt, TracerProvider};
use opentelemetry::{Context, KeyValue, global};
use opentelemetry_http::{HeaderExtractor, HeaderInjector, HttpClient, HttpError};
use opentelemetry_otlp::{ExporterBuildError, Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracerProvider,
};
use tracing::{Level, Metadata, Span};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, filter};
use url::Url;

/// Default `service.name` of exported traces.
pub const DEFAULT_SERVICE_NAME: &str = "conversation-gateway";

/// `[telemetry]`: traces exported over OTLP. Off unless `otlp_endpoint` is set.
#[derive(Debug, Clone, PartialEq)]
pub struct TelemetryConfig {
    /// `otlp_endpoint`: the collector's OTLP/HTTP root, e.g. `http://127.0.0.1:4318`; spans
    /// are sent as protobuf to its `/v1/traces`. Absent or empty: no traces are exported.
    pub otlp_endpoint: Option<Url>,
    /// `service_name`: the `service.name` of every span. Default `conversation-gateway`.
    pub service_name: String,
    /// `sampling_ratio`: share of new traces kept, 0.0 to 1.0. A request carrying a
    /// `traceparent` follows its caller's decision instead. Default 1.0.
    pub sampling_ratio: f64,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            otlp_endpoint: None,
            service_name: DEFAULT_SERVICE_NAME.to_owned(),
            sampling_ratio: 1.0,
        }
    }
}

impl TelemetryConfig {
    /// Where spans are posted: `otlp_endpoint` with `/v1/traces` added to its path.
    pub fn traces_url(&self) -> Option<Url> {
        let mut url = self.otlp_endpoint.clone()?;
        let path = format!("{}/v1/traces", url.path().trim_end_matches('/'));
        url.set_path(&path);
        Some(url)
    }
}

/// Most finished spans waiting for export; when full, new spans are dropped, never waited on.
pub const MAX_QUEUED_SPANS: usize = 2048;
/// Most spans sent in one export.
pub const MAX_EXPORT_BATCH: usize = 512;
/// Time between exports of a batch that is not full.
pub const EXPORT_DELAY: Duration = Duration::from_secs(5);
/// Time limit of one export, retries included.
pub const EXPORT_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest wait at shutdown for the last spans to reach the collector.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest collector answer read.
const MAX_COLLECTOR_ANSWER: usize = 64 * 1024;
/// The `otel.library.name` of our spans.
const TRACER_NAME: &str = "conversation-gateway";

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// The trace exporter of this process, if any. Call [`Telemetry::shutdown`] before exit so
/// queued spans are sent.
#[must_use = "shut it down before exit, or queued spans are lost"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Sends the spans still queued and stops the exporter, waiting at most
    /// [`SHUTDOWN_TIMEOUT`] (an unreachable collector does not hold the exit longer).
    pub async fn shutdown(self) {
        let Some(provider) = self.provider else {
            return;
        };
        // The SDK's shutdown blocks its caller until the export thread is done, and that
        // export runs its HTTP call on this runtime: keep the runtime's workers free.
        let outcome =
            tokio::task::spawn_blocking(move || provider.shutdown_with_timeout(SHUTDOWN_TIMEOUT))
                .await;
        match outcome {
            Ok(Ok(())) => tracing::info!("Trace exporter flushed and stopped."),
            Ok(Err(err)) => tracing::warn!(
                error = %err,
                "Trace exporter did not flush at shutdown; the last spans may be lost."
            ),
            Err(err) => tracing::warn!(error = %err, "Trace exporter shutdown failed."),
        }
    }
}

/// Installs the global subscriber. `RUST_LOG` picks log levels (default `info`). With
/// `traces.otlp_endpoint`, spans also go to that collector (set up on the current tokio
/// runtime), inbound `traceparent` headers are honoured and JSON log lines carry the
/// `trace_id` and `span_id` they were written in. A second call (tests) keeps the first
/// subscriber.
///
/// # Panics
///
/// With an `otlp_endpoint`, outside a tokio runtime: exports run on the current one.
pub fn init(format: LogFormat, traces: &TelemetryConfig) -> Result<Telemetry, ExporterBuildError> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = match format {
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_filter(filter)
            .boxed(),
        LogFormat::Json => {
            let json = tracing_subscriber::fmt::format()
                .json()
                .flatten_event(true)
                .with_current_span(true);
            tracing_subscriber::fmt::layer()
                .json()
                .event_format(WithTraceIds(json))
                .with_writer(std::io::stderr)
                .with_filter(filter)
                .boxed()
        }
    };
    let Some(url) = traces.traces_url() else {
        let _ = tracing_subscriber::registry().with(logs).try_init();
        return Ok(Telemetry { provider: None });
    };
    let provider = provider(traces, url.as_str())?;
    let spans = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer(TRACER_NAME))
        .with_tracked_inactivity(false)
        .with_threads(false)
        // RUST_LOG picks what is logged, not what is traced.
        .with_filter(filter::filter_fn(exported));
    if tracing_subscriber::registry()
        .with(logs)
        .with(spans)
        .try_init()
        .is_err()
    {
        return Ok(Telemetry { provider: None });
    }
    global::set_text_map_propagator(TraceContextPropagator::new());
    tracing::info!(
        endpoint = %url,
        service_name = %traces.service_name,
        sampling_ratio = traces.sampling_ratio,
        "Exporting traces over OTLP/HTTP."
    );
    Ok(Telemetry {
        provider: Some(provider),
    })
}

fn provider(traces: &TelemetryConfig, url: &str) -> Result<SdkTracerProvider, ExporterBuildError> {
    let http = reqwest::Client::builder()
        .user_agent(concat!("conversation-gateway/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(EXPORT_TIMEOUT)
        .timeout(EXPORT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|err| ExporterBuildError::InternalFailure(err.to_string()))?;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(ExportClient {
            http,
            runtime: tokio::runtime::Handle::current(),
        })
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(url)
        .with_timeout(EXPORT_TIMEOUT)
        .build()?;
    let batches = BatchConfigBuilder::default()
        .with_max_queue_size(MAX_QUEUED_SPANS)
        .with_max_export_batch_size(MAX_EXPORT_BATCH)
        .with_scheduled_delay(EXPORT_DELAY)
        .build();
    let resource = Resource::builder_empty()
        .with_service_name(traces.service_name.clone())
        .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
        .build();
    Ok(SdkTracerProvider::builder()
        .with_span_processor(
            BatchSpanProcessor::builder(exporter)
                .with_batch_config(batches)
                .build(),
        )
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
            traces.sampling_ratio,
        ))))
        .with_resource(resource)
        .build())
}

/// What becomes part of a trace: the gateway's own spans, and its warnings and errors as
/// span events. Field values there are the ones logs already carry (no secret, no vendor
/// text); debug lines stay out.
fn exported(metadata: &Metadata<'_>) -> bool {
    let ceiling = if metadata.is_span() {
        Level::INFO
    } else {
        Level::WARN
    };
    metadata.target().starts_with("conversation_gateway") && *metadata.level() <= ceiling
}

/// Makes `span` continue the trace of an inbound request's `traceparent` and `tracestate`
/// headers, when they are valid and traces are exported. Call it before the span is entered.
pub fn continue_trace(span: &Span, headers: &HeaderMap) {
    let parent =
        global::get_text_map_propagator(|propagator| propagator.extract(&HeaderExtractor(headers)));
    if parent.span().span_context().is_remote() {
        // Fails only when traces are off, when there is nothing to continue.
        let _ = span.set_parent(parent);
    }
}

/// Adds `span`'s `traceparent` (and `tracestate`) to an outbound request's headers, when
/// traces are exported.
pub fn inject_trace(span: &Span, headers: &mut HeaderMap) {
    let context = span.context();
    if context.span().span_context().is_valid() {
        global::get_text_map_propagator(|propagator| {
            propagator.inject_context(&context, &mut HeaderInjector(headers));
        });
    }
}

/// Sets an attribute on `span`'s exported form only; logs never show it.
pub fn trace_attribute(span: &Span, key: &'static str, value: String) {
    span.set_attribute(key, value);
}

/// A JSON event format that puts the trace and span id of the line first, so logs join
/// traces. Lines outside any exported span are left as they are.
struct WithTraceIds<F>(F);

impl<S, N, F> FormatEvent<S, N> for WithTraceIds<F>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        // The exporting layer makes an entered span's context the current one.
        let current = Context::current();
        let ids = current.span().span_context().clone();
        if !ids.is_valid() {
            return self.0.format_event(ctx, writer, event);
        }
        let mut line = String::new();
        self.0.format_event(ctx, Writer::new(&mut line), event)?;
        match line.strip_prefix('{') {
            Some(rest) if !rest.starts_with('}') => write!(
                writer,
                "{{\"trace_id\":\"{}\",\"span_id\":\"{}\",{rest}",
                ids.trace_id(),
                ids.span_id()
            ),
            _ => writer.write_str(&line),
        }
    }
}

/// Sends OTLP requests with the gateway's own reqwest (rustls) on its tokio runtime. The
/// SDK's batch processor calls it from its own thread, outside any runtime, so each call
/// is handed to the runtime.
#[derive(Debug)]
struct ExportClient {
    http: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

/// Whether the last export failed, so a collector outage is logged once, not per batch.
static EXPORT_FAILING: AtomicBool = AtomicBool::new(false);

#[async_trait]
impl HttpClient for ExportClient {
    async fn send_bytes(
        &self,
        request: opentelemetry_http::Request<Bytes>,
    ) -> Result<opentelemetry_http::Response<Bytes>, HttpError> {
        let request = reqwest::Request::try_from(request)?;
        let http = self.http.clone();
        let outcome = self
            .runtime
            .spawn(async move { post(&http, request).await })
            .await
            .map_err(|err| Box::new(err) as HttpError)
            .and_then(|outcome| outcome);
        let failed = match &outcome {
            Ok(response) if response.status().is_success() => None,
            Ok(response) => Some(format!("the collector answered {}", response.status())),
            Err(err) => Some(err.to_string()),
        };
        match failed {
            Some(reason) if !EXPORT_FAILING.swap(true, Ordering::Relaxed) => tracing::warn!(
                reason,
                "Trace export failed; spans are dropped while the collector is unreachable."
            ),
            None if EXPORT_FAILING.swap(false, Ordering::Relaxed) => {
                tracing::info!("Trace export works again.");
            }
            _ => {}
        }
        outcome
    }
}

async fn post(
    http: &reqwest::Client,
    request: reqwest::Request,
) -> Result<opentelemetry_http::Response<Bytes>, HttpError> {
    let mut response = http.execute(request).await.map_err(without_url)?;
    let mut answer = opentelemetry_http::Response::builder().status(response.status());
    if let Some(headers) = answer.headers_mut() {
        *headers = std::mem::take(response.headers_mut());
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = response.chunk().await.map_err(without_url)? {
        if body.len() + chunk.len() > MAX_COLLECTOR_ANSWER {
            return Err("the collector's answer is too large".into());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(answer.body(body.freeze())?)
}

fn without_url(err: reqwest::Error) -> HttpError {
    Box::new(err.without_url())
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};

    use super::*;

    #[test]
    fn json_lines_get_the_current_trace_and_span_id_first() {
        let trace_id = TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap();
        let span_id = SpanId::from_hex("00f067aa0ba902b7").unwrap();
        let remote = SpanContext::new(
            trace_id,
            span_id,
            TraceFlags::SAMPLED,
            true,
            TraceState::default(),
        );
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
        let sink = lines.clone();
        let layer = tracing_subscriber::fmt::layer()
            .json()
            .event_format(WithTraceIds(
                tracing_subscriber::fmt::format().json().flatten_event(true),
            ))
            .with_writer(move || SharedWriter(sink.clone()));
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!("outside");
            let _attached = Context::new().with_remote_span_context(remote).attach();
            tracing::info!(answer = 42, "inside");
        });
        let text = String::from_utf8(lines.lock().unwrap().clone()).unwrap();
        let parsed: Vec<serde_json::Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(parsed.len(), 2, "{text}");
        assert!(parsed[0].get("trace_id").is_none(), "{text}");
        assert_eq!(parsed[1]["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(parsed[1]["span_id"], "00f067aa0ba902b7");
        assert_eq!(parsed[1]["answer"], 42);
    }

    #[derive(Clone)]
    struct SharedWriter(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for SharedWriter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
}
