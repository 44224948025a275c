//! report.html as a reader meets it: three real runs against the simulator (a failing run with
//! findings and checks that do not apply, a clean run, and a run compared with an earlier one),
//! each page rendered in headless Chromium at 1280×900 and 390×844. The page's structure, its
//! filters (clicked through WebDriver), its headings, contrast and width, and that it fetches
//! nothing. Screenshots of every page are kept in `target/tmp/report-pages/`, to look at.
//! `SFMC_RENDER_PAGE=reports/latest/report.html` adds a page of your own to the three.

mod common;

use common::run;
use serde_json::{json, Value};
use sfmc_oauth_conformance::browser::Browser;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The scenarios the runs select: browser and token checks that the faults below break, a
/// PROBE, and the live-only checks, which do not apply to the simulator.
const TAGS: &str = "@AR-01 or @TE-01 or @AR-07 or @RU-03 or @live-only";
/// Break AR-01 (the state is dropped) and TE-01 (a wrong secret is let through) as MUST failures,
/// and make AR-07's probe a finding (a wrong `iss`).
const FAILING: &[&str] = &["state-dropped", "secret-not-checked", "wrong-iss"];
/// The second run against the same report folder: AR-01 fixed, RU-03 newly broken.
const LATER: &[&str] = &[
    "redirect-uri-ignores-query",
    "secret-not-checked",
    "wrong-iss",
];

fn run_into(dir: &Path, faults: &[&str]) -> common::Run {
    let dir = dir.display().to_string();
    let mut args = vec!["run", "-t", TAGS, "--report-dir", &dir, "--color", "never"];
    for f in faults {
        args.extend(["--fault", f]);
    }
    let (r, _tmp) = run(&args, Duration::from_secs(180));
    r
}

fn latest(dir: &Path) -> PathBuf {
    let link = std::fs::read_link(dir.join("latest")).expect("reports/latest");
    dir.join(link)
}

/// Where the screenshots of the rendered pages go.
fn pages_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-pages");
    std::fs::create_dir_all(&d).expect("a folder");
    d
}

/// What the page says of itself, read in the browser.
const READ_STRUCTURE: &str = r#"
const q = s => document.querySelector(s);
const all = s => Array.from(document.querySelectorAll(s));
const before = (a, b) => !!(a && b && (a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING));
const heads = all('h1,h2,h3,h4,h5,h6').map(h => +h.tagName[1]);
let jumps = [];
for (let i = 1; i < heads.length; i++) if (heads[i] > heads[i-1] + 1) jumps.push(i);
const failures = all('#failures article.issue').map(a => ({
  check: a.dataset.check,
  evidence: !!a.querySelector('table.ea, pre.ea'),
  exchange: !!a.querySelector('pre.exchange'),
  img: (a.querySelector('figure.shot') || {}).id || '',
  loaded: !!(a.querySelector('figure.shot img') && a.querySelector('figure.shot img').naturalWidth > 0),
  fix: !!a.querySelector('.fix'),
  link: !!a.querySelector('.req a[href^="https://"]'),
  failedStep: !!a.querySelector('li.step-failed'),
}));
const list = all('#list > .scn').map(d => d.dataset.status);
const rank = s => ['could-not-be-judged','failed','warning','finding','note','changed','passed','not-applicable','not-run'].indexOf(s);
let unordered = 0;
for (let i = 1; i < list.length; i++) if (rank(list[i]) < rank(list[i-1])) unordered++;
return {
  h1: all('h1').length,
  verdictAfterH1: (q('h1').nextElementSibling || {}).id === 'verdict',
  verdict: q('#verdict').textContent,
  counts: q('#counts').textContent,
  findings: +((q('#counts li.finding b') || {}).textContent || -1),
  jumps,
  failures,
  failuresBeforeConcerns: before(q('#failures'), q('#concerns')),
  failuresBeforeAll: before(q('#failures'), q('#all')),
  changes: q('#changes').textContent,
  newFailures: (q('#new-failures') || {}).textContent || '',
  newIds: all('#changes li strong').map(e => e.textContent),
  fixed: (q('#fixed') || {}).textContent || '',
  list,
  unordered,
  gridRows: all('#grid tbody tr').length,
  naInGrid: all('#grid .cell.na').length,
  cellsWithoutText: all('.badge, .cell').filter(e => !e.textContent.trim()).length,
  imgsWithoutAlt: all('img').filter(i => !i.alt).length,
};
"#;

