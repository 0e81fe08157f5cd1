//! Turns a `Config` into a ready `Router`: state, layers, docs routes, graceful shutdown.
//! No request logic lives here.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use secrecy::ExposeSecret;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, OnResponse, TraceLayer};
use utoipa_swagger_ui::SwaggerUi;

use crate::aggregate::Aggregator;
use crate::api::error::ApiError;
use crate::auth::{self, Authenticator};
use crate::config::Config;
use crate::cursor::CursorKey;
use crate::guard::{self, Guard};
use crate::server::{self, ConnectionLimits};
use crate::state::{Budget, REQUEST_ID, SharedState};
use crate::vendors::{self, VendorRegistry};
use crate::{api, metrics, telemetry};

/// Re-exported: the tests name the state `app::AppState`.
pub use crate::state::AppState;

/// Builds the state and router for `config`.
pub fn build(config: &Config) -> anyhow::Result<(Router, AppState)> {
    let limits = config.server.body_limits();
    let vendor_bytes = limits.budget.clone();
    let transport = vendors::Transport::new(limits)?;
    let quotas = crate::ratelimit::QuotaStore::from_config(&config.rate_limit)?;
    let registry = VendorRegistry::from_config(&config.sources, &quotas, &transport);
    let cursor = match &config.cursor.secret {
        Some(secret) => CursorKey::new(secret.expose_secret().as_bytes()),
        None => {
            tracing::warn!(
                "No cursor.secret configured: page tokens work only on this process until it restarts."
            );
            CursorKey::random()
        }
    };
    let auth = Arc::new(Authenticator::new(&config.auth));
    if !auth.is_on() {
        tracing::warn!(
            "NO AUTH: auth.api_keys is empty, so the API is open to anyone who can reach it. \
             Set auth.api_keys before exposing the gateway."
        );
    }
    metrics::install();
    let state = AppState::new(SharedState {
        aggregator: Aggregator::new(registry, &config.cache),
        cursor,
        sources: config.sources.clone(),
        vendor_bytes,
        server: config.server.clone(),
        ready: AtomicBool::new(false),
    });
    let guard = Arc::new(Guard::new(&config.server));
    Ok((router(state.clone(), auth, guard), state))
}

fn router(state: AppState, auth: Arc<Authenticator>, guard: Arc<Guard>) -> Router {
    let (api, spec) = api::router().split_for_parts();
    let trace = TraceLayer::new_for_http()
        .make_span_with(|request: &Request| {
            let request_id = request
                .headers()
                .get(&REQUEST_ID)
                .and_then(|value| value.to_str().ok())
                .unwrap_or("");
            // The path only: query strings carry customer ids, which stay out of logs.
            let span = tracing::info_span!(
                "request",
                method = %request.method(),
                path = %request.uri().path(),
                request_id,
                consumer = tracing::field::Empty,
                "http.response.status_code" = tracing::field::Empty,
                "otel.kind" = "server",
                "otel.status_code" = tracing::field::Empty,
            );
            telemetry::continue_trace(&span, request.headers());
            span
        })
        .on_response(
            |response: &Response, latency: std::time::Duration, span: &tracing::Span| {
                let status = response.status();
                span.record("http.response.status_code", i64::from(status.as_u16()));
                if status.is_server_error() {
                    span.record("otel.status_code", "ERROR");
                }
                DefaultOnResponse::default().on_response(response, latency, span);
            },
        );
    let docs = Router::from(SwaggerUi::new("/docs").url("/openapi.json", spec))
        .layer(middleware::from_fn(docs_problems));
    api.merge(docs)
        .route(auth::METRICS_PATH, get(metrics::serve_metrics))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(
            // Listed outermost first: the id exists before the span opens, and every
            // answer, auth refusals and timeouts included, is traced, counted and carries
            // the id. Cheap refusals (size, load) come before auth; the consumer's rate
            // limit needs auth to name the consumer.
            ServiceBuilder::new()
                .layer(middleware::map_request(drop_unsafe_request_id))
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(trace)
                .layer(middleware::from_fn(metrics::track))
                .layer(middleware::from_fn_with_state(
                    guard.clone(),
                    guard::limit_size,
                ))
                .layer(middleware::from_fn_with_state(
                    guard.clone(),
                    guard::shed_load,
                ))
                .layer(middleware::from_fn_with_state(
                    state.clone(),
                    enforce_budget,
                ))
                .layer(middleware::from_fn_with_state(auth, auth::authenticate))
                .layer(middleware::from_fn_with_state(guard, guard::limit_consumer)),
        )
        .with_state(state)
}

/// Longest caller-given request id kept.
const MAX_REQUEST_ID_LEN: usize = 64;

/// Drops a caller's `X-Request-Id` that is long or holds anything but letters, digits and
/// `._:-`, so a fresh id is made: the id is echoed, logged on every line and sent to vendors.
async fn drop_unsafe_request_id(mut request: Request) -> Request {
    let safe = |value: &axum::http::HeaderValue| {
        let bytes = value.as_bytes();
        !bytes.is_empty()
            && bytes.len() <= MAX_REQUEST_ID_LEN
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
    };
    let headers = request.headers_mut();
    let values = headers.get_all(&REQUEST_ID);
    let keep = values.iter().count() == 1 && values.iter().all(safe);
    if !keep {
        headers.remove(&REQUEST_ID);
    }
    request
}

async fn route_not_found(request: Request) -> ApiError {
    ApiError::RouteNotFound(request.uri().path().chars().take(200).collect())
}

/// Swagger UI answers an unknown file under `/docs/` with an empty 404 (and a failure with
/// a plain-text 500); ours are problems.
async fn docs_problems(request: Request, next: Next) -> Response {
    let path: String = request.uri().path().chars().take(200).collect();
    let response = next.run(request).await;
    match response.status() {
        StatusCode::NOT_FOUND => ApiError::RouteNotFound(path).into_response(),
        status if status.is_server_error() => {
            ApiError::Internal(format!("Swagger UI answered {status} for {path}")).into_response()
        }
        _ => response,
    }
}

async fn method_not_allowed(request: Request) -> ApiError {
    ApiError::MethodNotAllowed(request.method().to_string())
}

/// Starts the request's [`Budget`] (handlers read it) and answers 504 when the request
/// outlives it.
async fn enforce_budget(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let budget = Budget::starting_now(state.server.request_timeout);
    request.extensions_mut().insert(budget);
    match tokio::time::timeout_at(budget.until, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout.into_response(),
    }
}

/// Serves until SIGINT or SIGTERM, then finishes in-flight requests.
pub async fn serve(listener: TcpListener, router: Router, state: AppState) {
    state.ready.store(true, Ordering::SeqCst);
    let shutting_down = state.clone();
    let limits = ConnectionLimits::new(&state.server);
    server::serve(listener, router, limits, async move {
        shutdown_signal().await;
        shutting_down.ready.store(false, Ordering::SeqCst);
        tracing::info!("Shutting down: finishing in-flight requests.");
    })
    .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
