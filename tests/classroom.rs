//! The teacher's side of the classroom: `classroom new`, `hint`, `solution`, `check` outside a
//! student copy, and the book's exercise pages.
//!
//! Nothing here builds a student copy (that takes a minute on two cores): `classroom verify`, a CI
//! step, builds one and proves that every exercise's tests have teeth. This file is not copied
//! into student copies.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use pretty_assertions::assert_eq;
use socket_steps::classroom::catalogue::parse_catalogue;
use socket_steps::classroom::pages::book_pages;
use socket_steps::classroom::regions::parse;
use socket_steps::classroom::{Exercise, EXERCISE_FILES, MARKER_FILE};

const CLASSROOM: &str = env!("CARGO_BIN_EXE_classroom");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The exercises, read from the reference sources on disk.
fn exercises() -> Vec<Exercise> {
    EXERCISE_FILES
        .iter()
        .flat_map(|file| {
            let source = fs::read_to_string(Path::new(ROOT).join(file)).unwrap();
            parse(file, &source).unwrap_or_else(|e| panic!("{e}"))
        })
        .collect()
}

/// Runs `classroom ARGS` in `dir` with a time limit.
fn classroom_in(dir: &Path, args: &[&str]) -> Output {
    let child = Command::new(CLASSROOM)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start classroom");
    support::wait_with_limit(child, "classroom")
}

/// A new empty folder in the system's temporary folder, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!("socket-steps-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[test]
fn every_step_and_the_client_have_exercises_each_graded_by_named_tests() {
    let ids: Vec<String> = exercises().iter().map(|e| e.entry.id.clone()).collect();
    assert_eq!(
        ids,
        ["1.1", "2.1", "3.1", "4.1", "5.1", "5.2", "6.1", "7.1"]
    );
    for Exercise {
        entry: exercise, ..
    } in exercises()
    {
        let tests = Path::new(ROOT)
            .join("tests")
            .join(format!("{}.rs", exercise.test_target()));
        let text =
            fs::read_to_string(&tests).unwrap_or_else(|e| panic!("{}: {e}", tests.display()));
        let prefix = format!("fn {}_", exercise.test_filter());
        assert!(
            text.contains(&prefix),
            "no test named `{}_...` in {} grades exercise {}",
            exercise.test_filter(),
            tests.display(),
            exercise.id
        );
    }
}

#[test]
fn the_books_exercise_pages_are_up_to_date() {
    let dir = Path::new(ROOT).join("book/src/exercises");
    let update = std::env::var_os("UPDATE_EXERCISES").is_some();
    for (name, page) in book_pages(&exercises()) {
        let path = dir.join(&name);
        if update {
            fs::create_dir_all(&dir).unwrap();
            fs::write(&path, &page).unwrap();
            continue;
        }
        let on_disk = fs::read_to_string(&path).unwrap_or_default();
        assert_eq!(
            on_disk, page,
            "book/src/exercises/{name} is stale: run `cargo run --bin classroom -- book` \
             (or `UPDATE_EXERCISES=1 cargo test --test classroom`)"
        );
    }
}

