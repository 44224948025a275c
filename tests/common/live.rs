//! The simulator as a live target: `mock` in its own process with the integrations that
//! `targets/simulator.toml` describes, and the secrets both read from the environment.

use std::path::Path;

/// The secrets `targets/simulator-integrations.toml` and `targets/simulator.toml` read.
pub const ENV: &[(&str, &str)] = &[
    ("SIM_WEB_SECRET", "live-web-secret-0000000001"),
    ("SIM_WEB2_SECRET", "live-web-secret-0000000002"),
    ("SIM_PASSWORD", "live-Passw0rd-for-the-sim"),
];

/// `mock` on a free loopback port, with `tmp` as its TMPDIR: the child and its base URL.
pub fn start_mock(tmp: &Path) -> (std::process::Child, String) {
    let mut cmd = super::command(
        &[
            "mock",
            "--port",
            "0",
            "--integrations",
            "targets/simulator-integrations.toml",
        ],
        tmp,
    );
    cmd.envs(ENV.iter().copied());
    let mut child = cmd.spawn().expect("start the mock");
    let base = super::listening_on(&mut child, "the mock");
    (child, base)
}
