//! Grading a copy of the course: build it, find which exercise a compile error is in (and grade
//! the others on a temporary copy with that region put back to its `todo!()`), then run each
//! exercise's tests and read their outcome. `check`, `watch` and `verify` all grade through here.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

use crate::course::{Course, Exercise};
use crate::outcomes::{Status, TestResults};
use crate::process::{cargo, Run};
use crate::regions::{self, same_code};

/// How long one exercise's tests may run. The tests bound every wait, but a student's loop that
/// never ends (a `recv` loop that misses the empty `recv`) would otherwise hang `check` for ever.
pub const TEST_DEADLINE: Duration = Duration::from_secs(120);

/// One compiler error, as `--message-format=short` prints it: `src/x.rs:36:17: error[E0308]: ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    /// The file, relative to the workspace root.
    pub file: String,
    /// The 1-based line.
    pub line: usize,
    /// `error[E0308]: mismatched types`.
    pub message: String,
}

/// The errors (not the warnings) in cargo's short-format stderr, in order.
pub fn compile_errors(stderr: &str) -> Vec<CompileError> {
    stderr
        .lines()
        .filter_map(|line| {
            let (place, message) = line.split_once(": error")?;
            let mut parts = place.rsplitn(3, ':');
            let _column: usize = parts.next()?.parse().ok()?;
            let line_number: usize = parts.next()?.parse().ok()?;
            let file = parts.next()?.replace('\\', "/");
            Some(CompileError {
                file,
                line: line_number,
                message: format!("error{message}"),
            })
        })
        .collect()
}

/// How far the student got with one exercise, from its region in their source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Work {
    /// The region holds what the copy started with (the `todo!()` or the `start` code).
    Untouched,
    /// The student changed it.
    Touched,
    /// The markers are gone or broken: we cannot tell, nor put the region back.
    Lost(String),
}

/// The work on every exercise of `course`, in order.
pub fn work(course: &Course, dir: &Path) -> Vec<Work> {
    course
        .exercises()
        .iter()
        .map(|exercise| match region_of(dir, exercise) {
            Ok(region) if same_code(&region.body, &exercise.unsolved(&region.indent)) => {
                Work::Untouched
            }
            Ok(_) => Work::Touched,
            Err(error) => Work::Lost(error.to_string()),
        })
        .collect()
}

/// The region of `exercise` in its file under `dir`.
pub fn region_of(dir: &Path, exercise: &Exercise) -> anyhow::Result<regions::Region> {
    let path = dir.join(&exercise.file);
    let source =
        fs::read_to_string(&path).with_context(|| format!("could not read {}", exercise.file))?;
    regions::find(&exercise.file, &source)?
        .into_iter()
        .find(|r| r.id == exercise.id)
        .with_context(|| {
            format!(
                "the lines `// EXERCISE {id}` and `// END EXERCISE {id}` are gone from {}: put \
                 them back around your code",
                exercise.file,
                id = exercise.id
            )
        })
}

/// What building the copy found.
#[derive(Debug, Default)]
pub struct Build {
    /// The exercises that do not compile, with the first error in each (as the student's file
    /// numbers its lines).
    pub broken: BTreeMap<String, CompileError>,
    /// A compile error outside every exercise region: nothing can be graded.
    pub outside: Option<(CompileError, String)>,
    /// All that cargo said, the last time it failed.
    pub stderr: String,
    /// How long each cargo build took (a second one builds the mirror around a broken region).
    pub took: Vec<std::time::Duration>,
}

/// Where the tests run: the student's copy itself, or its mirror with the broken regions put
/// back.
pub struct Place {
    /// The folder to run cargo in.
    pub dir: PathBuf,
    /// Its build folder (`None`: cargo's default).
    pub target_dir: Option<PathBuf>,
}

impl Place {
    /// The copy at `dir` itself, built in `target_dir`.
    pub fn at(dir: &Path, target_dir: Option<&Path>) -> Place {
        Place {
            dir: dir.to_path_buf(),
            target_dir: target_dir.map(Path::to_path_buf),
        }
    }
}

