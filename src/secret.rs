//! Secrets (client secret, password, code, tokens, PKCE verifier) as a newtype whose `Debug` and
//! `Display` never print the value, so a secret cannot reach a log or a report by accident.

use std::fmt;

/// A secret value. Read it only with [`Secret::expose`], at the one place that sends it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Secret {
    kind: &'static str,
    value: String,
}

impl Secret {
    /// Wraps `value`; `kind` names it in redacted output (`ClientSecret([redacted])`).
    pub fn new(kind: &'static str, value: impl Into<String>) -> Self {
        Self {
            kind,
            value: value.into(),
        }
    }

    /// The raw value, for the request that must carry it.
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// What the secret is (`ClientSecret`, `AccessToken`, ...).
    pub fn kind(&self) -> &'static str {
        self.kind
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}([redacted])", self.kind)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}]", self.kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let s = Secret::new("ClientSecret", "s3cr3t-value");
        assert_eq!(format!("{s:?}"), "ClientSecret([redacted])");
        assert_eq!(format!("{s}"), "[ClientSecret]");
        assert_eq!(s.expose(), "s3cr3t-value");
    }
}
