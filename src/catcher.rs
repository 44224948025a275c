//! The local catcher: the browser resolves the host of every redirect URI to it (Chromium's
//! `--host-resolver-rules`), so an authorization code never reaches the app behind a redirect URI,
//! even a real app's. It records exactly what arrived (the request target with its raw query; the
//! fragment never leaves a browser, and the harness reads it from the browser's URL) and answers
//! with a plain page that says what was received, the code masked.
//!
//! It speaks HTTP and HTTPS on one loopback port. For HTTPS it shows a certificate made at start
//! for the redirect hosts; Chromium accepts that one key, and no other, through
//! `--ignore-certificate-errors-spki-list`, so the target's own certificate faults stay visible.

use base64::Engine as _;
use rcgen::PublicKeyData as _;
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

/// The longest request head the catcher reads.
const MAX_HEAD: usize = 16 * 1024;
/// The most requests the catcher keeps a record of.
const MAX_RECORDS: usize = 10_000;
/// How long a connection may take to send its request head.
const READ_WAIT: Duration = Duration::from_secs(5);

/// The catcher could not start.
#[derive(Debug, thiserror::Error)]
pub enum CatcherError {
    #[error("cannot start the local catcher: {0}")]
    Start(String),
}

impl crate::exit::Exit for CatcherError {
    fn exit_code(&self) -> u8 {
        crate::exit::ENVIRONMENT
    }
}

/// One request that reached the catcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caught {
    /// `http` or `https`.
    pub scheme: &'static str,
    /// The `Host` header.
    pub host: String,
    /// The request target as sent: the path and the raw query.
    pub target: String,
}

/// A running catcher; it stops when dropped.
#[derive(Debug)]
pub struct Catcher {
    port: u16,
    spki_sha256: String,
    caught: Arc<Mutex<Vec<Caught>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Catcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Catcher {
    /// Starts a catcher on a free loopback port with a certificate for `hosts`.
    pub async fn start(hosts: &[String]) -> Result<Self, CatcherError> {
        let err = |e: &dyn std::fmt::Display| CatcherError::Start(e.to_string());
        let mut names: Vec<String> = hosts.to_vec();
        names.push("localhost".into());
        names.sort();
        names.dedup();
        let rcgen::CertifiedKey { cert, signing_key } =
            rcgen::generate_simple_self_signed(names).map_err(|e| err(&e))?;
        let spki = signing_key.subject_public_key_info();
        let spki_sha256 = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&spki));
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(signing_key.serialize_der().into());
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| err(&e))?
            .with_no_client_auth()
            .with_single_cert(vec![cert.der().clone()], key)
            .map_err(|e| err(&e))?;
        let tls = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| err(&e))?;
        let port = listener.local_addr().map_err(|e| err(&e))?.port();
        let caught = Arc::new(Mutex::new(Vec::new()));
        let log = caught.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let tls = tls.clone();
                let log = log.clone();
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(READ_WAIT * 2, serve(stream, tls, log)).await;
                });
            }
        });
        Ok(Self {
            port,
            spki_sha256,
            caught,
            task,
        })
    }

    /// The loopback port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// How the browser reaches it for `routes` (`host` or `host:port`): a `MAP` rule each, and
    /// `--ignore-certificate-errors-spki-list` with the catcher's key, and no other.
    pub fn browser_routes(&self, routes: &[String]) -> crate::browser::CatcherRoutes {
        crate::browser::CatcherRoutes {
            map_rules: routes
                .iter()
                .map(|r| format!("MAP {r} 127.0.0.1:{}", self.port))
                .collect(),
            spki_arg: format!("--ignore-certificate-errors-spki-list={}", self.spki_sha256),
        }
    }

    /// Every request that arrived so far (the first [`MAX_RECORDS`]).
    pub fn caught(&self) -> Vec<Caught> {
        self.caught.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// How many callbacks arrived: requests but the browser's own for a favicon.
    pub fn callbacks(&self) -> usize {
        self.caught()
            .iter()
            .filter(|c| !c.target.starts_with("/favicon.ico"))
            .count()
    }
}

/// The hosts the browser may reach besides loopback and the catcher: the target's endpoints and
/// its allowed hosts.
pub fn target_hosts(target: &crate::target::Target) -> Vec<String> {
    let mut hosts: Vec<String> = [
        Some(&target.authorize_endpoint),
        Some(&target.token_endpoint),
        target.rest_probe.as_ref(),
        target.logout_url.as_ref(),
    ]
    .into_iter()
    .flatten()
    .filter_map(|u| u.host_str().map(str::to_owned))
    .chain(target.allowed_hosts.iter().cloned())
    .collect();
    hosts.sort();
    hosts.dedup();
    hosts
}

/// The routes and certificate names of every redirect URI `target` names.
pub fn target_routes(target: &crate::target::Target) -> (Vec<String>, Vec<String>) {
    let uris: Vec<&str> = [&target.web_app, &target.public_app]
        .into_iter()
        .chain(target.second_web_app.as_ref())
        .flat_map(|a| std::iter::once(&a.redirect_uri).chain(&a.other_redirect_uris))
        .map(String::as_str)
        .collect();
    let routes = routes(uris.iter().copied());
    let mut hosts: Vec<String> = uris
        .iter()
        .filter_map(|u| url::Url::parse(u).ok())
        .filter_map(|u| u.host_str().map(|h| h.trim_matches(['[', ']']).to_owned()))
        .collect();
    hosts.sort();
    hosts.dedup();
    (routes, hosts)
}