/// Builds `dir`'s lesson crate and the test `targets`. Around each compile error inside an
/// exercise region, builds again on a mirror of the copy with that region put back to its
/// unsolved state, until it compiles. Returns what it found and where the tests can run (`None`
/// when an error outside the regions stops everything).
///
/// The mirror lives in the build folder (`target/classroom-mirror`) and is updated file by
/// file, only where it differs, so that cargo rebuilds as little as it would in the copy itself.
pub fn build(
    course: &Course,
    dir: &Path,
    target_dir: Option<&Path>,
    targets: &[&str],
    mut progress: impl FnMut(&str),
) -> anyhow::Result<(Build, Option<Place>)> {
    let package = course.lesson_package()?;
    let mut found = Build::default();
    let mut place = Place::at(dir, target_dir);
    loop {
        let run = build_tests(
            &place.dir,
            place.target_dir.as_deref(),
            &package,
            targets,
            &mut progress,
        )?;
        found.took.push(run.took);
        if run.status.success() {
            return Ok((found, Some(place)));
        }
        found.stderr = run.stderr.clone();
        let errors = compile_errors(&run.stderr);
        let Some(first) = errors.first() else {
            found.outside = Some((
                CompileError {
                    file: String::new(),
                    line: 0,
                    message: "cargo failed before compiling".into(),
                },
                run.stderr,
            ));
            return Ok((found, None));
        };
        // Each error inside a region we have not put back yet: that exercise is broken.
        let mut newly_broken = false;
        for error in &errors {
            let Some((exercise, line)) = locate(course, &place.dir, dir, error, &found.broken)
            else {
                continue;
            };
            if found.broken.contains_key(&exercise.id) {
                continue;
            }
            newly_broken = true;
            found.broken.insert(
                exercise.id.clone(),
                CompileError {
                    line,
                    ..error.clone()
                },
            );
        }
        if !newly_broken {
            found.outside = Some((first.clone(), run.stderr));
            return Ok((found, None));
        }
        let build_dir = target_dir
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from))
            .unwrap_or_else(|| dir.join("target"))
            .join("classroom-mirror");
        let mirror = build_dir.join("course");
        let broken: Vec<&Exercise> = course
            .exercises()
            .iter()
            .filter(|e| found.broken.contains_key(&e.id))
            .collect();
        sync_mirror(dir, &mirror, &broken)?;
        place = Place::at(&mirror, Some(&build_dir.join("target")));
    }
}

/// Makes `mirror` a copy of the course at `dir` (the files it [`copied`]) with the regions
/// of `broken` put back, writing only the files that differ.
fn sync_mirror(dir: &Path, mirror: &Path, broken: &[&Exercise]) -> anyhow::Result<()> {
    let mut files = Vec::new();
    list_files(dir, Path::new(""), &mut files)?;
    for rel in files {
        let slash = rel.to_string_lossy().replace('\\', "/");
        let mut bytes = fs::read(dir.join(&rel))?;
        for exercise in broken.iter().filter(|e| e.file == slash) {
            let source = String::from_utf8_lossy(&bytes).into_owned();
            bytes = regions::fill(&exercise.file, &source, |r| {
                (r.id == exercise.id).then(|| exercise.unsolved(&r.indent))
            })?
            .into_bytes();
        }
        let to = mirror.join(&rel);
        if fs::read(&to).ok().as_deref() != Some(bytes.as_slice()) {
            if let Some(parent) = to.parent() {
                fs::create_dir_all(parent)?;
            }
            fs::write(&to, bytes).with_context(|| format!("could not write {}", to.display()))?;
        }
    }
    Ok(())
}

/// The files under `from/rel` that a copy takes ([`copied`]), relative to `from`.
fn list_files(from: &Path, rel: &Path, files: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let dir = from.join(rel);
    for entry in fs::read_dir(&dir).with_context(|| format!("could not read {}", dir.display()))? {
        let entry = entry?;
        let path = rel.join(entry.file_name());
        if !copied(&path) {
            continue;
        }
        let kind = entry.file_type()?;
        if kind.is_dir() {
            list_files(from, &path, files)?;
        } else if kind.is_file() {
            files.push(path);
        }
    }
    Ok(())
}

/// The exercise to blame for `error` (as the copy under `built` numbers its lines), and the
/// error's line as the student's own copy under `student` numbers it: the exercise whose region
/// holds the error, or else (an unclosed `(` or a stray `}` shows up after the region) the last
/// exercise of that file that the student changed, before the error's line, and not yet put
/// back.
fn locate<'a>(
    course: &'a Course,
    built: &Path,
    student: &Path,
    error: &CompileError,
    put_back: &BTreeMap<String, CompileError>,
) -> Option<(&'a Exercise, usize)> {
    let in_file: Vec<(&Exercise, regions::Region, regions::Region)> = course
        .exercises()
        .iter()
        .filter(|e| e.file == error.file)
        .filter_map(|e| Some((e, region_of(built, e).ok()?, region_of(student, e).ok()?)))
        .collect();
    // Lines of the student's file: shifted by the regions above the error that we put back.
    let shift: isize = in_file
        .iter()
        .filter(|(_, there, _)| there.end_line < error.line)
        .map(|(_, there, theirs)| {
            (theirs.end_line - theirs.start_line) as isize
                - (there.end_line - there.start_line) as isize
        })
        .sum();
    let line = (error.line as isize + shift).max(1) as usize;
    if let Some((exercise, _, _)) = in_file
        .iter()
        .find(|(_, there, _)| there.contains_line(error.line))
    {
        return Some((exercise, line));
    }
    let touched = |(exercise, there, _): &&(&Exercise, regions::Region, regions::Region)| {
        !put_back.contains_key(&exercise.id)
            && !same_code(&there.body, &exercise.unsolved(&there.indent))
    };
    in_file
        .iter()
        .rev()
        .filter(touched)
        .find(|(_, there, _)| there.start_line < error.line)
        .or_else(|| in_file.iter().find(touched))
        .map(|(exercise, _, _)| (*exercise, line))
}

