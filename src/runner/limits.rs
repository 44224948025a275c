//! The step and scenario time limits (`--step-timeout`, `--scenario-timeout`). Cucumber has no
//! limit of its own on a step, so every step definition is registered through one wrapper,
//! [`bounded_step`], which runs the step's own function (found by the same match cucumber made)
//! until it ends or a limit passes. A limit that passes drops the step's future and ends the
//! scenario as an environment failure naming the limit; the after hook then closes the
//! scenario's browser instead of reusing it.
//!
//! Real-time waits a scenario asks for (a live target's `@waits` and `@slow` waits) do not count
//! against either limit: [`Deadlines::extend`] moves both.

use super::world::OAuthWorld;
use cucumber::codegen::{LazyRegex, StepConstructor, WorldInventory};
use cucumber::step::{Collection, Context as StepContext, Location};
use futures::future::LocalBoxFuture;
use futures::FutureExt as _;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::time::Instant;

/// The step definitions as the macros registered them.
fn original() -> &'static Collection<OAuthWorld> {
    static ORIGINAL: OnceLock<Collection<OAuthWorld>> = OnceLock::new();
    ORIGINAL.get_or_init(<OAuthWorld as cucumber::World>::collection)
}

/// Every step definition, each run through [`bounded_step`].
pub fn bounded_steps() -> Collection<OAuthWorld> {
    fn parts<S: StepConstructor<OAuthWorld>>(s: &S) -> (Location, LazyRegex) {
        let (loc, regex, _) = s.inner();
        (loc, regex)
    }
    let mut out = Collection::new();
    for s in cucumber::codegen::inventory::iter::<<OAuthWorld as WorldInventory>::Given> {
        let (loc, regex) = parts(s);
        out = out.given(Some(loc), regex(), bounded_step);
    }
    for s in cucumber::codegen::inventory::iter::<<OAuthWorld as WorldInventory>::When> {
        let (loc, regex) = parts(s);
        out = out.when(Some(loc), regex(), bounded_step);
    }
    for s in cucumber::codegen::inventory::iter::<<OAuthWorld as WorldInventory>::Then> {
        let (loc, regex) = parts(s);
        out = out.then(Some(loc), regex(), bounded_step);
    }
    out
}

/// Runs the step's own definition within the step's and the scenario's limits.
fn bounded_step(world: &mut OAuthWorld, ctx: StepContext) -> LocalBoxFuture<'_, ()> {
    Box::pin(async move {
        let step = match original().find(&ctx.step) {
            Ok(Some((step, ..))) => *step,
            // Cucumber matched this same collection's regexes: unreachable in practice.
            _ => panic!("no step definition for `{}`", ctx.step.value),
        };
        let line = ctx.step.position.line;
        let started = std::time::Instant::now();
        let deadlines = world.deadlines().clone();
        deadlines.start_step(world.timeouts().step);
        let ended = tokio::select! {
            biased;
            r = std::panic::AssertUnwindSafe(step(world, ctx)).catch_unwind() => Ok(r),
            which = deadlines.expired() => Err(which),
        };
        // A failed step panics (cucumber's way): with its own payload, or with the failure a
        // limit made, after the step is noted for the reports.
        let panic: Option<Box<dyn std::any::Any + Send>> = match ended {
            Ok(Ok(())) => None,
            Ok(Err(payload)) => Some(payload),
            Err(limit) => Some(Box::new(world.environment(limit).to_string())),
        };
        world.note_step(Ran {
            line,
            error: panic.as_deref().map(panic_text),
            duration: started.elapsed(),
        });
        if let Some(payload) = panic {
            std::panic::resume_unwind(payload);
        }
    })
}

/// What a step ran into: where it is in its feature file, what it failed with, how long it took.
#[derive(Debug, Clone)]
pub struct Ran {
    pub line: usize,
    pub error: Option<String>,
    pub duration: Duration,
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "the step panicked".to_owned())
}