/// Every text's contrast against the background it is drawn on (WCAG 2 relative luminance):
/// the pieces of text below 4.5:1 (3:1 for large text).
const READ_CONTRAST: &str = r#"
function rgb(s){const m=s.match(/[\d.]+/g)||[0,0,0,0];return {r:+m[0],g:+m[1],b:+m[2],a:m[3]===undefined?1:+m[3]}}
function lum(c){const f=v=>{v/=255;return v<=0.03928?v/12.92:Math.pow((v+0.055)/1.055,2.4)};return 0.2126*f(c.r)+0.7152*f(c.g)+0.0722*f(c.b)}
function bg(e){for(;e;e=e.parentElement){const c=rgb(getComputedStyle(e).backgroundColor);if(c.a>0.5)return c}return {r:255,g:255,b:255,a:1}}
const low=[];
const walker=document.createTreeWalker(document.body,NodeFilter.SHOW_TEXT);
const seen=new Set();
while(walker.nextNode()){const t=walker.currentNode;if(!t.textContent.trim())continue;const e=t.parentElement;if(seen.has(e))continue;seen.add(e);
 const st=getComputedStyle(e);if(st.visibility==='hidden'||e.closest('[hidden]')||e.offsetParent===null&&st.position!=='fixed')continue;
 const fg=rgb(st.color),b=bg(e);const L1=lum(fg),L2=lum(b);const ratio=(Math.max(L1,L2)+0.05)/(Math.min(L1,L2)+0.05);
 const size=parseFloat(st.fontSize),bold=+st.fontWeight>=700;const need=(size>=24||(size>=18.66&&bold))?3:4.5;
 if(ratio<need)low.push(e.tagName+'.'+e.className+' '+ratio.toFixed(2)+' '+t.textContent.trim().slice(0,30));}
return low;
"#;

async fn save_screenshot(b: &Browser, name: &str) -> PathBuf {
    let path = pages_dir().join(format!("{name}.png"));
    std::fs::write(&path, b.screenshot().await.expect("a screenshot")).expect("written");
    path
}

