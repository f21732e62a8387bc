//! `cargo classroom verify`, for CI in the reference crate: the guarantee rustlings makes, and
//! more. An exercise whose tests pass without it teaches nothing, so in a student copy (a
//! temporary folder, built in `target/classroom-verify`) we walk the course as a class would:
//!
//! 1. the catalogue and the sources agree (every region has an entry and the other way round,
//!    every exercise has tests named after it);
//! 2. for each exercise in order, with the ones before it solved: its tests fail while it is
//!    unsolved (its `todo!()` or its `start` code), fail with each wrong answer of its entry,
//!    and pass once it is solved, so `check` advances one exercise at a time;
//! 3. with everything solved, every exercise's tests pass;
//! 4. the copy's own runner: a fresh copy's `check` names the first exercise, `hint` works,
//!    `solution` refuses.
//!
//! We collect the problems and report them all at the end, rather than stop at the first.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::copy::{exercise_files, state_source, write_student_copy, Fill};
use crate::course::{chapter_of, numbered_chapters, Course, Exercise, SUMMARY};
use crate::grade::{self, Graded, Place};
use crate::outcomes::Status;
use crate::process::TempFolder;
use crate::regions::{self, START};
use crate::terminal::{bar, LiveLine};

/// `cargo classroom verify [IDS]`: every exercise, or only those named (each still with the ones
/// before it solved, and the catalogue checked whole).
pub fn verify(ids: &[String]) -> anyhow::Result<()> {
    let course = Course::find()?;
    for id in ids {
        if !course.exercises().iter().any(|e| &e.id == id) {
            bail!("there is no exercise {id} (`cargo classroom list` lists them)");
        }
    }
    if course.catalogue.student_copy {
        bail!(
            "verify runs in the reference crate, which has the solutions; this is a student copy"
        );
    }
    let started = Instant::now();
    let mut verifier = Verifier {
        course: &course,
        copy: TempFolder::new("verify")?,
        target_dir: course.root.join("target").join("classroom-verify"),
        live: LiveLine::new(),
        problems: Vec::new(),
        builds: Vec::new(),
        test_runs: Vec::new(),
        only: ids.to_vec(),
    };
    // Debug info makes every link slower and helps no verdict.
    std::env::set_var("CARGO_PROFILE_DEV_DEBUG", "0");
    println!(
        "verify: a student copy in {}, built in {}",
        verifier.copy.path().display(),
        verifier.target_dir.display()
    );
    verifier.agree()?;
    write_student_copy(&course, verifier.copy.path())?;
    verifier.copys_runner()?;
    verifier.walk()?;
    verifier.live.clear();
    let total = started.elapsed();
    println!();
    println!(
        "timings: {} builds ({}), {} test runs ({}); verify took {:.0} s",
        verifier.builds.len(),
        summary(&verifier.builds),
        verifier.test_runs.len(),
        summary(&verifier.test_runs),
        total.as_secs_f64()
    );
    if !verifier.problems.is_empty() {
        println!();
        for problem in &verifier.problems {
            println!("problem: {problem}");
        }
        bail!(
            "verify found {} problem(s), listed above: a class could not do the exercises as \
             written",
            verifier.problems.len()
        );
    }
    println!(
        "every exercise's tests fail while it is unsolved, reject its wrong answers, and pass \
         once it is solved."
    );
    Ok(())
}

/// `total (mean, max)` of some durations.
fn summary(times: &[Duration]) -> String {
    let total: Duration = times.iter().sum();
    let max = times.iter().max().copied().unwrap_or_default();
    let mean = total.checked_div(times.len() as u32).unwrap_or_default();
    format!(
        "{:.0} s in all, {:.1} s each on average, {:.1} s at most",
        total.as_secs_f64(),
        mean.as_secs_f64(),
        max.as_secs_f64()
    )
}

struct Verifier<'a> {
    course: &'a Course,
    copy: TempFolder,
    target_dir: PathBuf,
    live: LiveLine,
    problems: Vec<String>,
    builds: Vec<Duration>,
    test_runs: Vec<Duration>,
    /// The exercises to walk (empty: all).
    only: Vec<String>,
}

/// The state of the copy: which exercises are solved, and which one holds what instead.
struct State<'e> {
    /// The first `solved` exercises are solved; the rest unsolved...
    solved: usize,
    /// ...except this one, which holds this code.
    wrong: Option<(&'e Exercise, &'e str)>,
}

