//! Public conversation ids and source names: any string is refused or parsed, never a
//! panic, and a parsed id prints back as the same string.
#![no_main]

use conversation_gateway::domain::{ConversationId, SourceName};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(id) = raw.parse::<ConversationId>() {
        assert_eq!(id.to_string(), raw);
        assert!(!id.native().is_empty());
        assert!(id.source().as_str().parse::<SourceName>().is_ok());
    }
    if let Ok(name) = raw.parse::<SourceName>() {
        assert_eq!(name.as_str(), raw);
    }
});
