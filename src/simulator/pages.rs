//! The simulator's HTML: the login page, the verification-code page, and the error page shown
//! when it must not redirect.

use crate::oauth::OAuthErrorCode;

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>body{{font-family:sans-serif;max-width:28em;margin:3em auto}}label{{display:block;margin:.6em 0}}</style>\
         </head>\n<body>\n<h1>Marketing Cloud</h1>\n{body}\n</body></html>\n",
        escape(title)
    )
}

fn notice(n: Option<&str>) -> String {
    n.map(|n| format!(r#"<p id="login-error" role="alert">{}</p>"#, escape(n)))
        .unwrap_or_default()
}

/// What the `login-page-dialogs` variation adds to the login page, before `</body>`: an alert
/// as it loads, a `beforeunload` prompt, and on submit (a user gesture: the pop-up blocker lets
/// it through) a pop-up and a confirm.
pub const DIALOGS: &str = r#"<script>
alert('Welcome to Marketing Cloud (simulator)');
window.addEventListener('beforeunload', function (e) { e.preventDefault(); e.returnValue = ''; });
document.getElementById('login').addEventListener('submit', function () {
  window.open('about:blank#pop-up', '_blank');
  confirm('Sign in now?');
});
</script>
</body>"#;

/// The Marketing Cloud-like login form. `message` is shown above it (wrong password, say).
pub fn login(request_id: &str, csrf: &str, message: Option<&str>) -> String {
    page(
        "Marketing Cloud Login (simulator)",
        &format!(
            r#"{notice}
<form id="login" method="post" action="/login">
  <input type="hidden" name="r" value="{r}">
  <input type="hidden" name="csrf" value="{csrf}">
  <label>Username <input id="username" name="username" autocomplete="username"></label>
  <label>Password <input id="password" name="password" type="password" autocomplete="current-password"></label>
  <button id="login-submit" type="submit">Log In</button>
</form>
<p><a id="login-cancel" href="/login/cancel?r={r}">Cancel</a></p>"#,
            notice = notice(message),
            r = escape(request_id),
            csrf = escape(csrf),
        ),
    )
}

/// The verification-code (TOTP) form shown after a right password, for users who have one.
pub fn verify(request_id: &str, csrf: &str, message: Option<&str>) -> String {
    page(
        "Verify your identity (simulator)",
        &format!(
            r#"{notice}
<form id="verify" method="post" action="/login/verify">
  <input type="hidden" name="r" value="{r}">
  <input type="hidden" name="csrf" value="{csrf}">
  <label>Verification code <input id="verification-code" name="code" inputmode="numeric" autocomplete="one-time-code"></label>
  <button id="verify-submit" type="submit">Verify</button>
</form>
<p><a id="login-cancel" href="/login/cancel?r={r}">Cancel</a></p>"#,
            notice = notice(message),
            r = escape(request_id),
            csrf = escape(csrf),
        ),
    )
}

/// The page shown instead of a redirect (unknown client, unregistered redirect URI).
pub fn error(error: &OAuthErrorCode, description: &str) -> String {
    page(
        "Authorization error",
        &format!(
            r#"<h2 id="error">{}</h2>
<p id="error-description">{}</p>"#,
            escape(error.as_str()),
            escape(description)
        ),
    )
}
