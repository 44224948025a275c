//! Loopback helpers a run starts beside the target: a page server for pages of another origin
//! (an auto-posting authorize form, a framing attempt). Each scenario has its own canary
//! listener (`OAuthWorld::canary_heard`), so a hit is blamed on the scenario that caused it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use url::Url;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The helper servers of a run.
#[derive(Debug)]
pub struct Aux {
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
        let pages = MockServer::builder()
            .disable_request_recording()
            .start()
            .await;
        let served = Arc::new(Mutex::new(HashMap::new()));
        Mock::given(wiremock::matchers::any())
            .respond_with(Pages(served.clone()))
            .mount(&pages)
            .await;
        Self { pages, served }
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
