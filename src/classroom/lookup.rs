//! Where a `classroom` binary was built ([`Origin`]): the reference crate, which holds the
//! solutions, or a student copy, which holds none and lists its exercises in its catalogue. And
//! the two commands that look one exercise up: [`hint`] and [`solution`].

use std::path::Path;

use anyhow::{bail, Context};

use super::catalogue::read_catalogue;
use super::{regions, Entry, Exercise, EXERCISE_FILES, MARKER_FILE};

/// The crate a `classroom` binary was built from: its root folder and the text of its exercise
/// files at build time (`include_str!`), so that the binary always knows the solutions of the
/// crate it was built from, and nothing else.
#[derive(Debug, Clone, Copy)]
pub struct Origin {
    /// The crate's root folder (`env!("CARGO_MANIFEST_DIR")`).
    pub root: &'static str,
    /// `(path, text)` of each of the [`EXERCISE_FILES`], in the same order.
    pub sources: &'static [(&'static str, &'static str)],
}

impl Origin {
    /// This binary was built from a student copy (its crate has a [`MARKER_FILE`]).
    pub fn is_student_copy(&self) -> bool {
        Path::new(self.root).join(MARKER_FILE).exists()
    }

    /// The exercises of the reference crate, with solutions. In a student copy, an error: the
    /// solutions are for teachers.
    pub fn exercises(&self) -> anyhow::Result<Vec<Exercise>> {
        if self.is_student_copy() {
            bail!(
                "this is a student copy ({}): solutions are for teachers: run this in the reference crate",
                self.root
            );
        }
        let mut all = Vec::new();
        for ((file, source), expected) in self.sources.iter().zip(EXERCISE_FILES) {
            assert_eq!(file, expected, "SOURCES and EXERCISE_FILES disagree");
            all.extend(
                regions::parse(file, source).context("an exercise region in src/ is malformed")?,
            );
        }
        Ok(all)
    }

    /// The exercises without solutions: from the reference sources, or from a student copy's
    /// catalogue.
    pub fn entries(&self) -> anyhow::Result<Vec<Entry>> {
        if self.is_student_copy() {
            read_catalogue(Path::new(self.root))
        } else {
            Ok(self.exercises()?.into_iter().map(|e| e.entry).collect())
        }
    }
}

/// The exercise `id` among `items`, or an error that lists the ids there are.
fn find<'a, T>(items: &'a [T], id: &str, id_of: impl Fn(&T) -> &str) -> anyhow::Result<&'a T> {
    items.iter().find(|item| id_of(item) == id).ok_or_else(|| {
        let ids: Vec<&str> = items.iter().map(&id_of).collect();
        anyhow::anyhow!(
            "there is no exercise `{id}`: the exercises are {}",
            ids.join(", ")
        )
    })
}

/// `classroom hint ID`: the task of exercise `id`, where it is, its hint and its test command.
pub fn hint(origin: &Origin, id: &str) -> anyhow::Result<()> {
    let entries = origin.entries()?;
    let entry = find(&entries, id, |e| &e.id)?;
    println!("Exercise {}: {}", entry.id, entry.task);
    println!(
        "(in `{}`, {}; chapter {})",
        entry.function,
        entry.file,
        entry.chapter()
    );
    println!();
    println!("Hint: {}", entry.hint);
    println!();
    println!("Check it: {}", entry.test_command());
    Ok(())
}

/// `classroom solution ID`: the reference solution of exercise `id` (in the reference crate
/// only).
pub fn solution(origin: &Origin, id: &str) -> anyhow::Result<()> {
    let exercises = origin.exercises()?;
    let exercise = find(&exercises, id, |e| &e.entry.id)?;
    println!("// Exercise {}: {}", exercise.entry.id, exercise.entry.task);
    println!(
        "// the end of `{}` in {}:",
        exercise.entry.function, exercise.entry.file
    );
    print!("{}", exercise.solution);
    Ok(())
}
