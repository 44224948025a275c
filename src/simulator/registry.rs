//! Installed packages (integrations), test users and the simulator's settings: the built-in
//! default set, or a TOML file (`--integrations FILE`) validated as Installed Packages validates
//! (facts §1): at most 10 redirect URIs, https or an app scheme, no wildcards, not localhost,
//! plain text.
//!
//! ```toml
//! subdomain = "mc563885gzs27c5t9-63k636ttgm"   # optional
//!
//! [settings]                 # all optional; see `Settings`
//! expires_in = 1200
//!
//! [[integration]]
//! name = "web"
//! kind = "web"               # web | public | server-to-server
//! client_id = "vqwyswrlzzfk024ivr682esb"
//! client_secret_env = "WEB_SECRET"   # or client_secret = "..."
//! redirect_uris = ["https://127.0.0.1:80/"]
//! scopes = ["email_read", "email_write", "email_send", "offline"]
//! offline = true
//! pkce = "optional"          # ignored | optional | required
//! appexchange = false        # adds tssd to the redirect
//!
//! [[user]]
//! username = "qa.user@example.com"
//! password_env = "QA_PASSWORD"       # or password = "..."
//! totp_seed_env = "QA_TOTP_SEED"     # optional, base32
//! ```

use crate::secret::Secret;
use crate::simulator::tokens::random_alnum;
use serde::Deserialize;
use std::path::Path;

/// An integration's type in Installed Packages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntegrationKind {
    Web,
    Public,
    ServerToServer,
}

/// How the integration treats PKCE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PkceMode {
    /// Challenges and verifiers are not looked at.
    Ignored,
    /// Verified when a challenge was sent; a verifier without a challenge is refused.
    Optional,
    /// A challenge is required at authorize.
    Required,
}

/// One API integration of an installed package.
#[derive(Debug, Clone)]
pub struct Integration {
    pub name: String,
    pub kind: IntegrationKind,
    pub client_id: String,
    pub client_secret: Option<Secret>,
    /// Plain text, matched exactly after one percent-decoding of the authorize parameter.
    pub redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    /// Whether the Offline Access scope is ticked (refresh tokens).
    pub offline: bool,
    pub pkce: PkceMode,
    /// AppExchange apps get `tssd` on the redirect.
    pub appexchange: bool,
}

/// A user who can sign in.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub username: String,
    pub password: Secret,
    /// Base32 seed of the verification-code (TOTP) step, if the user has one.
    pub totp_seed: Option<Secret>,
}

