//! The feature files, read before anything starts: a file that does not parse stops the run with
//! exit 2 before a browser is launched, and the plan says whether any selected scenario needs the
//! browser at all, and which scenarios the target cannot run.

use crate::outcome::{check_id, Level, Location, Skipped};
use crate::target::Capabilities;
use cucumber::gherkin::tagexpr::TagOperation;
use cucumber::gherkin::{Feature, GherkinEnv};
use cucumber::tag::Ext as _;
use std::path::{Path, PathBuf};

/// Which scenarios run: those the user's tag expression selects and the target can run.
#[derive(Debug, Clone)]
pub struct Selection {
    pub user: Option<TagOperation>,
    pub capabilities: Capabilities,
}

impl Selection {
    /// Whether a scenario with `tags` (feature, rule and scenario tags, without `@`) runs.
    pub fn runs(&self, tags: &[String]) -> bool {
        self.user.as_ref().is_none_or(|u| u.eval(tags.iter()))
            && self.capabilities.unmet(tags).is_none()
    }
}

/// Which part of a plan one pass of cucumber runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pass {
    /// Every selected scenario, `@serial` ones alone.
    #[default]
    All,
    /// Only the scenarios that wait in real time against a live target ([`waits_in_real_time`]),
    /// all at once: their waits overlap instead of adding up.
    WaitingTogether,
    /// Every selected scenario but those.
    NotWaiting,
}

impl Pass {
    /// Whether a scenario with `tags` belongs to this pass.
    pub fn takes(self, tags: &[String]) -> bool {
        match self {
            Self::All => true,
            Self::WaitingTogether => waits_in_real_time(tags),
            Self::NotWaiting => !waits_in_real_time(tags),
        }
    }
}

/// Whether a scenario with `tags` waits in real time against a live target: `@slow` (minutes,
/// run only with `--slow`) or `@waits` (under a minute: a code or a refresh token tried again
/// after 30 s). Against the simulator they move its clock instead.
pub fn waits_in_real_time(tags: &[String]) -> bool {
    tags.iter().any(|t| t == "slow" || t == "waits")
}

/// What a run will do.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Scenarios to run (the user's filter and the target's capabilities).
    pub selection: Selection,
    /// Number of selected scenarios (outline examples counted one by one).
    pub selected: usize,
    /// The selected scenarios, with their check, in file order.
    pub runs: Vec<(crate::outcome::Check, Location)>,
    /// Whether a selected scenario is tagged `@browser`.
    pub needs_browser: bool,
    /// How many selected scenarios wait in real time against a live target
    /// ([`waits_in_real_time`]).
    pub waiting: usize,
    /// Scenarios the user selected but the target cannot run, with why.
    pub unsupported: Vec<Skipped>,
    pub files: usize,
}

/// A feature file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    #[error("no feature folder at {0} (pass --features DIR)")]
    Missing(String),
    #[error("{path}: does not parse: {cause}")]
    Parse { path: String, cause: String },
    #[error("{0}: cannot be read: {1}")]
    Io(String, String),
    /// A Scenario Outline whose Examples have no row: it would run nothing, silently.
    #[error("{path}:{line}: Scenario Outline `{name}` has no example row: it would run nothing")]
    EmptyExamples {
        path: String,
        line: usize,
        name: String,
    },
}

impl crate::exit::Exit for FeatureError {
    fn exit_code(&self) -> u8 {
        match self {
            Self::Missing(_) => crate::exit::USAGE,
            Self::Parse { .. } | Self::Io(..) | Self::EmptyExamples { .. } => crate::exit::FEATURE,
        }
    }
}

/// A `--tags` expression that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("--tags `{expr}` is not a tag expression: {cause}")]
pub struct TagError {
    pub expr: String,
    pub cause: String,
}

impl crate::exit::Exit for TagError {
    fn exit_code(&self) -> u8 {
        crate::exit::USAGE
    }
}

/// Parses the user's `--tags` expression.
pub fn user_tags(expr: &str) -> Result<TagOperation, TagError> {
    expr.parse().map_err(|e| TagError {
        expr: expr.to_owned(),
        cause: format!("{e}"),
    })
}

/// `path` relative to the working directory when it is inside it.
pub fn display_path(path: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_owned))
        .unwrap_or_else(|| path.to_owned())
        .display()
        .to_string()
}

fn feature_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), FeatureError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| FeatureError::Io(dir.display().to_string(), e.to_string()))?;
    for entry in entries {
        let path = entry
            .map_err(|e| FeatureError::Io(dir.display().to_string(), e.to_string()))?
            .path();
        if path.is_dir() {
            feature_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "feature") {
            out.push(path);
        }
    }
    Ok(())
}

