//! `GET /healthz` (the process is alive) and `GET /readyz` (it serves traffic).

use std::sync::atomic::Ordering;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

/// A probe's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProbeStatus {
    /// `ok`, `ready` or `shutting_down`.
    pub status: String,
}

/// Liveness: 200 while the process runs. Never needs auth.
#[utoipa::path(get, path = "/healthz", tag = "probes", responses((status = 200, description = "Alive", body = ProbeStatus)))]
pub async fn healthz() -> Json<ProbeStatus> {
    Json(ProbeStatus {
        status: "ok".to_owned(),
    })
}

/// Readiness: 200 once the config is loaded and the listener is up; 503 while shutting down.
/// Never needs auth.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "probes",
    responses(
        (status = 200, description = "Serving", body = ProbeStatus),
        (status = 503, description = "Shutting down", body = ProbeStatus),
    ),
)]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<ProbeStatus>) {
    if state.ready.load(Ordering::SeqCst) {
        (
            StatusCode::OK,
            Json(ProbeStatus {
                status: "ready".to_owned(),
            }),
        )
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(ProbeStatus {
                status: "shutting_down".to_owned(),
            }),
        )
    }
}