/// The scenario's steps (its background's first), each as it ran, or skipped.
pub fn steps_of(
    feature: &cucumber::gherkin::Feature,
    rule: Option<&cucumber::gherkin::Rule>,
    scenario: &cucumber::gherkin::Scenario,
    ran: &[Ran],
) -> Vec<crate::outcome::StepRun> {
    let background = feature
        .background
        .iter()
        .chain(rule.and_then(|r| r.background.as_ref()))
        .flat_map(|b| b.steps.iter());
    background
        .chain(scenario.steps.iter())
        .map(|s| {
            let line = s.position.line;
            let done = ran.iter().find(|r| r.line == line);
            crate::outcome::StepRun {
                keyword: s.keyword.trim().to_owned(),
                text: s.value.clone(),
                line,
                status: match done {
                    Some(Ran { error: None, .. }) => "passed",
                    Some(_) => "failed",
                    None => "skipped",
                },
                error: done.and_then(|r| r.error.clone()),
                duration: done.map(|r| r.duration).unwrap_or_default(),
            }
        })
        .collect()
}

/// Which limit passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Step(Duration),
    Scenario(Duration),
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Step(d) => write!(
                f,
                "the step did not end within its time limit of {} s (--step-timeout)",
                d.as_secs()
            ),
            Self::Scenario(d) => write!(
                f,
                "the scenario did not end within its time limit of {} s (--scenario-timeout)",
                d.as_secs()
            ),
        }
    }
}

/// When the running step and the scenario must end.
#[derive(Debug, Clone, Default)]
pub struct Deadlines(Arc<Mutex<State>>);

#[derive(Debug, Default)]
struct State {
    scenario: Option<(Instant, Duration)>,
    step: Option<(Instant, Duration)>,
}

impl Deadlines {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The scenario starts now, with `limit`.
    pub fn start_scenario(&self, limit: Duration) {
        self.state().scenario = Some((Instant::now() + limit, limit));
    }

    /// A step starts now, with `limit`.
    pub fn start_step(&self, limit: Duration) {
        self.state().step = Some((Instant::now() + limit, limit));
    }

    /// A real-time wait of `by` that the scenario asked for: neither limit counts it.
    pub fn extend(&self, by: Duration) {
        let mut st = self.state();
        let State { scenario, step } = &mut *st;
        for d in [scenario, step].into_iter().flatten() {
            d.0 += by;
        }
    }

    /// The limit that passes first (resolves only once one has passed, deadlines moved by
    /// [`Self::extend`] meanwhile included).
    pub async fn expired(&self) -> Limit {
        loop {
            let first = {
                let st = self.state();
                let step = st.step.map(|(at, d)| (at, Limit::Step(d)));
                let scenario = st.scenario.map(|(at, d)| (at, Limit::Scenario(d)));
                match (step, scenario) {
                    (Some(a), Some(b)) => Some(if b.0 <= a.0 { b } else { a }),
                    (a, b) => a.or(b),
                }
            };
            let Some((at, limit)) = first else {
                return futures::future::pending().await;
            };
            tokio::time::sleep_until(at).await;
            let still = {
                let st = self.state();
                match limit {
                    Limit::Step(_) => st.step.is_some_and(|(at, _)| at <= Instant::now()),
                    Limit::Scenario(_) => st.scenario.is_some_and(|(at, _)| at <= Instant::now()),
                }
            };
            if still {
                return limit;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_first_limit_to_pass_is_named_and_a_wait_moves_both() {
        let d = Deadlines::default();
        d.start_scenario(Duration::from_secs(100));
        d.start_step(Duration::from_secs(10));
        let started = Instant::now();
        assert_eq!(d.expired().await, Limit::Step(Duration::from_secs(10)));
        assert_eq!(started.elapsed(), Duration::from_secs(10));
        d.start_step(Duration::from_secs(500));
        assert_eq!(d.expired().await, Limit::Scenario(Duration::from_secs(100)));
        assert_eq!(started.elapsed(), Duration::from_secs(100));

        let d = Deadlines::default();
        d.start_scenario(Duration::from_secs(20));
        d.start_step(Duration::from_secs(10));
        let started = Instant::now();
        let waited = d.clone();
        let expired = tokio::spawn(async move { waited.expired().await });
        tokio::time::sleep(Duration::from_secs(5)).await;
        d.extend(Duration::from_secs(60));
        assert_eq!(
            expired.await.expect("joined"),
            Limit::Step(Duration::from_secs(10))
        );
        assert_eq!(started.elapsed(), Duration::from_secs(70));
    }
}
