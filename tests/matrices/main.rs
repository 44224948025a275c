//! The mutation matrix (`mutation`: every check trips under the fault made for it) and the
//! tolerance matrix (`tolerance`: no check trips under a variation a conformant server may have).
//!
//! They are one test binary so that they share their costliest row: the whole suite against the
//! conformant simulator, one scenario at a time, which tells both which scenarios consult which
//! fault and variation ([`common::matrix::SharedBrowsers::conformant`]). The two tests run side
//! by side (cargo runs a binary's tests on as many threads as there are cores), each on its own
//! ChromeDriver and browsers: while one runs the conformant baseline, the other runs the oauth2
//! baseline (one browser each). Their rows then take turns ([`common::matrix::rows_turn`]).
//! With `--test-threads=1` they run one after the other and still run the conformant baseline
//! once.

#[path = "../common/mod.rs"]
mod common;
mod mutation;
mod tolerance;
