//! Time-based one-time passwords (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits) from a base32
//! seed (RFC 4648), for users whose login asks for a verification code.

use crate::secret::Secret;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds per time step.
pub const STEP: u64 = 30;

/// Decodes RFC 4648 base32 (case-insensitive, padding and spaces ignored).
pub fn base32_decode(s: &str) -> Option<Vec<u8>> {
    let mut bits: u64 = 0;
    let mut nbits = 0u32;
    let mut out = Vec::new();
    for c in s.chars().filter(|c| *c != '=' && !c.is_whitespace()) {
        let v = match c.to_ascii_uppercase() {
            c @ 'A'..='Z' => c as u64 - 'A' as u64,
            c @ '2'..='7' => c as u64 - '2' as u64 + 26,
            _ => return None,
        };
        bits = (bits << 5) | v;
        nbits += 5;
        if nbits >= 8 {
            nbits -= 8;
            out.push((bits >> nbits) as u8);
            bits &= (1 << nbits) - 1;
        }
    }
    (!out.is_empty()).then_some(out)
}

/// The code for `seed` at time step `counter` (RFC 4226 §5.3).
pub fn hotp(key: &[u8], counter: u64) -> String {
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let offset = usize::from(h[19] & 0x0f);
    let bin = (u32::from(h[offset]) & 0x7f) << 24
        | u32::from(h[offset + 1]) << 16
        | u32::from(h[offset + 2]) << 8
        | u32::from(h[offset + 3]);
    format!("{:06}", bin % 1_000_000)
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The current code for a base32 seed, or `None` if the seed is not base32.
pub fn code_now(seed: &Secret) -> Option<Secret> {
    let key = base32_decode(seed.expose())?;
    Some(Secret::new(
        "TotpCode",
        hotp(&key, unix(SystemTime::now()) / STEP),
    ))
}

/// Whether `code` is valid for `seed` at `now`, one step of clock skew either way.
pub fn verify(seed: &Secret, code: &str, now: SystemTime) -> bool {
    let Some(key) = base32_decode(seed.expose()) else {
        return false;
    };
    let step = unix(now) / STEP;
    [step.saturating_sub(1), step, step + 1]
        .iter()
        .any(|c| hotp(&key, *c) == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_sha1_test_vectors() {
        // Appendix B: the seed is ASCII "12345678901234567890"; 8 digits there, 6 here.
        let key = b"12345678901234567890";
        assert_eq!(hotp(key, 59 / STEP), "287082");
        assert_eq!(hotp(key, 1111111109 / STEP), "081804");
        assert_eq!(hotp(key, 2000000000 / STEP), "279037");
    }

    #[test]
    fn base32_decodes_rfc4648_vectors() {
        assert_eq!(base32_decode("MZXW6YTBOI======").unwrap(), b"foobar");
        assert_eq!(base32_decode("mzxw6ytboi").unwrap(), b"foobar");
        assert!(base32_decode("not base32!").is_none());
    }

    #[test]
    fn the_current_code_verifies() {
        let seed = Secret::new("TotpSeed", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        let code = code_now(&seed).unwrap();
        assert!(verify(&seed, code.expose(), SystemTime::now()));
        assert!(!verify(&seed, "000000x", SystemTime::now()));
    }
}
