//! The features implement the check catalogue with the tag conventions the reports and the
//! mutation matrix rely on, and `sfmc-conformance list` shows them.

mod common;

use sfmc_oauth_conformance::outcome::{check_id, Level};
use sfmc_oauth_conformance::runner::features;
use std::collections::BTreeSet;
use std::time::Duration;

/// The catalogue's rows (`../shared/reference/check-catalogue.md`, sections RU to BP).
const CATALOGUE: &[(&str, usize)] = &[
    ("RU", 14),
    ("AZ", 10),
    ("AR", 10),
    ("PK", 10),
    ("TK", 16),
    ("TR", 8),
    ("TE", 3),
    ("RF", 11),
    ("BP", 7),
];

fn all_checks() -> Vec<features::CheckRef> {
    let parsed = features::load(&common::root().join("features")).expect("features parse");
    features::checks(&parsed)
}

#[test]
fn every_catalogue_row_has_at_least_one_scenario() {
    let ids: BTreeSet<String> = all_checks().into_iter().map(|c| c.id).collect();
    let mut missing = Vec::new();
    for (prefix, n) in CATALOGUE {
        for i in 1..=*n {
            let id = format!("{prefix}-{i:02}");
            if !ids.contains(&id) {
                missing.push(id);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "catalogue rows without a scenario: {missing:?}"
    );
}

#[test]
fn every_scenario_carries_its_id_requirement_level_and_app_kind() {
    let mut wrong = Vec::new();
    for c in all_checks() {
        let has = |p: &dyn Fn(&str) -> bool| c.tags.iter().filter(|t| p(t)).count();
        let ids = has(&|t| check_id(&[t]).is_some());
        let reqs = has(&|t| t.starts_with("req:"));
        let levels = has(&|t| t.parse::<Level>().is_ok());
        let kinds = has(&|t| t == "web" || t == "public");
        if ids != 1 || reqs != 1 || levels != 1 || kinds == 0 {
            wrong.push(format!(
                "{}:{} {} (id {ids}, req {reqs}, level {levels}, kinds {kinds})",
                c.file, c.line, c.title
            ));
        }
        let browser_feature = c.file.contains("/redirect/")
            || c.file.contains("/login/")
            || c.file.contains("/pkce/")
            || c.file.contains("/pages/");
        if browser_feature && !c.tags.iter().any(|t| t == "browser") {
            wrong.push(format!("{}:{} needs @browser", c.file, c.line));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn the_redirect_uri_section_has_at_least_40_variants() {
    let n = all_checks()
        .iter()
        .filter(|c| c.file.contains("/redirect/"))
        .count();
    assert!(n >= 40, "{n} redirect URI scenarios");
}

#[test]
fn list_prints_every_check_as_text_and_json() {
    let (r, _tmp) = common::run(&["list"], Duration::from_secs(30));
    assert_eq!(r.code, Some(0), "{r:?}");
    let n = all_checks().len();
    assert!(
        r.closing_line().starts_with(&format!("{n} scenarios, ")),
        "{}",
        r.closing_line()
    );
    assert!(
        r.stdout
            .contains("RU-01  MUST   features/redirect/redirect_uri.feature:"),
        "{}",
        r.stdout
    );

    let (r, _tmp) = common::run(&["list", "--format", "json"], Duration::from_secs(30));
    assert_eq!(r.code, Some(0));
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
    let items = v.as_array().expect("an array");
    assert_eq!(items.len(), n);
    let first = &items[0];
    for key in ["id", "title", "level", "tags", "file", "line"] {
        assert!(first.get(key).is_some(), "{key} missing in {first}");
    }
}
