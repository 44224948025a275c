//! Values shaped like Marketing Cloud's: 24-character ids and secrets, JWT-looking codes, and
//! 512-character access and refresh tokens of four dot-separated base64url segments.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::json;

/// Marketing Cloud's documented maximum length of codes and tokens.
pub const MAX_LEN: usize = 512;

pub use crate::random::alnum as random_alnum;
use crate::random::bytes as random_bytes;

/// An authorization code: a JWT-like value whose payload carries `auth_code` and `eid`, as
/// third-party apps have decoded real codes (facts §2). 256 bits of randomness in the signature.
pub fn authorization_code(eid: u64) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","kid":"4","ver":"1","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD
        .encode(json!({"auth_code": random_alnum(24, true), "eid": eid}).to_string());
    let sig = URL_SAFE_NO_PAD.encode(random_bytes(32));
    format!("{header}.{payload}.{sig}")
}

/// An access or refresh token of exactly 512 characters: header, payload, 256 random bits, and a
/// signature segment padded to length.
pub fn token(claim: &str, client_id: &str, client_type: &str, eid: u64) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","kid":"4","ver":"1","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(
        json!({claim: random_alnum(24, true), "client_id": client_id, "eid": eid,
               "stack_key": "S7", "platform_version": 2, "client_type": client_type})
        .to_string(),
    );
    let nonce = URL_SAFE_NO_PAD.encode(random_bytes(32));
    let mut t = format!("{header}.{payload}.{nonce}.");
    while t.len() < MAX_LEN {
        let sig = URL_SAFE_NO_PAD.encode(random_bytes(48));
        t.push_str(&sig);
    }
    t.truncate(MAX_LEN);
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_512_characters_of_four_segments() {
        let t = token(
            "access_token",
            "vqwyswrlzzfk024ivr682esb",
            "Confidential",
            7281698,
        );
        assert_eq!(t.len(), 512);
        assert_eq!(t.split('.').count(), 4);
        assert_ne!(
            t,
            token(
                "access_token",
                "vqwyswrlzzfk024ivr682esb",
                "Confidential",
                7281698
            )
        );
    }

    #[test]
    fn codes_fit_the_documented_maximum() {
        let c = authorization_code(7281698);
        assert!(c.len() <= MAX_LEN);
        assert!(c
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)));
    }
}