impl Verifier<'_> {
    /// 1. The catalogue and the sources agree.
    fn agree(&mut self) -> anyhow::Result<()> {
        self.problems = disagreements(self.course)?;
        println!(
            "catalogue and sources: {} exercises: {}",
            self.course.exercises().len(),
            if self.problems.is_empty() {
                "ok"
            } else {
                "PROBLEMS"
            }
        );
        if !self.problems.is_empty() {
            for problem in &self.problems {
                println!("problem: {problem}");
            }
            bail!("the catalogue and the sources disagree: fix that first");
        }
        Ok(())
    }

    /// 4. The runner of a fresh copy (built inside the copy, as a student builds it): `check`
    ///    names the first exercise, `hint` gives its hint, `solution` refuses.
    fn copys_runner(&mut self) -> anyhow::Result<()> {
        self.live.show("building the copy's own runner...");
        let started = Instant::now();
        let built = crate::process::cargo(
            self.copy.path(),
            &["build", "--package", "classroom"],
            &[("CARGO_TARGET_DIR", self.target_dir.as_os_str())],
            None,
            |_| {},
        )?;
        self.builds.push(started.elapsed());
        self.live.clear();
        if !built.status.success() {
            bail!("the copy's runner does not build:\n{}", built.stderr);
        }
        let first = &self.course.exercises()[0];
        let n = self.course.exercises().len();
        let check = self.runner(&["check"])?;
        let out = String::from_utf8_lossy(&check.stdout);
        let ok = !check.status.success()
            && out.contains(&format!("Next: {}:", first.id))
            && out.contains(&format!("0 of {n} exercises pass."));
        self.verdict(
            ok,
            &format!(
                "fresh copy: `check` says 0 of {n} pass and {} is next",
                first.id
            ),
            &format!("{out}{}", String::from_utf8_lossy(&check.stderr)),
        );
        let hint = self.runner(&["hint", &first.id])?;
        let out = String::from_utf8_lossy(&hint.stdout);
        self.verdict(
            hint.status.success() && words(&out).contains(&words(&first.hint)),
            &format!("fresh copy: `hint {}` gives the hint", first.id),
            &out,
        );
        let solution = self.runner(&["solution", &first.id])?;
        let err = String::from_utf8_lossy(&solution.stderr);
        self.verdict(
            !solution.status.success()
                && solution.stdout.is_empty()
                && err.contains("solutions are for teachers"),
            &format!("fresh copy: `solution {}` refuses", first.id),
            &err,
        );
        Ok(())
    }

    fn runner(&self, args: &[&str]) -> anyhow::Result<std::process::Output> {
        let exe = self
            .target_dir
            .join("debug")
            .join(format!("classroom{}", std::env::consts::EXE_SUFFIX));
        Command::new(&exe)
            .args(args)
            .current_dir(self.copy.path())
            .env("CARGO_TARGET_DIR", &self.target_dir)
            .output()
            .with_context(|| format!("could not run {}", exe.display()))
    }

    /// Whether this run verifies `exercise`.
    fn chosen(&self, exercise: &Exercise) -> bool {
        self.only.is_empty() || self.only.contains(&exercise.id)
    }

    fn verdict(&mut self, ok: bool, what: &str, detail: &str) {
        println!("{what}: {}", if ok { "ok" } else { "NO" });
        if !ok {
            self.problems
                .push(format!("{what}: no. It said:\n{detail}"));
        }
    }

    /// 2 and 3: the walk through the course, in order.
    fn walk(&mut self) -> anyhow::Result<()> {
        let exercises = self.course.exercises();
        println!();
        println!(
            "{:<8} {:<8} {:<22} {:<26} solved",
            "exercise", "kind", "unsolved", "wrong answers"
        );
        for (index, exercise) in exercises.iter().enumerate() {
            if !self.chosen(exercise) {
                continue;
            }
            let progress = bar(index, exercises.len());
            // Unsolved, with the ones before it solved.
            self.live
                .show(&format!("{progress} {} unsolved", exercise.id));
            let only = &[exercise][..];
            let place = self.set(
                &State {
                    solved: index,
                    wrong: None,
                },
                only,
            )?;
            let unsolved = self.tests(&place, exercise)?;
            let unsolved_cell = self.judge_unsolved(exercise, &unsolved);
            let mut rejected = 0;
            let mut wrong_cells = Vec::new();
            for wrong in &exercise.wrong {
                self.live
                    .show(&format!("{progress} {} wrong: {}", exercise.id, wrong.name));
                let state = State {
                    solved: index,
                    wrong: Some((exercise, &wrong.code)),
                };
                let Ok(place) = self.set(&state, only) else {
                    self.problems.push(format!(
                        "exercise {}: the wrong answer \"{}\" does not compile (it must: it tests \
                         the tests)",
                        exercise.id, wrong.name
                    ));
                    wrong_cells.push("DOES NOT COMPILE".to_string());
                    continue;
                };
                let graded = self.tests(&place, exercise)?;
                if graded.tests.failed.is_empty() {
                    self.problems.push(format!(
                        "exercise {}: the wrong answer \"{}\" passes its tests ({}): they need a \
                         test that rejects it",
                        exercise.id,
                        wrong.name,
                        graded.status.label()
                    ));
                    wrong_cells.push(format!("PASSES: {}", wrong.name));
                } else {
                    rejected += 1;
                }
            }
            // Solved, with the ones before it solved (the next step's state).
            self.live
                .show(&format!("{progress} {} solved", exercise.id));
            let place = self.set(
                &State {
                    solved: index + 1,
                    wrong: None,
                },
                only,
            )?;
            let solved = self.tests(&place, exercise)?;
            let solved_cell = if solved.status == Status::Passed {
                format!(
                    "{} of {} pass",
                    solved.tests.passed.len(),
                    solved.tests.total()
                )
            } else {
                self.problems.push(format!(
                    "exercise {}: with it and the ones before it solved, `{}` does not pass ({}){}",
                    exercise.id,
                    exercise.test_command(),
                    solved.status.label(),
                    first_failure(&solved)
                ));
                format!("NO ({})", solved.status.label())
            };
            let wrong_cell = if exercise.wrong.is_empty() {
                "none listed".to_string()
            } else if wrong_cells.is_empty() {
                format!("{rejected} of {} rejected", exercise.wrong.len())
            } else {
                wrong_cells.join("; ")
            };
            self.live.clear();
            println!(
                "{:<8} {:<8} {:<22} {:<26} {}",
                exercise.id,
                exercise.kind.label(),
                unsolved_cell,
                wrong_cell,
                solved_cell
            );
        }
        // 3. Everything solved (the reference, exactly): every exercise's tests pass.
        println!();
        let mut failing = Vec::new();
        let chosen: Vec<&Exercise> = exercises.iter().filter(|e| self.chosen(e)).collect();
        let place = self.set(
            &State {
                solved: exercises.len(),
                wrong: None,
            },
            &chosen,
        )?;
        for (index, exercise) in exercises.iter().enumerate() {
            if !self.chosen(exercise) {
                continue;
            }
            self.live.show(&format!(
                "{} all solved: {}",
                bar(index, exercises.len()),
                exercise.test_command()
            ));
            let graded = self.tests(&place, exercise)?;
            if graded.status != Status::Passed {
                failing.push(exercise.id.clone());
                self.problems.push(format!(
                    "exercise {}: with every exercise solved, `{}` does not pass ({}){}",
                    exercise.id,
                    exercise.test_command(),
                    graded.status.label(),
                    first_failure(&graded)
                ));
            }
        }
        self.live.clear();
        println!(
            "all solved: every exercise's tests pass: {}",
            if failing.is_empty() {
                "ok".to_string()
            } else {
                format!("NO ({})", failing.join(", "))
            }
        );
        Ok(())
    }

    /// The verdict on an exercise's tests while it is unsolved: they must fail, and not because
    /// they wait for a later exercise.
    fn judge_unsolved(&mut self, exercise: &Exercise, graded: &Graded) -> String {
        let (failed, total) = (graded.tests.failed.len(), graded.tests.total());
        match &graded.status {
            Status::NoTests => {
                self.problems.push(format!(
                    "exercise {}: no test matches `{}`",
                    exercise.id,
                    exercise.test_command()
                ));
                "NO TESTS".into()
            }
            Status::TimedOut => {
                self.problems.push(format!(
                    "exercise {}: its tests did not finish within {} s while it is unsolved",
                    exercise.id,
                    grade::TEST_DEADLINE.as_secs()
                ));
                "TIMED OUT".into()
            }
            Status::WaitsFor(later) => {
                self.problems.push(format!(
                    "exercise {}: its tests need the later exercise {later} (they stop at its \
                     todo!()): a class doing the exercises in order is stuck",
                    exercise.id
                ));
                format!("NEEDS {later}")
            }
            _ if failed == 0 => {
                self.problems.push(format!(
                    "exercise {}: its tests all pass while it is unsolved (no teeth)",
                    exercise.id
                ));
                "NO TEETH".into()
            }
            _ => format!("{failed} of {total} fail"),
        }
    }

    /// Writes `state` into the copy (only the files that change, so cargo rebuilds as little as
    /// it can) and builds it with the tests of the exercises `only`. An error if
    /// it does not compile.
    fn set(&mut self, state: &State, only: &[&Exercise]) -> anyhow::Result<Place> {
        let exercises = self.course.exercises();
        let copy = self.copy.path().to_path_buf();
        for file in exercise_files(exercises) {
            let source = fs::read_to_string(self.course.root.join(&file))?;
            let text = state_source(exercises, &file, &source, |exercise| {
                if let Some((wrong, code)) = state.wrong {
                    if wrong.id == exercise.id {
                        return Some(Fill::Code(code.to_string()));
                    }
                }
                let position = exercises.iter().position(|e| e.id == exercise.id)?;
                (position < state.solved).then_some(Fill::Solution)
            })?;
            let path = copy.join(&file);
            if fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                fs::write(&path, text)
                    .with_context(|| format!("could not write {}", path.display()))?;
            }
        }
        let targets = grade::targets(only);
        let targets: Vec<&str> = targets.iter().map(String::as_str).collect();
        let package = self.course.lesson_package()?;
        let run = grade::build_tests(&copy, Some(&self.target_dir), &package, &targets, |_| {})?;
        self.builds.push(run.took);
        if !run.status.success() {
            bail!(
                "the copy with {} solved{} does not compile:\n{}",
                state.solved,
                state
                    .wrong
                    .map_or_else(String::new, |(e, _)| format!(" and a wrong {}", e.id)),
                run.stderr
            );
        }
        Ok(Place::at(&copy, Some(&self.target_dir)))
    }

    fn tests(&mut self, place: &Place, exercise: &Exercise) -> anyhow::Result<Graded> {
        let graded = grade::run_tests(self.course, place, exercise)?;
        self.test_runs.push(graded.run.took);
        Ok(graded)
    }
}

