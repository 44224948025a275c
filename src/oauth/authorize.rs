//! The authorization request (RFC 6749 §4.1.1) as Marketing Cloud documents it: a GET to
//! `/v2/authorize` with `response_type=code`, `client_id`, a percent-encoded `redirect_uri`,
//! space-separated scopes (`%20`), `state`, and optionally PKCE (RFC 7636 §4.3).

use super::encoding::{decode_once, encode};
use url::Url;

/// The `state` an authorization request carries, and where it came from: chosen by the scenario
/// (a baseline may keep it) or generated for this run (it differs every run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    Chosen(String),
    Generated(String),
}

impl State {
    /// The value, before encoding.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Chosen(s) | Self::Generated(s) => s,
        }
    }

    /// The value when the scenario chose it.
    pub fn chosen(&self) -> Option<&str> {
        match self {
            Self::Chosen(s) => Some(s),
            Self::Generated(_) => None,
        }
    }
}

impl From<&str> for State {
    fn from(s: &str) -> Self {
        Self::Chosen(s.to_owned())
    }
}

/// The parameters of one authorization request, in the order they are sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeRequest {
    pub response_type: String,
    pub client_id: String,
    pub redirect_uri: String,
    /// Scopes to request; `None` omits the parameter (the integration's scopes apply).
    pub scope: Option<Vec<String>>,
    /// `None` omits the parameter.
    pub state: Option<State>,
    /// `(code_challenge, code_challenge_method)`.
    pub code_challenge: Option<(String, String)>,
}

impl AuthorizeRequest {
    /// A `response_type=code` request for `client_id` returning to `redirect_uri`.
    pub fn code(client_id: impl Into<String>, redirect_uri: impl Into<String>) -> Self {
        Self {
            response_type: "code".into(),
            client_id: client_id.into(),
            redirect_uri: redirect_uri.into(),
            scope: None,
            state: None,
            code_challenge: None,
        }
    }

    /// The query string, each value percent-encoded with the strict set, scopes joined by `%20`.
    pub fn query(&self) -> String {
        let mut q = format!(
            "response_type={}&client_id={}&redirect_uri={}",
            encode(&self.response_type),
            encode(&self.client_id),
            encode(&self.redirect_uri)
        );
        if let Some(scopes) = &self.scope {
            let joined: Vec<String> = scopes.iter().map(|s| encode(s)).collect();
            q.push_str("&scope=");
            q.push_str(&joined.join("%20"));
        }
        if let Some(state) = &self.state {
            q.push_str("&state=");
            q.push_str(&encode(state.as_str()));
        }
        if let Some((challenge, method)) = &self.code_challenge {
            q.push_str(&format!(
                "&code_challenge={}&code_challenge_method={}",
                encode(challenge),
                encode(method)
            ));
        }
        q
    }

