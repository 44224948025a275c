//! Evidence: what was sent and what came back, redacted when it is captured (not when written),
//! so nothing downstream (step failures, reports, snapshots) can hold a secret.

use crate::secret::Secret;
use serde::Serialize;
use std::fmt;

/// Replaces known secret values, raw and percent-encoded, by their kind.
#[derive(Default, Clone)]
pub struct Redactor {
    secrets: Vec<(String, String)>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} secrets)", self.secrets.len())
    }
}

impl Redactor {
    /// Adds a secret; values shorter than 4 characters are ignored (they would mask everything).
    pub fn add(&mut self, secret: &Secret) {
        let v = secret.expose();
        if v.len() < 4 {
            return;
        }
        let label = format!("[{}]", secret.kind());
        // As sent: raw (JSON), percent-encoded (a URL), form-encoded (a form body: `+` for a
        // space, `%7E` for `~`), and the form encoding percent-encoded once more.
        let encoded = crate::oauth::encoding::encode(v);
        let form: String = url::form_urlencoded::byte_serialize(v.as_bytes()).collect();
        for e in [encoded, form] {
            if e != v && !self.secrets.iter().any(|(s, _)| *s == e) {
                self.secrets.push((e, label.clone()));
            }
        }
        self.secrets.push((v.to_owned(), label));
        // Longest first, so a secret that contains another is replaced whole.
        self.secrets.sort_by_key(|s| std::cmp::Reverse(s.0.len()));
    }

    /// A redactor for `secrets`.
    pub fn of<'a>(secrets: impl IntoIterator<Item = &'a Secret>) -> Self {
        let mut r = Self::default();
        for s in secrets {
            r.add(s);
        }
        r
    }

    /// `text` with every known secret replaced.
    pub fn apply(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (value, label) in &self.secrets {
            if out.contains(value.as_str()) {
                out = out.replace(value.as_str(), label);
            }
        }
        out
    }
}

/// How much of a body, or of an expected or actual value, a failure shows: a hostile server's
/// megabyte must not flood the console and the reports (the whole of what was read, up to
/// [`crate::http::MAX_BODY`], is still what the checks judge).
pub const SHOWN_BYTES: usize = 4096;

/// `text`, or its first `limit` bytes (at a character boundary) and how many more there were.
/// A closing note in brackets on a line of its own (how a body ended: cut at the read cap,
/// broken off) is kept after the cut.
pub fn capped(text: String, limit: usize) -> String {
    if text.len() <= limit {
        return text;
    }
    let (body, note) = match text.rfind("\n[") {
        Some(i) if text.ends_with(']') && text.len() - i < 512 => text.split_at(i),
        _ => (text.as_str(), ""),
    };
    if body.len() <= limit {
        return text;
    }
    let mut cut = limit;
    while !body.is_char_boundary(cut) {
        cut -= 1;
    }
    format!(
        "{}\n[… {} more bytes not shown]{note}",
        &body[..cut],
        body.len() - cut
    )
}

/// One HTTP request and its response, redacted.
#[derive(Debug, Clone, Serialize)]
pub struct Exchange {
    pub method: String,
    pub url: String,
    pub request_headers: Vec<(String, String)>,
    pub request_body: String,
    pub status: Option<u16>,
    pub response_headers: Vec<(String, String)>,
    pub response_body: String,
}

impl fmt::Display for Exchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "> {} {}", self.method, self.url)?;
        for (k, v) in &self.request_headers {
            writeln!(f, "> {k}: {v}")?;
        }
        if !self.request_body.is_empty() {
            writeln!(f, "> {}", self.request_body)?;
        }
        match self.status {
            Some(s) => writeln!(f, "< {s}")?,
            None => writeln!(f, "< (no response)")?,
        }
        for (k, v) in &self.response_headers {
            writeln!(f, "< {k}: {v}")?;
        }
        if !self.response_body.is_empty() {
            write!(f, "< {}", self.response_body)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_text_is_shown_capped_with_what_was_left_out() {
        assert_eq!(capped("short".into(), 10), "short");
        let long = format!("{}é{}", "a".repeat(9), "b".repeat(100));
        let shown = capped(long, 10);
        assert!(shown.starts_with(&"a".repeat(9)), "{shown}");
        assert!(shown.ends_with("[… 102 more bytes not shown]"), "{shown}");
        let noted = capped(format!("{}\n[the body was cut]", "x".repeat(100)), 10);
        assert_eq!(
            noted,
            format!(
                "{}\n[… 90 more bytes not shown]\n[the body was cut]",
                "x".repeat(10)
            )
        );
    }

    #[test]
    fn a_secret_in_a_form_body_is_replaced_too() {
        let pw = Secret::new("Password", "correct horse~*/");
        let r = Redactor::of([&pw]);
        let form: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("password", pw.expose())
            .finish();
        assert_eq!(r.apply(&form), "password=[Password]");
        let encoded = crate::oauth::encoding::encode(pw.expose());
        assert_eq!(
            r.apply(&format!("p={encoded}")),
            "p=[Password]",
            "percent-encoded"
        );
    }

    #[test]
    fn raw_and_percent_encoded_secrets_are_replaced() {
        let r = Redactor::of([&Secret::new("ClientSecret", "a b/c+d")]);
        assert_eq!(
            r.apply("x=a b/c+d&y=a%20b%2Fc%2Bd"),
            "x=[ClientSecret]&y=[ClientSecret]"
        );
    }

    #[test]
    fn longer_secrets_are_replaced_before_their_prefixes() {
        let r = Redactor::of([
            &Secret::new("Code", "abcd"),
            &Secret::new("AccessToken", "abcdefgh"),
        ]);
        assert_eq!(r.apply("abcdefgh abcd"), "[AccessToken] [Code]");
    }
}
