//! Percent-encoding as the authorize request needs it: every byte outside RFC 3986's unreserved
//! set (`A-Z a-z 0-9 - . _ ~`) is encoded, so a space is `%20` (never `+`), and `:` and `/` in a
//! redirect URI are encoded as in Marketing Cloud's documented example.

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Everything but RFC 3986 unreserved characters.
pub const STRICT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes `s` with the [`STRICT`] set (UTF-8 bytes for non-ASCII).
pub fn encode(s: &str) -> String {
    utf8_percent_encode(s, STRICT).to_string()
}

/// Decodes percent escapes once. A `+` stays a `+`: in a URI query it is not a space (RFC 3986).
/// Returns the raw bytes, so invalid UTF-8 can be reported rather than silently replaced.
pub fn decode_once(s: &str) -> Vec<u8> {
    percent_decode_str(s).collect()
}

/// The value of the first occurrence of `name` in the raw query string `query`, still encoded.
pub fn raw_query_values<'a>(query: &'a str, name: &str) -> Vec<&'a str> {
    query
        .split('&')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k == name).then_some(v)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn space_is_percent_20_and_reserved_characters_are_encoded() {
        assert_eq!(
            encode("a b&c=d+e/f?g%h#i"),
            "a%20b%26c%3Dd%2Be%2Ff%3Fg%25h%23i"
        );
    }

    #[test]
    fn unreserved_characters_stay_as_they_are() {
        assert_eq!(encode("AZaz09-._~"), "AZaz09-._~");
    }

    #[test]
    fn redirect_uri_is_encoded_as_in_the_documented_example() {
        assert_eq!(
            encode("https://127.0.0.1:80/"),
            "https%3A%2F%2F127.0.0.1%3A80%2F"
        );
    }

    #[test]
    fn decode_once_keeps_plus_and_decodes_only_one_level() {
        assert_eq!(decode_once("a+b%20c%2520"), b"a+b c%20".to_vec());
    }

    #[test]
    fn every_printable_ascii_character_round_trips() {
        let all: String = (0x20u8..=0x7e).map(char::from).collect();
        assert_eq!(decode_once(&encode(&all)), all.as_bytes());
    }

    #[test]
    fn raw_query_values_finds_every_occurrence() {
        assert_eq!(raw_query_values("a=1&b=2&a=3&c", "a"), vec!["1", "3"]);
        assert_eq!(raw_query_values("a=1&c", "c"), vec![""]);
    }
}
