//! What the commands print, and what happens when something goes wrong in the harness itself.
//!
//! - Standard output may be a pipe that closes early (`sfmc-conformance list | head`): output
//!   then stops quietly, and the command goes on to its normal end. Nothing panics.
//! - A panic is a bug in sfmc-conformance. Its user sees one line naming it, never a
//!   backtrace (`SFMC_BACKTRACE=1` shows Rust's own report). A panic inside a scenario's step is
//!   reported by the run as a harness error that names the scenario, never counted as a pass
//!   (see `outcome::was_returned`).

use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

/// Prints a line to standard output; a closed pipe ends the output without a panic.
#[macro_export]
macro_rules! say {
    () => { $crate::out::line(format_args!("")) };
    ($($arg:tt)*) => { $crate::out::line(format_args!($($arg)*)) };
}

/// Set once standard output is a closed pipe: nothing more is written to it.
static CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes `args` and a newline to standard output, unless it is closed.
pub fn line(args: fmt::Arguments<'_>) {
    let _ = Stdout.write_fmt(format_args!("{args}\n"));
}

/// Standard output that stops quietly at a closed pipe (for cucumber's writer, too).
#[derive(Debug, Clone, Copy, Default)]
pub struct Stdout;

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if CLOSED.load(Ordering::Relaxed) {
            return Ok(buf.len());
        }
        match io::stdout().lock().write_all(buf) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                CLOSED.store(true, Ordering::Relaxed);
                Ok(buf.len())
            }
            Err(e) => Err(e),
            Ok(()) => Ok(buf.len()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match io::stdout().lock().flush() {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                CLOSED.store(true, Ordering::Relaxed);
                Ok(())
            }
            other => other,
        }
    }
}

/// cucumber's progress output in the harness's words: a step that fails does so by panicking
/// (that is how cucumber-rs learns of it), and its writer says "Step panicked. Captured output:"
/// before the failure, under its own "Step failed:". A user reads the failure alone: nothing
/// panicked in the harness.
/// Whole lines are passed on, so a phrase split across writes is still found.
#[derive(Debug)]
pub struct Worded<W: Write> {
    inner: W,
    line: Vec<u8>,
}

impl<W: Write> Worded<W> {
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            line: Vec::new(),
        }
    }

    fn pass_on(&mut self, upto: usize) -> io::Result<()> {
        let rest = self.line.split_off(upto);
        let text = String::from_utf8_lossy(&self.line)
            .replace("Step panicked. Captured output: ", "")
            .replace("Step panicked.", "Step failed.");
        self.line = rest;
        self.inner.write_all(text.as_bytes())
    }
}

impl<W: Write> Write for Worded<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.line.extend_from_slice(buf);
        if let Some(end) = self.line.iter().rposition(|b| *b == b'\n') {
            self.pass_on(end + 1)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let all = self.line.len();
        self.pass_on(all)?;
        self.inner.flush()
    }
}

impl<W: Write> Drop for Worded<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// The panic message as text.
fn message(info: &std::panic::PanicHookInfo<'_>) -> String {
    let p = info.payload();
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "a panic without a message".into())
}

thread_local! {
    /// Set while [`expecting_panics`] runs its closure on this thread.
    static EXPECTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f`, whose panics are its way of answering (insta's snapshot assertion), with the panic
/// hook silent for them on this thread: they are not bugs to report.
pub fn expecting_panics<T>(f: impl FnOnce() -> T) -> T {
    let was = EXPECTED.with(|e| e.replace(true));
    let out = f();
    EXPECTED.with(|e| e.set(was));
    out
}

/// Installs the hook once: a panic outside a run of scenarios is one line on standard error
/// (cucumber puts its own hook in place while scenarios run, and reports a step's panic itself).
/// `SFMC_BACKTRACE=1` shows Rust's own report instead.
pub fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("SFMC_BACKTRACE").is_some_and(|v| v == "1") {
            return;
        }
        std::panic::set_hook(Box::new(|info| {
            if EXPECTED.with(std::cell::Cell::get) {
                return;
            }
            let site = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()))
                .unwrap_or_default();
            eprintln!(
                "error: internal error in sfmc-conformance ({site}): {}; please report it",
                message(info)
            );
        }));
    });
}

#[cfg(test)]
mod worded_tests {
    use super::*;

    #[test]
    fn a_failed_step_is_said_to_have_failed_not_panicked() {
        let mut out = Vec::new();
        {
            let mut w = Worded::new(&mut out);
            w.write_all(b"      Step pan").unwrap();
            w.write_all(b"icked. Captured output: [TR-03 S-14 MUST] the header\n  next")
                .unwrap();
        }
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, "      [TR-03 S-14 MUST] the header\n  next");
        assert!(!text.contains("panic"));
    }
}
