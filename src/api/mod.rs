//! The gateway's HTTP API: handlers, their shapes, and the OpenAPI document made from them.

pub mod conversations;
pub mod error;
pub mod health;
mod json;
pub mod messages;
pub mod params;
mod query;
pub mod sources;
mod timestamp;
pub mod views;

use std::collections::btree_map::Entry;

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use self::error::Problem;
use crate::state::AppState;

/// Probes: always open, so orchestrators need no key.
pub const PROBE_PATHS: &[&str] = &["/healthz", "/readyz"];

/// Name of the bearer security scheme in the document.
const BEARER: &str = "bearer";

/// The OpenAPI document's fixed parts; operations are added by [`router`].
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Conversation Gateway",
        description = "One normalized API over the conversation records of Megaview, GPTBots, Udesk KM and Jijyun. Every error is `application/problem+json` with a stable `code`.",
    ),
    tags(
        (name = "conversations", description = "Conversations and their messages, merged across sources"),
        (name = "sources", description = "The configured vendor accounts"),
        (name = "probes", description = "Liveness and readiness"),
    ),
    components(schemas(
        Problem,
        params::SourceNameParam,
        params::ConversationIdParam,
        params::FilterIdParam,
        params::PageTokenParam,
        params::IncludeParam,
    )),
)]
pub struct ApiDoc;

/// Adds what the layers in front of every handler answer: the bearer key every route but
/// the probes needs, and the refusals no handler writes itself (size, load, budget, the
/// caller's own rate limit).
struct EdgeAnswers;

impl Modify for EdgeAnswers {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A key from `auth.api_keys`, sent as `Authorization: Bearer <key>`. Not needed when the gateway runs without keys.",
                    ))
                    .build(),
            ),
        );
        for (path, item) in doc.paths.paths.iter_mut() {
            let probe = PROBE_PATHS.contains(&path.as_str());
            for operation in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                let mut edge = vec![
                    ("414", "The URI is longer than `server.max_uri_bytes`"),
                    (
                        "431",
                        "The headers are larger than `server.max_header_bytes`",
                    ),
                ];
                if !probe {
                    operation.security =
                        Some(vec![SecurityRequirement::new(BEARER, Vec::<String>::new())]);
                    edge.extend([
                        ("401", "Auth is on and the bearer key is missing or wrong"),
                        (
                            "429",
                            "The caller is over `server.consumer_rate_limit` (`CONSUMER_RATE_LIMITED`)",
                        ),
                        (
                            "503",
                            "The gateway is at `server.max_concurrent_requests` (`OVERLOADED`)",
                        ),
                        (
                            "504",
                            "The request outlived `server.request_timeout_ms` (`TIMEOUT`)",
                        ),
                    ]);
                }
                for (status, description) in edge {
                    match operation.responses.responses.entry(status.to_owned()) {
                        Entry::Vacant(slot) => {
                            slot.insert(problem(description).into());
                        }
                        // The route answers this status itself too: say both (once, when
                        // they are the same answer).
                        Entry::Occupied(mut slot) => {
                            if let RefOr::T(response) = slot.get_mut()
                                && response.description != description
                            {
                                response.description =
                                    format!("{} Or: {description}.", response.description);
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A problem+json answer described by `description`.
fn problem(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

/// Every documented route, with what the layers in front of them answer.
pub fn router() -> OpenApiRouter<AppState> {
    let mut router = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(conversations::list_conversations))
        .routes(routes!(messages::list_messages))
        .routes(routes!(sources::list_sources))
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz));
    EdgeAnswers.modify(router.get_openapi_mut());
    router
}

/// The OpenAPI document on its own, for `conversation-gateway openapi` and the drift test.
pub fn openapi() -> utoipa::openapi::OpenApi {
    router().split_for_parts().1
}
