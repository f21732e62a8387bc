//! `classroom verify`, for CI in the reference crate: the guarantee rustlings makes. An exercise
//! whose tests pass without it teaches nothing, so in a student copy (in a temporary folder, built
//! in `target/classroom-verify`) we check, for every exercise:
//!
//! 1. a fresh copy builds and its `check` reports 0 passing, with the first exercise next;
//! 2. with only that exercise unsolved, its own tests fail;
//! 3. with only the exercises before it solved, as a class works, its tests pass;
//! 4. with everything solved, every exercise's tests pass, `check` says so, and the copy's
//!    `classroom solution` still refuses while its `classroom hint` works.
//!
//! We collect the problems and report them all at the end, rather than stop at the first.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use super::cargo::{build_tests, grade, TEST_DEADLINE};
use super::copy::{files_to_copy, rewrite_sources, write_copy};
use super::outcomes::Status;
use super::regions::Fill;
use super::terminal::{bar, LiveLine};
use super::{Entry, Exercise, Origin};

/// `classroom verify`: runs the four checks above and prints a table for each; an error if any
/// check found a problem.
pub fn verify(origin: &Origin) -> anyhow::Result<()> {
    let exercises = origin.exercises()?;
    let entries: Vec<Entry> = exercises.iter().map(|e| e.entry.clone()).collect();
    let started = Instant::now();
    let root = Path::new(origin.root);
    let target_dir = root.join("target").join("classroom-verify");
    let copy = std::env::temp_dir().join(format!("socket-steps-verify-{}", std::process::id()));
    if copy.exists() {
        fs::remove_dir_all(&copy).with_context(|| format!("could not clear {}", copy.display()))?;
    }
    let files = files_to_copy(root)?;
    println!(
        "verify: a student copy in {}, built in {}",
        copy.display(),
        target_dir.display()
    );
    let mut verifier = Verifier {
        origin,
        copy: &copy,
        target_dir: &target_dir,
        entries: &entries,
        live: LiveLine::new(),
        problems: Vec::new(),
    };
    let result = verifier.run(&files, &exercises);
    verifier.live.clear();
    let _ = fs::remove_dir_all(&copy);
    result?;
    let failures = verifier.problems.len();
    println!(
        "verify took {:.0?}",
        Duration::from_secs(started.elapsed().as_secs())
    );
    if failures > 0 {
        bail!("verify found {failures} problem(s), listed above: a class could not do the exercises as written");
    }
    println!("every exercise's tests fail while it is unsolved and pass once it is solved.");
    Ok(())
}

/// One verification in progress: the copy it works in, and the problems found so far.
struct Verifier<'a> {
    origin: &'a Origin,
    copy: &'a Path,
    target_dir: &'a Path,
    entries: &'a [Entry],
    live: LiveLine,
    problems: Vec<String>,
}

