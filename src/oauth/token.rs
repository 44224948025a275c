//! Token requests to `/v2/token` (RFC 6749 §4.1.3, §6) in Marketing Cloud's JSON form, and the
//! typed view of a token response (§5.1) that keeps the raw body for evidence.

use crate::secret::Secret;
use serde_json::{Map, Value};
use std::fmt;
use std::str::FromStr;

/// A `grant_type` (RFC 6749 §4.1.3, §4.3.2, §4.4.2, §6), with an `Extension` arm for any other
/// value, sent verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
    Password,
    Extension(String),
}

impl GrantType {
    /// The wire form.
    pub fn as_str(&self) -> &str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
            Self::Password => "password",
            Self::Extension(s) => s,
        }
    }
}

impl FromStr for GrantType {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "authorization_code" => Self::AuthorizationCode,
            "refresh_token" => Self::RefreshToken,
            "client_credentials" => Self::ClientCredentials,
            "password" => Self::Password,
            other => Self::Extension(other.to_owned()),
        })
    }
}

impl fmt::Display for GrantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a token request's body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BodyFormat {
    /// A JSON object (Marketing Cloud's documented form).
    Json,
    /// `application/x-www-form-urlencoded` (RFC 6749 §4.1.3).
    Form,
}

/// How a confidential client authenticates at the token endpoint (RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientAuth {
    /// `client_id` and `client_secret` in the body.
    Body,
    /// HTTP Basic with the form-encoded `client_id` and `client_secret`; neither is in the body.
    Basic,
}

/// How the target wants its token requests: body format and client authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenStyle {
    pub format: BodyFormat,
    pub client_auth: ClientAuth,
}

impl TokenStyle {
    /// Marketing Cloud: a JSON body with the client's credentials in it.
    pub const SFMC: Self = Self {
        format: BodyFormat::Json,
        client_auth: ClientAuth::Body,
    };

    /// The body's `Content-Type`.
    pub fn content_type(&self) -> &'static str {
        match self.format {
            BodyFormat::Json => "application/json",
            BodyFormat::Form => "application/x-www-form-urlencoded",
        }
    }

    /// Encodes `fields` (a request's parameters, maybe edited by a check) in this style: the
    /// headers to send and the body. With HTTP Basic, `client_id` and `client_secret` move to
    /// the `Authorization` header when a secret is there; a client with no secret (a public
    /// app, or a check that leaves the secret out) keeps its `client_id` in the body.
    pub fn encode(&self, mut fields: Map<String, Value>) -> (Vec<(String, String)>, Vec<u8>) {
        let mut headers = vec![
            ("Content-Type".to_owned(), self.content_type().to_owned()),
            ("Accept".to_owned(), "application/json".to_owned()),
        ];
        if self.client_auth == ClientAuth::Basic && fields.contains_key("client_secret") {
            let text = |v: Option<Value>| v.map(|v| value_text(&v)).unwrap_or_default();
            let secret = text(fields.remove("client_secret"));
            let id = text(fields.remove("client_id"));
            headers.push((
                "Authorization".to_owned(),
                basic_authorization(&id, &secret),
            ));
        }
        let body = match self.format {
            BodyFormat::Json => Value::Object(fields).to_string().into_bytes(),
            BodyFormat::Form => {
                let mut ser = url::form_urlencoded::Serializer::new(String::new());
                for (k, v) in &fields {
                    ser.append_pair(k, &value_text(v));
                }
                ser.finish().into_bytes()
            }
        };
        (headers, body)
    }
}

