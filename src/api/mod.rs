//! The gateway's HTTP API: handlers, their shapes, and the OpenAPI document made from them.

pub mod conversations;
pub mod health;
mod json;
pub mod messages;
mod query;
pub mod sources;
pub mod views;

use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::error::Problem;

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
    components(schemas(Problem)),
)]
pub struct ApiDoc;

/// Every documented route.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(conversations::list_conversations))
        .routes(routes!(messages::list_messages))
        .routes(routes!(sources::list_sources))
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
}

/// The OpenAPI document on its own, for `conversation-gateway openapi` and the drift test.
pub fn openapi() -> utoipa::openapi::OpenApi {
    router().split_for_parts().1
}