/// Every feature under `dir`, parsed.
pub fn load(dir: &Path) -> Result<Vec<Feature>, FeatureError> {
    if !dir.is_dir() {
        return Err(FeatureError::Missing(dir.display().to_string()));
    }
    let mut files = Vec::new();
    feature_files(dir, &mut files)?;
    files.sort();
    let features = files
        .iter()
        .map(|p| {
            Feature::parse_path(p, GherkinEnv::default()).map_err(|e| FeatureError::Parse {
                path: display_path(p),
                cause: e.to_string().lines().next().unwrap_or_default().to_owned(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    for (f, p) in features.iter().zip(&files) {
        let in_rules = f.rules.iter().flat_map(|r| r.scenarios.iter());
        for s in f.scenarios.iter().chain(in_rules) {
            let outline = s.keyword.contains("Outline") || s.keyword.contains("Template");
            let rows: usize = s
                .examples
                .iter()
                .filter_map(|e| e.table.as_ref())
                .map(|t| t.rows.len().saturating_sub(1))
                .sum();
            if outline && rows == 0 {
                return Err(FeatureError::EmptyExamples {
                    path: display_path(p),
                    line: s.position.line,
                    name: s.name.clone(),
                });
            }
        }
    }
    Ok(features)
}

/// One scenario (one example row of an outline) as the plan sees it.
#[derive(Debug, Clone)]
pub struct ScenarioRef {
    /// Tags of the feature, rule, scenario and examples, without `@`.
    pub tags: Vec<String>,
    /// Where it is, with its name as cucumber expands it.
    pub location: Location,
}

/// One check as `sfmc-conformance list` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CheckRef {
    pub id: String,
    pub title: String,
    pub level: Option<Level>,
    pub tags: Vec<String>,
    pub file: String,
    pub line: usize,
}

/// Every scenario as a check: its id, expanded title, level and tags.
pub fn checks(features: &[Feature]) -> Vec<CheckRef> {
    scenarios(features)
        .into_iter()
        .map(|s| CheckRef {
            id: check_id(&s.tags).unwrap_or("").to_owned(),
            level: Level::of_tags(&s.tags),
            title: s.location.name,
            tags: s.tags,
            file: s.location.file,
            line: s.location.line,
        })
        .collect()
}

/// Each scenario with its merged tags (feature, rule, scenario) and location; an outline counts
/// once per example row.
pub fn scenarios(features: &[Feature]) -> Vec<ScenarioRef> {
    let mut out = Vec::new();
    for f in features {
        let file = f.path.as_deref().map(display_path).unwrap_or_default();
        let in_rules = f
            .rules
            .iter()
            .flat_map(|r| r.scenarios.iter().map(move |s| (Some(r), s)));
        for (rule, s) in f.scenarios.iter().map(|s| (None, s)).chain(in_rules) {
            let mut tags: Vec<String> = f.tags.clone();
            if let Some(r) = rule {
                tags.extend(r.tags.iter().cloned());
            }
            tags.extend(s.tags.iter().cloned());
            let here = |name: String| Location {
                file: file.clone(),
                line: s.position.line,
                name,
            };
            if s.examples.is_empty() {
                out.push(ScenarioRef {
                    tags,
                    location: here(s.name.clone()),
                });
            } else {
                for ex in &s.examples {
                    let Some(table) = &ex.table else { continue };
                    let Some((header, rows)) = table.rows.split_first() else {
                        continue;
                    };
                    for row in rows {
                        let mut t = tags.clone();
                        t.extend(ex.tags.iter().cloned());
                        // The name as cucumber expands it, for --name to match the same way.
                        let name = header
                            .iter()
                            .zip(row)
                            .fold(s.name.clone(), |n, (k, v)| n.replace(&format!("<{k}>"), v));
                        out.push(ScenarioRef {
                            tags: t,
                            location: here(name),
                        });
                    }
                }
            }
        }
    }
    out
}

/// The plan for `features` under the user's filters and the target's capabilities: a scenario
/// the user selected but the target cannot run is not applicable, with why.
pub fn plan(
    features: &[Feature],
    user: Option<TagOperation>,
    name: Option<&regex::Regex>,
    capabilities: Capabilities,
) -> Plan {
    let mut p = Plan {
        selection: Selection { user, capabilities },
        selected: 0,
        runs: Vec::new(),
        needs_browser: false,
        waiting: 0,
        unsupported: Vec::new(),
        files: features.len(),
    };
    for s in scenarios(features) {
        let wanted = p
            .selection
            .user
            .as_ref()
            .is_none_or(|u| u.eval(s.tags.iter()))
            && name.is_none_or(|n| n.is_match(&s.location.name));
        if !wanted {
            continue;
        }
        match capabilities.unmet(&s.tags) {
            None => {
                p.selected += 1;
                p.runs
                    .push((crate::outcome::Check::from_tags(&s.tags), s.location));
                p.needs_browser |= s.tags.iter().any(|t| t == "browser");
                p.waiting += usize::from(waits_in_real_time(&s.tags));
            }
            Some(reason) => p.unsupported.push(Skipped {
                location: s.location,
                check: crate::outcome::Check::from_tags(&s.tags),
                reason: reason.to_owned(),
                gated: crate::target::Capabilities::is_gate(reason),
            }),
        }
    }
    p
}