/// A JSON value as a form field: strings as they are, anything else as its JSON text.
fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))`, as RFC 6749 §2.3.1 asks.
pub fn basic_authorization(client_id: &str, client_secret: &str) -> String {
    use base64::Engine;
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let pair = format!("{}:{}", enc(client_id), enc(client_secret));
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// One token request. Fields that are `None` are not sent.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub grant_type: GrantType,
    pub code: Option<Secret>,
    pub refresh_token: Option<Secret>,
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    /// Plain text at the token endpoint (Marketing Cloud: "can't be URL-encoded").
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<Secret>,
    pub scope: Option<String>,
}

impl TokenRequest {
    /// A `grant_type` request for `client_id` with nothing else set.
    pub fn of(grant_type: GrantType, client_id: &str) -> Self {
        Self {
            grant_type,
            code: None,
            refresh_token: None,
            client_id: Some(client_id.into()),
            client_secret: None,
            redirect_uri: None,
            code_verifier: None,
            scope: None,
        }
    }

    /// `grant_type=authorization_code` for `code`.
    pub fn authorization_code(code: Secret, client_id: &str, redirect_uri: &str) -> Self {
        Self {
            code: Some(code),
            redirect_uri: Some(redirect_uri.into()),
            ..Self::of(GrantType::AuthorizationCode, client_id)
        }
    }

    /// `grant_type=refresh_token`.
    pub fn refresh(refresh_token: Secret, client_id: &str) -> Self {
        Self {
            refresh_token: Some(refresh_token),
            ..Self::of(GrantType::RefreshToken, client_id)
        }
    }

    /// The request's parameters, secrets exposed: this is the one place they leave the process
    /// ([`TokenStyle::encode`] puts them on the wire). A check may edit them before.
    pub fn fields(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("grant_type".into(), self.grant_type.as_str().into());
        let mut put = |k: &str, v: Option<&str>| {
            if let Some(v) = v {
                m.insert(k.into(), Value::String(v.to_owned()));
            }
        };
        put("code", self.code.as_ref().map(Secret::expose));
        put(
            "refresh_token",
            self.refresh_token.as_ref().map(Secret::expose),
        );
        put("client_id", self.client_id.as_deref());
        put(
            "client_secret",
            self.client_secret.as_ref().map(Secret::expose),
        );
        put("redirect_uri", self.redirect_uri.as_deref());
        put(
            "code_verifier",
            self.code_verifier.as_ref().map(Secret::expose),
        );
        put("scope", self.scope.as_deref());
        m
    }

    /// [`Self::fields`] as a JSON object.
    pub fn to_json(&self) -> Value {
        Value::Object(self.fields())
    }

    /// The secrets this request carries, for redacting its evidence.
    pub fn secrets(&self) -> Vec<&Secret> {
        [
            &self.code,
            &self.refresh_token,
            &self.client_secret,
            &self.code_verifier,
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// A successful token response's tokens, taken out of the body as secrets.
#[derive(Debug, Clone)]
pub struct TokenResponse {
    pub access_token: Option<Secret>,
    pub refresh_token: Option<Secret>,
    /// The body with every token value replaced by its kind, safe to show.
    pub redacted_body: Value,
}

impl TokenResponse {
    /// Splits a parsed token response body into its secrets and a redacted copy.
    pub fn from_json(body: &Value) -> Self {
        let take = |k: &str, kind: &'static str| {
            body.get(k)
                .and_then(Value::as_str)
                .map(|v| Secret::new(kind, v))
        };
        Self {
            access_token: take("access_token", "AccessToken"),
            refresh_token: take("refresh_token", "RefreshToken"),
            redacted_body: redact_token_fields(body),
        }
    }
}

/// A copy of `body` with the values of `access_token`, `refresh_token` and `id_token` replaced.
pub fn redact_token_fields(body: &Value) -> Value {
    let mut v = body.clone();
    if let Value::Object(m) = &mut v {
        for (k, kind) in [
            ("access_token", "[AccessToken]"),
            ("refresh_token", "[RefreshToken]"),
            ("id_token", "[IdToken]"),
        ] {
            if let Some(x) = m.get_mut(k) {
                if x.is_string() {
                    *x = Value::String(kind.into());
                }
            }
        }
    }
    v
}

/// The JSON type name of a value, as the checks speak of it.
pub fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn web_app_code_exchange_uses_snake_case_and_plain_redirect_uri() {
        let mut r = TokenRequest::authorization_code(
            Secret::new("Code", "c0de"),
            "vqwyswrlzzfk024ivr682esb",
            "https://127.0.0.1:80/",
        );
        r.client_secret = Some(Secret::new("ClientSecret", "s3"));
        assert_eq!(
            r.to_json(),
            json!({"grant_type": "authorization_code", "code": "c0de",
                   "client_id": "vqwyswrlzzfk024ivr682esb", "client_secret": "s3",
                   "redirect_uri": "https://127.0.0.1:80/"})
        );
    }

    #[test]
    fn public_app_sends_no_secret_but_a_verifier() {
        let mut r = TokenRequest::authorization_code(Secret::new("Code", "c"), "p", "app://cb");
        r.code_verifier = Some(Secret::new("CodeVerifier", "v"));
        let body = r.to_json();
        assert!(body.get("client_secret").is_none());
        assert_eq!(body["code_verifier"], "v");
    }

    #[test]
    fn token_response_body_is_redacted() {
        let body = json!({"access_token": "AT", "refresh_token": "RT", "expires_in": 1200});
        let t = TokenResponse::from_json(&body);
        assert_eq!(t.access_token.unwrap().expose(), "AT");
        assert_eq!(t.redacted_body["access_token"], "[AccessToken]");
        assert_eq!(t.redacted_body["refresh_token"], "[RefreshToken]");
        assert_eq!(t.redacted_body["expires_in"], 1200);
    }

    #[test]
    fn form_and_basic_put_the_secret_in_the_header_only() {
        let mut r = TokenRequest::authorization_code(
            Secret::new("Code", "c 1"),
            "my app",
            "https://a/?x=1",
        );
        r.client_secret = Some(Secret::new("ClientSecret", "s:3&"));
        let style = TokenStyle {
            format: BodyFormat::Form,
            client_auth: ClientAuth::Basic,
        };
        let Value::Object(m) = r.to_json() else {
            unreachable!()
        };
        let (headers, body) = style.encode(m);
        let body = String::from_utf8(body).unwrap();
        assert_eq!(
            body,
            "code=c+1&grant_type=authorization_code&redirect_uri=https%3A%2F%2Fa%2F%3Fx%3D1"
        );
        // base64("my+app:s%3A3%26")
        assert!(headers.contains(&("Authorization".into(), "Basic bXkrYXBwOnMlM0EzJTI2".into())));
        assert!(headers.contains(&(
            "Content-Type".into(),
            "application/x-www-form-urlencoded".into()
        )));
    }

    #[test]
    fn basic_without_a_secret_keeps_the_client_id_in_the_body() {
        let r = TokenRequest::authorization_code(Secret::new("Code", "c"), "pub", "app://cb");
        let style = TokenStyle {
            format: BodyFormat::Form,
            client_auth: ClientAuth::Basic,
        };
        let Value::Object(m) = r.to_json() else {
            unreachable!()
        };
        let (headers, body) = style.encode(m);
        assert!(String::from_utf8(body).unwrap().contains("client_id=pub"));
        assert!(!headers.iter().any(|(k, _)| k == "Authorization"));
    }

    #[test]
    fn json_types_are_named() {
        assert_eq!(json_type(&json!(1200)), "integer");
        assert_eq!(json_type(&json!("1200")), "string");
        assert_eq!(json_type(&json!(1.5)), "number");
    }
}
