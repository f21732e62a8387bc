//! Classroom exercises: find the exercise regions in the step modules, turn them into `todo!`s
//! for a student copy, and grade a student's work with the crate's own tests. The `classroom`
//! binary (`steps/classroom.rs`) only picks the command; each command lives here.
//!
//! An exercise is a region at the end of a function body in `src/`:
//!
//! ```text
//!     // EXERCISE 4.1: accept one connection and return it with the peer's address
//!     // HINT: `listener.accept()` returns `(Socket, SockAddr)`; ...
//!     <the reference solution>
//!     // END EXERCISE 4.1
//! ```
//!
//! Because the region is the whole tail of the body, `todo!("...")` in its place type-checks, so
//! a student copy builds and its tests fail until the student writes the code.
//!
//! ## Layout
//!
//! Text in, text out (no files, no processes; unit-tested on small strings):
//!
//! - [`regions`]: find the regions in a source file ([`regions::parse`]) and rewrite them as
//!   `todo!`s or leave them solved ([`regions::render`]).
//! - [`catalogue`]: a student copy's list of exercises ([`MARKER_FILE`]), written and read.
//! - [`outcomes`]: read `cargo test` output: which tests passed, what the failures said, and so
//!   which [`outcomes::Status`] an exercise has.
//! - [`pages`]: the book's exercise pages (`book/src/exercises/*.md`).
//!
//! The commands, one file each, with the I/O:
//!
//! - [`lookup`]: where this binary was built ([`Origin`]: the reference crate or a student
//!   copy), and `hint` and `solution`.
//! - [`copy`]: `new`, writing a student copy.
//! - [`check`]: `check`, run in a student copy: each exercise's tests, a progress line, a table
//!   and what to do next.
//! - [`verify`]: `verify`, the rustlings guarantee for CI: every exercise's tests fail while it
//!   is unsolved and pass once it is solved.
//!
//! Two private helpers: `cargo` runs `cargo test` with a deadline and grades one exercise, and
//! `terminal` keeps the live progress line and shapes text for the table.

pub mod catalogue;
pub mod check;
pub mod copy;
pub mod lookup;
pub mod outcomes;
pub mod pages;
pub mod regions;
pub mod verify;

mod cargo;
mod terminal;

pub use lookup::Origin;

/// The source files that hold exercises, in chapter order (`src/client.rs` is chapter 7).
pub const EXERCISE_FILES: &[&str] = &[
    "src/step1_create.rs",
    "src/step2_bind.rs",
    "src/step3_listen.rs",
    "src/step4_accept.rs",
    "src/step5_process.rs",
    "src/step6_close.rs",
    "src/client.rs",
];

/// The file at the root of a student copy that says "this is a student copy" and lists its
/// exercises (id, task, hint, test command) for `classroom check` and `classroom hint`.
pub const MARKER_FILE: &str = ".classroom.toml";

/// The chapter numbers of the step files: the id `4.1` is exercise 1 of chapter 4.
pub const CLIENT_CHAPTER: u32 = 7;

/// An exercise without its solution: what a student copy records in [`MARKER_FILE`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `"4.1"`: chapter 4, exercise 1.
    pub id: String,
    /// What to write, in one line.
    pub task: String,
    /// A nudge towards the answer.
    pub hint: String,
    /// The file it lives in, e.g. `src/step4_accept.rs`.
    pub file: String,
    /// The function whose body ends with the exercise, e.g. `accept`.
    pub function: String,
}

impl Entry {
    /// The chapter (= step) number: 4 for `4.1`; 7 is the client.
    pub fn chapter(&self) -> u32 {
        self.id
            .split('.')
            .next()
            .and_then(|c| c.parse().ok())
            .unwrap_or(0)
    }

    /// The integration test file that grades it: `step4_accept` for `src/step4_accept.rs`.
    pub fn test_target(&self) -> String {
        let name = self.file.rsplit('/').next().unwrap_or(&self.file);
        name.strip_suffix(".rs").unwrap_or(name).to_string()
    }

    /// The prefix of the names of the tests that grade it: `ex4_1`.
    pub fn test_filter(&self) -> String {
        format!("ex{}", self.id.replace('.', "_"))
    }

    /// The command a student runs to grade this exercise alone.
    pub fn test_command(&self) -> String {
        format!(
            "cargo test --test {} {}",
            self.test_target(),
            self.test_filter()
        )
    }

    /// What a student copy has in place of the solution: a `todo!` whose message names the
    /// exercise, so that `cli::run_main` can say "exercise 4.1 is not done yet".
    pub fn todo_call(&self) -> String {
        format!(
            "todo!(\"{}: {} — see chapter {}\")",
            self.id,
            self.task.replace('\\', "\\\\").replace('"', "\\\""),
            self.chapter()
        )
    }
}

/// One exercise, as found in a source file of the reference crate: its entry and its solution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exercise {
    /// Everything but the solution.
    pub entry: Entry,
    /// The reference solution: the lines between the hint and the end marker, as written.
    pub solution: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_knows_its_chapter_tests_and_todo() {
        let entry = Entry {
            id: "4.1".into(),
            task: "accept the \"peer\"".into(),
            hint: String::new(),
            file: "src/step4_accept.rs".into(),
            function: "accept".into(),
        };
        assert_eq!(entry.chapter(), 4);
        assert_eq!(entry.test_target(), "step4_accept");
        assert_eq!(entry.test_filter(), "ex4_1");
        assert_eq!(entry.test_command(), "cargo test --test step4_accept ex4_1");
        assert_eq!(
            entry.todo_call(),
            "todo!(\"4.1: accept the \\\"peer\\\" — see chapter 4\")"
        );
    }
}
