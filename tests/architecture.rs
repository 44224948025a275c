//! The module dependencies go one way, as ARCHITECTURE.md draws them. Each rule names a module
//! and the modules of this crate it must not name (`crate::x`), outside its tests.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// `text` without its `#[cfg(test)]` items (a test may use what the code must not).
fn without_tests(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        let Some(open) = after.find('{') else {
            return out;
        };
        let mut depth = 0usize;
        let mut end = after.len();
        for (j, c) in after[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + j + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).expect("src is readable").flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Each top-level module of `src/` and the other top-level modules it names.
fn dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let re = regex::Regex::new(r"crate::([a-z_]+)").expect("valid regex");
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        let rel = f.strip_prefix(&src).expect("under src");
        let module = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .map(|m| m.trim_end_matches(".rs").to_owned())
            .expect("a module name");
        if module == "lib" || module == "main" {
            continue;
        }
        let text = without_tests(&std::fs::read_to_string(&f).expect("readable"));
        let code: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let entry = deps.entry(module.clone()).or_default();
        for c in re.captures_iter(&code) {
            if c[1] != module {
                entry.insert(c[1].to_owned());
            }
        }
    }
    deps
}

#[test]
fn dependencies_go_one_way() {
    let deps = dependencies();
    // module: what it must not name.
    let rules: &[(&str, &[&str])] = &[
        (
            "outcome",
            &[
                "runner",
                "report",
                "session",
                "cli",
                "simulator",
                "browser",
                "target",
                "http",
            ],
        ),
        (
            "report",
            &["runner", "session", "cli", "simulator", "browser", "target"],
        ),
        (
            "target",
            &["simulator", "browser", "runner", "session", "cli", "report"],
        ),
        (
            "login",
            &["target", "browser", "simulator", "runner", "session"],
        ),
        (
            "browser",
            &[
                "target",
                "simulator",
                "runner",
                "session",
                "report",
                "outcome",
            ],
        ),
        (
            "oauth",
            &[
                "simulator",
                "runner",
                "session",
                "target",
                "browser",
                "report",
            ],
        ),
        ("runner", &["simulator", "report", "session", "cli"]),
        (
            "simulator",
            &["runner", "session", "cli", "report", "browser"],
        ),
        ("session", &["cli"]),
    ];
    let mut wrong = Vec::new();
    for (module, forbidden) in rules {
        let named = deps.get(*module).cloned().unwrap_or_default();
        for f in *forbidden {
            if named.contains(*f) {
                wrong.push(format!("{module} names {f}"));
            }
        }
    }
    let listing: Vec<String> = deps
        .iter()
        .map(|(m, d)| format!("{m} -> {}", d.iter().cloned().collect::<Vec<_>>().join(" ")))
        .collect();
    assert!(wrong.is_empty(), "{wrong:?}\n\n{}", listing.join("\n"));
    // Only the command line and the tests drive a session.
    let drivers: Vec<&String> = deps
        .iter()
        .filter(|(_, d)| d.contains("session"))
        .map(|(m, _)| m)
        .collect();
    assert_eq!(drivers, vec!["cli"], "{}", listing.join("\n"));
}

#[test]
fn test_items_are_left_out_of_the_reading() {
    let text = "use crate::a;\n#[cfg(test)]\nmod tests {\n    use crate::b;\n    fn f() { {} }\n}\nuse crate::c;\n";
    let kept = without_tests(text);
    assert!(kept.contains("crate::a") && kept.contains("crate::c"));
    assert!(!kept.contains("crate::b"), "{kept}");
}