/// Behaviour where public sources are silent; each default is the RFC-conformant choice.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// `expires_in` of authorization-code tokens (the documented web-app example: 1200).
    pub expires_in: u64,
    /// `expires_in` of client-credentials tokens (real responses: 1079).
    pub client_credentials_expires_in: u64,
    /// Accept `application/x-www-form-urlencoded` token requests as well as JSON.
    pub accept_form: bool,
    /// Accept HTTP Basic client authentication (RFC 6749 §2.3.1).
    pub accept_basic: bool,
    /// Accept `code_challenge_method=plain` (RFC 9700 §2.1.1 says use S256).
    pub allow_plain_pkce: bool,
    /// Issue a refresh token even when `offline` was not requested.
    pub refresh_without_offline: bool,
    /// Answer every request with 429 (Marketing Cloud's throttling shape).
    pub throttle: bool,
    /// Seconds before an integration change takes effect ("up to five minutes").
    pub propagation_delay_secs: u64,
    /// Largest token request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Encode a space in the callback's query as `+` (RFC 6749 Appendix B) instead of `%20`.
    pub plus_for_space: bool,
    /// Status of `invalid_client` when the client authenticated in the body (Marketing Cloud:
    /// 401; RFC 6749 §5.2 allows 400).
    pub invalid_client_status: u16,
    /// Send `error_uri` with errors (Marketing Cloud does).
    pub error_uri: bool,
    /// Ignore a scope the integration lacks at authorize (RFC 6749 §3.3) instead of answering
    /// invalid_scope.
    pub ignore_unknown_scope: bool,
    /// Rotate a web app's refresh token on refresh (Marketing Cloud does; RFC 6749 §6 lets a
    /// server keep a confidential client's).
    pub rotate_confidential_refresh: bool,
    /// Answer a missing code_verifier with invalid_request instead of invalid_grant.
    pub missing_verifier_invalid_request: bool,
    /// Require PKCE of public apps at the token endpoint only, not at authorize.
    pub pkce_at_token_only: bool,
    /// How long a code lives, in seconds (Marketing Cloud: 5 minutes).
    pub code_lifetime_secs: u64,
    /// `token_type` as sent.
    pub token_type: String,
    /// Send `Pragma: no-cache` with token responses.
    pub pragma: bool,
    /// Send Marketing Cloud's `rest_instance_url` and `soap_instance_url`.
    pub instance_urls: bool,
    /// Send `scope` in every token response, not only when it differs from the request.
    pub scope_in_response: bool,
    /// Add fields of the server's own to token responses.
    pub extra_token_fields: bool,
    /// Serve the login pages on a second loopback origin (`http://127.0.0.2:PORT`), as a
    /// tenant's login host is apart from its authorization endpoint; the login session lives
    /// there.
    pub login_on_second_origin: bool,
    /// Error pages load a style sheet from a CDN (`https://cdn.example.com/`; the browser
    /// resolves no such host in a test run, but it sends the request).
    pub error_page_cdn_stylesheet: bool,
    /// The login page opens a pop-up, raises an alert as it loads, asks to confirm on submit and
    /// holds a `beforeunload` prompt: page behaviour a tenant's login page may have.
    pub login_page_dialogs: bool,
    /// Register the built-in redirect URIs on `http://127.0.0.1:80/…` and accept any port on an
    /// `http` loopback IP literal, as RFC 8252 §7.3 asks of a server for native apps.
    pub loopback_any_port: bool,
    /// The parameterized fault `redirect-uri-accept=TEMPLATE`: also accept the one redirect_uri
    /// that TEMPLATE (the feature files' vocabulary) makes of a registered URI, so that the
    /// matrix proves each variant row able to fail on its own. Not a file setting.
    #[serde(skip)]
    pub accept_redirect_uri: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            expires_in: 1200,
            client_credentials_expires_in: 1079,
            accept_form: true,
            accept_basic: true,
            allow_plain_pkce: false,
            refresh_without_offline: false,
            throttle: false,
            propagation_delay_secs: 0,
            max_body_bytes: 64 * 1024,
            plus_for_space: false,
            invalid_client_status: 401,
            error_uri: true,
            ignore_unknown_scope: false,
            rotate_confidential_refresh: true,
            missing_verifier_invalid_request: false,
            pkce_at_token_only: false,
            code_lifetime_secs: 300,
            token_type: "Bearer".into(),
            pragma: true,
            instance_urls: true,
            scope_in_response: true,
            extra_token_fields: false,
            login_on_second_origin: false,
            error_page_cdn_stylesheet: false,
            login_page_dialogs: false,
            loopback_any_port: false,
            accept_redirect_uri: None,
        }
    }
}

/// Integrations, users and settings.
#[derive(Debug, Clone)]
pub struct Registry {
    pub integrations: Vec<Integration>,
    pub users: Vec<TestUser>,
    /// The tenant subdomain: 28 characters starting with `mc`.
    pub subdomain: String,
    pub settings: Settings,
}

/// Why an integrations file was refused.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {place}{message}")]
pub struct ConfigError {
    pub file: String,
    pub place: String,
    pub message: String,
}

impl crate::exit::Exit for ConfigError {
    // The process exit code for it: the configuration given on the command line is wrong.
    fn exit_code(&self) -> u8 {
        crate::exit::USAGE
    }
}

