//! `check` (every exercise, in order), `check N.M` (one) and `list`: grade the copy the current
//! folder is in, print a table and what to do next.

use std::collections::hash_map::DefaultHasher;
use std::collections::BTreeMap;
use std::fs;
use std::hash::{Hash, Hasher};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use crate::course::{Course, Exercise};
use crate::grade::{self, Build, CompileError, Graded, Work, TEST_DEADLINE};
use crate::outcomes::{strip_ansi, Status};
use crate::terminal::{bar, shorten, wrap, LiveLine};

/// One exercise's verdict in a report.
pub struct Verdict {
    /// What it is.
    pub status: Status,
    /// Its tests' run, if they ran.
    pub graded: Option<Graded>,
}

/// A graded copy: a verdict per exercise (in course order, `None` for those not asked about),
/// and what the build found.
pub struct Report {
    /// The verdicts.
    pub verdicts: Vec<Option<Verdict>>,
    /// Compile errors.
    pub build: Build,
}

impl Report {
    /// The first exercise asked about that does not pass: what to do next.
    pub fn next(&self) -> Option<usize> {
        self.verdicts
            .iter()
            .position(|v| v.as_ref().is_some_and(|v| v.status != Status::Passed))
    }

    /// How many pass.
    pub fn passed(&self) -> usize {
        self.verdicts
            .iter()
            .filter(|v| v.as_ref().is_some_and(|v| v.status == Status::Passed))
            .count()
    }
}

/// Grades the exercises `only` says (all when `None`) of the copy at `course.root`.
///
/// In order: an exercise whose code does not compile is "does not compile"; one whose region is
/// untouched is "not started" if it is the first not to pass, and "waits for N.M" (the first)
/// after that, without running its tests; the others run their tests.
pub fn grade(course: &Course, only: Option<&str>, live: &LiveLine) -> anyhow::Result<Report> {
    let exercises = course.exercises();
    let asked: Vec<bool> = exercises
        .iter()
        .map(|e| only.map_or(true, |id| e.id == id))
        .collect();
    let work = grade::work(course, &course.root);
    let wanted: Vec<&Exercise> = exercises
        .iter()
        .zip(&asked)
        .filter(|(_, a)| **a)
        .map(|(e, _)| e)
        .collect();
    let targets = grade::targets(&wanted);
    let targets: Vec<&str> = targets.iter().map(String::as_str).collect();
    live.show("building your copy and its tests...");
    let (build, place) = grade::build(course, &course.root, None, &targets, |line| {
        let line = line.trim();
        if line.starts_with("Compiling") {
            live.show(&format!("building: {line}"));
        }
    })?;
    live.clear();
    let mut verdicts = Vec::new();
    let mut first_pending: Option<String> = None;
    for (index, exercise) in exercises.iter().enumerate() {
        if !asked[index] {
            verdicts.push(None);
            continue;
        }
        let (status, graded) = if build.broken.contains_key(&exercise.id) {
            (Status::DoesNotCompile, None)
        } else if work[index] == Work::Untouched {
            match &first_pending {
                Some(first) if only.is_none() => (Status::WaitsFor(first.clone()), None),
                _ => (Status::NotStarted, None),
            }
        } else if let Some(place) = &place {
            live.show(&format!(
                "{} checking {}: {}",
                bar(index, exercises.len()),
                exercise.id,
                exercise.title
            ));
            let graded = grade::run_tests(course, place, exercise)?;
            live.clear();
            (graded.status.clone(), Some(graded))
        } else {
            (Status::Error, None)
        };
        if status != Status::Passed && first_pending.is_none() {
            first_pending = Some(exercise.id.clone());
        }
        verdicts.push(Some(Verdict { status, graded }));
    }
    let report = Report { verdicts, build };
    remember(course, &report);
    Ok(report)
}

/// `cargo classroom check [N.M]`: grades and prints; `Ok(true)` when everything asked about
/// passes.
///
/// With `timings`, a table of where the time went follows: each cargo build, each exercise's
/// test run, and the whole check (from the runner's start, so cargo's start of the runner itself
/// is not in it).
pub fn check(only: Option<&str>, timings: bool) -> anyhow::Result<bool> {
    let course = Course::find()?;
    if let Some(id) = only {
        course.exercise(id)?;
    }
    let started = Instant::now();
    let live = LiveLine::new();
    let report = grade(&course, only, &live)?;
    let mut out = String::new();
    if only.is_none() {
        out.push_str(&table(&course, &report));
        out.push('\n');
    }
    out.push_str(&next_steps(&course, &report, only.is_none()));
    print!("{out}");
    println!("(checked in {:.1} s)", started.elapsed().as_secs_f64());
    if timings {
        print!("{}", timings_table(&course, &report, started.elapsed()));
    }
    Ok(report.next().is_none() && report.build.outside.is_none())
}

