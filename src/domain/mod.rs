//! The gateway's own vocabulary: ids, conversations and messages, free of any wire format.

mod code;
mod conversation;
mod ids;
mod message;
mod vendor_data;

pub use code::ErrorCode;
pub use conversation::{Conversation, SortKey};
pub use ids::{
    ConversationId, InvalidId, MAX_NATIVE_ID_LEN, MAX_SOURCE_NAME_LEN, SourceName, VendorKind,
};
pub use message::{ContentType, Message, Role};
pub use vendor_data::{LocateItems, VendorAnswer, VendorData};
