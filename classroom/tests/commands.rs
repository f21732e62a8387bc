//! The runner's commands, run as a student or a teacher runs them, in the reference crate and
//! in a student copy made by `new` (not built: building a copy takes a minute on two cores, and
//! `cargo classroom verify`, a CI step, does that).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const CLASSROOM: &str = env!("CARGO_BIN_EXE_classroom");

/// The reference crate: the workspace root, one folder up from this package.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

/// Runs `classroom ARGS` in `dir`; fails the test if it runs for more than a minute.
fn classroom_in(dir: &Path, args: &[&str]) -> Output {
    let child = Command::new(CLASSROOM)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start classroom");
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    finished
        .recv_timeout(Duration::from_secs(60))
        .expect("classroom ran for more than a minute")
        .expect("classroom's output")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The command failed with one `error: ...` message on stderr (no panic) and status 1.
fn clean_failure(output: &Output) -> String {
    let err = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(
        output.status.code(),
        Some(1),
        "stdout:\n{}\nstderr:\n{err}",
        stdout(output)
    );
    assert!(
        !err.contains("panicked"),
        "a panic instead of a message:\n{err}"
    );
    assert!(
        err.starts_with("error: "),
        "expected `error: ...`, got:\n{err}"
    );
    err
}

fn success(output: &Output) -> String {
    assert!(
        output.status.success(),
        "stdout:\n{}\nstderr:\n{}",
        stdout(output),
        String::from_utf8_lossy(&output.stderr)
    );
    stdout(output)
}

/// Every file under `dir` (not `target/`, `.git/`) with its contents, to see that nothing
/// changed.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    fn walk(dir: &Path, rel: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
        for entry in fs::read_dir(dir.join(rel)).unwrap() {
            let entry = entry.unwrap();
            let path = rel.join(entry.file_name());
            if path == Path::new("target") || path == Path::new(".git") {
                continue;
            }
            if entry.file_type().unwrap().is_dir() {
                walk(dir, &path, out);
            } else {
                out.push((path.clone(), fs::read(dir.join(&path)).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, Path::new(""), &mut out);
    out.sort();
    out
}

#[test]
fn new_refuses_an_empty_name_and_the_crate_itself_and_changes_nothing() {
    let before = snapshot(&root());
    for dir in ["", ".", "src", "src/copy", "classroom/new-copy"] {
        let err = clean_failure(&classroom_in(&root(), &["new", dir]));
        assert!(err.contains("nothing was written"), "new {dir:?}: {err}");
    }
    let err = clean_failure(&classroom_in(&root().join("src"), &["new", ".."]));
    assert!(err.contains("nothing was written"), "{err}");
    assert!(
        snapshot(&root()) == before,
        "`new` changed the reference crate"
    );
}

#[test]
fn new_refuses_a_folder_that_is_not_empty_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("homework.txt"), "mine").unwrap();
    let err = clean_failure(&classroom_in(
        &root(),
        &["new", dir.path().to_str().unwrap()],
    ));
    assert!(
        err.contains("is not empty") && err.contains("nothing was written"),
        "{err}"
    );
    assert_eq!(
        snapshot(dir.path()),
        [(PathBuf::from("homework.txt"), b"mine".to_vec())]
    );
}

#[test]
fn new_writes_a_student_copy_without_solutions_whose_runner_knows_it() {
    let parent = tempfile::tempdir().unwrap();
    let copy = parent.path().join("class");
    let out = success(&classroom_in(&root(), &["new", copy.to_str().unwrap()]));
    assert!(out.contains("cargo classroom watch"), "{out}");
    for file in [
        "Cargo.toml",
        "Cargo.lock",
        ".cargo/config.toml",
        "README.md",
        "src/lib.rs",
        "tests/support/mod.rs",
        "classroom/Cargo.toml",
        "classroom/src/main.rs",
        "classroom/exercises.toml",
        "book/src/SUMMARY.md",
    ] {
        assert!(copy.join(file).is_file(), "{file} is missing from the copy");
    }
    for left_out in [
        "target",
        ".git",
        ".ci",
        "book/book",
        "book/src/solutions.md",
        "classroom/tests",
    ] {
        assert!(
            !copy.join(left_out).exists(),
            "{left_out} should not be in the copy"
        );
    }
    let summary = fs::read_to_string(copy.join("book/src/SUMMARY.md")).unwrap();
    assert!(!summary.contains("solutions.md"), "{summary}");
    let catalogue = fs::read_to_string(copy.join("classroom/exercises.toml")).unwrap();
    assert!(catalogue.contains("student_copy = true"));
    assert!(
        !catalogue.contains("[[exercise.wrong]]"),
        "the wrong answers went along"
    );
    // Each exercise's solution, as `solution` shows it in the reference, is in no file of the
    // copy (the solutions of two exercises share a line with other code, so we look for the
    // region as a whole).
    let files = snapshot(&copy);
    let ids: Vec<String> = fs::read_to_string(root().join("classroom/exercises.toml"))
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("id = \""))
        .map(|l| l.trim_end_matches('"').to_string())
        .collect();
    assert!(ids.len() >= 8, "{ids:?}");
    for id in &ids {
        let shown = success(&classroom_in(&root(), &["solution", id]));
        let code: String = shown
            .lines()
            .filter(|l| !l.starts_with("// "))
            .map(|l| format!("{l}\n"))
            .collect();
        for (path, bytes) in &files {
            assert!(
                !String::from_utf8_lossy(bytes).contains(&code),
                "the solution of {id} is in the copy's {}",
                path.display()
            );
        }
    }
    // The copy's runner (run from the copy's folder) knows it is a student copy.
    let err = clean_failure(&classroom_in(&copy, &["solution", "1.1"]));
    assert!(err.contains("solutions are for teachers"), "{err}");
    let hint = success(&classroom_in(&copy.join("src"), &["hint", "2.1"]));
    assert!(
        hint.contains("Exercise 2.1") && hint.contains("cargo classroom check 2.1"),
        "{hint}"
    );
    let list = success(&classroom_in(&copy, &["list"]));
    assert_eq!(list.matches("not started").count(), ids.len(), "{list}");
    let err = clean_failure(&classroom_in(&copy, &["new", "../again"]));
    assert!(err.contains("is a student copy"), "{err}");
}