#[test]
fn new_refuses_a_folder_that_is_not_empty_and_writes_nothing() {
    let dir = TempDir::new("not-empty");
    fs::write(dir.0.join("homework.txt"), "mine").unwrap();
    let output = classroom_in(Path::new(ROOT), &["new", dir.0.to_str().unwrap()]);
    let err = support::assert_clean_failure(&output);
    assert!(
        err.contains("is not empty") && err.contains("nothing was written"),
        "{err}"
    );
    let left: Vec<_> = fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["homework.txt"]);
    assert_eq!(
        fs::read_to_string(dir.0.join("homework.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn new_refuses_a_folder_inside_the_crates_own_sources_even_a_new_one() {
    let name = format!("copy-{}", std::process::id());
    // Removed when dropped, in case `new` wrote it after all.
    let inside = TempDir(Path::new(ROOT).join("tests").join(&name));
    let output = classroom_in(Path::new(ROOT), &["new", &format!("tests/{name}/class")]);
    let err = support::assert_clean_failure(&output);
    assert!(err.contains("inside the crate's own sources"), "{err}");
    assert!(!inside.0.exists(), "{} was written", inside.0.display());
}

#[test]
fn new_writes_a_student_copy_with_todos_and_no_solutions() {
    let parent = TempDir::new("new-copy");
    let copy = parent.0.join("class");
    let output = classroom_in(Path::new(ROOT), &["new", copy.to_str().unwrap()]);
    support::assert_success(&output);
    assert!(support::stdout(&output).contains("cargo run --bin classroom -- check"));

    for file in [
        "Cargo.toml",
        "Cargo.lock",
        "README.md",
        "src/lib.rs",
        "steps/classroom.rs",
        "tests/support/mod.rs",
    ] {
        assert!(copy.join(file).is_file(), "{file} is missing from the copy");
    }
    for left_out in ["target", ".git", ".ci", "tests/classroom.rs", "book/book"] {
        assert!(
            !copy.join(left_out).exists(),
            "{left_out} should not be in the copy"
        );
    }
    let readme = fs::read_to_string(copy.join("README.md")).unwrap();
    assert!(
        readme.starts_with("> **This is a student copy.**"),
        "{readme}"
    );

    let catalogue = fs::read_to_string(copy.join(MARKER_FILE)).unwrap();
    let entries = parse_catalogue(&catalogue).unwrap();
    let expected: Vec<_> = exercises().into_iter().map(|e| e.entry).collect();
    assert_eq!(entries, expected);

    for Exercise {
        entry: exercise,
        solution,
    } in exercises()
    {
        let reference = fs::read_to_string(Path::new(ROOT).join(&exercise.file)).unwrap();
        let student = fs::read_to_string(copy.join(&exercise.file)).unwrap();
        assert!(
            student.contains(&exercise.todo_call()),
            "{} has no todo! for {}",
            exercise.file,
            exercise.id
        );
        assert!(
            !student.contains(&exercise.hint),
            "{} still shows the hint of {}",
            exercise.file,
            exercise.id
        );
        // Each solution line that appears nowhere else in the file must be gone.
        let outside = reference.replace(&solution, "");
        for line in solution.lines().map(str::trim).filter(|l| l.len() > 3) {
            if !outside.contains(line) {
                assert!(
                    !student.contains(line),
                    "the solution of {} leaks into the copy: {line}",
                    exercise.id
                );
            }
        }
    }
}

#[test]
fn hint_and_solution_show_one_exercise() {
    let Exercise {
        entry: ex,
        solution,
    } = exercises()
        .into_iter()
        .find(|e| e.entry.id == "4.1")
        .unwrap();
    let hint = classroom_in(Path::new(ROOT), &["hint", "4.1"]);
    support::assert_success(&hint);
    let text = support::stdout(&hint);
    assert!(
        text.contains(&ex.hint) && text.contains(&ex.test_command()),
        "{text}"
    );
    assert!(
        !text.contains(solution.trim()),
        "a hint must not give the solution away:\n{text}"
    );

    let shown = classroom_in(Path::new(ROOT), &["solution", "4.1"]);
    support::assert_success(&shown);
    assert!(
        support::stdout(&shown).contains(&solution),
        "{}",
        support::stdout(&shown)
    );
}

#[test]
fn an_unknown_exercise_id_lists_the_valid_ones() {
    for command in ["hint", "solution"] {
        let output = classroom_in(Path::new(ROOT), &[command, "9.9"]);
        let err = support::assert_clean_failure(&output);
        assert!(
            err.contains("there is no exercise `9.9`")
                && err.contains("1.1, 2.1, 3.1, 4.1, 5.1, 5.2, 6.1, 7.1"),
            "{err}"
        );
    }
}

#[test]
fn check_outside_a_student_copy_says_where_to_run_it() {
    let in_reference = classroom_in(Path::new(ROOT), &["check"]);
    let err = support::assert_clean_failure(&in_reference);
    assert!(
        err.contains("is not one") && err.contains("classroom -- new DIR"),
        "{err}"
    );

    let elsewhere = TempDir::new("not-a-crate");
    let err = support::assert_clean_failure(&classroom_in(&elsewhere.0, &["check"]));
    assert!(err.contains("not in a Rust crate"), "{err}");
}

#[test]
fn without_a_command_it_shows_the_commands() {
    let err = support::assert_clean_failure(&classroom_in(Path::new(ROOT), &[]));
    for command in ["new DIR", "check", "hint ID", "solution ID", "verify"] {
        assert!(err.contains(command), "{err}");
    }
    let err = support::assert_clean_failure(&classroom_in(Path::new(ROOT), &["grade"]));
    assert!(err.contains("`grade` is not a classroom command"), "{err}");
}
