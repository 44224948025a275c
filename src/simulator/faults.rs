//! Named faults: each breaks exactly one rule of the simulator, so that the check made for that
//! rule can be shown to fail (`sfmc-conformance mock --list-faults`, `run --fault NAME`).

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

macro_rules! faults {
    ($( $variant:ident = $name:literal, [$($check:literal),*], $what:literal; )*) => {
        /// One broken rule.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Fault { $( $variant, )* }

        impl Fault {
            /// Every fault, in the order they are listed.
            pub const ALL: &'static [Fault] = &[ $( Fault::$variant, )* ];

            /// The name used on the command line.
            pub fn name(self) -> &'static str {
                match self { $( Fault::$variant => $name, )* }
            }

            /// The check ids this fault should make fail.
            pub fn checks(self) -> &'static [&'static str] {
                match self { $( Fault::$variant => &[$($check),*], )* }
            }

            /// What the simulator does wrong.
            pub fn description(self) -> &'static str {
                match self { $( Fault::$variant => $what, )* }
            }
        }
    };
}

faults! {
    RedirectUriPrefixMatch = "redirect-uri-prefix-match", ["RU-02", "RU-03", "RU-05"],
        "accepts any redirect_uri that starts with a registered one";
    RedirectUriIgnorePort = "redirect-uri-ignore-port", ["RU-08"],
        "compares redirect URIs without their port";
    OpenRedirect = "open-redirect", ["RU-01"],
        "redirects with an error to an unregistered redirect_uri instead of showing an error page";
    StateDropped = "state-dropped", ["AR-01"],
        "leaves state out of the redirect after login";
    StatePlusForSpace = "state-plus-for-space", ["AR-02"],
        "re-encodes state with + for space";
    CodeReusable = "code-reusable", ["TK-02"],
        "lets a code be redeemed more than once";
    CodeReuseKeepsTokens = "code-reuse-keeps-tokens", ["TK-03"],
        "refuses a reused code but leaves the tokens of its first redemption valid";
    CodeLifetimeHour = "code-lifetime-hour", ["TK-05"],
        "codes live an hour instead of 5 minutes";
    CodeNotBoundToClient = "code-not-bound-to-client", ["TK-06"],
        "lets another client redeem a code";
    CodeNotBoundToRedirectUri = "code-not-bound-to-redirect-uri", ["RU-13"],
        "does not compare the token request's redirect_uri with the authorize request's";
    PkceIgnored = "pkce-ignored", ["PK-02", "PK-03"],
        "never verifies the code_verifier";
    PkcePlainAccepted = "pkce-plain-accepted", ["PK-05", "PK-06"],
        "accepts the plain method, and the challenge itself as an S256 verifier";
    PkceDowngradeAccepted = "pkce-downgrade-accepted", ["PK-04"],
        "accepts a code_verifier for a code requested without a code_challenge";
    RefreshNotRotated = "refresh-not-rotated", ["RF-02"],
        "returns the same refresh token on refresh";
    RefreshOldStillValid = "refresh-old-still-valid", ["RF-02"],
        "rotates refresh tokens but keeps accepting the old one";
    RefreshNoFamilyRevocation = "refresh-no-family-revocation", ["RF-03"],
        "refuses a replayed refresh token but leaves its newer tokens valid";
    SecretNotChecked = "secret-not-checked", ["TK-08"],
        "does not check a web app's client secret";
    NoCacheControl = "no-cache-control", ["TR-03"],
        "sends token responses without Cache-Control: no-store";
    WrongContentType = "wrong-content-type", ["TR-02"],
        "sends token responses as text/plain";
    ErrorWithoutErrorField = "error-without-error-field", ["TE-01"],
        "leaves the error field out of token error responses";
    WrongErrorStatus = "wrong-error-status", ["TE-01"],
        "answers token errors with status 200";
    Redirect307 = "redirect-307", ["AR-08"],
        "redirects back to the app with 307 after login";
    FrameableLogin = "frameable-login", ["BP-01", "BP-02"],
        "serves the login page without X-Frame-Options or frame-ancestors";
    BareInstanceUrls = "bare-instance-urls", ["TR-08"],
        "returns rest_instance_url and soap_instance_url as bare hosts";
    ExpiresInString = "expires-in-string", ["TR-01"],
        "returns expires_in as a string";
    EarlyErrorRedirect = "early-error-redirect", ["AZ-06"],
        "redirects an invalid scope back to the app before the user signs in";
}

impl FromStr for Fault {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Fault::ALL
            .iter()
            .copied()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                format!("unknown fault `{s}` (see `sfmc-conformance mock --list-faults`)")
            })
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The faults a simulator runs with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults(BTreeSet<Fault>);

impl Faults {
    pub fn none() -> Self {
        Self::default()
    }
    pub fn of(faults: impl IntoIterator<Item = Fault>) -> Self {
        Self(faults.into_iter().collect())
    }
    pub fn has(&self, f: Fault) -> bool {
        self.0.contains(&f)
    }
    pub fn iter(&self) -> impl Iterator<Item = Fault> + '_ {
        self.0.iter().copied()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_parse_back() {
        let mut seen = std::collections::HashSet::new();
        for f in Fault::ALL {
            assert!(seen.insert(f.name()), "{} twice", f.name());
            assert_eq!(f.name().parse::<Fault>().unwrap(), *f);
            assert!(!f.checks().is_empty(), "{} trips no check", f.name());
        }
        assert!(Fault::ALL.len() >= 26);
    }
}
