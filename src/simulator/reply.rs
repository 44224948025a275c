//! A response as the simulator builds it, readable by the journal before the server sends it.

use serde_json::Value;

/// Status, headers and body of one simulator response.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    /// An empty response.
    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A JSON response with the token endpoint's headers (RFC 6749 §5.1: no caching).
    pub fn json(status: u16, body: &Value) -> Self {
        Self::status(status)
            .header("Content-Type", "application/json; charset=utf-8")
            .header("Cache-Control", "no-store")
            .header("Pragma", "no-cache")
            .body(body.to_string().into_bytes())
    }

    /// A JSON response with only its content type (resource and admin routes).
    pub fn json_plain(status: u16, body: &Value) -> Self {
        Self::status(status)
            .header("Content-Type", "application/json; charset=utf-8")
            .body(body.to_string().into_bytes())
    }

    /// Removes every header named `name`.
    pub fn without_header(mut self, name: &str) -> Self {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self
    }

    /// Replaces header `name` (adds it if absent).
    pub fn with_header(self, name: &str, value: &str) -> Self {
        self.without_header(name).header(name, value)
    }

    /// An HTML page that refuses framing and caching.
    pub fn html(status: u16, body: String) -> Self {
        Self::status(status)
            .header("Content-Type", "text/html; charset=utf-8")
            .header("Cache-Control", "no-store")
            .header("X-Frame-Options", "DENY")
            .header("Content-Security-Policy", "frame-ancestors 'none'")
            .header("Referrer-Policy", "no-referrer")
            .body(body.into_bytes())
    }

    /// A redirect to `location`.
    pub fn redirect(status: u16, location: &str) -> Self {
        Self::status(status)
            .header("Location", location)
            .header("Cache-Control", "no-store")
            .header("Referrer-Policy", "no-referrer")
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: Vec<u8>) -> Self {
        self.body = body;
        self
    }

    /// Whether HTTP/1.1 can carry it: a known status range, header names that are tokens and
    /// values without control characters. One that cannot is answered 500 by the simulator,
    /// and journalled as such, rather than refused later by the server.
    pub fn sendable(&self) -> bool {
        hyper::StatusCode::from_u16(self.status).is_ok()
            && self.headers.iter().all(|(k, v)| {
                hyper::header::HeaderName::from_bytes(k.as_bytes()).is_ok()
                    && hyper::header::HeaderValue::from_str(v).is_ok()
            })
    }

    /// The first value of header `name`.
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_http_cannot_carry_is_not_sendable() {
        assert!(Reply::redirect(302, "https://app.example/cb?code=a%0D%0A").sendable());
        assert!(!Reply::redirect(302, "https://app.example/cb\r\nSet-Cookie: x=1").sendable());
        assert!(!Reply::status(200).header("bad name", "v").sendable());
        assert!(!Reply::status(1000).sendable());
    }
}