    /// The full URL against `endpoint` (any query already on the endpoint is replaced).
    pub fn url(&self, endpoint: &Url) -> String {
        let mut base = endpoint.clone();
        base.set_query(None);
        base.set_fragment(None);
        format!("{}?{}", base.as_str(), self.query())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example URL of the source document and of Marketing Cloud's Authorization Code Reference.
    const DOCUMENTED: &str = "https://YOUR_SUBDOMAIN.auth.marketingcloudapis.com/v2/authorize?response_type=code&client_id=vqwyswrlzzfk024ivr682esb&redirect_uri=https%3A%2F%2F127.0.0.1%3A80%2F&scope=email_read%20email_write%20email_send&state=mystate";

    fn documented_request() -> AuthorizeRequest {
        AuthorizeRequest {
            scope: Some(vec![
                "email_read".into(),
                "email_write".into(),
                "email_send".into(),
            ]),
            state: Some("mystate".into()),
            ..AuthorizeRequest::code("vqwyswrlzzfk024ivr682esb", "https://127.0.0.1:80/")
        }
    }

    #[test]
    fn the_documented_example_is_built_byte_for_byte() {
        // A real tenant host (the placeholder's capitals would be lowered by URL parsing).
        let tenant = "https://mc563885gzs27c5t9-63k636ttgm.auth.marketingcloudapis.com";
        let endpoint = Url::parse(&format!("{tenant}/v2/authorize")).unwrap();
        assert_eq!(
            documented_request().url(&endpoint),
            DOCUMENTED.replace("https://YOUR_SUBDOMAIN.auth.marketingcloudapis.com", tenant)
        );
    }

    #[test]
    fn the_simulator_host_takes_the_tenant_host_place() {
        let endpoint = Url::parse("http://127.0.0.1:4321/v2/authorize").unwrap();
        assert_eq!(
            documented_request().url(&endpoint),
            DOCUMENTED.replace(
                "https://YOUR_SUBDOMAIN.auth.marketingcloudapis.com",
                "http://127.0.0.1:4321"
            )
        );
    }

    #[test]
    fn scopes_are_separated_by_percent_20_never_plus() {
        let q = documented_request().query();
        assert!(q.contains("scope=email_read%20email_write%20email_send"));
        assert!(!q.contains('+'));
    }

    #[test]
    fn omitted_scope_and_state_are_not_sent() {
        let q = AuthorizeRequest::code("id", "https://a.example/").query();
        assert_eq!(
            q,
            "response_type=code&client_id=id&redirect_uri=https%3A%2F%2Fa.example%2F"
        );
    }

    #[test]
    fn state_with_reserved_characters_is_fully_encoded() {
        let r = AuthorizeRequest {
            state: Some("a b&c=d+e/f?g%h#i".into()),
            ..AuthorizeRequest::code("id", "https://a.example/")
        };
        assert!(r
            .query()
            .ends_with("&state=a%20b%26c%3Dd%2Be%2Ff%3Fg%25h%23i"));
    }

    #[test]
    fn pkce_parameters_follow_state() {
        let r = AuthorizeRequest {
            state: Some("s".into()),
            code_challenge: Some(("abc".into(), "S256".into())),
            ..AuthorizeRequest::code("id", "https://a.example/")
        };
        assert!(r
            .query()
            .ends_with("&state=s&code_challenge=abc&code_challenge_method=S256"));
    }
}

/// The raw query of a callback URL (between `?` and `#`), as the browser reported it.
pub fn callback_query(landed: &str) -> &str {
    let without_fragment = landed.split('#').next().unwrap_or("");
    without_fragment.split_once('?').map_or("", |(_, q)| q)
}

/// Whether the browser's URL `landed` is the registered `redirect_uri` (same scheme, host, port
/// and path; the query may carry the response). Both are parsed, since a browser reports
/// `https://h:443/` as `https://h/`.
pub fn is_callback(landed: &str, redirect_uri: &str) -> bool {
    let (Ok(a), Ok(b)) = (Url::parse(landed), Url::parse(redirect_uri)) else {
        return false;
    };
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
        && a.path() == b.path()
}

/// Whether `requested` differs from `registered` only in its port, and `registered` is an `http`
/// URI on a loopback IP literal. RFC 8252 §7.3 asks a server to allow any port there (native apps
/// listen on an ephemeral port), so accepting such a variant is not a matching fault. The two are
/// compared as text with the port taken out: any other difference (case, path, a trailing dot, a
/// host written another way) still counts.
pub fn loopback_port_variant(requested: &str, registered: &str) -> bool {
    let loopback_literal = Url::parse(registered).is_ok_and(|u| {
        u.scheme() == "http"
            && match u.host() {
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                _ => false,
            }
    });
    loopback_literal
        && requested != registered
        && match (without_port(requested), without_port(registered)) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        }
}

/// An `http://` URI as text without its port (`None` for another scheme or a user part).
fn without_port(uri: &str) -> Option<String> {
    let rest = uri.strip_prefix("http://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if authority.contains('@') {
        return None;
    }
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    };
    Some(format!("http://{host}{tail}"))
}

/// One value of a callback parameter: as it was on the wire, and percent-decoded once.
#[derive(Clone, PartialEq, Eq)]
pub struct WireValue {
    /// As the browser reported it, still percent-encoded.
    pub raw: String,
    /// Decoded once (a `+` stays a `+`); raw bytes, so invalid UTF-8 can be reported.
    pub decoded: Vec<u8>,
}

