//! Just enough HTML reading to replay a login form without the browser (the CSRF check): the
//! first form with a password field, its action, its hidden fields and its field names.

use regex::Regex;

/// A login form as read from HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginForm {
    pub action: String,
    pub hidden: Vec<(String, String)>,
    pub username_field: String,
    pub password_field: String,
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let re = Regex::new(&format!(r#"(?i)\b{name}\s*=\s*("([^"]*)"|'([^']*)')"#)).ok()?;
    let c = re.captures(tag)?;
    let v = c.get(2).or(c.get(3))?.as_str();
    Some(
        v.replace("&amp;", "&")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">"),
    )
}

/// The first form of `html` that has a password field.
pub fn first_form_with_password(html: &str) -> Option<LoginForm> {
    let forms = Regex::new(r"(?is)<form\b([^>]*)>(.*?)</form>").ok()?;
    let inputs = Regex::new(r"(?is)<input\b[^>]*>").ok()?;
    for f in forms.captures_iter(html) {
        let (open, body) = (f.get(1)?.as_str(), f.get(2)?.as_str());
        let mut hidden = Vec::new();
        let (mut user, mut pass) = (None, None);
        for i in inputs.find_iter(body) {
            let tag = i.as_str();
            let Some(name) = attr(tag, "name") else {
                continue;
            };
            match attr(tag, "type")
                .unwrap_or_else(|| "text".into())
                .to_ascii_lowercase()
                .as_str()
            {
                "hidden" => hidden.push((name, attr(tag, "value").unwrap_or_default())),
                "password" => pass = Some(name),
                "text" | "email" if user.is_none() => user = Some(name),
                _ => {}
            }
        }
        if let (Some(username_field), Some(password_field)) = (user, pass) {
            return Some(LoginForm {
                action: attr(open, "action").unwrap_or_default(),
                hidden,
                username_field,
                password_field,
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_simulators_login_form_is_read() {
        let html = crate::simulator::pages_for_tests::login("req1", "tok&1");
        let f = first_form_with_password(&html).expect("a form");
        assert_eq!(f.action, "/login");
        assert_eq!(f.username_field, "username");
        assert_eq!(f.password_field, "password");
        assert!(f.hidden.contains(&("csrf".into(), "tok&1".into())));
    }
}
