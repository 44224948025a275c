//! Baseline snapshots: what each scenario saw of the target (the authorize request's parameter
//! names, where the browser ended and the callback's parameters, each HTTP exchange's status,
//! selected headers and JSON body) as an insta snapshot under `reports/snapshots/<target>/`,
//! with every secret, code, token, port and random value masked. When the target changes an
//! error text, a header or a redirect, the next run fails the scenario with the difference.
//! `sfmc-conformance run --accept` records new baselines.

use crate::evidence::Exchange;
use crate::oauth::authorize::callback_query;
use crate::oauth::encoding::decode_once;
use crate::outcome::{Drift, Observed};
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};

/// Response headers worth a baseline (the rest vary or say nothing about conformance).
const HEADERS: &[&str] = &[
    "content-type",
    "cache-control",
    "pragma",
    "www-authenticate",
    "retry-after",
    "location",
    "x-frame-options",
    "content-security-policy",
    "referrer-policy",
];

/// Query parameters whose values are kept; others are masked (error_description is free text a
/// server may reword: only its presence is kept).
const KEPT: &[&str] = &["error", "error_uri", "response_type", "scope", "iss"];

fn mask_ports(s: &str) -> String {
    static RE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    match RE.get_or_init(|| regex::Regex::new(r"127\.0\.0\.1:(\d{2,5})").ok()) {
        // Port 80 is part of the registered redirect URI; other ports are the run's own.
        Some(re) => re
            .replace_all(s, |c: &regex::Captures| match &c[1] {
                "80" => "127.0.0.1:80".to_owned(),
                _ => "127.0.0.1:[port]".to_owned(),
            })
            .into_owned(),
        None => s.to_owned(),
    }
}

/// A CSP with its per-response nonces masked.
fn mask_nonces(csp: &str) -> String {
    static RE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    match RE.get_or_init(|| regex::Regex::new(r"'nonce-[^']*'").ok()) {
        Some(re) => re.replace_all(csp, "'nonce-[nonce]'").into_owned(),
        None => csp.to_owned(),
    }
}

/// `expires_in` kept as its type and range, not its value (a server may tune it).
fn seconds_range(n: &serde_json::Number) -> String {
    match n.as_u64() {
        Some(0..=59) => "[integer, under a minute]".into(),
        Some(60..=3600) => "[integer, 1 to 60 minutes]".into(),
        Some(_) => "[integer, over an hour]".into(),
        None => "[number, not a non-negative integer]".into(),
    }
}

fn params(query: &str, kept_state: Option<&str>) -> Value {
    let mut m = Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let value = String::from_utf8_lossy(&decode_once(v)).into_owned();
        let shown = if KEPT.contains(&k) || (k == "state" && kept_state == Some(value.as_str())) {
            Value::String(value)
        } else {
            Value::String(format!("[{k}]"))
        };
        m.entry(k.to_owned())
            .and_modify(|e| {
                if let Value::Array(a) = e {
                    a.push(shown.clone());
                } else {
                    *e = json!([e.clone(), shown.clone()]);
                }
            })
            .or_insert(shown);
    }
    Value::Object(m)
}

fn body_shape(body: &str) -> Value {
    match serde_json::from_str::<Value>(body) {
        Ok(Value::Object(m)) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let v = match (&v, k.as_str()) {
                        (Value::String(s), _) if s.starts_with('[') && s.ends_with(']') => v,
                        (Value::String(_), "access_token" | "refresh_token" | "id_token") => {
                            json!("[token]")
                        }
                        (Value::String(_), "error_description") => json!("[text]"),
                        (Value::Number(n), "expires_in") => json!(seconds_range(n)),
                        (Value::String(s), _) => Value::String(mask_ports(s)),
                        _ => v,
                    };
                    (k, v)
                })
                .collect(),
        ),
        Ok(other) => other,
        Err(_) if body.is_empty() => Value::Null,
        Err(_) => json!(format!("[text, {} bytes]", body.len())),
    }
}

