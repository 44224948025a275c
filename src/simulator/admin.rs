//! Admin routes under `/__admin/`: the journal, the clock, throttling and integration changes.
//! They exist only on the simulator; a live target has none of them.
//!
//! - `GET /__admin/journal`: every exchange so far, redacted, as JSON.
//! - `GET /__admin/stats`: how many tokens, codes, sessions and journal entries it holds, and
//!   how many connections are open and were refused (a client past its limit).
//! - `POST /__admin/clock` `{"advance_seconds": N}`: moves the clock forward.
//! - `POST /__admin/throttle` `{"enabled": true}`: 429 on every other request.
//! - `POST /__admin/integration` `{"client_id": ..., "redirect_uris": [...], "scopes": [...]}`:
//!   changes an integration, in effect after the propagation delay.

use super::registry::{validate_redirect_uri, Integration};
use super::{Reply, Shared};
use crate::oauth::OAuthErrorCode;
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;
use wiremock::Request;

fn bad(d: &str) -> Reply {
    Reply::json_plain(
        400,
        &json!({"error": OAuthErrorCode::InvalidRequest.as_str(), "error_description": d}),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Clock {
    advance_seconds: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Throttle {
    enabled: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Change {
    client_id: String,
    redirect_uris: Option<Vec<String>>,
    scopes: Option<Vec<String>>,
}

/// Queues `changed` to take effect after the propagation delay.
pub fn queue_change(shared: &Shared, changed: Integration) {
    let delay = Duration::from_secs(shared.settings().propagation_delay_secs);
    let mut st = shared.state();
    let at = st.clock.now() + delay;
    st.integration_changes.push((at, changed));
}

pub fn handle(shared: &Shared, req: &Request) -> Reply {
    match (req.method.as_str(), req.url.path()) {
        ("GET", "/__admin/stats") => {
            let st = shared.state();
            Reply::json_plain(
                200,
                &json!({
                    "access_tokens": st.access_tokens.len(),
                    "refresh_tokens": st.refresh_tokens.len(),
                    "codes": st.codes.len(),
                    "pending": st.pending.len(),
                    "sessions": st.sessions.len(),
                    "journal": st.journal.len(),
                    "issued": st.issued,
                    "connections_open": shared.connections.open(),
                    "connections_refused": shared.connections.refused(),
                }),
            )
        }
        ("GET", "/__admin/journal") => {
            Reply::json_plain(200, &serde_json::to_value(&shared.state().journal).unwrap_or_default())
        }
        ("POST", "/__admin/clock") => match serde_json::from_slice::<Clock>(&req.body) {
            Ok(c) => {
                let mut st = shared.state();
                st.clock.advance(Duration::from_secs(c.advance_seconds));
                Reply::json_plain(200, &json!({"offset_seconds": st.clock.offset().as_secs()}))
            }
            Err(e) => bad(&format!("expected {{\"advance_seconds\": N}}: {e}")),
        },
        ("POST", "/__admin/throttle") => match serde_json::from_slice::<Throttle>(&req.body) {
            Ok(t) => {
                shared.state().throttle = t.enabled;
                Reply::json_plain(200, &json!({"throttle": t.enabled}))
            }
            Err(e) => bad(&format!("expected {{\"enabled\": true|false}}: {e}")),
        },
        ("POST", "/__admin/integration") => match serde_json::from_slice::<Change>(&req.body) {
            Ok(c) => {
                let Some(mut int) = shared.client(&c.client_id) else {
                    return bad("unknown client_id");
                };
                if let Some(uris) = c.redirect_uris {
                    if uris.len() > 10 {
                        return bad("at most 10 redirect URIs");
                    }
                    if let Some(e) = uris.iter().find_map(|u| validate_redirect_uri(u).err()) {
                        return bad(&e.to_string());
                    }
                    int.redirect_uris = uris;
                }
                if let Some(scopes) = c.scopes {
                    int.scopes = scopes;
                }
                queue_change(shared, int);
                Reply::json_plain(
                    202,
                    &json!({"effective_in_seconds": shared.settings().propagation_delay_secs}),
                )
            }
            Err(e) => bad(&format!("expected {{\"client_id\": ..., \"redirect_uris\"?: [...], \"scopes\"?: [...]}}: {e}")),
        },
        _ => Reply::json_plain(404, &json!({"message": "Not Found"})),
    }
}
