//! The report folder under stress: two runs at once, a folder that becomes unwritable in the
//! middle of a run, and a full disk. `latest` always names a complete run, and nothing is left
//! half-written. (The interrupted run's reports: `browser_runs::ctrl_c_stops_the_run…`.)

mod common;

use common::{command, finish};
use std::path::Path;
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(180);
const REPORTS: [&str; 7] = [
    "compliance.md",
    "cucumber.json",
    "findings.sarif",
    "junit.xml",
    "report.html",
    "run.json",
    "summary.md",
];

fn run_folders(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root.join("runs"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn assert_complete(dir: &Path) {
    for f in REPORTS {
        assert!(dir.join(f).is_file(), "{} lacks {f}", dir.display());
    }
}

#[test]
fn two_runs_at_once_write_two_complete_folders_and_latest_names_one() {
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let reports = tmp.path().join("reports");
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    std::fs::create_dir_all(&a).expect("a");
    std::fs::create_dir_all(&b).expect("b");
    let first = run_command(&a, &reports, "@TR-01")
        .spawn()
        .expect("start the first run");
    let second = run_command(&b, &reports, "@TR-01")
        .spawn()
        .expect("start the second run");
    let (r1, r2) = (finish(first, LIMIT), finish(second, LIMIT));
    assert_eq!((r1.code, r2.code), (Some(0), Some(0)), "{r1:?}\n{r2:?}");
    let names = run_folders(&reports);
    assert_eq!(names.len(), 2, "two folders, nothing partial: {names:?}");
    for n in &names {
        assert_complete(&reports.join("runs").join(n));
    }
    let latest = std::fs::read_link(reports.join("latest")).expect("latest is a link");
    assert!(
        names.iter().any(|n| latest == Path::new("runs").join(n)),
        "{latest:?} names neither of {names:?}"
    );
    for r in [&r1, &r2] {
        let line = r.stdout.lines().find(|l| l.starts_with("reports: "));
        assert!(line.is_some(), "{}", r.stdout);
    }
    common::assert_nothing_left(&a);
    common::assert_nothing_left(&b);
}

/// A report folder under `tmp` that already holds one complete run: what a failed run must
/// leave alone.
struct Previous {
    reports: std::path::PathBuf,
    folders: Vec<String>,
    latest: std::path::PathBuf,
}

impl Previous {
    fn record(tmp: &Path) -> Self {
        let reports = tmp.join("reports");
        let first = finish(
            run_command(tmp, &reports, "@TR-01").spawn().expect("start"),
            LIMIT,
        );
        assert_eq!(first.code, Some(0), "{first:?}");
        Self {
            folders: run_folders(&reports),
            latest: std::fs::read_link(reports.join("latest")).expect("latest"),
            reports,
        }
    }

    /// The run `r` ended with exit 3 and one line saying the reports could not be written, and
    /// left no new or half-written folder; `latest` still names the complete previous run.
    fn assert_untouched_by(&self, r: &common::Run) {
        assert_eq!(r.code, Some(3), "{r:?}");
        assert!(
            r.stderr
                .lines()
                .any(|l| l.starts_with("error: the reports could not be written")),
            "{}",
            r.stderr
        );
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
        assert_eq!(
            run_folders(&self.reports),
            self.folders,
            "no new or half-written folder"
        );
        assert_eq!(
            std::fs::read_link(self.reports.join("latest")).expect("latest"),
            self.latest
        );
        assert_complete(&self.reports.join(&self.latest));
    }
}

/// `run --tags TAGS --color never --report-dir REPORTS`, from `cwd` (its TMPDIR too).
fn run_command(cwd: &Path, reports: &Path, tags: &str) -> std::process::Command {
    let reports = reports.display().to_string();
    command(
        &[
            "run",
            "--tags",
            tags,
            "--color",
            "never",
            "--report-dir",
            &reports,
        ],
        cwd,
    )
}

#[test]
fn a_report_folder_that_becomes_unwritable_exits_3_and_leaves_the_previous_run_alone() {
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let previous = Previous::record(tmp.path());
    let reports = &previous.reports;
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).expect("a folder");
    let child = run_command(&work, reports, "@TR-01")
        .spawn()
        .expect("start the second run");
    // Once the run's folder exists, something else takes its place: a plain file, as a full or
    // vanished disk would leave the run unable to write there.
    let deadline = Instant::now() + Duration::from_secs(60);
    let partial = loop {
        let found = run_folders(reports)
            .into_iter()
            .find(|n| n.ends_with(".partial"));
        if let Some(n) = found {
            break reports.join("runs").join(n);
        }
        assert!(Instant::now() < deadline, "no partial folder within 60 s");
        std::thread::sleep(Duration::from_millis(5));
    };
    std::fs::remove_dir_all(&partial).expect("remove the partial folder");
    std::fs::write(&partial, "not a folder").expect("a file in its place");
    let r = finish(child, LIMIT);
    std::fs::remove_file(&partial).expect("our file");
    previous.assert_untouched_by(&r);
    common::assert_nothing_left(&work);
}

#[test]
fn a_full_disk_exits_3_with_one_line_and_leaves_the_previous_run_alone() {
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let previous = Previous::record(tmp.path());
    // A disk that fills at 2 KB: every file the run writes past that fails (EFBIG, as ENOSPC
    // would), cucumber's JSON report among them.
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).expect("a folder");
    // Enough scenarios that cucumber's JSON outgrows its buffer during the run.
    let mut cmd = run_command(&work, &previous.reports, "@RU-05");
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let limit = libc::rlimit {
                rlim_cur: 2048,
                rlim_max: 2048,
            };
            libc::setrlimit(libc::RLIMIT_FSIZE, &limit);
            Ok(())
        });
    }
    let r = finish(cmd.spawn().expect("start the second run"), LIMIT);
    previous.assert_untouched_by(&r);
    common::assert_nothing_left(&work);
}
