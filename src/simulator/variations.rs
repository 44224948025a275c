//! Allowed variations: behaviour a conformant server may have, each a simulator setting
//! (`run --variation NAME`, `mock --list-variations`). The tolerance matrix runs the whole suite
//! under each, in the dialect that allows it, and no check may fail: it is the counterpart of the
//! mutation matrix, which proves that each check can fail.

use super::registry::Settings;
use crate::target::Dialect;
use std::fmt;
use std::str::FromStr;

macro_rules! variations {
    ($( $variant:ident = $name:literal, $dialect:ident, $why:literal, |$s:ident| $apply:expr; )*) => {
        /// One variation a conformant server may have.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Variation { $( $variant, )* }

        impl Variation {
            /// Every variation, in the order they are listed.
            pub const ALL: &'static [Variation] = &[ $( Variation::$variant, )* ];

            /// The name used on the command line.
            pub fn name(self) -> &'static str {
                match self { $( Variation::$variant => $name, )* }
            }

            /// The dialect in which it is allowed (Marketing Cloud's allows fewer; a variation
            /// allowed there is allowed in oauth2 too).
            pub fn dialect(self) -> Dialect {
                match self { $( Variation::$variant => Dialect::$dialect, )* }
            }

            /// What the server does, and the source that allows it.
            pub fn description(self) -> &'static str {
                match self { $( Variation::$variant => $why, )* }
            }

            /// Sets the simulator up to behave so.
            pub fn apply(self, settings: &mut Settings) {
                match self { $( Variation::$variant => { let $s = settings; $apply; } )* }
            }
        }
    };
}

variations! {
    PlusForSpace = "plus-for-space", Sfmc,
        "encodes a space in the callback's query as + (RFC 6749 Appendix B: the query is form-encoded)",
        |s| s.plus_for_space = true;
    InvalidClient400 = "invalid-client-400", Oauth2,
        "answers invalid_client with 400 when the client authenticated in the body (RFC 6749 §5.2 asks for 401 only with an Authorization header)",
        |s| s.invalid_client_status = 400;
    NoErrorUri = "no-error-uri", Oauth2,
        "sends no error_uri in errors (RFC 6749 §4.1.2.1, §5.2: OPTIONAL)",
        |s| s.error_uri = false;
    UnknownScopeIgnored = "unknown-scope-ignored", Oauth2,
        "ignores a scope it does not know at authorize and grants the rest (RFC 6749 §3.3)",
        |s| s.ignore_unknown_scope = true;
    RefreshKeptForConfidential = "refresh-kept-for-confidential", Oauth2,
        "keeps a confidential client's refresh token on refresh, and rotates a public client's (RFC 6749 §6, RFC 9700 §4.14.2)",
        |s| s.rotate_confidential_refresh = false;
    MissingVerifierInvalidRequest = "missing-verifier-invalid-request", Sfmc,
        "answers a missing code_verifier with invalid_request (RFC 7636 §4.4.1 leaves it open: invalid_grant or invalid_request)",
        |s| s.missing_verifier_invalid_request = true;
    PkceAtTokenOnly = "pkce-at-token-only", Sfmc,
        "lets a public app's authorization request go without PKCE and refuses its code exchange instead (RFC 9700 §2.1.1)",
        |s| s.pkce_at_token_only = true;
    CodeLifetime60s = "code-lifetime-60s", Oauth2,
        "lets codes live 60 seconds (RFC 6749 §4.1.2: at most 10 minutes; Marketing Cloud documents 5)",
        |s| s.code_lifetime_secs = 60;
    TokenTypeLowercase = "token-type-lowercase", Sfmc,
        "sends token_type bearer in lower case (RFC 6749 §5.1: case-insensitive)",
        |s| s.token_type = "bearer".into();
    NoPragma = "no-pragma", Oauth2,
        "sends Cache-Control: no-store without Pragma (RFC 9111 deprecates Pragma; OAuth 2.1 drops it)",
        |s| s.pragma = false;
    NoInstanceUrls = "no-instance-urls", Oauth2,
        "sends no rest_instance_url or soap_instance_url (Marketing Cloud's fields, not RFC 6749's)",
        |s| s.instance_urls = false;
    ScopeOmittedWhenUnchanged = "scope-omitted-when-unchanged", Oauth2,
        "leaves scope out of the token response when it is the scope asked for (RFC 6749 §5.1)",
        |s| s.scope_in_response = false;
    LoginOnSecondOrigin = "login-on-second-origin", Sfmc,
        "serves its login pages on another origin than the authorization endpoint (127.0.0.2), with the login session there",
        |s| s.login_on_second_origin = true;
    StylesheetFromCdn = "stylesheet-from-cdn", Sfmc,
        "loads its error pages' style sheet from a CDN on another host (no code or state goes there)",
        |s| s.error_page_cdn_stylesheet = true;
    ExtraTokenFields = "extra-token-fields", Sfmc,
        "adds fields of its own to the token response (RFC 6749 §5.1: clients ignore unknown fields)",
        |s| s.extra_token_fields = true;
    LoginPageDialogs = "login-page-dialogs", Sfmc,
        "its login page opens a pop-up, raises an alert as it loads, asks to confirm on submit and holds a beforeunload prompt (page behaviour, not OAuth: the harness answers the dialogs and leaves the pop-up)",
        |s| s.login_page_dialogs = true;
    LoopbackAnyPort = "loopback-any-port", Oauth2,
        "registers its apps' redirect URIs as http on 127.0.0.1 and accepts any port there (RFC 8252 §7.3: a server MUST allow any port on a loopback IP redirect URI)",
        |s| s.loopback_any_port = true;
}