impl WireValue {
    fn parse(raw: &str) -> Self {
        Self {
            raw: raw.to_owned(),
            decoded: decode_once(raw),
        }
    }

    /// The decoded value as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.decoded).into_owned()
    }

    /// The value decoded as `application/x-www-form-urlencoded` (RFC 6749 Appendix B): `+` is a
    /// space.
    fn form_decoded(&self) -> Self {
        Self {
            raw: self.raw.clone(),
            decoded: decode_once(&self.raw.replace('+', "%20")),
        }
    }
}

impl std::fmt::Debug for WireValue {
    /// The raw value only: a `WireValue` may be a code, so it is shown only where its caller
    /// redacts it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.raw)
    }
}

/// Every parameter of `url`'s query (between `?` and `#`), in order: `(name, value)`.
pub fn query_params(url: &str) -> Vec<(String, WireValue)> {
    callback_query(url)
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k.to_owned(), WireValue::parse(v))
        })
        .collect()
}

/// The authorization response (RFC 6749 §4.1.2, §4.1.2.1; RFC 9207's `iss`; Marketing Cloud's
/// `tssd`), parsed once from the URL the browser ended on. Every parameter keeps each of its
/// occurrences, since a check may count them. Holds the code: never print the URL unredacted.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthorizationResponse {
    /// The URL exactly as the browser reported it.
    pub url: String,
    pub code: Vec<WireValue>,
    pub state: Vec<WireValue>,
    pub error: Vec<WireValue>,
    pub error_description: Vec<WireValue>,
    pub iss: Vec<WireValue>,
    pub tssd: Vec<WireValue>,
    /// Every query parameter in order, named ones included: `(name, value)`.
    pub params: Vec<(String, WireValue)>,
    /// What follows `#`, if anything.
    pub fragment: Option<String>,
}

impl std::fmt::Debug for AuthorizationResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.params.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("AuthorizationResponse")
            .field("parameters", &names)
            .field("fragment", &self.fragment.is_some())
            .finish()
    }
}

impl AuthorizationResponse {
    /// Parses the URL the browser ended on (a callback, an error page, anything).
    pub fn parse(url: &str) -> Self {
        let fragment = url.split_once('#').map(|(_, f)| f.to_owned());
        let params = query_params(url);
        let named = |name: &str| -> Vec<WireValue> {
            params
                .iter()
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .collect()
        };
        Self {
            url: url.to_owned(),
            code: named("code"),
            state: named("state"),
            error: named("error"),
            error_description: named("error_description"),
            iss: named("iss"),
            tssd: named("tssd"),
            fragment,
            params,
        }
    }

    /// Every value of parameter `name`.
    /// The same response with every value decoded as a form (RFC 6749 Appendix B: `+` is a
    /// space), as dialect oauth2 reads a callback.
    pub fn form_decoded(&self) -> Self {
        let each = |v: &[WireValue]| v.iter().map(WireValue::form_decoded).collect::<Vec<_>>();
        Self {
            url: self.url.clone(),
            code: each(&self.code),
            state: each(&self.state),
            error: each(&self.error),
            error_description: each(&self.error_description),
            iss: each(&self.iss),
            tssd: each(&self.tssd),
            params: self
                .params
                .iter()
                .map(|(k, v)| (k.clone(), v.form_decoded()))
                .collect(),
            fragment: self.fragment.clone(),
        }
    }

    pub fn values(&self, name: &str) -> Vec<&WireValue> {
        self.params
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v)
            .collect()
    }

    /// Whether the browser ended on `redirect_uri` (see [`is_callback`]).
    pub fn is_at(&self, redirect_uri: &str) -> bool {
        is_callback(&self.url, redirect_uri)
    }

    /// The page without its query and fragment.
    pub fn page(&self) -> &str {
        self.url.split(['?', '#']).next().unwrap_or("")
    }
}

#[cfg(test)]
mod callback_tests {
    use super::*;

