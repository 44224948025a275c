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
    RedirectUriPrefixNoSlash = "redirect-uri-prefix-no-slash", ["RU-06"],
        "accepts a redirect_uri that starts with a registered one without its trailing slash (so https://host:port@evil.example/ passes)";
    RedirectUriIgnoresQuery = "redirect-uri-ignores-query", ["RU-03"],
        "compares redirect URIs without their query";
    RedirectUriNormalized = "redirect-uri-normalized", ["RU-08"],
        "compares redirect URIs after URL normalisation (case, dot segments, encoding) instead of as exact strings";
    RedirectUriLastWins = "redirect-uri-last-wins", ["RU-07"],
        "validates the first of two redirect_uri parameters and redirects to the last";
    OpenRedirect = "open-redirect", ["RU-01"],
        "redirects with an error to an unregistered redirect_uri instead of showing an error page";
    StateDropped = "state-dropped", ["AR-01"],
        "leaves state out of the redirect after login";
    StateTruncated = "state-truncated", ["AR-02"],
        "cuts the state it sends back to 255 characters";
    StateHtmlEscaped = "state-html-escaped", ["AR-02"],
        "sends the state back HTML-escaped (& as &amp;)";
    StateDoubleEncoded = "state-double-encoded", ["AR-02"],
        "percent-encodes the state twice in the redirect";
    CodeReusable = "code-reusable", ["TK-02"],
        "lets a code be redeemed more than once";
    CodeReuseKeepsTokens = "code-reuse-keeps-tokens", ["TK-03"],
        "refuses a reused code but leaves the tokens of its first redemption valid";
    CodeReuseRevokesRefreshOnly = "code-reuse-revokes-refresh-only", ["TK-03"],
        "on a reused code, revokes the first redemption's refresh token but not its access token";
    CodeReuseRevokesAccessOnly = "code-reuse-revokes-access-only", ["TK-03"],
        "on a reused code, revokes the first redemption's access token but not its refresh token";
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
    PkceVerifiedOnlyWhenSent = "pkce-verified-only-when-sent", ["PK-03"],
        "checks a code_verifier when one is sent, and lets a code requested with a challenge go without one";
    PkceDowngradeAccepted = "pkce-downgrade-accepted", ["PK-04"],
        "accepts a code_verifier for a code requested without a code_challenge";
    RefreshNotRotated = "refresh-not-rotated", ["RF-02"],
        "returns the same refresh token on refresh";
    RefreshOldStillValid = "refresh-old-still-valid", ["RF-02"],
        "rotates refresh tokens but keeps accepting the old one";
    RefreshNoFamilyRevocation = "refresh-no-family-revocation", ["RF-03"],
        "refuses a replayed refresh token but leaves its newer tokens valid";
    RefreshReplaySparesAccessToken = "refresh-replay-spares-access-token", ["RF-03"],
        "on a replayed refresh token, revokes the family's refresh tokens but not its newest access token";
    RefreshRotatedForConfidentialOnly = "refresh-rotated-for-confidential-only", ["RF-02"],
        "rotates a web app's refresh token but keeps a public app's";
    RefreshGraceWindow = "refresh-grace-window", ["RF-02"],
        "accepts a spent refresh token again within 10 seconds of its rotation";
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
    FrameAncestorsStar = "frame-ancestors-star", ["BP-01", "BP-02"],
        "sends Content-Security-Policy: frame-ancestors * and no X-Frame-Options on its pages";
    CspMetaOnly = "csp-meta-only", ["BP-01", "BP-02"],
        "puts frame-ancestors in a <meta> tag, which browsers ignore, instead of a header";
    BareInstanceUrls = "bare-instance-urls", ["TR-08"],
        "returns rest_instance_url and soap_instance_url as bare hosts";
    ExpiresInString = "expires-in-string", ["TR-01"],
        "returns expires_in as a string";
    EarlyErrorRedirect = "early-error-redirect", ["AZ-06"],
        "redirects an invalid scope back to the app before the user signs in";
    RedirectUriOptional = "redirect-uri-optional", ["RU-12"],
        "uses the first registered redirect URI when redirect_uri is missing";
    UnknownParameterRejected = "unknown-parameter-rejected", ["AZ-01", "TK-12"],
        "refuses requests that carry a parameter it does not know";
    DuplicateParametersAccepted = "duplicate-parameters-accepted", ["AZ-02", "TK-12"],
        "takes the first of repeated parameters instead of refusing them";
    ResponseTypeUnchecked = "response-type-unchecked", ["AZ-03", "AZ-04"],
        "treats any response_type, or none, as code";
    ScopeOrderSensitive = "scope-order-sensitive", ["AZ-05"],
        "refuses scopes that are not in the integration's order";
    UnknownClientRedirects = "unknown-client-redirects", ["AZ-07"],
        "redirects an unknown client_id to its redirect_uri with an error";
    CancelErrorWrong = "cancel-error-wrong", ["AZ-08"],
        "answers a cancelled login with server_error and no state";
    AuthorizePostRefused = "authorize-post-refused", ["AZ-09"],
        "refuses the authorization request by POST";
    EmptyStateAdded = "empty-state-added", ["AR-03"],
        "adds an empty state to the redirect when none was sent";
    CodeInFragment = "code-in-fragment", ["AR-04"],
        "returns the code in the URL fragment";
    ErrorRedirectExtraParams = "error-redirect-extra-params", ["AR-05"],
        "adds a parameter with a line break to error redirects";
    ErrorWithoutState = "error-without-state", ["AR-06"],
        "leaves state out of error redirects";
    WrongIss = "wrong-iss", ["AR-07"],
        "sends an iss that is not the issuer";
    WeakRandomness = "weak-randomness", ["AR-09", "TR-05"],
        "makes codes and tokens from a counter";
    BadTssd = "bad-tssd", ["AR-10"],
        "sends a tssd that is not a subdomain";
    PkceS256WrongEncoding = "pkce-s256-wrong-encoding", ["PK-01"],
        "computes the S256 challenge as hex instead of base64url, so right verifiers fail";
    PkceNotRequired = "pkce-not-required", ["PK-07"],
        "lets a public app go without PKCE";
    VerifierSyntaxUnchecked = "verifier-syntax-unchecked", ["PK-08"],
        "accepts code_verifiers of any length and characters";
    PkceMethodUnchecked = "pkce-method-unchecked", ["PK-09"],
        "treats an unknown code_challenge_method as S256";
    CodeReuseWindow = "code-reuse-window", ["TK-02", "TK-04"],
        "accepts a code again within 2 seconds of its first redemption";
    ClientIdOptional = "client-id-optional", ["TK-09"],
        "takes the client from the code when client_id is missing";
    SecretInQueryAccepted = "secret-in-query-accepted", ["TK-10"],
        "accepts client credentials in the token request's URI";
    BasicAuthUnsupported = "basic-auth-unsupported", ["TK-11"],
        "ignores HTTP Basic client authentication";
    ContentTypeUnchecked = "content-type-unchecked", ["TK-13"],
        "reads any token request body as JSON, whatever its Content-Type";
    WrongErrorCode = "wrong-error-code", ["TK-14", "TE-02"],
        "reports an unsupported grant type as invalid_request";
    PasswordGrantAccepted = "password-grant-accepted", ["TK-15"],
        "accepts the resource owner password grant";
    LongTokens = "long-tokens", ["TR-04"],
        "issues tokens longer than 512 characters";
    AccessTokenNeverExpires = "access-token-never-expires", ["TR-06"],
        "keeps accepting access tokens after they expire";
    ScopeWidened = "scope-widened", ["TR-07"],
        "grants every scope of the integration whatever was asked";
    ThrottleOAuthShape = "throttle-oauth-shape", ["TE-03"],
        "throttles with an OAuth error body and no Retry-After";
    RefreshReusesAccessToken = "refresh-reuses-access-token", ["RF-01"],
        "answers a refresh with the access token it had already issued";
    RefreshNotBoundToClient = "refresh-not-bound-to-client", ["RF-05"],
        "lets another client use a refresh token";
    RefreshScopeWidening = "refresh-scope-widening", ["RF-07"],
        "accepts a wider scope on refresh";
    RefreshChainLimit = "refresh-chain-limit", ["RF-11"],
        "ends a refresh token family after 3 rotations";
    NoReferrerPolicy = "no-referrer-policy", ["BP-03"],
        "serves its pages without Referrer-Policy";
    LoginPageThirdParty = "login-page-third-party", ["BP-04"],
        "loads a third-party image with the state from the login page";
    LoginCsrfUnchecked = "login-csrf-unchecked", ["BP-06"],
        "accepts a login form without its anti-CSRF token";
    TokenInQueryAccepted = "token-in-query-accepted", ["BP-07"],
        "accepts an access token in the query string of the REST API";
}

/// A fault name that is not in [`Fault::ALL`] (a typo on the command line, usually).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown fault `{name}` (see `sfmc-conformance mock --list-faults`)")]
pub struct UnknownFault {
    /// The name as given.
    pub name: String,
}

impl crate::exit::Exit for UnknownFault {
    // The process exit code for it: the command line was wrong.
    fn exit_code(&self) -> u8 {
        crate::exit::USAGE
    }
}

impl FromStr for Fault {
    type Err = UnknownFault;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Fault::ALL
            .iter()
            .copied()
            .find(|f| f.name() == s)
            .ok_or_else(|| UnknownFault { name: s.to_owned() })
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

    #[test]
    fn an_unknown_name_says_where_to_find_the_list() {
        let e = "no-such-fault".parse::<Fault>().unwrap_err();
        assert_eq!(
            e,
            UnknownFault {
                name: "no-such-fault".into()
            }
        );
        assert_eq!(
            e.to_string(),
            "unknown fault `no-such-fault` (see `sfmc-conformance mock --list-faults`)"
        );
        assert_eq!(crate::exit::Exit::exit_code(&e), crate::exit::USAGE);
    }
}