impl Variation {
    /// Whether it changes the simulator's set-up rather than an answer it reads its setting
    /// for: the login pages' origin, the registered redirect URIs. Every scenario is under it,
    /// and the tolerance matrix runs the whole suite for it; the others are noted where the
    /// simulator reads them (`Shared::varied`).
    pub fn is_global(self) -> bool {
        matches!(
            self,
            Variation::LoginOnSecondOrigin | Variation::LoopbackAnyPort
        )
    }
}

/// A variation name that is not in [`Variation::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown variation `{name}` (see `sfmc-conformance mock --list-variations`)")]
pub struct UnknownVariation {
    /// The name as given.
    pub name: String,
}

impl crate::exit::Exit for UnknownVariation {
    // The process exit code for it: the command line was wrong.
    fn exit_code(&self) -> u8 {
        crate::exit::USAGE
    }
}

impl FromStr for Variation {
    type Err = UnknownVariation;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Variation::ALL
            .iter()
            .copied()
            .find(|v| v.name() == s)
            .ok_or_else(|| UnknownVariation { name: s.to_owned() })
    }
}

impl fmt::Display for Variation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The dialect a simulator with `variations` is judged in: oauth2 as soon as one of them is
/// allowed only there.
pub fn dialect_of(variations: &[Variation]) -> Dialect {
    if variations.iter().any(|v| v.dialect() == Dialect::Oauth2) {
        Dialect::Oauth2
    } else {
        Dialect::Sfmc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_parse_back_and_each_changes_a_setting() {
        let mut seen = std::collections::HashSet::new();
        let default = format!("{:?}", Settings::default());
        for v in Variation::ALL {
            assert!(seen.insert(v.name()), "{} twice", v.name());
            assert_eq!(v.name().parse::<Variation>().unwrap(), *v);
            let mut s = Settings::default();
            v.apply(&mut s);
            assert_ne!(format!("{s:?}"), default, "{v} changes nothing");
        }
        assert!(Variation::ALL.len() >= 10);
        assert!("nope".parse::<Variation>().is_err());
    }
}
