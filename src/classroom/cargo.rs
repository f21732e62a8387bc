//! Running `cargo test` for `check` and `verify`: with a deadline, reading cargo's progress as
//! it comes, and grading one exercise from its tests' output.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use anyhow::Context;

use super::outcomes::{Status, TestResults};
use super::Entry;

/// What one cargo command did.
pub(crate) struct Run {
    /// How it exited.
    pub(crate) status: ExitStatus,
    /// All it printed on stdout (the tests' report).
    pub(crate) stdout: String,
    /// All it printed on stderr (cargo's progress, the compiler's errors).
    pub(crate) stderr: String,
    /// We stopped it at its deadline.
    pub(crate) timed_out: bool,
}

/// How long one exercise's tests may run in `check` and `verify`. The tests bound every wait,
/// but a student's loop that never ends (a `recv` loop that misses the empty `recv`) would
/// otherwise hang `check` for ever.
pub(crate) const TEST_DEADLINE: Duration = Duration::from_secs(120);

/// Runs `cargo ARGS` in `dir`, calling `progress` with each line cargo prints on stderr, and
/// stops it (with the test programs it started) after `deadline`.
fn cargo(
    dir: &Path,
    args: &[&str],
    target_dir: Option<&Path>,
    deadline: Option<Duration>,
    mut progress: impl FnMut(&str),
) -> anyhow::Result<Run> {
    let program = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut command = Command::new(&program);
    command
        .args(args)
        .current_dir(dir)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(target_dir) = target_dir {
        command.env("CARGO_TARGET_DIR", target_dir);
    }
    // Its own process group, so that at the deadline we stop the test program too, not only cargo.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command
        .spawn()
        .with_context(|| format!("could not run `{program}`"))?;
    let mut stdout_pipe = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout_pipe.read_to_string(&mut text);
        text
    });
    let stderr_pipe = child.stderr.take().expect("piped");
    let (lines, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr_pipe).lines() {
            if lines.send(line.unwrap_or_default()).is_err() {
                break;
            }
        }
    });
    let started = Instant::now();
    let mut stderr = String::new();
    let mut timed_out = false;
    loop {
        let left = deadline.map_or(Duration::from_secs(3600), |d| {
            d.saturating_sub(started.elapsed())
        });
        match received.recv_timeout(left) {
            Ok(line) => {
                progress(&line);
                stderr.push_str(&line);
                stderr.push('\n');
            }
            Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {
                if deadline.is_some_and(|d| started.elapsed() >= d) {
                    timed_out = true;
                    stop(&mut child);
                    break;
                }
            }
        }
    }
    let status = child.wait()?;
    let stdout = reader.join().unwrap_or_default();
    Ok(Run {
        status,
        stdout,
        stderr,
        timed_out,
    })
}

/// Kills `child` and the test program it started, which would otherwise keep running (and keep
/// our stdout pipe open): on Unix with `kill` on its process group, on Windows with `taskkill /T`
/// on its process tree (before `child` goes, while the tree still hangs from it). Elsewhere we
/// can only kill `child` itself.
fn stop(child: &mut Child) {
    #[cfg(unix)]
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .stderr(Stdio::null())
        .status();
    #[cfg(windows)]
    let _ = Command::new("taskkill")
        .args(["/F", "/T", "/PID", &child.id().to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let _ = child.kill();
}

/// The test targets that grade `entries`, once each, in order.
fn test_targets(entries: &[Entry]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    entries
        .iter()
        .map(Entry::test_target)
        .filter(|t| seen.insert(t.clone()))
        .collect()
}

/// `cargo test --no-run` for the graded test files: builds the crate, its binaries and tests.
pub(crate) fn build_tests(
    dir: &Path,
    entries: &[Entry],
    target_dir: Option<&Path>,
    progress: impl FnMut(&str),
) -> anyhow::Result<Run> {
    let targets = test_targets(entries);
    let mut args = vec!["test", "--no-run"];
    for target in &targets {
        args.push("--test");
        args.push(target);
    }
    cargo(dir, &args, target_dir, None, progress)
}

/// One exercise, graded: its status, its tests' results and the cargo run that gave them.
pub(crate) struct Graded {
    pub(crate) status: Status,
    pub(crate) tests: TestResults,
    pub(crate) run: Run,
}

/// Runs the tests of `entry` in the crate at `dir` (at most [`TEST_DEADLINE`]) and grades them.
pub(crate) fn grade(
    dir: &Path,
    entry: &Entry,
    target_dir: Option<&Path>,
) -> anyhow::Result<Graded> {
    let target = entry.test_target();
    let filter = entry.test_filter();
    let run = cargo(
        dir,
        &["test", "--test", &target, &filter],
        target_dir,
        Some(TEST_DEADLINE),
        |_| {},
    )?;
    let tests = TestResults::read(&run.stdout);
    let status = tests.status(&entry.id, run.status.success(), run.timed_out);
    Ok(Graded { status, tests, run })
}
