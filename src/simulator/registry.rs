//! Installed packages (integrations) and test users. The built-in default set has one web app
//! (the documented example's client id and redirect URI), one public app, one server-to-server
//! integration and a second web app for cross-client tests.

use crate::secret::Secret;
use crate::simulator::tokens::random_alnum;

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
    /// Verified when a challenge was sent.
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
    pub offline: bool,
    pub pkce: PkceMode,
}

/// A user who can sign in.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub username: String,
    pub password: Secret,
}

/// Integrations and users.
#[derive(Debug, Clone)]
pub struct Registry {
    pub integrations: Vec<Integration>,
    pub users: Vec<TestUser>,
    /// The tenant subdomain: 28 characters starting with `mc`.
    pub subdomain: String,
}

const SCOPES: &[&str] = &[
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
        let scopes: Vec<String> = SCOPES.iter().map(|s| (*s).to_owned()).collect();
        let secret = || Some(Secret::new("ClientSecret", random_alnum(24, true)));
        Self {
            integrations: vec![
                Integration {
                    name: "web".into(),
                    kind: IntegrationKind::Web,
                    client_id: "vqwyswrlzzfk024ivr682esb".into(),
                    client_secret: secret(),
                    redirect_uris: vec!["https://127.0.0.1:80/".into()],
                    scopes: scopes.clone(),
                    offline: true,
                    pkce: PkceMode::Optional,
                },
                Integration {
                    name: "public".into(),
                    kind: IntegrationKind::Public,
                    client_id: "p0bl1capp5im0000000000aa".into(),
                    client_secret: None,
                    redirect_uris: vec!["https://127.0.0.1:80/public/callback".into()],
                    scopes: scopes.clone(),
                    offline: true,
                    pkce: PkceMode::Required,
                },
                Integration {
                    name: "server".into(),
                    kind: IntegrationKind::ServerToServer,
                    client_id: "s2s0000000sim00000000000".into(),
                    client_secret: secret(),
                    redirect_uris: vec![],
                    scopes: scopes.clone(),
                    offline: false,
                    pkce: PkceMode::Ignored,
                },
                Integration {
                    name: "web2".into(),
                    kind: IntegrationKind::Web,
                    client_id: "w2b0000000sim00000000000".into(),
                    client_secret: secret(),
                    redirect_uris: vec!["https://127.0.0.1:80/second/".into()],
                    scopes,
                    offline: true,
                    pkce: PkceMode::Optional,
                },
            ],
            users: vec![TestUser {
                username: "qa.user@example.com".into(),
                password: Secret::new("Password", random_alnum(20, true)),
            }],
            subdomain: "mc5imu1at0r0000000000000000x".into(),
        }
    }

    /// The integration with `client_id`.
    pub fn client(&self, client_id: &str) -> Option<&Integration> {
        self.integrations.iter().find(|i| i.client_id == client_id)
    }

    fn first(&self, kind: IntegrationKind) -> &Integration {
        self.integrations
            .iter()
            .find(|i| i.kind == kind)
            .unwrap_or(&self.integrations[0])
    }

    /// The first web app.
    pub fn web_app(&self) -> &Integration {
        self.first(IntegrationKind::Web)
    }

    /// The first public app.
    pub fn public_app(&self) -> &Integration {
        self.first(IntegrationKind::Public)
    }

    /// The first user.
    pub fn default_user(&self) -> &TestUser {
        &self.users[0]
    }

    /// Every secret the registry holds, for redaction.
    pub fn secrets(&self) -> Vec<&Secret> {
        self.integrations
            .iter()
            .filter_map(|i| i.client_secret.as_ref())
            .chain(self.users.iter().map(|u| &u.password))
            .collect()
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
        assert!(r
            .subdomain
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
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
}
