//! The simulator's HTML: the login page and the error page shown when it must not redirect.

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The Marketing Cloud-like login form. `notice` is shown above it (wrong password, say).
pub fn login(request_id: &str, csrf: &str, notice: Option<&str>) -> String {
    let notice = notice
        .map(|n| format!(r#"<p id="login-error" role="alert">{}</p>"#, escape(n)))
        .unwrap_or_default();
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Marketing Cloud Login (simulator)</title></head>
<body>
<h1>Marketing Cloud</h1>
{notice}
<form id="login" method="post" action="/login">
  <input type="hidden" name="r" value="{r}">
  <input type="hidden" name="csrf" value="{csrf}">
  <label>Username <input id="username" name="username" autocomplete="username"></label>
  <label>Password <input id="password" name="password" type="password" autocomplete="current-password"></label>
  <button id="login-submit" type="submit">Log In</button>
</form>
<p><a id="login-cancel" href="/login/cancel?r={r}">Cancel</a></p>
</body></html>
"#,
        r = escape(request_id),
        csrf = escape(csrf),
    )
}

/// The page shown instead of a redirect (unknown client, unregistered redirect URI).
pub fn error(error: &str, description: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Authorization error</title></head>
<body>
<h1 id="error">{}</h1>
<p id="error-description">{}</p>
</body></html>
"#,
        escape(error),
        escape(description)
    )
}
