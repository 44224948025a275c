//! Request parameters: query strings and form bodies as multimaps (every occurrence kept, so a
//! repeated parameter is seen), and JSON objects read with their duplicate keys detected.

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use url::form_urlencoded;

/// Parameters by name, every occurrence kept.
#[derive(Debug, Default, Clone)]
pub struct Params(pub BTreeMap<String, Vec<String>>);

impl Params {
    /// From `application/x-www-form-urlencoded` bytes (a query string or a form body).
    pub fn form(raw: &[u8]) -> Self {
        let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in form_urlencoded::parse(raw) {
            m.entry(k.into_owned()).or_default().push(v.into_owned());
        }
        Self(m)
    }

    /// The first value of `name`.
    pub fn one(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(|v| v.first()).map(String::as_str)
    }

    /// Names given more than once.
    pub fn repeated(&self) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(_, v)| v.len() > 1)
            .map(|(k, _)| k.as_str())
            .collect()
    }

    /// Whether `name` was given.
    pub fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }
}

/// Why a JSON body is not a flat object of strings.
#[derive(Debug)]
pub enum JsonBodyError {
    Syntax,
    Shape,
    NonString(String),
}

struct Pairs(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for Pairs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Pairs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Value>()? {
                    out.push((k, v));
                }
                Ok(Pairs(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// A JSON object body as parameters. Numbers are taken as their text (Marketing Cloud's
/// `account_id` is a number); other non-string values are refused.
pub fn json(raw: &[u8]) -> Result<Params, JsonBodyError> {
    if serde_json::from_slice::<Value>(raw).is_err() {
        return Err(JsonBodyError::Syntax);
    }
    let Ok(Pairs(pairs)) = serde_json::from_slice::<Pairs>(raw) else {
        return Err(JsonBodyError::Shape);
    };
    let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in pairs {
        let s = match v {
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            _ => return Err(JsonBodyError::NonString(k)),
        };
        m.entry(k).or_default().push(s);
    }
    Ok(Params(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_form_parameters_are_kept() {
        let p = Params::form(b"a=1&b=2&a=3");
        assert_eq!(p.repeated(), vec!["a"]);
        assert_eq!(p.one("a"), Some("1"));
    }

    #[test]
    fn duplicate_json_keys_are_detected() {
        let p = json(br#"{"code":"a","code":"b","n":5}"#).unwrap();
        assert_eq!(p.repeated(), vec!["code"]);
        assert_eq!(p.one("n"), Some("5"));
        assert!(matches!(json(b"[1]"), Err(JsonBodyError::Shape)));
        assert!(matches!(json(b"{"), Err(JsonBodyError::Syntax)));
        assert!(matches!(
            json(br#"{"a":{}}"#),
            Err(JsonBodyError::NonString(_))
        ));
    }
}