/// `check --timings`: where the time went.
fn timings_table(course: &Course, report: &Report, total: std::time::Duration) -> String {
    let mut out = String::from("\ntimings:\n");
    for (n, took) in report.build.took.iter().enumerate() {
        let what = if n == 0 {
            "cargo test --no-run (the library, the programs, the exercises' test files)"
        } else {
            "the same, on the mirror with the broken regions put back"
        };
        out.push_str(&format!("  {:>6.2} s  build: {what}\n", took.as_secs_f64()));
    }
    for (exercise, verdict) in course.exercises().iter().zip(&report.verdicts) {
        if let Some(graded) = verdict.as_ref().and_then(|v| v.graded.as_ref()) {
            out.push_str(&format!(
                "  {:>6.2} s  tests of {}: {}\n",
                graded.run.took.as_secs_f64(),
                exercise.id,
                exercise.test_command()
            ));
        }
    }
    out.push_str(&format!("  {:>6.2} s  in all\n", total.as_secs_f64()));
    out
}

/// The table: one row per exercise (id, kind, title, status), then the progress bar.
pub fn table(course: &Course, report: &Report) -> String {
    let mut out = format!(
        "{:<6} {:<8} {:<52} {}\n",
        "id", "kind", "exercise", "status"
    );
    for (exercise, verdict) in course.exercises().iter().zip(&report.verdicts) {
        let status = verdict
            .as_ref()
            .map_or_else(|| "-".to_string(), |v| v.status.label());
        out.push_str(&format!(
            "{:<6} {:<8} {:<52} {}\n",
            exercise.id,
            exercise.kind.label(),
            shorten(&exercise.title, 52),
            status
        ));
    }
    let total = course.exercises().len();
    out.push_str(&format!(
        "\n{} {} of {total} exercises pass.\n",
        bar(report.passed(), total)
            .split(' ')
            .next()
            .unwrap_or_default(),
        report.passed()
    ));
    out
}

/// What to do next: the first exercise that does not pass, what is wrong with it, its hint.
pub fn next_steps(course: &Course, report: &Report, all: bool) -> String {
    let mut out = String::new();
    if let Some((error, stderr)) = &report.build.outside {
        out.push_str("Your copy does not compile, and not because of an exercise:\n");
        if error.line > 0 {
            out.push_str(&format!(
                "  {}:{}: {}\n",
                error.file, error.line, error.message
            ));
        } else {
            out.push_str(&indent(stderr, "  "));
        }
        out.push_str(
            "Fix that first (`cargo build` shows the whole error); if you did not change that \
             file, take it back from a fresh copy.\n",
        );
        return out;
    }
    let Some(index) = report.next() else {
        out.push_str(if all {
            "Every exercise passes: well done! `cargo test` runs the whole course's tests.\n"
        } else {
            "It passes. `cargo classroom check` shows every exercise.\n"
        });
        return out;
    };
    let exercise = &course.exercises()[index];
    let Some(verdict) = &report.verdicts[index] else {
        return out;
    };
    out.push_str(&about(
        exercise,
        verdict,
        report.build.broken.get(&exercise.id),
        true,
    ));
    // The other exercises that do not compile, one line each.
    for (id, error) in report
        .build
        .broken
        .iter()
        .filter(|(id, _)| **id != exercise.id)
    {
        out.push_str(&format!(
            "Also: exercise {id} does not compile: {}:{}: {}\n",
            error.file, error.line, error.message
        ));
    }
    out
}

/// Exercise `exercise`'s task, where it is, why it does not pass yet, and (with `hint`, or
/// when it does not compile) its hint.
pub fn about(
    exercise: &Exercise,
    verdict: &Verdict,
    broken: Option<&CompileError>,
    hint: bool,
) -> String {
    let mut out = format!(
        "{} {}: {}\n  where: {} (read book/src/{})\n  task:  {}\n",
        match verdict.status {
            Status::Passed => "Passed:",
            _ => "Next:",
        },
        exercise.id,
        exercise.title,
        exercise.file,
        exercise.page,
        wrap(exercise.task.trim(), 86, "         ")
    );
    match &verdict.status {
        Status::DoesNotCompile => {
            if let Some(error) = broken {
                out.push_str(&format!(
                    "  Exercise {} does not compile:\n    {}:{}: {}\n  (`cargo build` shows the whole error; the other exercises were graded \
                     with {}'s todo!() put back.)\n",
                    exercise.id, error.file, error.line, error.message, exercise.id
                ));
            }
        }
        Status::NotStarted => {
            out.push_str("  Its todo!() is still there: replace it with your code.\n")
        }
        Status::WaitsFor(other) => out.push_str(&format!(
            "  Its tests need exercise {other} first (they stopped at its todo!()).\n"
        )),
        Status::NoTests => out.push_str(&format!(
            "  No test matches `{}`: tell your teacher.\n",
            exercise.test_command()
        )),
        Status::TimedOut => out.push_str(&format!(
            "  Its tests were still running after {} s, so we stopped them: is there a loop that \
             never ends?\n",
            TEST_DEADLINE.as_secs()
        )),
        Status::Error => {
            if let Some(graded) = &verdict.graded {
                out.push_str("  Its tests did not run; cargo said:\n");
                let lines: Vec<&str> = graded.run.stderr.lines().collect();
                let tail = &lines[lines.len().saturating_sub(12)..];
                out.push_str(&indent(&tail.join("\n"), "    "));
            }
        }
        Status::Failing | Status::Passed => {
            if let Some(graded) = &verdict.graded {
                if let Some(first) = graded.tests.failed.first() {
                    out.push_str(&format!(
                        "  {} of {} tests fail; the first, `{}`{}, says:\n",
                        graded.tests.failed.len(),
                        graded.tests.total(),
                        first.name,
                        first
                            .place
                            .as_ref()
                            .map_or_else(String::new, |p| format!(" ({p})"))
                    ));
                    out.push_str(&indent(&explain_diff(&first.message), "    "));
                }
            }
        }
    }
    if verdict.status != Status::Passed && (hint || verdict.status == Status::DoesNotCompile) {
        out.push_str(&format!(
            "  hint:  {}\n",
            wrap(exercise.hint.trim(), 86, "         ")
        ));
    }
    out.push_str(&format!("  test:  {}\n", exercise.test_command()));
    out
}