#[test]
fn hint_gives_the_task_and_hint_but_not_the_solution() {
    let hint = success(&classroom_in(&root(), &["hint", "4.1"]));
    let solution = success(&classroom_in(&root(), &["solution", "4.1"]));
    assert!(
        hint.contains("Hint: ") && hint.contains("cargo test --test step4_accept ex4_1_"),
        "{hint}"
    );
    assert!(solution.contains("listener.accept()"), "{solution}");
    for line in solution
        .lines()
        .filter(|l| !l.starts_with("//") && l.trim().len() > 8)
    {
        assert!(
            !hint.contains(line.trim()),
            "the hint gives away `{line}`:\n{hint}"
        );
    }
}

#[test]
fn an_unknown_exercise_id_lists_the_valid_ones() {
    for command in ["hint", "solution", "check"] {
        let err = clean_failure(&classroom_in(&root(), &[command, "9.9"]));
        assert!(
            err.contains("there is no exercise `9.9`") && err.contains("1.1, 2.1, 3.1"),
            "{command}: {err}"
        );
    }
}

#[test]
fn outside_the_course_it_says_where_to_go() {
    let elsewhere = tempfile::tempdir().unwrap();
    for command in [&["check"][..], &["list"], &["hint", "1.1"]] {
        let err = clean_failure(&classroom_in(elsewhere.path(), command));
        assert!(err.contains("is not inside the course"), "{err}");
    }
}

#[test]
fn help_lists_the_commands_and_a_wrong_command_is_an_error() {
    let help = success(&classroom_in(&root(), &["--help"]));
    for command in [
        "new", "list", "check", "watch", "hint", "solution", "verify", "book",
    ] {
        assert!(help.contains(command), "{help}");
    }
    let wrong = classroom_in(&root(), &["grade"]);
    assert_eq!(wrong.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("unrecognized subcommand 'grade'"));
}
