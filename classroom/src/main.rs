//! `cargo classroom`: the socket-steps course's runner, for students and teachers.
//!
//! A package of its own in the workspace, which does not depend on the lessons: it builds and
//! runs however broken a student's code is. It reads the exercises from
//! `classroom/exercises.toml` and their regions from the lessons' sources, at run time.
//!
//! Layout, one file per concern:
//!
//! - [`course`]: the catalogue, and where the course is;
//! - [`regions`]: the `// EXERCISE N.M` ... `// END EXERCISE N.M` regions of a source file;
//! - [`process`]: the cargo processes and temporary folders we start, stopped on Ctrl-C;
//! - [`outcomes`]: reading `cargo test` output;
//! - [`grade`]: building a copy (around compile errors) and running an exercise's tests;
//! - the commands: [`copy`] (`new`), [`check`] (`check`, `list`), [`watch`], [`lookup`]
//!   (`hint`, `solution`), [`verify`], [`book`] (`book`);
//! - [`terminal`]: the live progress line and text shaped for tables.

mod book;
mod check;
mod copy;
mod course;
mod grade;
mod lookup;
mod outcomes;
mod process;
mod regions;
mod terminal;
mod verify;
mod watch;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The socket-steps classroom: exercises graded by the real kernel.
#[derive(Parser)]
#[command(name = "cargo classroom", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a student copy of this (reference) crate to DIR, a new or empty folder outside it:
    /// every exercise becomes a todo!() (e.g. `cargo classroom new ../my-course`)
    New {
        /// Where the copy goes (an empty name is refused by `new`, with a message).
        #[arg(value_parser = clap::value_parser!(std::ffi::OsString))]
        dir: std::ffi::OsString,
    },
    /// List the exercises: id, kind, title, and how far you are with each
    List,
    /// Grade every exercise in order (or only exercise ID) and say what to do next
    Check {
        /// One exercise, e.g. `2.1`.
        id: Option<String>,
        /// Also print how long the build and each exercise's tests took.
        #[arg(long)]
        timings: bool,
    },
    /// Grade the current exercise whenever you save a file; keys: h hint, l list, n next, q quit
    Watch,
    /// Show the hint of exercise ID
    Hint {
        /// e.g. `2.1`.
        id: String,
    },
    /// Show the reference solution of exercise ID (teachers, in the reference crate only)
    Solution {
        /// e.g. `2.1`.
        id: String,
    },
    /// CI: prove that every exercise's tests fail unsolved, reject its wrong answers, and pass
    /// solved (only exercises IDS if given, each with the ones before it solved)
    Verify {
        /// e.g. `6.2 7.2`; none: every exercise.
        ids: Vec<String>,
    },
    /// Rewrite the book's generated pages (exercises, student views, solutions); --student DIR
    /// builds a student edition (no solutions) into DIR; --check DIR checks a built book
    Book {
        /// Build the book without its solutions page into this folder (needs mdbook).
        #[arg(long, value_name = "DIR", conflicts_with = "check")]
        student: Option<PathBuf>,
        /// Check a book built in this folder: no exercise marker on any page.
        #[arg(long, value_name = "DIR")]
        check: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    // Usage errors exit with status 1 (clap's default is 2), `--help` with 0.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    if let Err(error) = process::install_ctrl_c() {
        eprintln!("warning: {error:#}");
    }
    let result = match cli.command {
        Command::New { dir } => copy::new(std::path::Path::new(&dir)).map(|()| true),
        Command::List => check::list().map(|()| true),
        Command::Check { id, timings } => check::check(id.as_deref(), timings),
        Command::Watch => watch::watch().map(|()| true),
        Command::Hint { id } => lookup::hint(&id).map(|()| true),
        Command::Solution { id } => lookup::solution(&id).map(|()| true),
        Command::Verify { ids } => verify::verify(&ids).map(|()| true),
        Command::Book {
            student: Some(dir), ..
        } => book::student_edition(&dir).map(|()| true),
        Command::Book {
            check: Some(dir), ..
        } => book::check_built(&dir).map(|()| true),
        Command::Book { .. } => book::write().map(|()| true),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        // The command has already said what is wrong (an exercise that does not pass).
        Ok(false) => ExitCode::FAILURE,
        Err(_) if process::stopping() => ExitCode::from(process::INTERRUPTED_STATUS as u8),
        Err(error) => {
            eprintln!("error: {error}");
            for cause in error.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}
