//! `cargo classroom new DIR`: a student copy of the reference crate, in which every exercise
//! region holds what the student starts from (a `todo!()`, or a `fix` exercise's bug). The copy
//! holds no solution: not in `src/`, not in its catalogue (no wrong answers either), not in its
//! book (no solutions page). `verify` makes its copies the same way.

use std::fs;
use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context};

use crate::course::{student_catalogue, Course, Exercise, CATALOGUE, SUMMARY};
use crate::grade::{copied, copy_tree};
use crate::regions;

/// What a student copy adds at the top of each file with an unsolved exercise: while an exercise
/// is a `todo!` (or the buggy start of a *fix*), the compiler sees its function's arguments, the
/// imports and the helpers it needs as unused, and would suggest `cargo fix`, which would rename
/// them (`_addr`) and delete the imports.
pub const STUDENT_ALLOW: &str = "\
// Student copy: until you write the exercises below, their arguments and the imports and helpers
// they need look unused to the compiler. This line silences those warnings; do not follow
// `cargo fix`.
#![allow(unused_imports, unused_variables, dead_code)]
";

/// What the README of a student copy starts with.
const STUDENT_README: &str = "\
> **This is a student copy.** The exercises are `todo!()`s in `src/`: write them one by one, in
> order. `cargo classroom watch` grades each one as you save it (`h` shows a hint, `q` quits);
> `cargo classroom check` grades them all, `cargo classroom list` lists them, and
> `cargo classroom hint 1.1` gives a hint. Each chapter of the book (`book/`) ends with its
> exercises.

";

/// Files of the reference crate that a student copy leaves out: the runner's own tests, and the
/// book's solutions page.
const LEFT_OUT: &[&str] = &["classroom/tests", "book/src/solutions.md"];

/// `classroom new DIR`.
pub fn new(dir: &Path) -> anyhow::Result<()> {
    let course = Course::find()?;
    if course.catalogue.student_copy {
        bail!(
            "{} is a student copy: make student copies from the reference crate, which has the \
             solutions",
            course.root.display()
        );
    }
    let target = safe_target(&course.root, dir)?;
    if !target.exists() {
        fs::create_dir(&target).with_context(|| format!("could not create {}", dir.display()))?;
    }
    write_student_copy(&course, &target)?;
    let ids: Vec<&str> = course.exercises().iter().map(|e| e.id.as_str()).collect();
    println!("wrote a student copy to {}", dir.display());
    println!(
        "its {} exercises ({} to {}) are todo!()s in src/; the solutions stayed here.",
        ids.len(),
        ids.first().unwrap_or(&"-"),
        ids.last().unwrap_or(&"-")
    );
    println!();
    println!("next: cd {} && cargo classroom watch", dir.display());
    Ok(())
}

/// Where `new` may write: `dir` resolved, if it is a new folder in an existing one, or an empty
/// folder, outside the course. Otherwise an error that says why and that nothing was written.
pub fn safe_target(root: &Path, dir: &Path) -> anyhow::Result<PathBuf> {
    let nothing = "nothing was written";
    if dir.as_os_str().is_empty() {
        bail!("the folder name is empty: write where the copy goes, e.g. `cargo classroom new ../my-course`; {nothing}");
    }
    if dir.components().any(|c| c == Component::CurDir) && dir.components().count() == 1 {
        bail!("`.` is the folder you are in: choose a new folder, e.g. `cargo classroom new ../my-course`; {nothing}");
    }
    let resolved = resolved(dir)
        .with_context(|| format!("cannot tell where `{}` is; {nothing}", dir.display()))?;
    let root = root
        .canonicalize()
        .with_context(|| format!("could not resolve {}", root.display()))?;
    if resolved.starts_with(&root) {
        bail!(
            "`{}` is inside the course itself ({}): put the student copy somewhere else, e.g. \
             `cargo classroom new ../my-course`; {nothing}",
            dir.display(),
            root.display()
        );
    }
    if resolved.exists() {
        if !resolved.is_dir() {
            bail!(
                "`{}` is a file, not a folder: choose a new folder; {nothing}",
                dir.display()
            );
        }
        let mut entries = fs::read_dir(&resolved)
            .with_context(|| format!("could not read `{}`", dir.display()))?;
        if entries.next().is_some() {
            bail!(
                "`{}` is not empty: choose a new (or empty) folder for the student copy; {nothing}",
                dir.display()
            );
        }
    } else if !resolved.parent().is_some_and(Path::is_dir) {
        bail!(
            "the folder that would hold `{}` does not exist: create it first (we write only the \
             copy itself); {nothing}",
            dir.display()
        );
    }
    Ok(resolved)
}

/// `dir` as an absolute path without links, even when it does not exist yet: its nearest
/// existing ancestor, canonicalized, joined with the rest (which may hold no `..`).
fn resolved(dir: &Path) -> Option<PathBuf> {
    let dir = std::env::current_dir().ok()?.join(dir);
    let existing = dir.ancestors().find(|a| a.exists())?;
    let rest = dir.strip_prefix(existing).ok()?;
    if rest
        .components()
        .any(|c| matches!(c, Component::ParentDir | Component::CurDir))
    {
        return None;
    }
    let existing = existing.canonicalize().ok()?;
    Some(if rest.as_os_str().is_empty() {
        existing
    } else {
        existing.join(rest)
    })
}

