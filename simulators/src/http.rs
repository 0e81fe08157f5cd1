//! What every simulator route shares at the HTTP level: the gate that records each call and
//! applies its vendor's faults, the vendor's own answers when the gate or the router decides,
//! and small request readers. Vendor-specific answers stay in the vendor's module.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;

use crate::faults::Verdict;
use crate::{Shared, SimVendor, gptbots, jijyun, lock, megaview, udesk};

/// What a vendor answers when the simulator, not the handler, decides.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Generic {
    NotFound,
    MethodNotAllowed,
    ServerError,
    Throttled,
}

fn generic_response(shared: &Shared, vendor: SimVendor, endpoint: &str, kind: Generic) -> Response {
    match vendor {
        SimVendor::Megaview => megaview::generic(endpoint, kind),
        SimVendor::Gptbots => gptbots::generic(kind),
        SimVendor::Udesk => udesk::generic(kind),
        SimVendor::Jijyun => jijyun::generic(shared, kind),
    }
}

/// The page a load balancer in front of any vendor shows when the upstream never answered.
fn gateway_timeout() -> Response {
    let body = "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n\
                <center><h1>504 Gateway Time-out</h1></center>\r\n<hr><center>nginx</center>\r\n\
                </body>\r\n</html>\r\n";
    (
        StatusCode::GATEWAY_TIMEOUT,
        [(header::CONTENT_TYPE, "text/html")],
        body,
    )
        .into_response()
}

#[derive(Clone)]
struct Gate {
    shared: Arc<Shared>,
    vendor: SimVendor,
    endpoint: &'static str,
}

async fn gate(State(gate): State<Gate>, request: Request, next: Next) -> Response {
    let traceparent = request
        .headers()
        .get("traceparent")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let (seq, at) = gate
        .shared
        .calls
        .record_arrival(gate.vendor, gate.endpoint, traceparent);
    // The object store serving Megaview transcripts is another host, outside the API quota.
    let exempt = gate.vendor == SimVendor::Megaview && gate.endpoint == "asr_file";
    let (latency, verdict) = lock(&gate.shared.faults[gate.vendor.index()]).decide(at, exempt);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let response = match verdict {
        Verdict::Pass => next.run(request).await,
        Verdict::Throttled(retry_after) => {
            let mut response =
                generic_response(&gate.shared, gate.vendor, gate.endpoint, Generic::Throttled);
            if let Some(seconds) = retry_after {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            response
        }
        Verdict::Hang(hang) => {
            tokio::time::sleep(hang).await;
            gateway_timeout()
        }
        Verdict::Error => generic_response(
            &gate.shared,
            gate.vendor,
            gate.endpoint,
            Generic::ServerError,
        ),
    };
    gate.shared
        .calls
        .record_status(seq, response.status().as_u16());
    response
}

/// Wraps one route of `vendor` in the recording and fault gate, labelled `name`; a wrong method
/// gets the vendor's own 405.
pub(crate) fn endpoint(
    shared: &Arc<Shared>,
    vendor: SimVendor,
    name: &'static str,
    route: MethodRouter<Arc<Shared>>,
) -> MethodRouter<Arc<Shared>> {
    let gate_state = Gate {
        shared: Arc::clone(shared),
        vendor,
        endpoint: name,
    };
    route
        .fallback(move |State(shared): State<Arc<Shared>>| async move {
            generic_response(&shared, vendor, name, Generic::MethodNotAllowed)
        })
        .layer(middleware::from_fn_with_state(gate_state, gate))
}

/// The vendor's answer to a path it does not serve, recorded as endpoint `"not_found"`.
pub(crate) fn unknown_path(shared: &Arc<Shared>, vendor: SimVendor) -> MethodRouter<Arc<Shared>> {
    let gate_state = Gate {
        shared: Arc::clone(shared),
        vendor,
        endpoint: "not_found",
    };
    axum::routing::any(move |State(shared): State<Arc<Shared>>| async move {
        generic_response(&shared, vendor, "not_found", Generic::NotFound)
    })
    .layer(middleware::from_fn_with_state(gate_state, gate))
}

/// Whether the request declares a JSON body.
pub(crate) fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        })
}

/// Query parameters, percent-decoded; a repeated name keeps its last value.
pub(crate) fn query_pairs(raw: Option<&str>) -> HashMap<String, String> {
    url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

/// The credentials of `Authorization: Bearer <credentials>` (scheme matched case-insensitively).
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, credentials) = value.split_once(' ')?;
    let credentials = credentials.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !credentials.is_empty()).then_some(credentials)
}