/// Opens `page` at 1280×900, reads it, keeps screenshots at 1280 and 390 px, and checks what
/// holds for every report page: one h1 followed by the verdict, headings in order, status in
/// text, contrast AA, no horizontal scrolling at 390 px, nothing fetched from the network.
async fn render(b: &Browser, page: &Path, name: &str) -> Value {
    b.set_window_size(1280, 900).await.expect("sized");
    let _ = b.network_requests().await;
    let opened = Instant::now();
    b.open(&format!("file://{}", page.display()))
        .await
        .expect("opens");
    let s = b.eval(READ_STRUCTURE).await.expect("the structure");
    let first = b
        .eval(
            "const a=document.querySelector('#failures article.issue');if(!a)return null;\
             const e=a.querySelector('table.ea, pre.ea').getBoundingClientRect();\
             const i=a.querySelector('figure.shot img');const r=i?i.getBoundingClientRect():e;\
             return {evidence:e.bottom,shot:r.bottom,height:innerHeight,scrolled:scrollY};",
        )
        .await
        .expect("the first failure's place");
    let seen_in = opened.elapsed();
    let loaded = b
        .eval("const t=performance.timing;return t.domContentLoadedEventEnd-t.navigationStart")
        .await
        .expect("timing");
    eprintln!(
        "{name}: {} KB; opened and first failure's evidence read after {} ms (DOMContentLoaded at {loaded} ms); first failure {first}",
        std::fs::metadata(page).map(|m| m.len() / 1024).unwrap_or(0),
        seen_in.as_millis()
    );
    save_screenshot(b, &format!("{name}-1280")).await;
    if first.is_object() {
        assert!(
            first["evidence"].as_f64() <= first["height"].as_f64()
                && first["shot"].as_f64() <= first["height"].as_f64()
                && first["scrolled"] == json!(0),
            "{name}: the first failure's evidence and screenshot are not on the first 1280×900 screen: {first}"
        );
    }
    assert_eq!(s["h1"], 1, "{name}: {s}");
    assert_eq!(
        s["verdictAfterH1"], true,
        "{name}: the verdict is not next to the h1"
    );
    assert_eq!(s["jumps"], json!([]), "{name}: a heading level is skipped");
    assert_eq!(
        s["cellsWithoutText"], 0,
        "{name}: a status shown by colour alone"
    );
    assert_eq!(s["imgsWithoutAlt"], 0, "{name}");
    assert_eq!(
        s["unordered"], 0,
        "{name}: the list is not worst first: {}",
        s["list"]
    );
    // Every part of the page, the folded ones too.
    b.eval("document.querySelectorAll('details').forEach(d => d.open = true)")
        .await
        .expect("unfold");
    let low = b.eval(READ_CONTRAST).await.expect("contrast");
    assert_eq!(low, json!([]), "{name}: text below WCAG AA contrast");

    // Nothing but the page itself and its data URLs was requested.
    let requests = b.network_requests().await.expect("the network log");
    let fetched: Vec<&str> = requests
        .iter()
        .map(|r| r.url.as_str())
        .filter(|u| !u.starts_with("file://") && !u.starts_with("data:"))
        .collect();
    assert!(fetched.is_empty(), "{name} fetched {fetched:?}");
    assert!(
        requests.iter().any(|r| r.url.starts_with("file://")),
        "the network log saw nothing: this check could not fail"
    );

    // 390 px wide: readable without scrolling sideways (wide tables scroll in their own box).
    b.set_window_size(390, 844).await.expect("sized");
    let wide = b
        .eval("return [document.documentElement.scrollWidth, innerWidth]")
        .await
        .expect("widths");
    if wide[0].as_u64() > wide[1].as_u64() {
        let over = b
            .eval("return Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > innerWidth + 1).slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + (e.textContent || '').slice(0, 60))")
            .await
            .expect("what is wide");
        panic!("{name} at 390 px scrolls sideways: {wide}; too wide: {over}");
    }
    save_screenshot(b, &format!("{name}-390")).await;
    let low = b.eval(READ_CONTRAST).await.expect("contrast");
    assert_eq!(low, json!([]), "{name} at 390 px: text below AA contrast");

    // Printed on A4 (186 mm between 12 mm margins, about 700 CSS px): the grid fits the width.
    b.set_window_size(700, 990).await.expect("sized");
    b.devtools("Emulation.setEmulatedMedia", json!({"media": "print"}))
        .await
        .expect("print media");
    let cut = b
        .eval("return Array.from(document.querySelectorAll('#grid table')).filter(t => t.scrollWidth > t.parentElement.clientWidth + 1).length")
        .await
        .expect("the grid's width");
    assert_eq!(cut, 0, "{name}: the compliance grid is wider than A4");
    let pdf = b
        .devtools(
            "Page.printToPDF",
            json!({"paperWidth": 8.27, "paperHeight": 11.69, "printBackground": true}),
        )
        .await
        .expect("printed");
    if let Some(data) = pdf["data"].as_str() {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data)
            .expect("base64");
        std::fs::write(pages_dir().join(format!("{name}-A4.pdf")), bytes).expect("written");
    }
    b.devtools("Emulation.setEmulatedMedia", json!({"media": ""}))
        .await
        .expect("screen media");
    b.set_window_size(1280, 900).await.expect("sized");
    s
}