/// `cargo test --no-run` for the lesson crate's `targets`: builds the library, its programs and
/// those test files, with one-line diagnostics.
pub fn build_tests(
    dir: &Path,
    target_dir: Option<&Path>,
    package: &str,
    targets: &[&str],
    progress: impl FnMut(&str),
) -> anyhow::Result<Run> {
    let mut args = vec![
        "test",
        "--no-run",
        "--message-format=short",
        "--package",
        package,
    ];
    for target in targets {
        args.push("--test");
        args.push(target);
    }
    cargo(dir, &args, &envs(target_dir), None, progress)
}

fn envs(target_dir: Option<&Path>) -> Vec<(&'static str, &OsStr)> {
    target_dir
        .map(|t| ("CARGO_TARGET_DIR", t.as_os_str()))
        .into_iter()
        .collect()
}

/// One exercise, graded: its status, its tests' results and the cargo run that gave them.
pub struct Graded {
    /// What the results mean.
    pub status: Status,
    /// Which tests passed and failed.
    pub tests: TestResults,
    /// The cargo run.
    pub run: Run,
}

/// Runs the tests of `exercise` where `place` says (at most [`TEST_DEADLINE`]) and grades them.
pub fn run_tests(course: &Course, place: &Place, exercise: &Exercise) -> anyhow::Result<Graded> {
    let package = course.lesson_package()?;
    let run = cargo(
        &place.dir,
        &[
            "test",
            "--package",
            &package,
            "--test",
            &exercise.test.target,
            &exercise.test.filter,
        ],
        &envs(place.target_dir.as_deref()),
        Some(TEST_DEADLINE),
        |_| {},
    )?;
    let tests = TestResults::read(&run.stdout);
    let status = tests.status(&exercise.id, run.status.success(), run.timed_out);
    Ok(Graded { status, tests, run })
}

/// Top-level entries of a course that a copy of it leaves out: build output, version control,
/// CI.
pub const NOT_COPIED: &[&str] = &["target", ".git", ".ci"];

/// Whether a copy of the course takes the file or folder `rel`: not [`NOT_COPIED`], not a
/// built book (`book/book`).
pub fn copied(rel: &Path) -> bool {
    let first = rel.components().next();
    let top = first.map(|c| c.as_os_str().to_string_lossy().into_owned());
    !(top.is_some_and(|t| NOT_COPIED.contains(&t.as_str())) || rel == Path::new("book/book"))
}

/// Copies the files under `from/rel` for which `keep(relative path)` holds.
pub fn copy_tree(
    from: &Path,
    to: &Path,
    rel: &Path,
    keep: &dyn Fn(&Path) -> bool,
) -> anyhow::Result<()> {
    let dir = from.join(rel);
    for entry in fs::read_dir(&dir).with_context(|| format!("could not read {}", dir.display()))? {
        let entry = entry?;
        let path = rel.join(entry.file_name());
        if !keep(&path) {
            continue;
        }
        let kind = entry.file_type()?;
        if kind.is_dir() {
            fs::create_dir_all(to.join(&path))
                .with_context(|| format!("could not create {}", to.join(&path).display()))?;
            copy_tree(from, to, &path, keep)?;
        } else if kind.is_file() {
            fs::copy(from.join(&path), to.join(&path))
                .with_context(|| format!("could not write {}", to.join(&path).display()))?;
        }
    }
    Ok(())
}

/// The test targets of `exercises`, once each, in order.
pub fn targets(exercises: &[&Exercise]) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    exercises
        .iter()
        .map(|e| e.test.target.clone())
        .filter(|t| seen.insert(t.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_errors_of_short_diagnostics() {
        let stderr = "   Compiling socket-steps v0.1.0 (/x)\n\
            src/step2_bind.rs:36:17: error[E0308]: mismatched types\n\
            src/step2_bind.rs:1:5: warning: unused import: `std::io`\n\
            src/lib.rs:9:1: error: expected item, found `}`\n\
            error: could not compile `socket-steps` (lib) due to 2 previous errors\n";
        assert_eq!(
            compile_errors(stderr),
            vec![
                CompileError {
                    file: "src/step2_bind.rs".into(),
                    line: 36,
                    message: "error[E0308]: mismatched types".into()
                },
                CompileError {
                    file: "src/lib.rs".into(),
                    line: 9,
                    message: "error: expected item, found `}`".into()
                },
            ]
        );
    }
}
