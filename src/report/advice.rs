//! What each check means and how to fix it, for the tenant's admin or the app's developer, with
//! the public source of its requirement (`advice.toml`, compiled in), and the area each check id
//! belongs to (from its prefix).

use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// One check's advice.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Advice {
    /// The requirement's public source, as precise as a section allows.
    pub link: String,
    /// The same source in short (`RFC 6749 §4.1.2.1`).
    pub cite: String,
    /// What the failure means and how to fix it, one paragraph.
    pub fix: String,
}

const TEXT: &str = include_str!("advice.toml");

fn table() -> &'static BTreeMap<String, Advice> {
    static TABLE: OnceLock<BTreeMap<String, Advice>> = OnceLock::new();
    // The file is checked by a test: a broken one leaves every check without advice.
    TABLE.get_or_init(|| toml::from_str(TEXT).unwrap_or_default())
}

/// The advice for a check id, if it has one.
pub fn advice(check_id: &str) -> Option<&'static Advice> {
    table().get(check_id)
}

/// The areas of the compliance grid, in the order the report shows them, each with the check-id
/// prefixes it holds.
pub const AREAS: &[(&str, &[&str])] = &[
    ("Redirect URI", &["RU"]),
    ("Authorization request and response", &["AZ", "AR"]),
    ("PKCE", &["PK"]),
    ("Token request and response", &["TK", "TR"]),
    ("Errors", &["TE"]),
    ("Refresh", &["RF"]),
    ("Browser pages", &["BP"]),
];

/// The area a check id belongs to (`Other` for an id without a known prefix).
pub fn area_of(check_id: &str) -> &'static str {
    let prefix = check_id.get(..2).unwrap_or("");
    AREAS
        .iter()
        .find(|(_, prefixes)| prefixes.contains(&prefix))
        .map_or("Other", |(name, _)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_of_the_features_has_advice_with_a_source() {
        let parsed: BTreeMap<String, Advice> = toml::from_str(TEXT).expect("advice.toml parses");
        let features = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("features");
        let mut ids = std::collections::BTreeSet::new();
        let mut folders = vec![features];
        while let Some(dir) = folders.pop() {
            for entry in std::fs::read_dir(&dir).expect("a folder of features") {
                let path = entry.expect("an entry").path();
                if path.is_dir() {
                    folders.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                for word in text.split_whitespace() {
                    if let Some(id) = crate::outcome::check_id(&[word.trim_start_matches('@')]) {
                        ids.insert(id.to_owned());
                    }
                }
            }
        }
        assert!(ids.len() > 50, "{ids:?}");
        for id in &ids {
            let a = parsed
                .get(id)
                .unwrap_or_else(|| panic!("{id} has no advice"));
            assert!(a.link.starts_with("https://"), "{id}: {}", a.link);
            assert!(!a.cite.is_empty() && a.fix.len() > 80, "{id}");
            assert_ne!(area_of(id), "Other", "{id} has no area");
        }
        let unused: Vec<_> = parsed.keys().filter(|k| !ids.contains(*k)).collect();
        assert!(
            unused.is_empty(),
            "advice for checks no feature has: {unused:?}"
        );
    }
}
