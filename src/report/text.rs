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

/// The drift groups `summary.md` shows, and the lines of each.
const SUMMARY_DRIFT_GROUPS: usize = 3;
const SUMMARY_DIFF_LINES: usize = 12;
/// The failures `summary.md` shows with their message; the rest get a line each.
const SUMMARY_FAILURES: usize = 10;
/// The lines of a failure's message `summary.md` shows.
const SUMMARY_MESSAGE_LINES: usize = 12;

/// `summary.md`, in the order of `report.html` and short enough for a pull-request comment: the
/// verdict and counts, what changed since the previous run, the failures (expected against
/// actual, linked to their evidence), then warnings and findings in a line each.
pub fn summary_md(report: &RunReport) -> String {
    let mut out = String::new();
    let verdict = report.verdict();
    let _ = writeln!(
        out,
        "# {}: {}\n\n**{}** · exit {} · dialect {} · started {} · {:.1} s · sfmc-oauth-conformance {}\n",
        verdict.text(),
        report.target,
        verdict.text(),
        report.exit_code,
        if report.dialect.is_empty() { "-" } else { &report.dialect },
        report.started,
        report.duration_secs,
        report.tool_version
    );
    if let Some(why) = report.not_tested_because() {
        let label = if verdict == super::RunVerdict::NotTested {
            "Why"
        } else {
            "Also"
        };
        let _ = writeln!(out, "{label}: {why}.\n");
    }
    if report.interrupted {
        let _ = writeln!(out, "**{}**\n", super::INTERRUPTED_NOTE);
    }
    let counts: Vec<String> = report
        .counts()
        .into_iter()
        .map(|(label, _, n)| format!("{n} {label}"))
        .collect();
    let _ = writeln!(out, "{}\n", counts.join(" · "));
    let _ = writeln!(out, "## What changed since the previous run\n");
    match &report.previous {
        None => {
            let _ = writeln!(
                out,
                "No earlier run of this target is kept in this report folder.\n"
            );
        }
        Some(c) if c.is_empty() => {
            let _ = writeln!(
                out,
                "No verdict changed since the run of {} (`runs/{}`).\n",
                c.previous_started, c.previous_folder
            );
        }
        Some(c) => {
            let _ = writeln!(
                out,
                "Against the run of {} (`runs/{}`): {} new failure(s), {} fixed, {} other change(s).\n",
                c.previous_started,
                c.previous_folder,
                c.new_failures.len(),
                c.fixed.len(),
                c.other.len()
            );
            for (word, items) in [
                ("new", &c.new_failures),
                ("not met, not run last time", &c.not_run_before),
                ("fixed", &c.fixed),
                ("changed", &c.other),
            ] {
                for ch in items {
                    let _ = writeln!(
                        out,
                        "- {word}: **{}** {} ({} → {})",
                        ch.check,
                        ch.location,
                        ch.before.map_or("not run", |v| super::status_of(v).0),
                        super::status_of(ch.now).0
                    );
                }
            }
            out.push('\n');
        }
    }
    let groups = super::drift_groups(report);
    if !groups.is_empty() {
        let drifted: usize = groups.iter().map(|(_, rs)| rs.len()).sum();
        let _ = writeln!(
            out,
            "Baseline drift: {drifted} scenario(s) differ from their recorded baselines, in {} distinct change(s).\n",
            groups.len()
        );
        for (diff, rs) in groups.iter().take(SUMMARY_DRIFT_GROUPS) {
            let mut ids: Vec<&str> = rs.iter().map(|r| r.check.id.as_str()).collect();
            ids.dedup();
            let lines: Vec<&str> = diff.lines().collect();
            let shown = lines.len().min(SUMMARY_DIFF_LINES);
            let fence = fence_for(diff);
            let _ = writeln!(
                out,
                "In {} scenario(s) ({}):\n\n{fence}diff\n{}{}\n{fence}\n",
                rs.len(),
                ids.join(", "),
                lines[..shown].join("\n"),
                if lines.len() > shown {
                    format!("\n… {} more line(s) in report.html", lines.len() - shown)
                } else {
                    String::new()
                }
            );
        }
        if groups.len() > SUMMARY_DRIFT_GROUPS {
            let _ = writeln!(
                out,
                "{} more change(s): see report.html#drift.\n",
                groups.len() - SUMMARY_DRIFT_GROUPS
            );
        }
    }
    let (failures, errors): (Vec<&ScenarioResult>, Vec<&ScenarioResult>) = report
        .results
        .iter()
        .filter(|r| r.verdict == Verdict::Failed)
        .partition(|r| super::is_judged(r));
    if !failures.is_empty() {
        let _ = writeln!(out, "## Failures\n");
    }
    for (n, r) in failures.into_iter().enumerate() {
        if n >= SUMMARY_FAILURES {
            let _ = writeln!(
                out,
                "- ✘ **{}** ({}) {}: [evidence](report.html#i-{})",
                r.check.id,
                r.check.level_text(),
                title_of(r),
                anchor(r)
            );
            continue;
        }
        let source = super::advice::advice(&r.check.id)
            .map(|a| format!(" · [{}]({})", a.cite, a.link))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "### ✘ {} ({}, {}) {}\n\n{}:{} · [evidence](report.html#i-{}){source}\n",
            r.check.id,
            r.check.level_text(),
            if r.check.requirement.is_empty() {
                "-"
            } else {
                &r.check.requirement
            },
            title_of(r),
            file_of(r),
            line_of(r),
            anchor(r),
        );
        for m in &r.messages {
            let lines: Vec<&str> = m.lines().collect();
            let shown = lines.len().min(SUMMARY_MESSAGE_LINES);
            let more = if lines.len() > shown {
                format!("\n… {} more line(s) in report.html", lines.len() - shown)
            } else {
                String::new()
            };
            let text = format!("{}{more}", lines[..shown].join("\n"));
            let fence = fence_for(&text);
            let _ = writeln!(out, "{fence}\n{text}\n{fence}\n");
        }
    }
    if !errors.is_empty() {
        let _ = writeln!(
            out,
            "## Could not be judged\n\nThe environment or the tool failed in these scenarios: they say nothing about the target.\n"
        );
        for (n, r) in errors.iter().enumerate() {
            if n == SUMMARY_FAILURES {
                let _ = writeln!(out, "- and {} more", errors.len() - n);
                break;
            }
            let first = r
                .failure
                .as_ref()
                .map(|f| f.to_string())
                .or_else(|| r.messages.first().cloned())
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "- ! **{}** {}: {}",
                r.check.id,
                r.location,
                md_code(first.lines().next().unwrap_or(""))
            );
        }
        out.push('\n');
    }
    let concerns: Vec<&ScenarioResult> = report
        .results
        .iter()
        .filter(|r| {
            matches!(
                r.verdict,
                Verdict::Warning | Verdict::Finding | Verdict::Note
            )
        })
        .collect();
    if !concerns.is_empty() {
        let _ = writeln!(out, "## Warnings, findings and notes\n");
        for r in concerns {
            let (word, _, sym) = super::status_of(r.verdict);
            let first = r
                .messages
                .first()
                .and_then(|m| m.lines().next())
                .unwrap_or("");
            let _ = writeln!(
                out,
                "- {sym} {word}: **{}** ({}) {}: {}",
                r.check.id,
                r.check.level_text(),
                title_of(r),
                md_code(first)
            );
        }
        out.push('\n');
    }
    if !report.skipped.is_empty() {
        let mut reasons: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        for s in &report.skipped {
            *reasons
                .entry((super::status_of_skipped(s).0, s.reason.as_str()))
                .or_default() += 1;
        }
        let _ = writeln!(out, "## Not applicable or not run\n");
        for ((word, reason), n) in reasons {
            let _ = writeln!(out, "- {n} {word}: {reason}");
        }
    }
    out
}