/// The observation of one scenario, ready to snapshot.
pub fn observation(observed: &Observed, evidence: &[Exchange]) -> Value {
    let explicit_state = observed.chosen_state.as_deref();
    let authorize = observed.authorize_url.as_deref().map(|u| {
        let names: Vec<&str> = callback_query(u)
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| p.split('=').next().unwrap_or(""))
            .collect();
        json!(names)
    });
    let landed = observed.landed_url.as_deref().map(|u| {
        let base = mask_ports(u.split(['?', '#']).next().unwrap_or(""));
        json!({"page": base, "parameters": params(callback_query(u), explicit_state)})
    });
    let exchanges: Vec<Value> = evidence
        .iter()
        .map(|e| {
            let headers: Map<String, Value> = e
                .response_headers
                .iter()
                .filter(|(k, _)| HEADERS.contains(&k.to_ascii_lowercase().as_str()))
                .map(|(k, v)| {
                    let v = if k.eq_ignore_ascii_case("location") {
                        "[location]".to_owned()
                    } else if k.eq_ignore_ascii_case("content-security-policy") {
                        mask_nonces(v)
                    } else {
                        v.clone()
                    };
                    (k.to_ascii_lowercase(), Value::String(v))
                })
                .collect();
            let path = mask_ports(e.url.split('?').next().unwrap_or(""));
            json!({
                "request": format!("{} {path}", e.method),
                "status": e.status,
                "headers": headers,
                "body": body_shape(&e.response_body),
            })
        })
        .collect();
    json!({"authorize_parameters": authorize, "browser_ended_on": landed, "exchanges": exchanges})
}

/// A file-system-safe snapshot name.
pub fn name_for(check: &str, title: &str) -> String {
    let slug: String = title
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let mut slug = slug
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    slug.truncate(80);
    // Titles that differ only in punctuation (`{registered}.` and `{registered}%2e`) must not
    // share a file: a stable hash (FNV-1a) of the exact title tells them apart.
    let hash = title.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{check}-{slug}-{:08x}", hash as u32)
}

/// What a run does with baselines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Compare each observation with its baseline; a difference fails the scenario.
    Compare,
    /// Record each observation as the new baseline (`run --accept`).
    Accept,
}

/// A target's baseline snapshots: `reports/snapshots/<target name>/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Baselines {
    pub dir: PathBuf,
    pub mode: Mode,
    /// A difference fails the scenario instead of marking it changed.
    pub fail_on_drift: bool,
}

/// How an observation compares with its baseline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Baseline {
    /// The same, or recorded anew under [`Mode::Accept`].
    Same,
    /// No baseline yet (a new scenario or a new target).
    Missing,
    Drift(Drift),
}

impl Baselines {
    /// Compares `value` with the baseline `<name>.snap`, or records it under [`Mode::Accept`].
    pub fn check(&self, name: &str, value: &Value) -> Baseline {
        match self.mode {
            Mode::Accept => match record(&self.dir, name, value) {
                Ok(()) => Baseline::Same,
                Err(e) => Baseline::Drift(Drift {
                    snapshot: name.to_owned(),
                    diff: format!("the baseline could not be written: {e}\n"),
                }),
            },
            Mode::Compare if !self.dir.join(format!("{name}.snap")).is_file() => Baseline::Missing,
            Mode::Compare => match compare(&self.dir, name, value) {
                Ok(()) => Baseline::Same,
                Err(drift) => Baseline::Drift(drift),
            },
        }
    }
}

/// Writes `value` as the baseline `dir/<name>.snap`, in insta's snapshot format (so that
/// `cargo insta review` and [`compare`] read it), unless the file already says the same.
pub fn record(dir: &Path, name: &str, value: &Value) -> std::io::Result<()> {
    let path = dir.join(format!("{name}.snap"));
    let body = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
    let text = format!("---\nsource: src/report/snapshot.rs\ninput_file: features\n---\n{body}\n");
    if std::fs::read_to_string(&path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    std::fs::write(path, text)
}

/// Compares `value` with the baseline `dir/<name>.snap` through insta. `Err` holds the
/// difference, line by line.
pub fn compare(dir: &Path, name: &str, value: &Value) -> Result<(), Drift> {
    let before = std::fs::read_to_string(dir.join(format!("{name}.snap"))).ok();
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(dir);
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_input_file("features");
    let outcome = crate::out::expecting_panics(|| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            settings.bind(|| insta::assert_json_snapshot!(name.to_owned(), value));
        }))
    });
    match outcome {
        Ok(()) => Ok(()),
        Err(_) => {
            let now = serde_json::to_string_pretty(value).unwrap_or_default();
            let old = before
                .as_deref()
                .map(|b| b.splitn(3, "---").nth(2).unwrap_or(b).trim().to_owned())
                .unwrap_or_else(|| "(no baseline: run with --accept to record one)".into());
            let (o, n): (Vec<&str>, Vec<&str>) = (old.lines().collect(), now.lines().collect());
            let diff = changed_lines(&o, &n);
            Err(Drift {
                snapshot: name.to_owned(),
                diff,
            })
        }
    }
}