/// Why Installed Packages refuses a redirect URI (facts §1), one variant per rule. The messages
/// are the ones `--integrations` and `POST /__admin/integration` show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectUriError {
    #[error("wildcards are not allowed")]
    Wildcard,
    #[error("enter the URI in plain text, not URL-encoded")]
    UrlEncoded,
    #[error("not a URL: {0}")]
    NotAUrl(url::ParseError),
    #[error("a redirect URI cannot have a fragment")]
    Fragment,
    #[error("the URI must include a base domain")]
    NoHost,
    #[error("localhost cannot be used; use https://127.0.0.1:80/")]
    Localhost,
    #[error("http:// is not allowed; use https:// or an app scheme")]
    Http,
    /// A scheme that runs or reads something instead of reaching an app.
    #[error("the {0}: scheme is not allowed")]
    UnsafeScheme(String),
}

/// Why a value that may be given inline or by environment variable (`password` or
/// `password_env`, say) could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum InlineOrEnvError {
    #[error("{field}: give {field} or {field}_env, not both")]
    Both { field: &'static str },
    /// The variable is not set, or its value is not Unicode.
    #[error("{field}_env: the environment variable {var} is not set")]
    EnvNotSet { field: &'static str, var: String },
}

const DEFAULT_SCOPES: &[&str] = &[
    "email_read",
    "email_write",
    "email_send",
    "data_extensions_read",
    "data_extensions_write",
    "offline",
];

impl Registry {
    /// The built-in set. Secrets and passwords are fresh random values for every start.
    pub fn builtin() -> Self {
        let scopes: Vec<String> = DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect();
        let secret = || Some(Secret::new("ClientSecret", random_alnum(24, true)));
        let integration = |name: &str, kind, client_id: &str, uris: &[&str], pkce| Integration {
            name: name.into(),
            kind,
            client_id: client_id.into(),
            client_secret: if kind == IntegrationKind::Public {
                None
            } else {
                secret()
            },
            redirect_uris: uris.iter().map(|u| (*u).to_owned()).collect(),
            scopes: scopes.clone(),
            offline: kind != IntegrationKind::ServerToServer,
            pkce,
            appexchange: false,
        };
        Self {
            integrations: vec![
                integration(
                    "web",
                    IntegrationKind::Web,
                    "vqwyswrlzzfk024ivr682esb",
                    &[
                        "https://127.0.0.1:80/",
                        "https://127.0.0.1:80/cb?tenant=acme",
                    ],
                    PkceMode::Optional,
                ),
                integration(
                    "public",
                    IntegrationKind::Public,
                    "p0bl1capp5im0000000000aa",
                    &[
                        "https://127.0.0.1:80/public/callback",
                        "sfmcconformance://callback",
                    ],
                    PkceMode::Required,
                ),
                integration(
                    "server",
                    IntegrationKind::ServerToServer,
                    "s2s0000000sim00000000000",
                    &[],
                    PkceMode::Ignored,
                ),
                integration(
                    "web2",
                    IntegrationKind::Web,
                    "w2b0000000sim00000000000",
                    &["https://127.0.0.1:80/second/"],
                    PkceMode::Optional,
                ),
            ],
            users: vec![
                TestUser {
                    username: "qa.user@example.com".into(),
                    password: Secret::new("Password", random_alnum(20, true)),
                    totp_seed: None,
                },
                TestUser {
                    username: "mfa.user@example.com".into(),
                    password: Secret::new("Password", random_alnum(20, true)),
                    totp_seed: Some(Secret::new("TotpSeed", random_base32(32))),
                },
            ],
            subdomain: "mc5imu1at0r0000000000000000x".into(),
            settings: Settings::default(),
        }
    }

    /// Reads and validates an integrations file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: file.clone(),
            place: String::new(),
            message: format!("cannot be read: {e}"),
        })?;
        Self::from_toml(&file, &text)
    }

    /// Parses and validates integrations from TOML text; `file` names it in errors.
    pub fn from_toml(file: &str, text: &str) -> Result<Self, ConfigError> {
        let raw: FileConfig = toml::from_str(text).map_err(|e| ConfigError {
            file: file.to_owned(),
            place: String::new(),
            message: e.to_string().trim().replace('\n', " "),
        })?;
        raw.validate(file)
    }

    /// The integration with `client_id`.
    pub fn client(&self, client_id: &str) -> Option<&Integration> {
        self.integrations.iter().find(|i| i.client_id == client_id)
    }

    fn first(&self, kind: IntegrationKind) -> Option<&Integration> {
        self.integrations.iter().find(|i| i.kind == kind)
    }

    /// The first web app.
    pub fn web_app(&self) -> Option<&Integration> {
        self.first(IntegrationKind::Web)
    }

    /// The first public app.
    pub fn public_app(&self) -> Option<&Integration> {
        self.first(IntegrationKind::Public)
    }

    /// Moves every `https://` redirect URI on a loopback IP literal to `http://` (the
    /// `loopback-any-port` variation: RFC 8252 §7.3 is about `http` loopback URIs).
    pub fn use_http_loopback(&mut self) {
        for i in &mut self.integrations {
            for u in &mut i.redirect_uris {
                let loopback = url::Url::parse(u).is_ok_and(|p| {
                    p.scheme() == "https"
                        && matches!(
                            p.host(),
                            Some(url::Host::Ipv4(ip)) if ip.is_loopback()
                        )
                });
                if loopback {
                    *u = u.replacen("https://", "http://", 1);
                }
            }
        }
    }

    /// The first user without a verification-code step, else the first user.
    pub fn default_user(&self) -> Option<&TestUser> {
        self.users
            .iter()
            .find(|u| u.totp_seed.is_none())
            .or(self.users.first())
    }

    /// Every secret the registry holds, for redaction.
    pub fn secrets(&self) -> Vec<&Secret> {
        self.integrations
            .iter()
            .filter_map(|i| i.client_secret.as_ref())
            .chain(self.users.iter().map(|u| &u.password))
            .chain(self.users.iter().filter_map(|u| u.totp_seed.as_ref()))
            .collect()
    }
}