impl Verifier<'_> {
    /// The four checks, in order; then the problems, listed.
    fn run(&mut self, files: &[PathBuf], exercises: &[Exercise]) -> anyhow::Result<()> {
        self.fresh_copy(files, exercises)?;
        self.each_unsolved()?;
        self.in_order()?;
        self.all_solved()?;
        self.copys_own_commands()?;
        if !self.problems.is_empty() {
            println!();
            for problem in &self.problems {
                println!("problem: {problem}");
            }
        }
        Ok(())
    }

    /// 1. A fresh copy: it builds, and `check` names the first exercise first.
    fn fresh_copy(&mut self, files: &[PathBuf], exercises: &[Exercise]) -> anyhow::Result<()> {
        write_copy(self.origin, self.copy, files, exercises, |_| Fill::Todo)?;
        self.build("every exercise unsolved")?;
        self.live
            .show("running `classroom check` in the fresh copy...");
        let fresh = self.check_in_copy()?;
        self.live.clear();
        let fresh_out = String::from_utf8_lossy(&fresh.stdout);
        let first = &self.entries[0];
        let expected_next = format!("Next: exercise {}:", first.id);
        let fresh_ok = !fresh.status.success()
            && fresh_out.contains(&expected_next)
            && fresh_out.contains(&format!("0 of {} exercises pass.", self.entries.len()));
        println!(
            "fresh copy: builds; `check` exits {} and names {} first: {}",
            fresh.status.code().unwrap_or(-1),
            first.id,
            if fresh_ok { "ok" } else { "NO" }
        );
        if !fresh_ok {
            self.problems.push(format!(
                "`check` in a fresh copy did not report 0 passing and exercise {} next:\n{fresh_out}",
                first.id
            ));
        }
        Ok(())
    }

    /// 2. One exercise unsolved at a time: its own tests must fail.
    fn each_unsolved(&mut self) -> anyhow::Result<()> {
        println!();
        header("fail while unsolved");
        let entries = self.entries;
        for (index, entry) in entries.iter().enumerate() {
            let progress = bar(index, entries.len());
            self.live
                .show(&format!("{progress} only {} unsolved", entry.id));
            rewrite_sources(self.origin, self.copy, |id| {
                if id == entry.id {
                    Fill::Todo
                } else {
                    Fill::Solution
                }
            })?;
            self.build(&format!("only {} unsolved", entry.id))?;
            self.live.show(&format!(
                "{progress} only {} unsolved: {}",
                entry.id,
                entry.test_command()
            ));
            let graded = grade(self.copy, entry, Some(self.target_dir))?;
            self.live.clear();
            let (passed, failed) = (&graded.tests.passed, &graded.tests.failed);
            let total = graded.tests.total();
            let verdict = if graded.run.timed_out {
                self.problems.push(format!(
                    "exercise {}: its tests did not finish within {} s while it is unsolved",
                    entry.id,
                    TEST_DEADLINE.as_secs()
                ));
                "TIMED OUT".to_string()
            } else if total == 0 {
                self.problems.push(format!(
                    "exercise {}: no test matches `{}`",
                    entry.id,
                    entry.test_command()
                ));
                "NO TESTS".to_string()
            } else if failed.is_empty() {
                self.problems.push(format!(
                    "exercise {}: its tests all pass while it is unsolved (no teeth): {}",
                    entry.id,
                    passed.join(", ")
                ));
                "NO TEETH".to_string()
            } else if !passed.is_empty() {
                format!("ok (passes unsolved: {})", passed.join(", "))
            } else {
                "ok".to_string()
            };
            row(&entry.id, total, failed.len(), &verdict);
        }
        Ok(())
    }

    /// 3. In order, as a class works: with only the exercises before X solved, solving X makes
    ///    its tests pass (they need nothing from a later exercise), so `check` advances one by one.
    fn in_order(&mut self) -> anyhow::Result<()> {
        println!();
        header("pass with 1.1..X solved");
        let entries = self.entries;
        for (index, entry) in entries.iter().enumerate().take(entries.len() - 1) {
            let done: Vec<&str> = entries[..=index].iter().map(|e| e.id.as_str()).collect();
            self.live.show(&format!(
                "{} in order: {} solved",
                bar(index, entries.len()),
                done.join(" ")
            ));
            rewrite_sources(self.origin, self.copy, |id| {
                if done.contains(&id) {
                    Fill::Solution
                } else {
                    Fill::Todo
                }
            })?;
            self.build(&format!("{} solved", done.join(" ")))?;
            let graded = grade(self.copy, entry, Some(self.target_dir))?;
            self.live.clear();
            let verdict = match &graded.status {
                Status::Passed => "ok".to_string(),
                Status::WaitsFor(later) => {
                    self.problems.push(format!(
                        "exercise {}: its tests need the later exercise {later} (they stop at its todo!); \
                         a student doing the exercises in order is stuck at {}",
                        entry.id, entry.id
                    ));
                    format!("NEEDS {later}")
                }
                other => {
                    self.problems.push(format!(
                        "exercise {}: with 1.1..{} solved, `{}` does not pass ({})",
                        entry.id,
                        entry.id,
                        entry.test_command(),
                        other.label()
                    ));
                    "FAILS".to_string()
                }
            };
            let tests = &graded.tests;
            row(&entry.id, tests.total(), tests.passed.len(), &verdict);
        }
        Ok(())
    }

    /// 4. Everything solved (the reference code, exactly): every exercise's tests pass.
    fn all_solved(&mut self) -> anyhow::Result<()> {
        println!();
        rewrite_sources(self.origin, self.copy, |_| Fill::Solution)?;
        self.build("every exercise solved")?;
        header("pass when all solved");
        let entries = self.entries;
        for (index, entry) in entries.iter().enumerate() {
            self.live.show(&format!(
                "{} all solved: {}",
                bar(index, entries.len()),
                entry.test_command()
            ));
            let graded = grade(self.copy, entry, Some(self.target_dir))?;
            self.live.clear();
            let total = graded.tests.total();
            let ok = graded.status == Status::Passed;
            if !ok {
                let failed: Vec<&str> = graded
                    .tests
                    .failed
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect();
                self.problems.push(format!(
                    "exercise {}: with the reference solution, `{}` does not pass (failing: {}){}",
                    entry.id,
                    entry.test_command(),
                    failed.join(", "),
                    if total == 0 {
                        format!("\n{}", graded.run.stderr)
                    } else {
                        String::new()
                    }
                ));
            }
            let verdict = if ok { "ok" } else { "FAILS" };
            row(&entry.id, total, graded.tests.passed.len(), verdict);
        }
        Ok(())
    }

    /// Still all solved: the copy's `check` says every exercise passes, and the copy's own
    /// `classroom` keeps the solutions to itself but gives hints.
    fn copys_own_commands(&mut self) -> anyhow::Result<()> {
        let first = &self.entries[0];
        self.live
            .show("running `classroom check` and `classroom solution` in the solved copy...");
        let solved = self.check_in_copy()?;
        let leak = self
            .classroom(&["solution", &first.id])
            .output()
            .context("could not run the copy's `classroom solution`")?;
        self.live.clear();
        let solved_out = String::from_utf8_lossy(&solved.stdout);
        let all_pass = format!("{n} of {n} exercises pass.", n = self.entries.len());
        let solved_ok = solved.status.success() && solved_out.contains(&all_pass);
        println!();
        println!(
            "solved copy: `check` says \"{all_pass}\": {}",
            if solved_ok { "ok" } else { "NO" }
        );
        if !solved_ok {
            self.problems.push(format!(
                "`check` in the solved copy did not report {all_pass}:\n{solved_out}"
            ));
        }
        let leak_err = String::from_utf8_lossy(&leak.stderr);
        let refuses = !leak.status.success()
            && leak_err.contains("solutions are for teachers")
            && leak.stdout.is_empty();
        println!(
            "student copy: `classroom solution {}` refuses: {}",
            first.id,
            if refuses { "ok" } else { "NO" }
        );
        if !refuses {
            self.problems.push(format!(
                "a student copy's `classroom solution` did not refuse: {leak_err}"
            ));
        }
        let hint = self
            .classroom(&["hint", &first.id])
            .output()
            .context("could not run the copy's `classroom hint`")?;
        let hint_out = String::from_utf8_lossy(&hint.stdout);
        let hints = hint.status.success() && hint_out.contains(&first.hint);
        println!(
            "student copy: `classroom hint {}` gives the hint: {}",
            first.id,
            if hints { "ok" } else { "NO" }
        );
        if !hints {
            self.problems.push(format!(
                "a student copy's `classroom hint {}` did not give the hint:\n{hint_out}{}",
                first.id,
                String::from_utf8_lossy(&hint.stderr)
            ));
        }
        Ok(())
    }

    /// Builds the copy's binaries and graded tests, or says why the copy with `what` does not
    /// build (that stops `verify`: nothing else can be checked).
    fn build(&self, what: &str) -> anyhow::Result<()> {
        self.live.show(&format!("building {what}..."));
        let run = build_tests(self.copy, self.entries, Some(self.target_dir), |line| {
            let line = line.trim();
            if line.starts_with("Compiling") {
                self.live.show(&format!("building {what}: {line}"));
            }
        })?;
        self.live.clear();
        if !run.status.success() {
            bail!(
                "the student copy with {what} does not build:\n{}",
                run.stderr
            );
        }
        Ok(())
    }

    /// The copy's own `classroom ARGS`, as built by [`Verifier::build`], run in the copy.
    /// Runs the copy's own `classroom check`, sharing our build folder.
    fn check_in_copy(&self) -> anyhow::Result<std::process::Output> {
        self.classroom(&["check"])
            .env("CARGO_TARGET_DIR", self.target_dir)
            .output()
            .context("could not run the copy's `classroom check`")
    }

    fn classroom(&self, args: &[&str]) -> Command {
        let exe = self
            .target_dir
            .join("debug")
            .join(format!("classroom{}", std::env::consts::EXE_SUFFIX));
        let mut command = Command::new(exe);
        command.args(args).current_dir(self.copy);
        command
    }
}

/// The header of one of the three tables; `what` names its count column.
fn header(what: &str) {
    println!("{:<9} {:<10} {what:<24} verdict", "exercise", "its tests");
}

/// One row: the exercise, how many tests it has, how many of them did what the header says.
fn row(id: &str, total: usize, count: usize, verdict: &str) {
    println!(
        "{:<9} {:<10} {:<24} {}",
        id,
        total,
        format!("{count} of {total}"),
        verdict
    );
}
