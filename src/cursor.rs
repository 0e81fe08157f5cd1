//! Page tokens: opaque, HMAC-signed, bound to the query they came from, and valid on any
//! replica that shares the cursor secret. They hold positions, never data or secrets.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Longest page token accepted.
pub const MAX_TOKEN_LEN: usize = 2048;
/// Bytes of the MAC kept in a token (128 bits).
const MAC_LEN: usize = 16;

/// Why a page token was refused. Deliberately vague: a client learns only that it is bad.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a token this gateway issued (malformed, truncated or tampered with).
    #[error("the page token is malformed or was altered")]
    Invalid,
    /// A valid token, but for another query or resource.
    #[error("the page token belongs to a different query; start again without page_token")]
    Foreign,
}

/// The key page tokens are signed with.
#[derive(Clone)]
pub struct CursorKey {
    mac: HmacSha256,
}

impl CursorKey {
    /// A key from the configured secret.
    pub fn new(secret: &[u8]) -> Self {
        Self {
            // HMAC accepts keys of any length, so this cannot fail.
            mac: HmacSha256::new_from_slice(secret).unwrap_or_else(|_| unreachable!()),
        }
    }

    /// A random key, for a single process without a configured secret.
    pub fn random() -> Self {
        let secret: [u8; 32] = rand::random();
        Self::new(&secret)
    }

    /// Signs `payload` for the purpose `kind` (e.g. `conversations`).
    pub fn seal<T: Serialize>(&self, kind: &str, payload: &T) -> String {
        // Serializing plain structs of numbers and strings cannot fail.
        let json = serde_json::to_vec(payload).unwrap_or_default();
        let tag = self.tag(kind, &json);
        let mut token = URL_SAFE_NO_PAD.encode(&json);
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(&tag[..MAC_LEN]));
        token
    }

    /// Checks the signature and reads the payload of a token made by [`CursorKey::seal`].
    pub fn open<T: DeserializeOwned>(&self, kind: &str, token: &str) -> Result<T, TokenError> {
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Invalid);
        }
        let (body, tag) = token.split_once('.').ok_or(TokenError::Invalid)?;
        let json = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| TokenError::Invalid)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| TokenError::Invalid)?;
        if tag.len() != MAC_LEN {
            return Err(TokenError::Invalid);
        }
        let mut mac = self.mac.clone();
        mac.update(kind.as_bytes());
        mac.update(&[0]);
        mac.update(&json);
        mac.verify_truncated_left(&tag)
            .map_err(|_| TokenError::Invalid)?;
        serde_json::from_slice(&json).map_err(|_| TokenError::Invalid)
    }

    fn tag(&self, kind: &str, json: &[u8]) -> Vec<u8> {
        let mut mac = self.mac.clone();
        mac.update(kind.as_bytes());
        mac.update(&[0]);
        mac.update(json);
        mac.finalize().into_bytes().to_vec()
    }
}

/// A short, stable fingerprint of a query's canonical form, to bind tokens to it.
pub fn fingerprint(canonical: &str) -> String {
    let digest = Sha256::digest(canonical.as_bytes());
    hex::encode(&digest[..12])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Position {
        q: String,
        o: u64,
    }

    fn position() -> Position {
        Position {
            q: fingerprint("vendor=udesk"),
            o: 40,
        }
    }

    #[test]
    fn open_returns_what_seal_signed() {
        let key = CursorKey::new(b"0123456789abcdef");
        let token = key.seal("messages", &position());
        assert_eq!(
            key.open::<Position>("messages", &token).unwrap(),
            position()
        );
    }

    #[test]
    fn open_refuses_tampered_truncated_and_foreign_tokens() {
        let key = CursorKey::new(b"0123456789abcdef");
        let token = key.seal("messages", &position());
        let mut bytes = token.clone().into_bytes();
        bytes[3] ^= 1;
        let tampered = String::from_utf8(bytes).unwrap();
        for bad in [
            tampered.as_str(),
            &token[..token.len() - 2],
            "",
            "x.y",
            "....",
        ] {
            assert_eq!(
                key.open::<Position>("messages", bad),
                Err(TokenError::Invalid),
                "{bad}"
            );
        }
        assert!(key.open::<Position>("conversations", &token).is_err());
        let other_replica_with_other_secret = CursorKey::new(b"another secret!!");
        assert!(
            other_replica_with_other_secret
                .open::<Position>("messages", &token)
                .is_err()
        );
    }

    #[test]
    fn tokens_from_one_replica_open_on_another_with_the_same_secret() {
        let token = CursorKey::new(b"shared secret 123").seal("messages", &position());
        let other = CursorKey::new(b"shared secret 123");
        assert_eq!(
            other.open::<Position>("messages", &token).unwrap(),
            position()
        );
    }
}