/// The routes to catch for these redirect URIs: always `host:port` (the scheme's port when the
/// URI names none), so that a route never takes every port of a host (the target's, the
/// canary's); the same route once.
pub fn routes<'a>(redirect_uris: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = redirect_uris
        .into_iter()
        .filter_map(|u| url::Url::parse(u).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .filter_map(|u| Some(format!("{}:{}", u.host_str()?, u.port_or_known_default()?)))
        .collect();
    out.sort();
    out.dedup();
    out
}

async fn serve(
    stream: tokio::net::TcpStream,
    tls: tokio_rustls::TlsAcceptor,
    log: Arc<Mutex<Vec<Caught>>>,
) {
    let mut first = [0u8; 1];
    let Ok(Ok(n)) = tokio::time::timeout(READ_WAIT, stream.peek(&mut first)).await else {
        return;
    };
    if n == 1 && first[0] == 0x16 {
        if let Ok(Ok(s)) = tokio::time::timeout(READ_WAIT, tls.accept(stream)).await {
            answer(s, "https", &log).await;
        }
    } else {
        answer(stream, "http", &log).await;
    }
}

async fn answer<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    scheme: &'static str,
    log: &Mutex<Vec<Caught>>,
) {
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_HEAD {
        match tokio::time::timeout(READ_WAIT, s.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => head.extend_from_slice(&buf[..n]),
            _ => return,
        }
    }
    let text = String::from_utf8_lossy(&head);
    let mut lines = text.split("\r\n");
    let target = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .unwrap_or("")
        .to_owned();
    let host = lines
        .find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case("host"))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_default();
    let page = page(scheme, &host, &target);
    if let Ok(mut l) = log.lock() {
        if l.len() < MAX_RECORDS {
            l.push(Caught {
                scheme,
                host,
                target,
            });
        }
    }
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nCache-Control: no-store\r\n\
         Referrer-Policy: no-referrer\r\nContent-Security-Policy: default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'\r\n\
         Connection: close\r\nContent-Length: {}\r\n\r\n{page}",
        page.len()
    );
    let _ = s.write_all(response.as_bytes()).await;
    let _ = s.shutdown().await;
}

/// Parameters whose values are never shown.
const MASKED: &[&str] = &["code", "access_token", "refresh_token", "id_token"];

/// `query` with the values of [`MASKED`] parameters replaced by `[masked]`.
pub fn mask_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if MASKED.contains(&k) => format!("{k}=[masked]"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The catcher's page: what arrived, the code masked; the fragment, which only the browser
/// sees, is shown masked by a script.
fn page(scheme: &str, host: &str, target: &str) -> String {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let params: String = mask_query(query)
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| format!("<li><code>{}</code></li>", escape(p)))
        .collect();
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Caught at the redirect URI</title>\
         <style>body{{font:16px/1.5 system-ui,sans-serif;margin:2rem;max-width:60rem}}code{{word-break:break-all}}</style></head>\
         <body><h1>Caught at the redirect URI</h1>\
         <p>The conformance harness's local catcher answered for <code>{scheme}://{host}</code>: the browser was sent here instead of the app, so no code reached it.</p>\
         <p>Path: <code>{path}</code></p><p>Query parameters, as received:</p><ul>{params}</ul>\
         <p>Fragment: <code id=\"fragment\">(none)</code></p>\
         <script>var h=location.hash.slice(1);if(h){{document.getElementById('fragment').textContent=h.split('&').map(function(p){{var k=p.split('=')[0];return ['code','access_token','refresh_token','id_token'].indexOf(k)>=0?k+'=[masked]':p}}).join('&')}}</script>\
         </body></html>",
        scheme = escape(scheme),
        host = escape(host),
        path = escape(path),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_tokens_are_masked_and_nothing_else() {
        assert_eq!(
            mask_query("code=abc&state=s%201&iss=x&access_token=t"),
            "code=[masked]&state=s%201&iss=x&access_token=[masked]"
        );
    }

    #[test]
    fn each_redirect_host_is_routed_once_with_its_port() {
        assert_eq!(
            routes([
                "https://127.0.0.1:80/",
                "https://127.0.0.1:80/cb?tenant=acme",
                "https://app.example.com/oauth/cb",
                "https://app.example.com:443/other",
                "sfmcconformance://callback",
            ]),
            vec![
                "127.0.0.1:80".to_string(),
                "app.example.com:443".to_string()
            ]
        );
    }

    #[test]
    fn the_page_escapes_what_it_shows() {
        let p = page("https", "h", "/cb?code=secret&state=%3Cb%3E<i>");
        assert!(!p.contains("secret"));
        assert!(p.contains("code=[masked]"));
        assert!(p.contains("&lt;i&gt;"));
    }

    #[tokio::test]
    async fn it_records_what_arrives_over_http_and_https() {
        let c = Catcher::start(&["app.example.com".into()]).await.unwrap();
        let plain = reqwest::Client::builder().no_proxy().build().unwrap();
        let body = plain
            .get(format!(
                "http://127.0.0.1:{}/cb?code=c0de&state=s",
                c.port()
            ))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(body.contains("Caught at the redirect URI") && !body.contains("c0de"));
        let tls = reqwest::Client::builder()
            .no_proxy()
            .danger_accept_invalid_certs(true)
            .build()
            .unwrap();
        tls.get(format!("https://127.0.0.1:{}/x?state=t", c.port()))
            .send()
            .await
            .unwrap();
        let caught = c.caught();
        assert_eq!(caught.len(), 2, "{caught:?}");
        assert_eq!(caught[0].scheme, "http");
        assert_eq!(caught[0].target, "/cb?code=c0de&state=s");
        assert_eq!(caught[1].scheme, "https");
        assert_eq!(caught[1].target, "/x?state=t");
    }
}
