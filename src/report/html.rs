//! `report.html`: one self-contained page (styles inline, screenshots as data URLs) with every
//! scenario, its verdict, messages, evidence and the pages the browser showed.

use super::text::{anchor, document_of};
use super::RunReport;
use crate::outcome::Verdict;
use base64::Engine as _;
use std::fmt::Write as _;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The whole report as one HTML file.
pub fn html(report: &RunReport) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>sfmc-oauth-conformance: {target}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2em;color:#222}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:left}} .failed{{color:#b00}} .warning{{color:#b60}}
.finding{{color:#a0a}} .note{{color:#555}} .passed{{color:#070}} pre{{background:#f6f6f6;padding:.6em;white-space:pre-wrap;word-break:break-all}}
section{{border-top:1px solid #ddd;margin-top:1em;padding-top:.5em}} img{{max-width:640px;border:1px solid #999}}
</style></head><body>
<h1>Conformance run against {target}</h1>
<p>Started {started} · {dur:.1} s · sfmc-oauth-conformance {ver}</p>
<table id="counts"><tr><th>changed</th><th>failed</th><th>warning</th><th>finding</th><th>note</th><th>passed</th><th>skipped</th></tr>
<tr><td class="changed">{c}</td><td class="failed">{f}</td><td class="warning">{w}</td><td class="finding">{fi}</td><td class="note">{n}</td><td class="passed">{p}</td><td>{s}</td></tr></table>
"#,
        target = esc(&report.target),
        started = esc(&report.started),
        dur = report.duration_secs,
        ver = esc(&report.tool_version),
        c = report.count(Verdict::Changed),
        f = report.count(Verdict::Failed),
        w = report.count(Verdict::Warning),
        fi = report.count(Verdict::Finding),
        n = report.count(Verdict::Note),
        p = report.count(Verdict::Passed),
        s = report.skipped.len(),
    );
    if report.interrupted {
        let _ = writeln!(
            out,
            r#"<p id="interrupted" class="failed"><strong>{}</strong></p>"#,
            esc(super::INTERRUPTED_NOTE)
        );
    }
    out.push_str("<h2>Pages the browser showed</h2>\n");
    for (i, shot) in report.screenshots.iter().enumerate() {
        let _ = writeln!(
            out,
            r#"<figure id="shot-{i}"><img alt="{label}" src="data:image/png;base64,{data}"><figcaption>{label}: {url}</figcaption></figure>"#,
            label = esc(&shot.label),
            url = esc(&shot.url),
            data = base64::engine::general_purpose::STANDARD.encode(&shot.png)
        );
    }
    out.push_str("<h2>Scenarios</h2>\n");
    let mut ordered: Vec<_> = report.results.iter().collect();
    ordered.sort_by_key(|r| std::cmp::Reverse(r.verdict));
    for r in ordered {
        let class = format!("{:?}", r.verdict).to_lowercase();
        let _ = writeln!(
            out,
            r#"<section id="{id}"><h3 class="{class}">{check} · {class} · {level}</h3><p>{loc}<br>Requirement {req} ({doc})</p>"#,
            id = anchor(r),
            check = esc(&r.check.id),
            level = esc(r.check.level_text()),
            loc = esc(&r.location.to_string()),
            req = esc(&r.check.requirement),
            doc = esc(document_of(&r.check.requirement)),
        );
        if !r.steps.is_empty() {
            out.push_str("<ol class=\"steps\">");
            for st in &r.steps {
                let mark = match st.status.as_str() {
                    "passed" => "✔",
                    "failed" => "✘",
                    _ => "?",
                };
                let _ = write!(
                    out,
                    r#"<li class="{}">{mark} {} {}</li>"#,
                    if st.status == "passed" {
                        "passed"
                    } else {
                        "failed"
                    },
                    esc(&st.keyword),
                    esc(&st.text)
                );
            }
            out.push_str("</ol>");
        }
        for m in &r.messages {
            let _ = writeln!(out, "<pre>{}</pre>", esc(m));
        }
        for o in &r.observations {
            let _ = writeln!(out, "<p>Observed: {}</p>", esc(o));
        }
        if !r.evidence.is_empty() {
            out.push_str("<details><summary>Evidence</summary>");
            for e in &r.evidence {
                let _ = writeln!(out, "<pre>{}</pre>", esc(&e.to_string()));
            }
            out.push_str("</details>");
        }
        for i in &r.screenshots {
            let _ = write!(out, r##"<a href="#shot-{i}">page {i}</a> "##);
        }
        out.push_str("</section>\n");
    }
    if !report.skipped.is_empty() {
        out.push_str("<h2>Not run against this target</h2><ul>");
        for s in &report.skipped {
            let _ = write!(out, "<li>{}</li>", esc(&s.to_string()));
        }
        out.push_str("</ul>");
    }
    out.push_str("</body></html>\n");
    out
}
