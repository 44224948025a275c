//! The step and scenario time limits (`--step-timeout`, `--scenario-timeout`). Cucumber has no
//! limit of its own on a step, so every step definition is registered through one wrapper,
//! [`bounded_step`], which runs the step's own function (found by the same match cucumber made)
//! until it ends or a limit passes. A limit that passes drops the step's future and ends the
//! scenario as an environment failure naming the limit; the after hook then closes the
//! scenario's browser instead of reusing it.
//!
//! Real-time waits a scenario asks for (a live target's `@slow` waits) do not count against
//! either limit: [`Deadlines::extend`] moves both.

use super::world::OAuthWorld;
use cucumber::codegen::{LazyRegex, StepConstructor, WorldInventory};
use cucumber::step::{Collection, Context as StepContext, Location};
use futures::future::LocalBoxFuture;
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
        let deadlines = world.deadlines().clone();
        deadlines.start_step(world.timeouts().step);
        let expired = tokio::select! {
            biased;
            () = step(world, ctx) => None,
            which = deadlines.expired() => Some(which),
        };
        if let Some(limit) = expired {
            let failure = world.environment(limit);
            panic!("{failure}");
        }
    })
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
