//! `sfmc-conformance`: see `sfmc-conformance --help` and the README.

fn main() -> std::process::ExitCode {
    sfmc_oauth_conformance::cli::main()
}