/// Clicks the filters through WebDriver and reads what the list shows.
async fn filters(b: &Browser, name: &str, failed: usize, total: usize) {
    let shown = || async {
        b.eval(
            "return [document.querySelectorAll('#list > .scn:not([hidden])').length, document.getElementById('shown').textContent, !document.getElementById('filters').hidden]",
        )
        .await
        .expect("the list")
    };
    let v = shown().await;
    assert_eq!(v[0], json!(total), "{name}: {v}");
    assert_eq!(
        v[2], true,
        "{name}: the filters stay hidden with scripts on"
    );
    b.click(r#"input[name="status"][value="failed"]"#)
        .await
        .expect("click failed");
    let v = shown().await;
    assert_eq!(v[0], json!(failed), "{name}: status filter: {v}");
    assert_eq!(
        v[1],
        json!(format!("Showing {failed} of {total} scenarios")),
        "{name}"
    );
    // A second group narrows the first: failed and PROBE is nothing here.
    b.click(r#"input[name="level"][value="PROBE"]"#)
        .await
        .expect("click PROBE");
    assert_eq!(shown().await[0], json!(0), "{name}: failed and PROBE");
    b.click(r#"input[name="status"][value="failed"]"#)
        .await
        .expect("unclick");
    let probes = b
        .eval("return Array.from(document.querySelectorAll('#list > .scn:not([hidden])')).map(d => d.dataset.level)")
        .await
        .expect("levels");
    assert!(
        probes
            .as_array()
            .is_some_and(|a| !a.is_empty() && a.iter().all(|l| l == "PROBE")),
        "{name}: level filter: {probes}"
    );
    b.click(r#"input[name="level"][value="PROBE"]"#)
        .await
        .expect("unclick");
    // The area filter, then the tag, then the search box.
    b.click(r#"input[name="area"][value="redirect-uri"]"#)
        .await
        .expect("click area");
    let areas = b
        .eval("return Array.from(document.querySelectorAll('#list > .scn:not([hidden])')).map(d => d.querySelector('summary strong').textContent)")
        .await
        .expect("ids");
    assert!(
        areas.as_array().is_some_and(|a| !a.is_empty()
            && a.iter()
                .all(|i| i.as_str().is_some_and(|i| i.starts_with("RU-")))),
        "{name}: area filter: {areas}"
    );
    b.click(r#"input[name="area"][value="redirect-uri"]"#)
        .await
        .expect("unclick");
    b.click(r#"select[name="tag"] option[value="public"]"#)
        .await
        .expect("choose a tag");
    let tagged = b
        .eval("return Array.from(document.querySelectorAll('#list > .scn:not([hidden])')).map(d => d.dataset.tags.split(' ').includes('public'))")
        .await
        .expect("tags");
    assert!(
        tagged
            .as_array()
            .is_some_and(|a| !a.is_empty() && a.iter().all(|x| x == true)),
        "{name}: tag filter: {tagged}"
    );
    b.click(r#"select[name="tag"] option[value="web"]"#)
        .await
        .expect("choose a tag");
    let web = shown().await[0].as_u64().unwrap_or(0);
    assert!(
        web > 0 && web < total as u64,
        "{name}: tag filter kept {web} of {total}"
    );
    b.click(r#"select[name="tag"] option[value=""]"#)
        .await
        .expect("any tag");
    b.fill(
        r#"input[name="q"]"#,
        &sfmc_oauth_conformance::secret::Secret::new("search", "AR-07"),
        sfmc_oauth_conformance::login::Typing::Keys,
    )
    .await
    .expect("type");
    let found = b
        .eval("return Array.from(document.querySelectorAll('#list > .scn:not([hidden])')).map(d => d.textContent.includes('AR-07'))")
        .await
        .expect("search");
    assert!(
        found
            .as_array()
            .is_some_and(|a| !a.is_empty() && a.iter().all(|x| x == true)),
        "{name}: search: {found}"
    );
    save_screenshot(b, &format!("{name}-filtered")).await;
}

#[test]
fn report_html_reads_failures_first_filters_and_fetches_nothing() {
    let failing = tempfile::tempdir().expect("a folder");
    let clean = tempfile::tempdir().expect("a folder");
    let r = run_into(failing.path(), FAILING);
    assert_eq!(r.code, Some(4), "{r:?}");
    let first_run = latest(failing.path());
    let r = run_into(clean.path(), &[]);
    assert_eq!(r.code, Some(0), "{r:?}");
    // The same target again, into the same folder: compared with the first run.
    let r = run_into(failing.path(), LATER);
    assert_eq!(r.code, Some(4), "{r:?}");
    let compared = latest(failing.path());
    assert_ne!(first_run, compared);

    // The Markdown summary follows the page's order.
    let summary = std::fs::read_to_string(compared.join("summary.md")).expect("summary.md");
    let at = |s: &str| {
        summary
            .find(s)
            .unwrap_or_else(|| panic!("{s:?} not in summary.md:\n{summary}"))
    };
    assert!(
        at("# Does not conform") < at("## What changed")
            && at("## What changed") < at("## Failures")
    );
    assert!(
        summary.contains("- new: **RU-03**") && summary.contains("- fixed: **AR-01**"),
        "{summary}"
    );
    let compliance =
        std::fs::read_to_string(compared.join("compliance.md")).expect("compliance.md");
    assert!(
        compliance.contains("## Redirect URI") && compliance.contains("| RU-03 | MUST |"),
        "{compliance}"
    );

    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    rt.block_on(async {
        let (mut d, pool) = common::page_browsers().await;
        let b = pool.acquire().await.expect("a browser");

        let s = render(&b, &first_run.join("report.html"), "failing").await;
        assert!(s["verdict"].as_str().unwrap_or("").contains("Does not conform"), "{s}");
        assert_eq!(s["failuresBeforeConcerns"], true);
        assert_eq!(s["failuresBeforeAll"], true);
        let failures = s["failures"].as_array().expect("failures");
        let failed_ids: std::collections::BTreeSet<&str> = failures
            .iter()
            .filter_map(|f| f["check"].as_str())
            .collect();
        assert_eq!(
            failed_ids.into_iter().collect::<Vec<_>>(),
            ["AR-01", "TE-01"],
            "AR-01 and TE-01 fail: {s}"
        );
        let mut shots = std::collections::HashSet::new();
        for f in failures {
            assert_eq!(f["evidence"], true, "{f}");
            assert_eq!(f["fix"], true, "{f}");
            assert_eq!(f["link"], true, "{f}");
            assert_eq!(f["failedStep"], true, "{f}");
            assert_eq!(f["loaded"], true, "a failure without its screenshot: {f}");
            assert!(shots.insert(f["img"].as_str().unwrap_or("").to_owned()), "two failures share a screenshot: {s}");
        }
        assert!(failures.iter().any(|f| f["exchange"] == true), "the token failure's exchange: {s}");
        assert_eq!(s["findings"], 1, "AR-07's probe is a finding: {s}");
        assert!(s["naInGrid"].as_u64().unwrap_or(0) >= 3, "the live-only checks are not applicable: {s}");
        assert!(s["changes"].as_str().unwrap_or("").contains("No earlier run"), "{s}");
        let total = s["list"].as_array().map_or(0, Vec::len);
        filters(&b, "failing", failures.len(), total).await;

        let s = render(&b, &clean.path().join("latest/report.html"), "clean").await;
        assert!(s["verdict"].as_str().unwrap_or("").contains("Conforms"), "{s}");
        assert_eq!(s["failures"], json!([]));

        let s = render(&b, &compared.join("report.html"), "compared").await;
        let changes = s["changes"].as_str().unwrap_or("");
        assert!(changes.contains("Against the run of"), "{changes}");
        assert!(s["newFailures"].as_str().unwrap_or("").starts_with("New failures"), "RU-03 is new: {changes}");
        assert!(s["fixed"].as_str().unwrap_or("").starts_with("Fixed"), "AR-01 is fixed: {changes}");
        let ids: std::collections::BTreeSet<&str> = s["newIds"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i.as_str())
            .collect();
        assert_eq!(ids.into_iter().collect::<Vec<_>>(), ["AR-01", "RU-03"], "only these changed: {changes}");

        // `SFMC_RENDER_PAGE=path/to/report.html`: a page of your own (a full run's, say) gets
        // the same checks and screenshots, and its figures printed.
        if let Ok(page) = std::env::var("SFMC_RENDER_PAGE") {
            render(&b, Path::new(&page), "given").await;
        }

        // Scripts off: every scenario listed, the filters' form hidden.
        b.devtools("Emulation.setScriptExecutionDisabled", json!({"value": true}))
            .await
            .expect("scripts off");
        b.open(&format!("file://{}", compared.join("report.html").display()))
            .await
            .expect("opens");
        let shot = save_screenshot(&b, "compared-no-script").await;
        b.devtools("Emulation.setScriptExecutionDisabled", json!({"value": false}))
            .await
            .expect("scripts on");
        let hidden = b
            .eval("return [document.getElementById('filters').hidden, document.querySelectorAll('#list > .scn[hidden]').length]")
            .await
            .expect("read");
        assert_eq!(hidden, json!([true, 0]), "with scripts off ({})", shot.display());
        b.close().await;
        d.stop().await;
    });
    // The pages as written contain no reference to anything outside them.
    for page in [first_run.join("report.html"), compared.join("report.html")] {
        let text = std::fs::read_to_string(&page).expect("the page");
        for pattern in [
            "src=\"http",
            "<link",
            "url(http",
            "@import",
            "<script src",
            "<iframe",
        ] {
            assert!(!text.contains(pattern), "{pattern} in {}", page.display());
        }
    }
    eprintln!("screenshots of the pages: {}", pages_dir().display());
}
