//! Named process exit codes, documented in `--help` and the README.

/// Every selected scenario passed.
pub const SUCCESS: u8 = 0;
/// Usage or configuration error: bad flag, missing feature folder, bad target file.
pub const USAGE: u8 = 1;
/// A feature file does not parse, or one of its steps matches no step definition.
pub const FEATURE: u8 = 2;
/// The environment failed: no browser, the driver would not start, a port in use, the target
/// unreachable. Nothing is known about the target's conformance.
pub const ENVIRONMENT: u8 = 3;
/// The target does not conform: at least one check failed.
pub const NONCONFORMANT: u8 = 4;
/// A bug in sfmc-conformance: a step's code panicked (the scenario is named), or the command
/// itself did. Nothing is known about the target.
pub const HARNESS: u8 = 5;
/// The run was interrupted (Ctrl-C or SIGTERM); browsers and drivers were stopped.
pub const INTERRUPTED: u8 = 130;

/// The table printed by `--help` and copied into the README.
pub const TABLE: &str = "\
Exit codes:
  0    every selected scenario passed
  1    usage or configuration error
  2    a feature file does not parse, an outline has no example, or a step matches nothing
  3    the environment failed (no browser, driver would not start, port in use, target unreachable)
  4    the target does not conform (a check failed)
  5    a bug in sfmc-conformance (a step panicked; the scenario is named)
  130  interrupted by Ctrl-C or SIGTERM";

/// An error that knows which documented exit code it ends the process with. Each layer's error
/// type implements it, so the command line maps nothing by hand.
pub trait Exit: std::error::Error {
    /// One of the constants above.
    fn exit_code(&self) -> u8;
}