/// The lines that differ between `old` and `new`, `- ` before and `+ ` now, in order: a line
/// kept in both (by the longest common subsequence, ignoring indentation) is not shown, so one
/// added field shows as one added line.
pub fn changed_lines(old: &[&str], new: &[&str]) -> String {
    let (n, m) = (old.len(), new.len());
    // lcs[i][j]: the longest common subsequence of old[i..] and new[j..].
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if old[i].trim() == new[j].trim() {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut out = String::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && old[i].trim() == new[j].trim() {
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push_str(&format!("- {}\n", old[i]));
            i += 1;
        } else {
            out.push_str(&format!("+ {}\n", new[j]));
            j += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_added_line_shows_as_one_added_line() {
        let old = ["{", "  \"a\": 1,", "  \"state\": \"x\"", "}"];
        let new = [
            "{",
            "  \"a\": 1,",
            "  \"iss\": \"y\",",
            "  \"state\": \"x\"",
            "}",
        ];
        assert_eq!(changed_lines(&old, &new), "+   \"iss\": \"y\",\n");
        assert_eq!(changed_lines(&new, &old), "-   \"iss\": \"y\",\n");
        assert_eq!(
            changed_lines(&["a", "b"], &["a", "c"]),
            "- b\n+ c\n",
            "a changed line is shown removed and added"
        );
        assert_eq!(changed_lines(&old, &old), "");
    }

    #[test]
    fn ports_codes_and_random_state_are_masked_errors_are_kept() {
        let v = observation(
            &Observed {
                authorize_url: Some(
                    "http://127.0.0.1:4567/v2/authorize?response_type=code&client_id=x&state=abc"
                        .into(),
                ),
                landed_url: Some(
                    "https://127.0.0.1:80/?error=invalid_scope&state=mine&code=xyz".into(),
                ),
                chosen_state: Some("mine".into()),
            },
            &[],
        );
        assert_eq!(
            v["authorize_parameters"],
            json!(["response_type", "client_id", "state"])
        );
        assert_eq!(v["browser_ended_on"]["page"], "https://127.0.0.1:80/");
        let p = &v["browser_ended_on"]["parameters"];
        assert_eq!(p["error"], "invalid_scope");
        assert_eq!(p["state"], "mine");
        assert_eq!(p["code"], "[code]");
        assert_eq!(
            mask_ports("http://127.0.0.1:4567/x"),
            "http://127.0.0.1:[port]/x"
        );
    }

    #[test]
    fn names_are_slugs_with_a_hash_of_the_title() {
        let a = name_for("RU-01", "An unregistered host: https://evil.example/");
        assert!(
            a.starts_with("RU-01-an-unregistered-host-https-evil-example-"),
            "{a}"
        );
        assert_ne!(
            name_for("RU-08", "x {registered}."),
            name_for("RU-08", "x {registered}%2e")
        );
    }

    #[test]
    fn an_accepted_baseline_is_read_back_the_same_and_a_change_is_a_drift() {
        let dir = tempfile::tempdir().unwrap();
        let accept = Baselines {
            dir: dir.path().to_owned(),
            mode: Mode::Accept,
            fail_on_drift: false,
        };
        let compare_mode = Baselines {
            mode: Mode::Compare,
            ..accept.clone()
        };
        let v = json!({"status": 401, "body": {"error": "invalid_client"}});
        assert_eq!(compare_mode.check("TK-08-x", &v), Baseline::Missing);
        assert_eq!(accept.check("TK-08-x", &v), Baseline::Same);
        assert_eq!(compare_mode.check("TK-08-x", &v), Baseline::Same);
        let changed = json!({"status": 400, "body": {"error": "invalid_client"}});
        match compare_mode.check("TK-08-x", &changed) {
            Baseline::Drift(d) => {
                assert_eq!(d.snapshot, "TK-08-x");
                assert!(d.diff.contains("-   \"status\": 401"), "{}", d.diff);
                assert!(d.diff.contains("+   \"status\": 400"), "{}", d.diff);
            }
            other => panic!("expected a drift, got {other:?}"),
        }
    }
}