/// A random base32 seed of `n` characters.
pub fn random_base32(n: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    random_alnum(n, true)
        .bytes()
        .map(|b| char::from(ALPHABET[usize::from(b) % 32]))
        .collect()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    subdomain: Option<String>,
    #[serde(default)]
    settings: Settings,
    #[serde(default, rename = "integration")]
    integrations: Vec<FileIntegration>,
    #[serde(default, rename = "user")]
    users: Vec<FileUser>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileIntegration {
    name: Option<String>,
    kind: String,
    client_id: String,
    client_secret: Option<String>,
    client_secret_env: Option<String>,
    #[serde(default)]
    redirect_uris: Vec<String>,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    offline: bool,
    pkce: Option<String>,
    #[serde(default)]
    appexchange: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileUser {
    username: String,
    password: Option<String>,
    password_env: Option<String>,
    totp_seed: Option<String>,
    totp_seed_env: Option<String>,
}

/// A value given inline or by the name of an environment variable.
fn inline_or_env(
    inline: Option<String>,
    env: Option<&str>,
    field: &'static str,
) -> Result<Option<String>, InlineOrEnvError> {
    match (inline, env) {
        (Some(_), Some(_)) => Err(InlineOrEnvError::Both { field }),
        (Some(v), None) => Ok(Some(v)),
        (None, Some(var)) => {
            std::env::var(var)
                .map(Some)
                .map_err(|_| InlineOrEnvError::EnvNotSet {
                    field,
                    var: var.to_owned(),
                })
        }
        (None, None) => Ok(None),
    }
}

/// Checks one redirect URI as Installed Packages does.
pub fn validate_redirect_uri(uri: &str) -> Result<(), RedirectUriError> {
    if uri.contains('*') {
        return Err(RedirectUriError::Wildcard);
    }
    if uri.contains('%') {
        return Err(RedirectUriError::UrlEncoded);
    }
    let u = url::Url::parse(uri).map_err(RedirectUriError::NotAUrl)?;
    if u.fragment().is_some() {
        return Err(RedirectUriError::Fragment);
    }
    match u.scheme() {
        "https" => {
            let host = u.host_str().unwrap_or("");
            if host.is_empty() {
                return Err(RedirectUriError::NoHost);
            }
            if host.eq_ignore_ascii_case("localhost") {
                return Err(RedirectUriError::Localhost);
            }
            Ok(())
        }
        "http" => Err(RedirectUriError::Http),
        "javascript" | "data" | "vbscript" | "file" | "about" | "blob" => {
            Err(RedirectUriError::UnsafeScheme(u.scheme().to_owned()))
        }
        _ => Ok(()),
    }
}

fn is_scope_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl FileConfig {
    fn validate(self, file: &str) -> Result<Registry, ConfigError> {
        let err = |place: String, message: String| ConfigError {
            file: file.to_owned(),
            place,
            message,
        };
        if self.integrations.is_empty() {
            return Err(err(String::new(), "no [[integration]] is defined".into()));
        }
        if self.users.is_empty() {
            return Err(err(String::new(), "no [[user]] is defined".into()));
        }
        let subdomain = self
            .subdomain
            .unwrap_or_else(|| "mc5imu1at0r0000000000000000x".into());
        if !subdomain
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            || subdomain.is_empty()
        {
            return Err(err(
                "subdomain: ".into(),
                "use letters, digits and -".into(),
            ));
        }
        let mut integrations = Vec::new();
        for (n, i) in self.integrations.into_iter().enumerate() {
            let name = i.name.clone().unwrap_or_else(|| format!("#{}", n + 1));
            let place = |field: &str| format!("integration `{name}`: {field}: ");
            let kind = match i.kind.as_str() {
                "web" => IntegrationKind::Web,
                "public" => IntegrationKind::Public,
                "server-to-server" => IntegrationKind::ServerToServer,
                other => {
                    return Err(err(
                        place("kind"),
                        format!("`{other}` is not web, public or server-to-server"),
                    ))
                }
            };
            if i.client_id.is_empty() || !i.client_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(err(place("client_id"), "must be letters and digits".into()));
            }
            if integrations
                .iter()
                .any(|x: &Integration| x.client_id == i.client_id)
            {
                return Err(err(
                    place("client_id"),
                    "is used by another integration".into(),
                ));
            }
            let secret = inline_or_env(
                i.client_secret,
                i.client_secret_env.as_deref(),
                "client_secret",
            )
            .map_err(|m| err(format!("integration `{name}`: "), m.to_string()))?;
            match (kind, &secret) {
                (IntegrationKind::Public, Some(_)) => {
                    return Err(err(
                        place("client_secret"),
                        "a public app has no client secret".into(),
                    ))
                }
                (IntegrationKind::Web | IntegrationKind::ServerToServer, None) => {
                    return Err(err(
                        place("client_secret"),
                        "is required for this kind".into(),
                    ))
                }
                _ => {}
            }
            if kind == IntegrationKind::ServerToServer && !i.redirect_uris.is_empty() {
                return Err(err(
                    place("redirect_uris"),
                    "a server-to-server integration has none".into(),
                ));
            }
            if kind != IntegrationKind::ServerToServer && i.redirect_uris.is_empty() {
                return Err(err(
                    place("redirect_uris"),
                    "at least one is required".into(),
                ));
            }
            if i.redirect_uris.len() > 10 {
                return Err(err(
                    place("redirect_uris"),
                    format!("{} given, at most 10", i.redirect_uris.len()),
                ));
            }
            for (k, uri) in i.redirect_uris.iter().enumerate() {
                validate_redirect_uri(uri).map_err(|m| {
                    err(
                        place(&format!("redirect_uris[{k}]")),
                        format!("{uri:?}: {m}"),
                    )
                })?;
            }
            if let Some(bad) = i.scopes.iter().find(|s| !is_scope_name(s)) {
                return Err(err(place("scopes"), format!("{bad:?} is not a scope name")));
            }
            let pkce = match (i.pkce.as_deref(), kind) {
                (Some("ignored"), _) => PkceMode::Ignored,
                (Some("optional"), _) => PkceMode::Optional,
                (Some("required"), _) => PkceMode::Required,
                (Some(other), _) => {
                    return Err(err(
                        place("pkce"),
                        format!("`{other}` is not ignored, optional or required"),
                    ))
                }
                (None, IntegrationKind::Public) => PkceMode::Required,
                (None, _) => PkceMode::Optional,
            };
            integrations.push(Integration {
                name,
                kind,
                client_id: i.client_id,
                client_secret: secret.map(|s| Secret::new("ClientSecret", s)),
                redirect_uris: i.redirect_uris,
                scopes: i.scopes,
                offline: i.offline,
                pkce,
                appexchange: i.appexchange,
            });
        }
        let mut users = Vec::new();
        for u in self.users {
            let place = format!("user `{}`: ", u.username);
            let password = inline_or_env(u.password, u.password_env.as_deref(), "password")
                .map_err(|m| err(place.clone(), m.to_string()))?
                .ok_or_else(|| err(place.clone(), "password: is required".into()))?;
            let seed = inline_or_env(u.totp_seed, u.totp_seed_env.as_deref(), "totp_seed")
                .map_err(|m| err(place.clone(), m.to_string()))?;
            if let Some(s) = &seed {
                if crate::totp::base32_decode(s).is_none() {
                    return Err(err(place, "totp_seed: is not base32".into()));
                }
            }
            users.push(TestUser {
                username: u.username,
                password: Secret::new("Password", password),
                totp_seed: seed.map(|s| Secret::new("TotpSeed", s)),
            });
        }
        Ok(Registry {
            integrations,
            users,
            subdomain,
            settings: self.settings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_subdomain_has_the_tenant_shape() {
        let r = Registry::builtin();
        assert_eq!(r.subdomain.len(), 28);
        assert!(r.subdomain.starts_with("mc"));
    }

    #[test]
    fn builtin_client_ids_are_24_lowercase_alphanumerics() {
        for i in Registry::builtin().integrations {
            assert_eq!(i.client_id.len(), 24, "{}", i.name);
            assert!(i
                .client_id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
        }
    }

    #[test]
    fn builtin_redirect_uris_pass_installed_packages_validation() {
        for i in Registry::builtin().integrations {
            for u in &i.redirect_uris {
                assert_eq!(validate_redirect_uri(u), Ok(()), "{u}");
            }
        }
    }

    #[test]
    fn installed_packages_rules_for_redirect_uris() {
        assert!(validate_redirect_uri("https://127.0.0.1:80/").is_ok());
        assert!(validate_redirect_uri("myapp://callback").is_ok());
        for bad in [
            "http://example.com/cb",
            "https://localhost:80/",
            "https://*.example.com/",
            "https%3A%2F%2Fexample.com%2F",
            "https://example.com/cb#frag",
            "javascript:alert(1)",
            "not a url",
        ] {
            assert!(validate_redirect_uri(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn each_redirect_uri_rule_has_its_variant_and_message() {
        use RedirectUriError::*;
        for (uri, want, text) in [
            (
                "https://*.example.com/",
                Wildcard,
                "wildcards are not allowed",
            ),
            (
                "https%3A%2F%2Fexample.com%2F",
                UrlEncoded,
                "enter the URI in plain text, not URL-encoded",
            ),
            (
                "not a url",
                NotAUrl(url::ParseError::RelativeUrlWithoutBase),
                "not a URL: relative URL without a base",
            ),
            (
                "https://example.com/cb#frag",
                Fragment,
                "a redirect URI cannot have a fragment",
            ),
            (
                "https://localhost:80/",
                Localhost,
                "localhost cannot be used; use https://127.0.0.1:80/",
            ),
            (
                "http://example.com/cb",
                Http,
                "http:// is not allowed; use https:// or an app scheme",
            ),
            (
                "javascript:alert(1)",
                UnsafeScheme("javascript".into()),
                "the javascript: scheme is not allowed",
            ),
        ] {
            let e = validate_redirect_uri(uri).unwrap_err();
            assert_eq!(e.to_string(), text, "{uri}");
            assert_eq!(e, want, "{uri}");
        }
    }

    #[test]
    fn inline_or_env_problems_keep_their_messages() {
        let e = inline_or_env(Some("x".into()), Some("X"), "password").unwrap_err();
        assert_eq!(
            e.to_string(),
            "password: give password or password_env, not both"
        );
        let var = "SFMC_SIM_TEST_SURELY_UNSET_VARIABLE";
        let e = inline_or_env(None, Some(var), "totp_seed").unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("totp_seed_env: the environment variable {var} is not set")
        );
    }

    #[test]
    fn config_errors_are_usage_errors() {
        let e = Registry::from_toml("x.toml", "").unwrap_err();
        assert_eq!(crate::exit::Exit::exit_code(&e), crate::exit::USAGE);
    }

    const GOOD: &str = r#"
        [[integration]]
        name = "web"
        kind = "web"
        client_id = "abc123"
        client_secret = "s3cr3t"
        redirect_uris = ["https://127.0.0.1:80/"]
        scopes = ["email_read", "offline"]
        offline = true

        [[user]]
        username = "u@example.com"
        password = "pw"
    "#;

    #[test]
    fn a_good_file_loads_with_defaults() {
        let r = Registry::from_toml("good.toml", GOOD).unwrap();
        assert_eq!(r.integrations[0].pkce, PkceMode::Optional);
        assert_eq!(r.settings.expires_in, 1200);
        assert_eq!(r.users[0].password.expose(), "pw");
    }

    #[test]
    fn errors_name_the_file_the_integration_and_the_field() {
        let bad = GOOD.replace("https://127.0.0.1:80/", "http://127.0.0.1:80/");
        let e = Registry::from_toml("pkgs.toml", &bad)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("pkgs.toml: integration `web`: redirect_uris[0]: "),
            "{e}"
        );
        assert!(e.contains("http:// is not allowed"), "{e}");

        let e = Registry::from_toml(
            "pkgs.toml",
            &GOOD.replace("kind = \"web\"", "kind = \"webb\""),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("integration `web`: kind: `webb`"), "{e}");

        let e = Registry::from_toml(
            "pkgs.toml",
            &GOOD.replace("name = \"web\"", "nam = \"web\""),
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("pkgs.toml: ") && e.contains("nam"), "{e}");
    }

    #[test]
    fn more_than_ten_redirect_uris_are_refused() {
        let uris: Vec<String> = (0..11)
            .map(|i| format!("\"https://a.example/{i}\""))
            .collect();
        let text = GOOD.replace(
            "[\"https://127.0.0.1:80/\"]",
            &format!("[{}]", uris.join(",")),
        );
        let e = Registry::from_toml("x.toml", &text)
            .unwrap_err()
            .to_string();
        assert!(e.contains("11 given, at most 10"), "{e}");
    }

    #[test]
    fn a_public_app_with_a_secret_is_refused() {
        let text = GOOD.replace("kind = \"web\"", "kind = \"public\"");
        let e = Registry::from_toml("x.toml", &text)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("client_secret: a public app has no client secret"),
            "{e}"
        );
    }
}
