//! Signing in, as data: a [`LoginScript`] of CSS selectors says how to get past a target's login
//! pages, and [`Credentials`] say who signs in. The browser runs the script; a target (the
//! simulator, or a live tenant's target file) supplies it. Neither needs to know the other.

use crate::secret::Secret;

/// What one step of a login script does. Values may name `{username}`, `{password}` and
/// `{totp}` (the current verification code from the user's seed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginAction {
    /// Type `value` into the element matching the CSS `selector`.
    Fill { selector: String, value: String },
    /// Click the element matching `selector` (and wait for the navigation it starts).
    Click { selector: String },
}

/// One step of a login script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginStep {
    pub action: LoginAction,
    /// Skipped when its element does not appear within a bounded wait (a consent page, a
    /// verification code that is not always asked for).
    pub optional: bool,
}

/// How a login script types into a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Typing {
    /// A key event for each character (WebDriver's Element Send Keys), as a user types: for
    /// pages whose scripts listen to keys. The default for a target file.
    #[default]
    Keys,
    /// The whole value at once as text input (DevTools' `Input.insertText`: `beforeinput` and
    /// `input` events, as a paste or an input method gives), after focusing the field and
    /// selecting what it held: a round trip instead of one per character. The simulator's
    /// pages, and target files that say `typing = "insert"`.
    Insert,
}

/// How to get past a target's login page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginScript {
    /// A CSS selector present on the login page and nowhere else.
    pub page_marker: String,
    /// The login page's cancel link or button, if it has one.
    pub cancel: Option<String>,
    pub steps: Vec<LoginStep>,
    /// A consent page that may show on its own, without the login page (a user already signed
    /// in, asked to approve the app again): it is approved whenever it shows.
    pub consent: Option<Consent>,
    /// How its `fill` steps type.
    pub typing: Typing,
}

/// A consent page: how to know it, and the button that approves the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    /// A CSS selector present on the consent page and nowhere else.
    pub page: String,
    /// The button that approves the app.
    pub submit: String,
}

/// The user who signs in through the browser.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub username: String,
    pub password: Secret,
    /// Base32 seed for a verification-code step, if the login asks for one.
    pub totp_seed: Option<Secret>,
}

impl Credentials {
    /// Expands `{username}`, `{password}` and `{totp}` in a login-script value. A value that
    /// holds the password or a code is a secret.
    pub fn value(&self, template: &str) -> Secret {
        let totp = self
            .totp_seed
            .as_ref()
            .and_then(crate::totp::code_now)
            .map(|c| c.expose().to_owned())
            .unwrap_or_default();
        let v = template
            .replace("{username}", &self.username)
            .replace("{password}", self.password.expose())
            .replace("{totp}", &totp);
        if template.contains("{password}") || template.contains("{totp}") {
            Secret::new("LoginSecret", v)
        } else {
            Secret::new("LoginValue", v)
        }
    }

    /// The secrets a redactor must know before anything is captured.
    pub fn secrets(&self) -> impl Iterator<Item = &Secret> {
        std::iter::once(&self.password).chain(self.totp_seed.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_expand_and_secret_values_are_secrets() {
        let c = Credentials {
            username: "qa@example.com".into(),
            password: Secret::new("Password", "pw-1234"),
            totp_seed: None,
        };
        let user = c.value("{username}");
        assert_eq!(user.expose(), "qa@example.com");
        assert_eq!(user.kind(), "LoginValue");
        let pw = c.value("{password}");
        assert_eq!(pw.expose(), "pw-1234");
        assert_eq!(pw.kind(), "LoginSecret");
        assert_eq!(c.value("{totp}").expose(), "");
    }
}
