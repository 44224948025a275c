//! The text reports: JUnit XML, the Markdown summary and compliance matrix, and SARIF.

use super::RunReport;
use crate::outcome::{ScenarioResult, Verdict};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;

fn xml(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect::<String>()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn file_of(r: &ScenarioResult) -> &str {
    &r.location.file
}

fn line_of(r: &ScenarioResult) -> usize {
    r.location.line
}

fn title_of(r: &ScenarioResult) -> &str {
    &r.location.name
}

/// JUnit XML: one testsuite per feature file, one testcase per scenario. A failed MUST is a
/// `<failure>`; warnings, findings and notes pass and say so in `<system-out>`.
pub fn junit_xml(report: &RunReport) -> String {
    let mut by_file: BTreeMap<&str, Vec<&ScenarioResult>> = BTreeMap::new();
    for r in &report.results {
        by_file.entry(file_of(r)).or_default().push(r);
    }
    let failures = report.count(Verdict::Failed);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"sfmc-oauth-conformance\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{}\" time=\"{:.3}\">",
        report.results.len() + report.skipped.len(),
        report.skipped.len(),
        report.duration_secs
    );
    for (file, results) in &by_file {
        let f = results
            .iter()
            .filter(|r| r.verdict == Verdict::Failed)
            .count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{f}\" errors=\"0\" skipped=\"0\" time=\"0\">",
            xml(file),
            results.len()
        );
        for r in results {
            let _ = write!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\" time=\"0\">",
                xml(&format!("{} {}", r.check.id, title_of(r))),
                xml(file)
            );
            match r.verdict {
                Verdict::Failed => {
                    let msg = r.messages.first().map(String::as_str).unwrap_or("failed");
                    let _ = write!(
                        out,
                        "\n      <failure message=\"{}\" type=\"{} {}\">{}</failure>\n    ",
                        xml(msg.lines().next().unwrap_or("")),
                        xml(&r.check.id),
                        xml(r.check.level_text()),
                        xml(&r.messages.join("\n\n"))
                    );
                }
                Verdict::Passed => {}
                other => {
                    let _ = write!(
                        out,
                        "\n      <system-out>{:?}: {}</system-out>\n    ",
                        other,
                        xml(&r.messages.join("\n"))
                    );
                }
            }
            out.push_str("</testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    if !report.skipped.is_empty() {
        let _ = writeln!(
            out,
            "  <testsuite name=\"not run against this target\" tests=\"{0}\" failures=\"0\" errors=\"0\" skipped=\"{0}\" time=\"0\">",
            report.skipped.len()
        );
        for s in &report.skipped {
            let _ = writeln!(
                out,
                "    <testcase name=\"{}\" classname=\"skipped\" time=\"0\"><skipped message=\"{}\"/></testcase>",
                xml(&s.location.to_string()),
                xml(&s.reason)
            );
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// `summary.md`: counts, then failures and warnings first, each with check id, requirement,
/// expected against actual, and where its evidence is.
pub fn summary_md(report: &RunReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Conformance run against {}\n", report.target);
    let _ = writeln!(
        out,
        "Started {} · {:.1} s · sfmc-oauth-conformance {}\n",
        report.started, report.duration_secs, report.tool_version
    );
    if report.interrupted {
        let _ = writeln!(out, "**{}**\n", super::INTERRUPTED_NOTE);
    }
    let _ = writeln!(out, "| verdict | scenarios |\n|---|---|");
    for (label, v) in [
        ("changed since the baseline", Verdict::Changed),
        ("failed", Verdict::Failed),
        ("warning", Verdict::Warning),
        ("finding", Verdict::Finding),
        ("note", Verdict::Note),
        ("passed", Verdict::Passed),
    ] {
        let _ = writeln!(out, "| {label} | {} |", report.count(v));
    }
    let _ = writeln!(out, "| skipped | {} |\n", report.skipped.len());
    for (title, v) in [
        ("Changed since the baseline", Verdict::Changed),
        ("Failures", Verdict::Failed),
        ("Warnings", Verdict::Warning),
        ("Findings", Verdict::Finding),
        ("Notes", Verdict::Note),
    ] {
        let rows: Vec<&ScenarioResult> = report.results.iter().filter(|r| r.verdict == v).collect();
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(out, "## {title}\n");
        for r in rows {
            let _ = writeln!(
                out,
                "### {} ({}, {}) {}\n\n{}:{} · evidence: [report.html#{}](report.html#{})\n",
                r.check.id,
                if r.check.requirement.is_empty() {
                    "-"
                } else {
                    &r.check.requirement
                },
                r.check.level_text(),
                title_of(r),
                file_of(r),
                line_of(r),
                anchor(r),
                anchor(r)
            );
            for m in &r.messages {
                let _ = writeln!(out, "```\n{m}\n```\n");
            }
        }
    }
    if !report.skipped.is_empty() {
        let _ = writeln!(out, "## Not run against this target\n");
        for s in &report.skipped {
            let _ = writeln!(out, "- {s}");
        }
    }
    out
}

/// An HTML anchor for a scenario.
pub fn anchor(r: &ScenarioResult) -> String {
    format!(
        "s-{}",
        r.location
            .to_string()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect::<String>()
    )
}

/// The document a requirement id comes from.
pub fn document_of(requirement: &str) -> &'static str {
    let n: u32 = requirement
        .strip_prefix("S-")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    match requirement {
        r if r.starts_with("RFC6749") => "RFC 6749 (OAuth 2.0)",
        r if r.starts_with("RFC9700") => "RFC 9700 (OAuth 2.0 Security BCP)",
        "SFMC" => "Marketing Cloud documentation",
        _ if matches!(n, 19) => "RFC 7636 (PKCE)",
        _ if matches!(n, 5 | 17 | 20..=26) => "RFC 9700 (OAuth 2.0 Security BCP)",
        _ if n == 27 => "RFC 9207 (Issuer identification)",
        _ if matches!(n, 29 | 30) => "RFC 6750 (Bearer tokens)",
        _ if n > 0 => "RFC 6749 (OAuth 2.0)",
        _ => "general web security",
    }
}

/// `compliance.md`: for each requirement document, how many MUST, SHOULD, MAY and PROBE checks
/// were met, as a security reviewer signs off.
pub fn compliance_md(report: &RunReport) -> String {
    #[derive(Default)]
    struct Row {
        met: usize,
        total: usize,
        unmet: Vec<String>,
    }
    let mut table: BTreeMap<&str, BTreeMap<&str, Row>> = BTreeMap::new();
    for r in &report.results {
        let row = table
            .entry(document_of(&r.check.requirement))
            .or_default()
            .entry(r.check.level_text())
            .or_default();
        row.total += 1;
        if r.verdict == Verdict::Passed {
            row.met += 1;
        } else {
            row.unmet.push(format!("{} {}", r.check.id, title_of(r)));
        }
    }
    let mut out = format!(
        "# Compliance against {}\n\nRun of {}. A check is met when its scenario passed; warnings, findings and notes count as not met.\n\n| document | level | met | of | not met |\n|---|---|---|---|---|\n",
        report.target, report.started
    );
    for (doc, levels) in &table {
        for (level, row) in levels {
            let _ = writeln!(
                out,
                "| {doc} | {level} | {} | {} | {} |",
                row.met,
                row.total,
                if row.unmet.is_empty() {
                    "-".to_owned()
                } else {
                    row.unmet.join("; ")
                }
            );
        }
    }
    if !report.skipped.is_empty() {
        let _ = writeln!(
            out,
            "\n{} checks could not be run against this target.",
            report.skipped.len()
        );
    }
    out
}

/// SARIF 2.1.0: one rule per check id, one result per failed check, warning or finding.
pub fn sarif(report: &RunReport) -> Value {
    let mut rules: BTreeMap<&str, Value> = BTreeMap::new();
    let mut results = Vec::new();
    for r in &report.results {
        rules.entry(r.check.id.as_str()).or_insert_with(|| {
            json!({
                "id": r.check.id,
                "shortDescription": {"text": title_of(r)},
                "properties": {"level": r.check.level_text(), "requirement": r.check.requirement, "document": document_of(&r.check.requirement)}
            })
        });
        let level = match r.verdict {
            Verdict::Failed => "error",
            Verdict::Warning => "warning",
            Verdict::Finding => "warning",
            Verdict::Note | Verdict::Changed => "note",
            Verdict::Passed => continue,
        };
        results.push(json!({
            "ruleId": r.check.id,
            "level": level,
            "kind": "fail",
            "message": {"text": r.messages.first().cloned().unwrap_or_else(|| format!("{:?}", r.verdict))},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": file_of(r)},
                "region": {"startLine": line_of(r)}
            }}],
            "properties": {"verdict": r.verdict, "target": report.target}
        }));
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "sfmc-oauth-conformance",
                "version": report.tool_version,
                "informationUri": "https://developer.salesforce.com/docs/marketing/marketing-cloud/guide/authorization-code.html",
                "rules": rules.into_values().collect::<Vec<_>>()
            }},
            "results": results
        }]
    })
}
