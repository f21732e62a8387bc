//! `classroom check`, run inside a student copy: builds it, runs each exercise's tests in order
//! behind a live progress line, then prints a table (step, exercise, task, status) and what to do
//! next: the first exercise that does not pass, with its hint, its test command and why it fails.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context};

use super::cargo::{build_tests, grade, Graded, TEST_DEADLINE};
use super::catalogue::read_catalogue;
use super::outcomes::{strip_ansi, Status};
use super::terminal::{bar, shorten, wrap, LiveLine};
use super::{Entry, CLIENT_CHAPTER, MARKER_FILE};

/// `classroom check`: grades the student copy that the current folder is in. `Ok(true)` when
/// every exercise passes; `Ok(false)` when one does not, or the copy does not compile, after
/// saying what to do (the binary then exits with status 1).
pub fn check() -> anyhow::Result<bool> {
    let root = student_root()?;
    let entries = read_catalogue(&root)?;
    let started = Instant::now();
    let live = LiveLine::new();
    live.show("building your copy and its tests (the first build takes longest)...");
    let build = build_tests(&root, &entries, None, |line| {
        let line = line.trim();
        if line.starts_with("Compiling") || line.starts_with("Building") {
            live.show(&format!("building: {line}"));
        }
    })?;
    live.clear();
    if !build.status.success() {
        let shown: Vec<&str> = build
            .stderr
            .lines()
            .filter(|l| {
                !l.trim_start().starts_with("Compiling") && !l.trim_start().starts_with("Blocking")
            })
            .collect();
        eprintln!("{}", shown.join("\n"));
        eprintln!();
        eprintln!("Your copy does not compile yet: fix the first error above (cargo shows the file and line), then run check again.");
        return Ok(false);
    }
    let mut results = Vec::new();
    for (done, entry) in entries.iter().enumerate() {
        live.show(&format!(
            "{} checking {}: {}",
            bar(done, entries.len()),
            entry.id,
            entry.task
        ));
        results.push(grade(&root, entry, None)?);
    }
    live.clear();
    print_progress(&entries, &results);
    println!("(checked in {}s)", started.elapsed().as_secs());
    Ok(results.iter().all(|r| r.status == Status::Passed))
}

/// The student copy that the current folder is in: the nearest folder up with a `Cargo.toml`
/// must also have the marker file.
fn student_root() -> anyhow::Result<PathBuf> {
    let cwd = std::env::current_dir().context("could not read the current folder")?;
    let root = cwd.ancestors().find(|dir| dir.join("Cargo.toml").is_file());
    match root {
        Some(root) if root.join(MARKER_FILE).is_file() => Ok(root.to_path_buf()),
        Some(root) => bail!(
            "`check` runs inside a student copy, and {} is not one (it has no {MARKER_FILE}).\n\
             Make one with `cargo run --bin classroom -- new DIR`, then run `check` inside DIR.\n\
             (To test the reference crate's exercises, run `cargo run --bin classroom -- verify`.)",
            root.display()
        ),
        None => bail!(
            "`check` runs inside a student copy, and {} is not in a Rust crate at all: `cd` into your copy first",
            cwd.display()
        ),
    }
}

/// The table (one row per exercise), the count, and what to do next about the first exercise
/// that does not pass.
fn print_progress(entries: &[Entry], results: &[Graded]) {
    println!("{:<10} {:<8} {:<54} status", "step", "exercise", "task");
    for (entry, result) in entries.iter().zip(results) {
        let step = if entry.chapter() == CLIENT_CHAPTER {
            "7 (client)".to_string()
        } else {
            entry.chapter().to_string()
        };
        println!(
            "{:<10} {:<8} {:<54} {}",
            step,
            entry.id,
            shorten(&entry.task, 54),
            result.status.label()
        );
    }
    let passed = results
        .iter()
        .filter(|r| r.status == Status::Passed)
        .count();
    println!();
    println!("{passed} of {} exercises pass.", entries.len());
    let Some((entry, result)) = entries
        .iter()
        .zip(results)
        .find(|(_, r)| r.status != Status::Passed)
    else {
        println!(
            "Every exercise passes: well done! Run the whole crate's tests with `cargo test`."
        );
        return;
    };
    println!();
    println!("Next: exercise {}: {}", entry.id, entry.task);
    println!(
        "  where: the end of `{}` in {} (chapter {})",
        entry.function,
        entry.file,
        entry.chapter()
    );
    println!("  hint:  {}", wrap(&entry.hint, 88, "         "));
    println!("  test:  {}", entry.test_command());
    match &result.status {
        Status::NotStarted => println!("  Its `todo!` is still there: replace it with your code."),
        Status::WaitsFor(other) => {
            println!("  Its tests stop at exercise {other}'s `todo!`: do {other} first.")
        }
        Status::NoTests => println!(
            "  No test is named `{}...` in tests/{}.rs: tell your teacher.",
            entry.test_filter(),
            entry.test_target()
        ),
        Status::TimedOut => println!(
            "  Its tests were still running after {} s, so check stopped them: is there a loop \
             that never ends?\n  Run them yourself to see where: {}",
            TEST_DEADLINE.as_secs(),
            entry.test_command()
        ),
        Status::Error => {
            println!("  The tests did not run; cargo said:");
            for line in result
                .run
                .stderr
                .lines()
                .rev()
                .take(15)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
            {
                println!("    {line}");
            }
        }
        Status::Failing | Status::Passed => {
            if let Some((name, message)) = result.tests.failed.first() {
                println!(
                    "  {} of {} tests fail; the first, `{name}`, says:",
                    result.tests.failed.len(),
                    result.tests.total()
                );
                let message = if std::io::stdout().is_terminal() {
                    message.clone()
                } else {
                    strip_ansi(message)
                };
                for line in message.lines().take(12) {
                    let line = line.trim_end();
                    if line.is_empty() {
                        println!();
                    } else {
                        println!("    {line}");
                    }
                }
            }
        }
    }
}
