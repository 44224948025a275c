//! `report.html`: the page a QA lead or a security reviewer reads first. One self-contained file
//! (styles and a small filter script inline, screenshots as data URLs, nothing fetched), in the
//! order a reader asks: the verdict and counts; what changed since the previous run; the
//! failures, each with its evidence and the screenshot at its step; warnings and findings; the
//! compliance grid (prints on A4); every scenario, collapsed, with filters; the login pages once.
//! Everything but the filters works with scripts off.

use super::advice::{advice, area_of, AREAS};
use super::history::Change;
use super::text::{anchor, document_of};
use super::{is_judged, status_of, status_of_result, status_of_skipped, RunReport, NOT_JUDGED};
use crate::outcome::{ScenarioResult, Screenshot, ShotKind, Skipped, Verdict};
use base64::Engine as _;
use std::collections::BTreeMap;
use std::fmt::Write as _;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A value for a `data-` attribute or a filter: lower case, words joined by `-`.
fn slug(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

const STYLE: &str = r#"
:root{--fg:#1b1b1b;--muted:#4d4d4d;--line:#c4c4c4;--bg2:#f4f4f4;
--failed:#a50e0e;--warning:#8a4a00;--finding:#6a1b9a;--note:#37474f;--passed:#1e6b2e;--changed:#0b5394;--na:#595959;--notrun:#595959;--error:#000}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;padding:12px 20px 40px;max-width:1240px;color:var(--fg);background:#fff;overflow-wrap:anywhere}
h1{font-size:1.35em;margin:.2em 0 .3em}h2{font-size:1.2em;margin:1.4em 0 .4em;padding-top:.4em;border-top:2px solid var(--line)}
h3{font-size:1.02em;margin:.2em 0 .3em}h4{font-size:.95em;margin:.6em 0 .2em}
a{color:#0b4f8a}code,pre{font:13px/1.4 ui-monospace,"DejaVu Sans Mono",monospace}
pre{background:var(--bg2);padding:.5em .7em;white-space:pre-wrap;word-break:break-word;overflow-wrap:anywhere;margin:.3em 0;max-height:28em;overflow:auto}
.verdict{font-size:1.1em;margin:.2em 0;padding:.45em .7em;border-left:8px solid}
.verdict.conforms{border-color:var(--passed);background:#e8f3ea}.verdict.nonconformant{border-color:var(--failed);background:#fbeaea}
.verdict.untested{border-color:var(--error);background:#eee}
.meta{color:var(--muted);margin:.2em 0}
.counts{list-style:none;padding:0;margin:.4em 0;display:flex;flex-wrap:wrap;gap:5px;font-size:.9em}
.counts li{border:1px solid var(--line);border-left:6px solid;padding:.05em .45em;border-radius:3px}
.counts b{font-size:1.1em}
.badge{display:inline-block;color:#fff;padding:0 .4em;border-radius:3px;font-size:.85em;font-weight:600;white-space:nowrap}
.failed{--c:var(--failed)}.warning{--c:var(--warning)}.finding{--c:var(--finding)}.note{--c:var(--note)}.passed{--c:var(--passed)}
.changed{--c:var(--changed)}.na{--c:var(--na)}.notrun{--c:var(--notrun)}.error{--c:var(--error)}
.badge{background:var(--c)}.counts li{border-left-color:var(--c,var(--line))}
nav.toc{margin:.3em 0;font-size:.95em}
article.issue{border:1px solid var(--line);border-left:6px solid var(--c);padding:.5em .8em;margin:.6em 0}
.cols{display:flex;flex-wrap:wrap;gap:14px;align-items:flex-start}.cols>.main{flex:1 1 420px;min-width:0}
figure.shot{flex:0 1 440px;margin:0}figure.shot img{max-width:100%;height:auto;border:1px solid #888;cursor:zoom-in}
figure.shot img:focus{position:fixed;left:2vw;top:2vh;max-width:96vw;max-height:96vh;z-index:10;box-shadow:0 0 0 100vmax rgba(0,0,0,.6);cursor:zoom-out;outline:3px solid #fff}
figure.shot figcaption{font-size:.85em;color:var(--muted);overflow-wrap:anywhere}
table{border-collapse:collapse}td,th{border:1px solid var(--line);padding:.2em .45em;text-align:left;vertical-align:top}
table.ea{width:100%;table-layout:fixed}table.ea th{width:6.5em}table.ea td{overflow-wrap:anywhere}
.fix{background:#fffbe6;border:1px solid #e6d9a2;padding:.4em .6em;margin:.4em 0}
ol.steps{margin:.3em 0;padding-left:1.6em}ol.steps li.step-failed{font-weight:600;color:var(--failed)}
ol.steps li.step-skipped{color:var(--muted)}
.scroll{overflow-x:auto;max-width:100%;position:relative}
table.grid{width:100%;font-size:.9em}table.grid td.cells{min-width:6em}
.cell{display:inline-block;min-width:1.5em;text-align:center;margin:1px;padding:0 .2em;border-radius:2px;color:#fff;background:var(--c);text-decoration:none;font-weight:600}
.legend span{margin-right:.8em;white-space:nowrap}
details.scn{border-bottom:1px solid var(--line);padding:.15em 0}details.scn>summary{cursor:pointer}
details.scn[open]{background:#fafafa}
#filters{display:flex;flex-wrap:wrap;gap:8px 14px;align-items:flex-start;margin:.4em 0;padding:.5em;background:var(--bg2)}
#filters[hidden]{display:none}
#filters fieldset{border:1px solid var(--line);padding:.2em .5em;margin:0}#filters legend{font-weight:600;font-size:.9em}
#filters label{margin-right:.5em;white-space:nowrap}
.muted{color:var(--muted)}
.vh{position:absolute;width:1px;height:1px;margin:-1px;padding:0;border:0;overflow:hidden;clip:rect(0 0 0 0);clip-path:inset(50%);white-space:nowrap}
h3.inline{display:inline;font-size:1em}
ul.changes li{margin:.15em 0}
@media (max-width:600px){body{padding:8px 10px;font-size:14px}figure.shot{flex-basis:100%}.cols>.main{flex-basis:100%}}
@media print{
@page{size:A4;margin:12mm}
body{max-width:none;padding:0;font-size:9pt}
nav.toc,#filters,#all,#pages,details.http{display:none}
h2{break-after:avoid}article.issue,tr{break-inside:avoid}
figure.shot{flex-basis:55mm}pre{max-height:none}
.badge,.cell,.counts li{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
"#;

/// The filters: checked boxes of a group are alternatives; groups, the tag and the search
/// narrow each other. With scripts off the form stays hidden and every scenario is listed.
const SCRIPT: &str = r#"
(function(){var f=document.getElementById('filters');if(!f)return;f.hidden=false;
var items=[].slice.call(document.querySelectorAll('#list>.scn'));var out=document.getElementById('shown');
function on(n){return [].slice.call(f.querySelectorAll('input[name="'+n+'"]:checked')).map(function(i){return i.value})}
function apply(){var st=on('status'),lv=on('level'),ar=on('area'),tg=f.elements.tag.value,q=f.elements.q.value.trim().toLowerCase(),n=0;
items.forEach(function(d){var ok=(!st.length||st.indexOf(d.dataset.status)>=0)&&(!lv.length||lv.indexOf(d.dataset.level)>=0)
&&(!ar.length||ar.indexOf(d.dataset.area)>=0)&&(!tg||(' '+d.dataset.tags+' ').indexOf(' '+tg+' ')>=0)
&&(!q||d.textContent.toLowerCase().indexOf(q)>=0);d.hidden=!ok;if(ok)n++});
out.textContent='Showing '+n+' of '+items.length+' scenarios';}
f.addEventListener('input',apply);f.addEventListener('change',apply);f.addEventListener('submit',function(e){e.preventDefault()});apply();})();
"#;

fn data_url(shot: &Screenshot) -> String {
    format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(&shot.png)
    )
}

/// The whole report as one HTML file.
pub fn html(report: &RunReport) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let verdict = report.verdict();
    let _ = write!(
        out,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{word}: {target} · sfmc-oauth-conformance</title><style>{STYLE}</style></head><body>
<header>
<h1>Conformance of {target}</h1>
<p id="verdict" class="verdict {class}"><strong>{word}</strong> · exit {code} · dialect {dialect} · started {started} · {dur:.1} s</p>
"#,
        word = verdict.text(),
        class = verdict.class(),
        target = esc(&report.target),
        code = report.exit_code,
        dialect = esc(if report.dialect.is_empty() {
            "-"
        } else {
            &report.dialect
        }),
        started = esc(&report.started),
        dur = report.duration_secs,
    );
    if let Some(why) = report.not_tested_because() {
        let label = if verdict == super::RunVerdict::NotTested {
            "Why"
        } else {
            "Also"
        };
        let _ = writeln!(
            out,
            r#"<p class="why"><strong>{label}:</strong> {}.</p>"#,
            esc(&why)
        );
    }
    if report.interrupted {
        let _ = writeln!(
            out,
            r#"<p id="interrupted"><strong>{}</strong></p>"#,
            esc(super::INTERRUPTED_NOTE)
        );
    }
    out.push_str(r#"<ul id="counts" class="counts">"#);
    for (label, class, n) in report.counts() {
        let _ = write!(out, r#"<li class="{class}"><b>{n}</b> {label}</li>"#);
    }
    out.push_str("</ul>\n");
    let mut failures: Vec<&ScenarioResult> = report
        .results
        .iter()
        .filter(|r| r.verdict == Verdict::Failed && is_judged(r))
        .collect();
    // New failures first: the question after "does it conform" is "is it worse than last time".
    if let Some(c) = &report.previous {
        failures.sort_by_key(|r| {
            let location = r.location.to_string();
            !c.new_failures.iter().any(|n| n.location == location)
        });
    }
    let errors: Vec<&ScenarioResult> = report
        .results
        .iter()
        .filter(|r| r.verdict == Verdict::Failed && !is_judged(r))
        .collect();
    let mut concerns: Vec<&ScenarioResult> = report
        .results
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Warning | Verdict::Finding))
        .collect();
    concerns.sort_by_key(|r| std::cmp::Reverse(r.verdict));
    let _ = writeln!(
        out,
        r##"<nav class="toc" aria-label="Sections"><a href="#changes">What changed</a> · <a href="#failures">Failures ({})</a> · <a href="#concerns">Warnings and findings ({})</a> · <a href="#grid">Compliance grid</a> · <a href="#all">All scenarios</a> · <span class="muted">sfmc-oauth-conformance {}</span></nav>
</header><main>"##,
        failures.len(),
        concerns.len(),
        esc(&report.tool_version)
    );
    changes(&mut out, report);
    let sections: [(&str, &str, &[&ScenarioResult], &str); 3] = [
        ("failures", "Failures", &failures, "<p>No check failed.</p>"),
        (
            "errors",
            "Could not be judged",
            &errors,
            "<p>The environment or the tool failed in these scenarios: they say nothing about the target.</p>",
        ),
        (
            "concerns",
            "Warnings and findings",
            &concerns,
            "<p>No SHOULD check was missed and no probe found a weakness.</p>",
        ),
    ];
    for (id, title, items, note) in sections {
        // "Could not be judged" shows only when something was not.
        if id == "errors" && items.is_empty() {
            continue;
        }
        let _ = write!(
            out,
            r#"<section id="{id}" aria-labelledby="h-{id}"><h2 id="h-{id}">{title} ({})</h2>"#,
            items.len()
        );
        if items.is_empty() || id == "errors" {
            out.push_str(note);
        }
        out.push('\n');
        for r in items {
            issue(&mut out, report, r);
        }
        out.push_str("</section>\n");
    }
    grid(&mut out, report);
    all_scenarios(&mut out, report);
    pages(&mut out, report);
    let _ = writeln!(out, "</main><script>{SCRIPT}</script></body></html>");
    out
}

/// "What changed since the previous run": new failures, fixed checks, other changes, baseline
/// drift with its changed lines.
fn changes(out: &mut String, report: &RunReport) {
    out.push_str(
        r#"<section id="changes" aria-labelledby="h-changes"><h2 id="h-changes">What changed since the previous run</h2>"#,
    );
    let drift: Vec<&ScenarioResult> = report
        .results
        .iter()
        .filter(|r| r.drift.is_some())
        .collect();
    match &report.previous {
        None => out.push_str(
            "<p>No earlier run of this target is kept in this report folder: the next run will be compared with this one.</p>",
        ),
        Some(c) => {
            let _ = write!(
                out,
                r#"<p>Against the run of {} (<code>runs/{}</code>, exit {}): <strong>{} new failure(s)</strong>, {} not met and not run last time, {} fixed, {} other change(s){}.</p>"#,
                esc(&c.previous_started),
                esc(&c.previous_folder),
                c.previous_exit_code,
                c.new_failures.len(),
                c.not_run_before.len(),
                c.fixed.len(),
                c.other.len(),
                if c.gone > 0 {
                    format!(", {} scenario(s) of that run not run this time", c.gone)
                } else {
                    String::new()
                }
            );
            // One line per new failure (the first few); fixed and other changes folded, with
            // their check ids in the summary line: the first failure stays on the first screen.
            let item = |out: &mut String, ch: &Change| {
                let before = ch.before.map_or("not run", |v| status_of(v).0);
                let (now, class, sym) = status_of(ch.now);
                let name = ch
                    .location
                    .split_once(" `")
                    .map_or(ch.location.as_str(), |(_, n)| n.trim_end_matches('`'));
                let _ = write!(
                    out,
                    r##"<li><span class="badge {class}">{sym} {now}</span> <strong>{}</strong> <a href="#{}" title="{}">{}</a> <span class="muted">(was {before})</span></li>"##,
                    esc(&ch.check),
                    esc(&anchor_of_location(report, &ch.location)),
                    esc(&ch.location),
                    esc(name),
                );
            };
            let list = |out: &mut String, title: &str, id: &str, items: &[Change], open: usize| {
                if items.is_empty() {
                    return;
                }
                let ids: Vec<&str> = items.iter().map(|c| c.check.as_str()).collect();
                if open == 0 {
                    let _ = write!(
                        out,
                        r#"<details><summary><h3 id="{id}" class="inline">{title} ({}): {}</h3></summary><ul class="changes">"#,
                        items.len(),
                        esc(&short_list(&ids, 8))
                    );
                } else {
                    let _ = write!(
                        out,
                        r#"<h3 id="{id}">{title} ({})</h3><ul class="changes">"#,
                        items.len()
                    );
                }
                for (n, ch) in items.iter().enumerate() {
                    if open > 0 && n == open {
                        let _ = write!(
                            out,
                            r#"</ul><details><summary>{} more: {}</summary><ul class="changes">"#,
                            items.len() - open,
                            esc(&short_list(&ids[open..], 8))
                        );
                    }
                    item(out, ch);
                }
                out.push_str("</ul>");
                if open == 0 || items.len() > open {
                    out.push_str("</details>");
                }
            };
            list(out, "New failures", "new-failures", &c.new_failures, SHOWN_CHANGES);
            list(out, "Not met, and not run last time", "not-run-before", &c.not_run_before, 0);
            list(out, "Fixed", "fixed", &c.fixed, 0);
            list(out, "Other changes", "other-changes", &c.other, 0);
        }
    }
    if !drift.is_empty() {
        let groups = super::drift_groups(report);
        let _ = write!(
            out,
            r#"<details id="drift"><summary><h3 class="inline">Baseline drift: {} scenario(s) differ from their recorded baselines, in {} distinct change(s)</h3> <span class="muted">(drift fails a run only with <code>--fail-on-drift</code>)</span></summary>"#,
            drift.len(),
            groups.len()
        );
        for (diff, rs) in groups {
            let ids: Vec<&str> = rs.iter().map(|r| r.check.id.as_str()).collect();
            let _ = write!(
                out,
                r#"<h4>In {} scenario(s): {}</h4><pre>{}</pre><ul>"#,
                rs.len(),
                esc(&short_list(&ids, 12)),
                esc(diff)
            );
            for r in rs {
                let _ = write!(
                    out,
                    r##"<li><a href="#{}">{}</a></li>"##,
                    anchor(r),
                    esc(&r.location.to_string())
                );
            }
            out.push_str("</ul>");
        }
        out.push_str("</details>");
    }
    out.push_str("</section>\n");
}

/// How many changes of a kind are listed before the rest are folded away (the first failure
/// stays in the first screen).
const SHOWN_CHANGES: usize = 3;

/// `s` with its first letter in capitals.
fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// `items` joined by commas, at most `max` of them, then how many more.
fn short_list(items: &[&str], max: usize) -> String {
    let mut unique: Vec<&str> = Vec::new();
    for i in items {
        if !unique.contains(i) {
            unique.push(i);
        }
    }
    let mut out = unique
        .iter()
        .take(max)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if unique.len() > max {
        out.push_str(&format!(" and {} more", unique.len() - max));
    }
    out
}

/// The anchor of the scenario at `location` (`file:line `name``), in this report.
fn anchor_of_location(report: &RunReport, location: &str) -> String {
    report
        .results
        .iter()
        .find(|r| r.location.to_string() == location)
        .map(anchor)
        .unwrap_or_default()
}

/// A requirement with its source, linked.
fn requirement(r: &ScenarioResult) -> String {
    let req = if r.check.requirement.is_empty() {
        "-".to_owned()
    } else {
        esc(&r.check.requirement)
    };
    match advice(&r.check.id) {
        Some(a) => format!(r#"{req}: <a href="{}">{}</a>"#, esc(&a.link), esc(&a.cite)),
        None => format!("{req} ({})", esc(document_of(&r.check.requirement))),
    }
}

/// One failure, warning or finding: heading, requirement, expected against actual, what it
/// means, the steps with the failing one marked, the screenshot at that step, the exchange.
fn issue(out: &mut String, report: &RunReport, r: &ScenarioResult) {
    let (word, class, sym) = status_of_result(r);
    let _ = write!(
        out,
        r##"<article class="issue {class}" id="i-{a}" data-check="{id}"><h3><span class="badge {class}">{sym} {word}</span> {id} · {level} · {name}</h3>
<p class="req">Requirement {req} · <a href="#{a}">{loc}</a></p><div class="cols"><div class="main">"##,
        a = anchor(r),
        id = esc(&r.check.id),
        level = esc(r.check.level_text()),
        name = esc(&r.location.name),
        req = requirement(r),
        loc = esc(&r.location.to_string()),
    );
    match r
        .failure
        .as_ref()
        .filter(|f| !f.expected.is_empty() || !f.actual.is_empty())
    {
        Some(f) => {
            let _ = write!(
                out,
                r#"<table class="ea"><tr><th scope="row">Checked</th><td>{}</td></tr><tr><th scope="row">Expected</th><td><code>{}</code></td></tr><tr><th scope="row">Actual</th><td><code>{}</code></td></tr></table>"#,
                esc(&f.what),
                esc(&f.expected),
                esc(&f.actual)
            );
        }
        None => {
            for m in &r.messages {
                let _ = write!(out, r#"<pre class="ea">{}</pre>"#, esc(m));
            }
        }
    }
    for o in &r.observations {
        let _ = write!(out, "<p>Observed: {}</p>", esc(o));
    }
    // A failure by drift (`--fail-on-drift`) is a change, not non-conformance: no advice.
    if is_judged(r) && !(r.drift.is_some() && r.failure.is_none()) {
        if let Some(a) = advice(&r.check.id) {
            let _ = write!(
                out,
                r#"<p class="fix"><strong>What this means and how to fix it.</strong> {}</p>"#,
                esc(a.fix.trim())
            );
        }
    }
    steps(out, r);
    out.push_str("</div>");
    match r.failing_shot.and_then(|i| report.screenshots.get(i).map(|s| (i, s))) {
        Some((i, shot)) => {
            let _ = write!(
                out,
                r#"<figure class="shot" id="shot-{i}"><img tabindex="0" alt="{label}, at {url}" src="{src}"><figcaption>{label}: {url} <span class="muted">(select the picture to enlarge it)</span></figcaption></figure>"#,
                label = esc(&capitalized(&shot.label)),
                url = esc(&shot.url),
                src = data_url(shot)
            );
        }
        None => out.push_str(
            r#"<p class="noshot muted">No screenshot: the scenario did not use the browser, or the browser showed Chromium's own error page, which says nothing of the target.</p>"#,
        ),
    }
    out.push_str("</div>");
    exchanges(out, r, true);
    out.push_str("</article>\n");
}

fn steps(out: &mut String, r: &ScenarioResult) {
    if r.steps.is_empty() {
        return;
    }
    out.push_str(r#"<ol class="steps">"#);
    for st in &r.steps {
        let (mark, class, word) = match st.status.as_str() {
            "passed" => ("✔", "step-passed", ""),
            "failed" => ("✘", "step-failed", " (failed here)"),
            "skipped" => ("–", "step-skipped", " (not run)"),
            _ => ("?", "step-skipped", ""),
        };
        let _ = write!(
            out,
            r#"<li class="{class}">{mark} {} {}{word}</li>"#,
            esc(&st.keyword),
            esc(&st.text)
        );
    }
    out.push_str("</ol>");
}

/// The scenario's HTTP exchanges, redacted when captured.
fn exchanges(out: &mut String, r: &ScenarioResult, class_http: bool) {
    let evidence = r.failure.as_ref().map(|f| f.evidence.trim()).unwrap_or("");
    if r.evidence.is_empty() && evidence.is_empty() {
        return;
    }
    let _ = write!(
        out,
        r#"<details class="{}"><summary>HTTP exchange, redacted ({} request(s))</summary>"#,
        if class_http { "http" } else { "" },
        r.evidence.len()
    );
    for e in &r.evidence {
        let _ = write!(
            out,
            r#"<pre class="exchange">{}</pre>"#,
            esc(&e.to_string())
        );
    }
    if r.evidence.is_empty() {
        let _ = write!(out, r#"<pre class="exchange">{}</pre>"#, esc(evidence));
    }
    out.push_str("</details>");
}

/// One row of the compliance grid.
struct Row<'a> {
    level: &'static str,
    requirement: String,
    results: Vec<&'a ScenarioResult>,
    skipped: Vec<&'a Skipped>,
}

/// The compliance grid: a row per check id, grouped by area, a cell per scenario.
fn grid(out: &mut String, report: &RunReport) {
    let mut rows: BTreeMap<&str, Row> = BTreeMap::new();
    for r in &report.results {
        let row = rows.entry(r.check.id.as_str()).or_insert_with(|| Row {
            level: r.check.level_text(),
            requirement: r.check.requirement.clone(),
            results: Vec::new(),
            skipped: Vec::new(),
        });
        row.results.push(r);
    }
    for s in &report.skipped {
        let row = rows.entry(s.check.id.as_str()).or_insert_with(|| Row {
            level: s.check.level_text(),
            requirement: s.check.requirement.clone(),
            results: Vec::new(),
            skipped: Vec::new(),
        });
        row.skipped.push(s);
    }
    out.push_str(r#"<section id="grid" aria-labelledby="h-grid"><h2 id="h-grid">Compliance grid</h2><p class="legend">"#);
    for (word, class, sym) in [
        status_of(Verdict::Passed),
        status_of(Verdict::Changed),
        status_of(Verdict::Note),
        status_of(Verdict::Finding),
        status_of(Verdict::Warning),
        status_of(Verdict::Failed),
        NOT_JUDGED,
        ("not applicable", "na", "–"),
        ("not run", "notrun", "⏸"),
    ] {
        let _ = write!(
            out,
            r#"<span><span class="cell {class}" aria-hidden="true">{sym}</span> {word}</span>"#
        );
    }
    out.push_str("</p>");
    let areas = AREAS
        .iter()
        .map(|(a, _)| *a)
        .chain(std::iter::once("Other"));
    for area in areas {
        let in_area: Vec<(&&str, &Row)> =
            rows.iter().filter(|(id, _)| area_of(id) == area).collect();
        if in_area.is_empty() {
            continue;
        }
        let _ = write!(
            out,
            r#"<h3 id="grid-{}">{}</h3><div class="scroll"><table class="grid"><thead><tr><th scope="col">Check</th><th scope="col">Level</th><th scope="col">Requirement</th><th scope="col">Result</th><th scope="col">Scenarios</th><th scope="col">Not applicable or not run</th></tr></thead><tbody>"#,
            slug(area),
            esc(area)
        );
        for (id, row) in in_area {
            // The worst judged verdict; "could not be judged" only where no judged failure says
            // more.
            let worst = row
                .results
                .iter()
                .filter(|r| is_judged(r))
                .map(|r| r.verdict)
                .max();
            let any_error = row.results.iter().any(|r| !is_judged(r));
            let (word, class) = match worst {
                Some(Verdict::Failed) => ("failed", "failed"),
                _ if any_error => ("could not be judged", "error"),
                Some(v) => {
                    let (w, c, _) = status_of(v);
                    (w, c)
                }
                None if row.skipped.iter().all(|s| s.gated) => ("not run", "notrun"),
                None => ("not applicable", "na"),
            };
            let req = match advice(id) {
                Some(a) => format!(
                    r#"{} <a href="{}">{}</a>"#,
                    esc(&row.requirement),
                    esc(&a.link),
                    esc(&a.cite)
                ),
                None => esc(&row.requirement),
            };
            let _ = write!(
                out,
                r#"<tr id="g-{}"><th scope="row">{}</th><td>{}</td><td>{req}</td><td class="result {class}"><span class="badge {class}">{word}</span></td><td class="cells">"#,
                slug(id),
                esc(id),
                esc(row.level),
            );
            for r in &row.results {
                let (w, c, sym) = status_of_result(r);
                let _ = write!(
                    out,
                    r##"<a class="cell {c}" href="#{}" title="{}: {w}"><span aria-hidden="true">{sym}</span><span class="vh">{}: {w}</span></a>"##,
                    anchor(r),
                    esc(&r.location.name),
                    esc(&r.location.name),
                );
            }
            for s in &row.skipped {
                let (w, c, sym) = status_of_skipped(s);
                let _ = write!(
                    out,
                    r#"<span class="cell {c}" title="{}: {w}"><span aria-hidden="true">{sym}</span><span class="vh">{}: {w}</span></span>"#,
                    esc(&s.location.name),
                    esc(&s.location.name),
                );
            }
            out.push_str("</td><td>");
            let mut reasons: Vec<&str> = row.skipped.iter().map(|s| s.reason.as_str()).collect();
            reasons.sort_unstable();
            reasons.dedup();
            let _ = write!(
                out,
                "{}",
                reasons
                    .iter()
                    .map(|r| esc(r))
                    .collect::<Vec<_>>()
                    .join("<br>")
            );
            out.push_str("</td></tr>");
        }
        out.push_str("</tbody></table></div>\n");
    }
    out.push_str("</section>\n");
}

/// Every scenario, collapsed, with filters; not applicable and not run ones included.
fn all_scenarios(out: &mut String, report: &RunReport) {
    let total = report.results.len() + report.skipped.len();
    let _ = write!(
        out,
        r#"<section id="all" aria-labelledby="h-all"><h2 id="h-all">All scenarios ({total})</h2>
<form id="filters" hidden aria-label="Filter the scenarios">"#
    );
    let mut statuses: BTreeMap<(u8, &str), usize> = BTreeMap::new();
    for r in &report.results {
        let (w, _, _) = status_of_result(r);
        *statuses.entry((order_of(w), w)).or_default() += 1;
    }
    for s in &report.skipped {
        let w = status_of_skipped(s).0;
        *statuses.entry((order_of(w), w)).or_default() += 1;
    }
    out.push_str("<fieldset><legend>Status</legend>");
    for ((_, w), n) in &statuses {
        let _ = write!(
            out,
            r#"<label><input type="checkbox" name="status" value="{}"> {w} ({n})</label>"#,
            slug(w)
        );
    }
    out.push_str("</fieldset><fieldset><legend>Level</legend>");
    for l in ["MUST", "SHOULD", "MAY", "PROBE"] {
        let _ = write!(
            out,
            r#"<label><input type="checkbox" name="level" value="{l}"> {l}</label>"#
        );
    }
    out.push_str("</fieldset><fieldset><legend>Area</legend>");
    for (a, _) in AREAS {
        let _ = write!(
            out,
            r#"<label><input type="checkbox" name="area" value="{}"> {a}</label>"#,
            slug(a)
        );
    }
    out.push_str(r#"</fieldset><label>Tag <select name="tag"><option value="">any</option>"#);
    let mut tags: Vec<&str> = report
        .results
        .iter()
        .flat_map(|r| r.tags.iter())
        .map(|t| t.trim_start_matches('@'))
        .filter(|t| {
            crate::outcome::check_id(&[*t]).is_none()
                && !t.starts_with("req:")
                && t.parse::<crate::outcome::Level>().is_err()
        })
        .collect();
    tags.sort_unstable();
    tags.dedup();
    for t in tags {
        let _ = write!(out, r#"<option value="{0}">@{0}</option>"#, esc(t));
    }
    out.push_str(r#"</select></label><label>Search <input type="search" name="q" placeholder="check id, name, text"></label></form>"#);
    let _ = write!(
        out,
        r#"<p id="shown" aria-live="polite">Showing {total} of {total} scenarios</p><div id="list">"#
    );
    let mut ordered: Vec<&ScenarioResult> = report.results.iter().collect();
    ordered.sort_by_key(|r| std::cmp::Reverse(r.verdict));
    for r in ordered {
        let (w, class, sym) = status_of_result(r);
        let tags: Vec<&str> = r.tags.iter().map(|t| t.trim_start_matches('@')).collect();
        let _ = write!(
            out,
            r#"<details class="scn" id="{a}" data-status="{st}" data-level="{lv}" data-area="{ar}" data-tags="{tg}"><summary><span class="badge {class}">{sym} {w}</span> <strong>{id}</strong> · {lv} · {name}</summary>
<p>{loc} · requirement {req}</p>"#,
            a = anchor(r),
            st = slug(w),
            lv = esc(r.check.level_text()),
            ar = slug(area_of(&r.check.id)),
            tg = esc(&tags.join(" ")),
            id = esc(&r.check.id),
            name = esc(&r.location.name),
            loc = esc(&r.location.to_string()),
            req = requirement(r),
        );
        if matches!(
            r.verdict,
            Verdict::Failed | Verdict::Warning | Verdict::Finding
        ) {
            let _ = write!(
                out,
                r##"<p><a href="#i-{}">The evidence above</a></p>"##,
                anchor(r)
            );
        }
        for m in &r.messages {
            let _ = write!(out, "<pre>{}</pre>", esc(m));
        }
        for o in &r.observations {
            let _ = write!(out, "<p>Observed: {}</p>", esc(o));
        }
        steps(out, r);
        exchanges(out, r, false);
        let shown: Vec<usize> = r
            .screenshots
            .iter()
            .copied()
            .filter(|i| shown_in_pages(report, *i))
            .collect();
        if !shown.is_empty() {
            out.push_str("<p>Pages: ");
            for i in shown {
                let _ = write!(
                    out,
                    r##"<a href="#shot-{i}">{}</a> "##,
                    esc(&report.screenshots[i].label)
                );
            }
            out.push_str("</p>");
        }
        out.push_str("</details>\n");
    }
    for s in &report.skipped {
        let (w, class, sym) = status_of_skipped(s);
        let _ = writeln!(
            out,
            r#"<details class="scn" data-status="{st}" data-level="{lv}" data-area="{ar}" data-tags=""><summary><span class="badge {class}">{sym} {w}</span> <strong>{id}</strong> · {lv} · {name}</summary><p>{loc}</p><p>{reason}</p></details>"#,
            st = slug(w),
            lv = esc(s.check.level_text()),
            ar = slug(area_of(&s.check.id)),
            id = esc(&s.check.id),
            name = esc(&s.location.name),
            loc = esc(&s.location.to_string()),
            reason = esc(&s.reason),
        );
    }
    out.push_str("</div></section>\n");
}

/// The order of statuses in the filter: worst first.
fn order_of(word: &str) -> u8 {
    match word {
        "could not be judged" => 0,
        "failed" => 1,
        "warning" => 2,
        "finding" => 3,
        "note" => 4,
        "changed" => 5,
        "passed" => 6,
        "not applicable" => 7,
        _ => 8,
    }
}

/// Whether the screenshot at `i` is shown among the pages: what reached a redirect URI (the
/// catcher's page), and the first login page. Failing steps' screenshots are shown with their
/// failure; other pages carry no evidence of their own.
fn shown_in_pages(report: &RunReport, i: usize) -> bool {
    let Some(shot) = report.screenshots.get(i) else {
        return false;
    };
    match shot.kind {
        ShotKind::Callback => true,
        ShotKind::Login => {
            report
                .screenshots
                .iter()
                .position(|s| s.kind == ShotKind::Login)
                == Some(i)
        }
        ShotKind::Page | ShotKind::Failing => false,
    }
}

/// The pages the browser showed that carry evidence: the catcher's pages and the login page
/// once.
fn pages(out: &mut String, report: &RunReport) {
    let shown: Vec<usize> = (0..report.screenshots.len())
        .filter(|i| shown_in_pages(report, *i))
        .collect();
    if shown.is_empty() {
        return;
    }
    out.push_str(r#"<section id="pages" aria-labelledby="h-pages"><h2 id="h-pages">Pages the browser showed</h2><p>What reached the redirect URIs (the local catcher's page: no code reached an app), and the login page once.</p><div class="cols">"#);
    for i in shown {
        let shot = &report.screenshots[i];
        let _ = write!(
            out,
            r#"<figure class="shot" id="shot-{i}"><img tabindex="0" alt="{label}, at {url}" src="{src}" loading="lazy"><figcaption>{label}: {url}</figcaption></figure>"#,
            label = esc(&shot.label),
            url = esc(&shot.url),
            src = data_url(shot)
        );
    }
    out.push_str("</div></section>\n");
}