/// A code fence longer than any run of backticks in `text`, so what a target said cannot end
/// the block early.
fn fence_for(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

/// `text` as inline code: what a target said stays text in a pull-request comment (no links,
/// images, mentions or emphasis of its own), with a backtick run longer than any inside it.
fn md_code(text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let ticks = "`".repeat(longest + 1);
    if text.starts_with('`') || text.ends_with('`') {
        format!("{ticks} {text} {ticks}")
    } else {
        format!("{ticks}{text}{ticks}")
    }
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

/// `compliance.md`: the per-check grid of `report.html` (a row per check id, grouped by area,
/// a symbol per scenario), then how many checks of each requirement document and level were
/// met, as a security reviewer signs off.
pub fn compliance_md(report: &RunReport) -> String {
    #[derive(Default)]
    struct Row {
        met: usize,
        total: usize,
        unmet: Vec<String>,
    }
    let verdict = report.verdict();
    let mut out = format!(
        "# Compliance of {}\n\nRun of {} · dialect {} · **{}** (exit {}).\n\nLegend: ✔ passed · Δ passed, differs from the baseline · ℹ note · ◆ finding · ⚠ warning · ✘ failed · ! could not be judged · – not applicable · ⏸ not run\n",
        report.target,
        report.started,
        if report.dialect.is_empty() { "-" } else { &report.dialect },
        verdict.text(),
        report.exit_code
    );
    // The grid.
    /// A check's row: level, requirement, a symbol per scenario, not-applicable reasons.
    type GridRow<'a> = (&'static str, &'a str, String, Vec<&'a str>);
    fn row<'a, 'm>(
        checks: &'m mut BTreeMap<&'a str, GridRow<'a>>,
        check: &'a crate::outcome::Check,
    ) -> &'m mut GridRow<'a> {
        checks.entry(check.id.as_str()).or_insert_with(|| {
            (
                check.level_text(),
                check.requirement.as_str(),
                String::new(),
                Vec::new(),
            )
        })
    }
    let mut checks: BTreeMap<&str, GridRow> = BTreeMap::new();
    for r in &report.results {
        row(&mut checks, &r.check)
            .2
            .push_str(super::status_of_result(r).2);
    }
    for s in &report.skipped {
        let e = row(&mut checks, &s.check);
        e.2.push_str(super::status_of_skipped(s).2);
        if !e.3.contains(&s.reason.as_str()) {
            e.3.push(s.reason.as_str());
        }
    }
    let areas = super::advice::AREAS
        .iter()
        .map(|(a, _)| *a)
        .chain(std::iter::once("Other"));
    for area in areas {
        let rows: Vec<_> = checks
            .iter()
            .filter(|(id, _)| super::advice::area_of(id) == area)
            .collect();
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "\n## {area}\n\n| check | level | requirement | scenarios | not applicable or not run |\n|---|---|---|---|---|"
        );
        for (id, (level, req, cells, reasons)) in rows {
            let source = super::advice::advice(id)
                .map(|a| format!(" ([{}]({}))", a.cite, a.link))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "| {id} | {level} | {req}{source} | {cells} | {} |",
                reasons.join("; ")
            );
        }
    }
    // By document.
    let mut table: BTreeMap<&str, BTreeMap<&str, Row>> = BTreeMap::new();
    for r in &report.results {
        let row = table
            .entry(document_of(&r.check.requirement))
            .or_default()
            .entry(r.check.level_text())
            .or_default();
        row.total += 1;
        if matches!(r.verdict, Verdict::Passed | Verdict::Changed) {
            row.met += 1;
        } else if super::is_judged(r) {
            row.unmet.push(format!("{} {}", r.check.id, title_of(r)));
        } else {
            row.unmet.push(format!(
                "{} {} (could not be judged)",
                r.check.id,
                title_of(r)
            ));
        }
    }
    out.push_str("\n## By requirement document\n\nA check is met when its scenario passed (a change from the baseline included); warnings, findings and notes count as not met.\n\n| document | level | met | of | not met |\n|---|---|---|---|---|\n");
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
            "\n{} scenario(s) not applicable to this target or not run.",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_target_said_stays_text_in_markdown() {
        assert_eq!(fence_for("plain"), "```");
        assert_eq!(fence_for("a ``` b"), "````");
        assert_eq!(fence_for("a ````` b"), "``````");
        assert_eq!(
            md_code("[x](https://evil.example) @team"),
            "`[x](https://evil.example) @team`"
        );
        assert_eq!(md_code("a `b` c"), "``a `b` c``");
        assert_eq!(md_code("`b`"), "`` `b` ``");
    }
}