    #[test]
    fn a_form_decoded_callback_reads_plus_as_a_space() {
        let r = AuthorizationResponse::parse("https://a/cb?code=x&state=a+b%2Bc");
        assert_eq!(r.state[0].text(), "a+b+c");
        let f = r.form_decoded();
        assert_eq!(f.state[0].text(), "a b+c");
        assert_eq!(f.state[0].raw, "a+b%2Bc");
    }

    #[test]
    fn the_query_is_cut_at_the_fragment() {
        assert_eq!(
            callback_query("https://a/cb?code=1&state=x%23y#frag"),
            "code=1&state=x%23y"
        );
        assert_eq!(callback_query("https://a/cb"), "");
    }

    #[test]
    fn a_callback_matches_its_redirect_uri_with_any_query() {
        assert!(is_callback(
            "https://127.0.0.1:80/?code=x",
            "https://127.0.0.1:80/"
        ));
        assert!(is_callback("https://h/cb?code=x", "https://h:443/cb"));
        assert!(!is_callback(
            "https://127.0.0.1:80/other?code=x",
            "https://127.0.0.1:80/"
        ));
        assert!(!is_callback(
            "http://127.0.0.1:80/?code=x",
            "https://127.0.0.1:80/"
        ));
        assert!(!is_callback(
            "chrome-error://chromewebdata/",
            "https://127.0.0.1:80/"
        ));
    }
}

#[cfg(test)]
mod response_tests {
    use super::*;

    #[test]
    fn the_response_is_parsed_once_with_every_occurrence_raw_and_decoded() {
        let r = AuthorizationResponse::parse(
            "https://127.0.0.1:80/cb?code=a%2Bb&state=x%20y+z&state=2&iss=https%3A%2F%2Fi&foo=1#code=f",
        );
        assert_eq!(r.code.len(), 1);
        assert_eq!(r.code[0].raw, "a%2Bb");
        assert_eq!(r.code[0].text(), "a+b");
        assert_eq!(r.state.len(), 2);
        assert_eq!(r.state[0].text(), "x y+z");
        assert_eq!(r.iss[0].text(), "https://i");
        assert!(r.error.is_empty() && r.tssd.is_empty());
        assert_eq!(r.values("foo")[0].raw, "1");
        assert_eq!(r.params.len(), 5);
        assert_eq!(r.fragment.as_deref(), Some("code=f"));
        assert_eq!(r.page(), "https://127.0.0.1:80/cb");
        assert!(r.is_at("https://127.0.0.1:80/cb"));
        assert!(!format!("{r:?}").contains("a%2Bb"), "Debug shows no code");
    }

    #[test]
    fn only_a_port_change_on_an_http_loopback_literal_is_a_loopback_port_variant() {
        let reg = "http://127.0.0.1:80/cb";
        for ok in [
            "http://127.0.0.1/cb",
            "http://127.0.0.1:8443/cb",
            "http://127.0.0.1:080/cb",
        ] {
            assert!(loopback_port_variant(ok, reg), "{ok}");
        }
        for no in [
            reg,
            "http://127.0.0.1:80/cb/",
            "http://127.0.0.1:80/cb.",
            "http://127.000.000.001:80/cb",
            "HTTP://127.0.0.1:81/cb",
            "https://127.0.0.1:81/cb",
            "http://127.0.0.1:81/cb?x=1",
            "http://evil@127.0.0.1:81/cb",
        ] {
            assert!(!loopback_port_variant(no, reg), "{no}");
        }
        assert!(loopback_port_variant("http://[::1]:9/", "http://[::1]:80/"));
        // Not a loopback IP literal, or not http: the MUST of exact matching holds.
        assert!(!loopback_port_variant(
            "https://127.0.0.1:81/cb",
            "https://127.0.0.1:80/cb"
        ));
        assert!(!loopback_port_variant(
            "http://localhost:81/cb",
            "http://localhost:80/cb"
        ));
        assert!(!loopback_port_variant(
            "http://app.example:81/",
            "http://app.example:80/"
        ));
    }
}
