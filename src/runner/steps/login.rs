//! Steps for `features/login`: signing in through the browser and the redirect back to the app
//! with `code` and `state` (RFC 6749 §4.1.2).

use super::{authorize_in_browser, callback_values, take_code};
use crate::oauth::authorize::is_callback;
use crate::oauth::encoding::decode_once;
use crate::runner::world::{OAuthWorld, Outcome};
use cucumber::{given, then, when};

#[when("the user signs in through the browser")]
async fn user_signs_in(w: &mut OAuthWorld) -> Outcome {
    authorize_in_browser(w).await
}

#[given("the user has authorized the app in the browser")]
async fn user_has_authorized(w: &mut OAuthWorld) -> Outcome {
    authorize_in_browser(w).await?;
    take_code(w)
}

#[then("the browser lands on the registered redirect URI")]
fn lands_on_redirect_uri(w: &mut OAuthWorld) -> Outcome {
    let redirect_uri = w.app()?.redirect_uri.clone();
    let landed = w
        .authorization
        .as_ref()
        .map(|a| a.landed_url.clone())
        .unwrap_or_default();
    if is_callback(&landed, &redirect_uri) {
        Ok(())
    } else {
        Err(w.fail(
            "the browser lands on the registered redirect URI",
            redirect_uri,
            "another page (see `browser ended on`)",
        ))
    }
}

#[then("the callback carries exactly one code")]
fn exactly_one_code(w: &mut OAuthWorld) -> Outcome {
    take_code(w)
}

#[then(expr = "the callback's state is exactly {string}")]
fn state_is_exactly(w: &mut OAuthWorld, expected: String) -> Outcome {
    let states = callback_values(w, "state")?;
    match states.as_slice() {
        [raw] => {
            let decoded = decode_once(raw);
            if decoded == expected.as_bytes() {
                Ok(())
            } else {
                Err(w.fail(
                    "the state comes back byte for byte (decoded once)",
                    format!("{expected:?}"),
                    format!(
                        "{:?} (as received: {raw:?})",
                        String::from_utf8_lossy(&decoded)
                    ),
                ))
            }
        }
        other => Err(w.fail(
            "the callback carries exactly one state",
            "1 `state` parameter",
            format!("{} `state` parameters", other.len()),
        )),
    }
}
