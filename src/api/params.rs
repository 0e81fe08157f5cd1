//! Schemas of path and query values, stating in OpenAPI the rules the handlers enforce.

use std::borrow::Cow;

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::cursor::MAX_TOKEN_LEN;
use crate::domain::{MAX_NATIVE_ID_LEN, MAX_SOURCE_NAME_LEN};

/// Longest `customer_id` or `agent_id` filter, in characters.
pub const MAX_FILTER_LEN: usize = 256;

/// Characters Rust's `char::is_control` refuses (Unicode `Cc`), as a regex class.
const CONTROL: &str = r"\x00-\x1f\x7f-\x9f";

fn string(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
}

/// A source name in a query: `source=sales`.
pub struct SourceNameParam;

impl PartialSchema for SourceNameParam {
    fn schema() -> RefOr<Schema> {
        string("A configured source's name: 1 to 64 of `a-z`, `0-9` and `-`.")
            .min_length(Some(1))
            .max_length(Some(MAX_SOURCE_NAME_LEN))
            .pattern(Some("^[a-z0-9-]+$"))
            .into()
    }
}

impl ToSchema for SourceNameParam {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("SourceName")
    }
}

/// A conversation id in a path.
pub struct ConversationIdParam;

impl PartialSchema for ConversationIdParam {
    fn schema() -> RefOr<Schema> {
        string(
            "`<source>:<native id>`: a source name, `:`, then 1 to 256 characters of the vendor's id without control characters.",
        )
        .min_length(Some(3))
        .max_length(Some(MAX_SOURCE_NAME_LEN + 1 + MAX_NATIVE_ID_LEN))
        .pattern(Some(format!(
            "^[a-z0-9-]{{1,{MAX_SOURCE_NAME_LEN}}}:[^{CONTROL}]{{1,{MAX_NATIVE_ID_LEN}}}$"
        )))
        .into()
    }
}

impl ToSchema for ConversationIdParam {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ConversationId")
    }
}

/// A `customer_id` or `agent_id` filter.
pub struct FilterIdParam;

impl PartialSchema for FilterIdParam {
    fn schema() -> RefOr<Schema> {
        string("A vendor's customer or agent id: at most 256 characters, no control characters. Empty is no filter.")
            .max_length(Some(MAX_FILTER_LEN))
            .pattern(Some(format!("^[^{CONTROL}]*$")))
            .into()
    }
}

impl ToSchema for FilterIdParam {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("FilterId")
    }
}

/// A `page_token` as the gateway issues them.
pub struct PageTokenParam;

impl PartialSchema for PageTokenParam {
    fn schema() -> RefOr<Schema> {
        string("A `next_page_token`, passed back unchanged (opaque: two base64url parts joined by `.`). Empty is the first page.")
            .max_length(Some(MAX_TOKEN_LEN))
            .pattern(Some(r"^([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)?$"))
            .into()
    }
}

impl ToSchema for PageTokenParam {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("PageToken")
    }
}

/// What `include` may add.
pub struct IncludeParam;

impl PartialSchema for IncludeParam {
    fn schema() -> RefOr<Schema> {
        string("`vendor_data`: each item also carries the vendor's own record.")
            .enum_values(Some(["vendor_data"]))
            .into()
    }
}

impl ToSchema for IncludeParam {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Include")
    }
}