/// A failure message, without colours when stdout is not a terminal, and with
/// `pretty_assertions`' diff header saying which side is which: our tests write
/// `assert_eq!(what happened, what was expected)`.
fn explain_diff(message: &str) -> String {
    let message = if std::io::stdout().is_terminal() {
        message.to_string()
    } else {
        strip_ansi(message)
    };
    let lines: Vec<String> = message
        .lines()
        .take(16)
        .map(|line| {
            if strip_ansi(line).trim() == "Diff < left / right > :" {
                "Diff: < what happened (left) / > what was expected (right):".to_string()
            } else {
                line.trim_end().to_string()
            }
        })
        .collect();
    lines.join("\n")
}

fn indent(text: &str, by: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if line.is_empty() {
            out.push('\n');
        } else {
            out.push_str(&format!("{by}{line}\n"));
        }
    }
    out
}

/// `cargo classroom list`: every exercise (id, kind, title) with what we know of it without
/// running anything: not started, or the verdict of the last check if its code has not changed
/// since.
pub fn list() -> anyhow::Result<()> {
    let course = Course::find()?;
    let work = grade::work(&course, &course.root);
    let known = remembered(&course);
    println!("{:<6} {:<8} {:<52} state", "id", "kind", "exercise");
    for (exercise, work) in course.exercises().iter().zip(&work) {
        let state = match work {
            Work::Untouched => "not started".to_string(),
            Work::Lost(_) => "markers missing!".to_string(),
            Work::Touched => match (known.get(&exercise.id), fingerprint(&course, exercise)) {
                (Some((label, then)), Some(now)) if *then == now => label.clone(),
                _ => "written, not checked yet".to_string(),
            },
        };
        println!(
            "{:<6} {:<8} {:<52} {state}",
            exercise.id,
            exercise.kind.label(),
            shorten(&exercise.title, 52)
        );
    }
    let mut kinds = BTreeMap::new();
    for exercise in course.exercises() {
        *kinds.entry(exercise.kind.label()).or_insert(0) += 1;
    }
    let kinds: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
    println!(
        "\n{} exercises ({}). `cargo classroom check` grades them; `cargo classroom watch` \
         grades as you save.",
        course.exercises().len(),
        kinds.join(", ")
    );
    Ok(())
}

/// Where we keep the verdicts of the last check, for `list`.
fn memory(course: &Course) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| course.root.join("target"))
        .join("classroom-verdicts.txt")
}

/// A fingerprint of the code in an exercise's region.
fn fingerprint(course: &Course, exercise: &Exercise) -> Option<String> {
    let region = grade::region_of(&course.root, exercise).ok()?;
    let mut hasher = DefaultHasher::new();
    region.body.hash(&mut hasher);
    Some(format!("{:016x}", hasher.finish()))
}

fn remember(course: &Course, report: &Report) {
    let mut known = remembered(course);
    for (exercise, verdict) in course.exercises().iter().zip(&report.verdicts) {
        if let (Some(verdict), Some(print)) = (verdict, fingerprint(course, exercise)) {
            known.insert(exercise.id.clone(), (verdict.status.label(), print));
        }
    }
    let text: String = known
        .iter()
        .map(|(id, (label, print))| format!("{id}\t{print}\t{label}\n"))
        .collect();
    let path = memory(course);
    if let Some(parent) = path.parent() {
        let _ = fs::create_dir_all(parent);
    }
    let _ = fs::write(path, text);
}

fn remembered(course: &Course) -> BTreeMap<String, (String, String)> {
    let text = fs::read_to_string(memory(course)).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, '\t');
            let id = parts.next()?.to_string();
            let print = parts.next()?.to_string();
            let label = parts.next()?.to_string();
            Some((id, (label, print)))
        })
        .collect()
}
