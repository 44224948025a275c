//! The simulator's journal: every request and response, with secrets masked by parameter name
//! (codes, secrets, passwords, tokens, verifiers, anti-CSRF tokens) at the moment of recording.

use super::{Reply, Shared};
use serde::Serialize;
use serde_json::Value;
use wiremock::Request;

/// Parameter and field names whose values are never recorded.
pub const SENSITIVE: &[&str] = &[
    "code",
    "client_secret",
    "password",
    "access_token",
    "refresh_token",
    "code_verifier",
    "csrf",
    "clientSecret",
];

/// One exchange, redacted.
#[derive(Debug, Clone, Serialize)]
pub struct JournalEntry {
    pub method: String,
    /// Path and query as received, sensitive query values masked.
    pub target: String,
    pub request_body: String,
    pub status: u16,
    pub location: Option<String>,
    pub response_body: String,
}

pub(super) fn record(shared: &Shared, req: &Request, reply: &Reply) {
    let target = match req.url.query() {
        Some(q) => format!("{}?{}", req.url.path(), mask_query(q)),
        None => req.url.path().to_owned(),
    };
    // Admin answers (the journal itself among them) are not copied into the journal.
    let response_body = if req.url.path().starts_with("/__admin/") {
        format!("[admin, {} bytes]", reply.body.len())
    } else {
        mask_body(&reply.body)
    };
    let entry = JournalEntry {
        method: req.method.to_string(),
        target: truncate(target),
        request_body: truncate(mask_body(&req.body)),
        status: reply.status,
        location: reply
            .header_value("Location")
            .map(mask_location)
            .map(truncate),
        response_body: truncate(response_body),
    };
    shared.state().record(entry);
}

/// Longest text kept per journal field.
pub const FIELD_LIMIT: usize = 4096;

fn truncate(mut s: String) -> String {
    if s.len() > FIELD_LIMIT {
        let mut cut = FIELD_LIMIT;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        let dropped = s.len() - cut;
        s.truncate(cut);
        s.push_str(&format!("…[{dropped} more bytes]"));
    }
    s
}

fn is_sensitive(name: &str) -> bool {
    SENSITIVE.contains(&name)
}

/// `a=1&code=xyz` becomes `a=1&code=[masked]`.
pub fn mask_query(q: &str) -> String {
    q.split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if is_sensitive(k) => format!("{k}=[masked]"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn mask_location(loc: &str) -> String {
    match loc.split_once('?') {
        Some((base, q)) => format!("{base}?{}", mask_query(q)),
        None => loc.to_owned(),
    }
}

fn mask_body(body: &[u8]) -> String {
    if body.is_empty() {
        return String::new();
    }
    if let Ok(mut v) = serde_json::from_slice::<Value>(body) {
        if let Value::Object(m) = &mut v {
            for (k, val) in m.iter_mut() {
                if is_sensitive(k) {
                    *val = Value::String("[masked]".into());
                }
            }
        }
        return v.to_string();
    }
    let text = String::from_utf8_lossy(body);
    if text.trim_start().starts_with('<') {
        // Pages carry anti-CSRF tokens; record only their size.
        return format!("[html, {} bytes]", body.len());
    }
    mask_query(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_and_json_secrets_are_masked() {
        assert_eq!(mask_query("state=x&code=abc"), "state=x&code=[masked]");
        assert_eq!(
            mask_body(br#"{"client_secret":"s","client_id":"c"}"#),
            r#"{"client_id":"c","client_secret":"[masked]"}"#
        );
        assert_eq!(
            mask_body(b"username=u&password=p&csrf=t"),
            "username=u&password=[masked]&csrf=[masked]"
        );
    }
}
