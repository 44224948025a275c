//! Loopback helpers a run starts beside the target: a canary listener that must never hear from
//! the browser (a redirect to it proves an open redirect), and a page server for pages of
//! another origin (an auto-posting authorize form, a framing attempt).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use url::Url;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The helper servers of a run.
#[derive(Debug)]
pub struct Aux {
    canary: MockServer,
    pages: MockServer,
    served: Arc<Mutex<HashMap<String, String>>>,
}

struct Pages(Arc<Mutex<HashMap<String, String>>>);

impl Respond for Pages {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(req.url.path()) {
            Some(html) => {
                ResponseTemplate::new(200).set_body_raw(html.clone(), "text/html; charset=utf-8")
            }
            None => ResponseTemplate::new(404),
        }
    }
}

impl Aux {
    /// Starts both servers on free loopback ports.
    pub async fn start() -> Self {
        let canary = MockServer::start().await;
        let pages = MockServer::builder()
            .disable_request_recording()
            .start()
            .await;
        let served = Arc::new(Mutex::new(HashMap::new()));
        Mock::given(wiremock::matchers::any())
            .respond_with(Pages(served.clone()))
            .mount(&pages)
            .await;
        Self {
            canary,
            pages,
            served,
        }
    }

    /// `127.0.0.1:PORT` of the canary.
    pub fn canary_host(&self) -> String {
        let a = self.canary.address();
        format!("{}:{}", a.ip(), a.port())
    }

    /// How many requests the canary has received (it must stay at zero).
    pub async fn canary_heard(&self) -> usize {
        self.canary.received_requests().await.map_or(0, |r| r.len())
    }

    /// Serves `html` at a fresh path of the page server and returns its URL.
    pub fn serve(&self, html: String) -> Url {
        let path = format!("/page/{}", crate::random::alnum(12, false));
        self.served
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(path.clone(), html);
        let mut u = Url::parse(&self.pages.uri()).unwrap_or_else(|_| {
            Url::parse("http://127.0.0.1/").unwrap_or_else(|_| unreachable!("a valid literal URL"))
        });
        u.set_path(&path);
        u
    }
}