/// Writes a student copy of `course` into the empty folder `to`.
pub fn write_student_copy(course: &Course, to: &Path) -> anyhow::Result<()> {
    copy_tree(&course.root, to, Path::new(""), &|rel| {
        copied(rel) && !LEFT_OUT.contains(&rel.to_string_lossy().replace('\\', "/").as_str())
    })?;
    for file in exercise_files(course.exercises()) {
        let source = fs::read_to_string(course.root.join(&file))
            .with_context(|| format!("could not read {file}"))?;
        let text = student_source(course.exercises(), &file, &source)?;
        fs::write(to.join(&file), text).with_context(|| format!("could not write {file}"))?;
    }
    let readme = course.root.join("README.md");
    if readme.is_file() {
        let text = fs::read_to_string(&readme)?;
        fs::write(to.join("README.md"), format!("{STUDENT_README}{text}"))?;
    }
    fs::write(to.join(CATALOGUE), student_catalogue(&course.catalogue)?)?;
    let summary = course.root.join(SUMMARY);
    if summary.is_file() {
        let text = fs::read_to_string(&summary)?;
        fs::write(to.join(SUMMARY), without_solutions(&text))?;
    }
    Ok(())
}

/// SUMMARY.md without its line for the solutions page.
pub fn without_solutions(summary: &str) -> String {
    summary
        .lines()
        .filter(|line| !line.contains("(solutions.md)"))
        .map(|line| format!("{line}\n"))
        .collect()
}

/// The files that hold exercises, once each, in course order.
pub fn exercise_files(exercises: &[Exercise]) -> Vec<String> {
    let mut files: Vec<String> = Vec::new();
    for exercise in exercises {
        if !files.contains(&exercise.file) {
            files.push(exercise.file.clone());
        }
    }
    files
}

/// `source` (the reference file `file`) as a fresh student copy has it: each region unsolved,
/// and [`STUDENT_ALLOW`] after the module's `//!` docs if any region is unsolved.
pub fn student_source(exercises: &[Exercise], file: &str, source: &str) -> anyhow::Result<String> {
    state_source(exercises, file, source, |_| None)
}

/// `source` with each region filled as `choose(exercise)` says (`Some(code)`), or unsolved
/// (`None`); with [`STUDENT_ALLOW`] if a region is unsolved (a `todo!()` or `start` code).
pub fn state_source(
    exercises: &[Exercise],
    file: &str,
    source: &str,
    choose: impl Fn(&Exercise) -> Option<Fill>,
) -> anyhow::Result<String> {
    let mut todo = false;
    let text = regions::fill(file, source, |region| {
        let exercise = exercises.iter().find(|e| e.id == region.id)?;
        match choose(exercise) {
            Some(Fill::Solution) => None,
            Some(Fill::Code(code)) => Some(code),
            None => {
                todo = true;
                Some(exercise.unsolved(&region.indent))
            }
        }
    })?;
    if !todo {
        return Ok(text);
    }
    let lines: Vec<&str> = text.lines().collect();
    let docs = lines.iter().take_while(|l| l.starts_with("//!")).count();
    let mut out = String::with_capacity(text.len() + STUDENT_ALLOW.len());
    for line in &lines[..docs] {
        out.push_str(line);
        out.push('\n');
    }
    if docs > 0 {
        out.push('\n');
    }
    out.push_str(STUDENT_ALLOW);
    for line in &lines[docs..] {
        out.push_str(line);
        out.push('\n');
    }
    Ok(out)
}

/// What goes in a region when [`state_source`] renders a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fill {
    /// The reference solution, as it is.
    Solution,
    /// This code (a wrong answer).
    Code(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course::tests::SAMPLE as CATALOGUE_SAMPLE;
    use crate::regions::tests::SAMPLE;

    #[test]
    fn a_student_source_has_the_todo_and_the_allow_line() {
        let exercises = crate::course::parse(CATALOGUE_SAMPLE).unwrap().exercises;
        let student = student_source(
            &exercises,
            "src/step4_accept.rs",
            &format!("//! Doc.\n{SAMPLE}"),
        )
        .unwrap();
        assert!(student.starts_with(&format!("//! Doc.\n\n{STUDENT_ALLOW}use std::io;\n")));
        assert!(student.contains(&format!(
            "{}\n    // END EXERCISE 4.1",
            exercises[0].todo_call("    ")
        )));
        assert!(!student.contains("listener.accept()"));
        let solved = state_source(&exercises, "a.rs", SAMPLE, |_| Some(Fill::Solution)).unwrap();
        assert_eq!(solved, SAMPLE);
    }

    #[test]
    fn the_student_summary_has_no_solutions_page() {
        let summary = "# Summary\n- [Bind](step2-bind.md)\n- [Solutions](solutions.md)\n";
        assert_eq!(
            without_solutions(summary),
            "# Summary\n- [Bind](step2-bind.md)\n"
        );
    }

    #[test]
    fn new_refuses_what_is_not_a_new_folder_outside_the_course() {
        let course = tempfile::tempdir().unwrap();
        let root = course.path();
        fs::create_dir(root.join("src")).unwrap();
        let refused = |dir: &Path| safe_target(root, dir).unwrap_err().to_string();
        assert!(refused(Path::new("")).contains("empty"));
        assert!(refused(Path::new(".")).contains("`.`"));
        assert!(refused(&root.join("src/copy")).contains("inside the course"));
        assert!(refused(root).contains("inside the course"));
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("homework.txt"), "mine").unwrap();
        assert!(refused(outside.path()).contains("is not empty"));
        assert!(refused(&outside.path().join("a/b")).contains("does not exist"));
        assert!(refused(&outside.path().join("homework.txt")).contains("is a file"));
        assert_eq!(
            safe_target(root, &outside.path().join("class")).unwrap(),
            outside.path().canonicalize().unwrap().join("class")
        );
        assert!(refused(&outside.path().join("x/../class")).contains("cannot tell"));
    }
}