/// Where the catalogue and the sources disagree: an exercise without its region or its tests,
/// a region without its entry, a malformed region, an exercise whose page is not the chapter its
/// id numbers in the book's table of contents.
pub fn disagreements(course: &Course) -> anyhow::Result<Vec<String>> {
    let mut problems = Vec::new();
    let root = &course.root;
    let exercises = course.exercises();
    let summary = root.join(SUMMARY);
    let summary_text = fs::read_to_string(&summary)
        .with_context(|| format!("could not read {}", summary.display()))?;
    let chapters = numbered_chapters(&summary_text);
    for exercise in exercises {
        // Exercise N.M belongs to chapter N: the table of contents decides which page that is.
        let number = chapter_of(&exercise.id).unwrap_or(0);
        match chapters.iter().position(|page| *page == exercise.page) {
            None => problems.push(format!(
                "exercise {}: its page {} is not a numbered chapter of {SUMMARY}",
                exercise.id, exercise.page
            )),
            Some(at) if at + 1 != number => problems.push(format!(
                "exercise {}: its page {} is chapter {} in {SUMMARY}, so its id should be {}.M",
                exercise.id,
                exercise.page,
                at + 1,
                at + 1
            )),
            Some(_) => {}
        }
        if let Err(error) = grade::region_of(root, exercise) {
            problems.push(format!("exercise {}: {error:#}", exercise.id));
        }
        let tests = root
            .join("tests")
            .join(format!("{}.rs", exercise.test.target));
        let text = fs::read_to_string(&tests).unwrap_or_default();
        if !text.contains(&format!("fn {}", exercise.test.filter)) {
            problems.push(format!(
                "exercise {}: no test named `{}...` in {}",
                exercise.id,
                exercise.test.filter,
                tests.display()
            ));
        }
    }
    for file in rust_files(&root.join("src"))? {
        let rel = file
            .strip_prefix(root)
            .unwrap_or(&file)
            .to_string_lossy()
            .replace('\\', "/");
        let source = fs::read_to_string(&file)?;
        if !source.contains(START) {
            continue;
        }
        match regions::find(&rel, &source) {
            Err(error) => problems.push(format!("{error}")),
            Ok(found) => {
                for region in found {
                    match exercises.iter().find(|e| e.id == region.id) {
                        None => problems.push(format!(
                            "{rel}:{}: exercise {} has no entry in the catalogue",
                            region.start_line, region.id
                        )),
                        Some(e) if e.file != rel => problems.push(format!(
                            "{rel}:{}: exercise {} is in {rel}, but its entry says {}",
                            region.start_line, region.id, e.file
                        )),
                        Some(_) => {}
                    }
                }
            }
        }
    }
    Ok(problems)
}

/// `text` with its runs of white space made single spaces: the same words, however wrapped.
fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `: the first failure says ...`, for a problem report.
fn first_failure(graded: &Graded) -> String {
    graded.tests.failed.first().map_or_else(
        || format!("\n{}", graded.run.stderr),
        |f| format!(": `{}` says:\n{}", f.name, f.message),
    )
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("could not read {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            files.extend(rust_files(&path)?);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_and_the_sources_agree() {
        let course = Course::open(Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()).unwrap();
        let problems = disagreements(&course).unwrap();
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}
