//! The course: where its root folder is, and its catalogue of exercises
//! (`classroom/exercises.toml`), read with the `toml` crate into [`Exercise`]s.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

/// The catalogue, relative to the course's root.
pub const CATALOGUE: &str = "classroom/exercises.toml";

/// The whole catalogue file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    /// `true` in a student copy (written by `cargo classroom new`): the sources hold the
    /// student's work, not the solutions, and the wrong answers are left out.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub student_copy: bool,
    /// The exercises, in course order.
    #[serde(rename = "exercise", default)]
    pub exercises: Vec<Exercise>,
}

/// One exercise, as the catalogue describes it (the solution is in the source, between the
/// markers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exercise {
    /// `"4.1"`: chapter 4, exercise 1.
    pub id: String,
    /// What to do, in one lower-case line.
    pub title: String,
    /// `call`, `program`, `fix` or `predict`.
    pub kind: Kind,
    /// The source file that holds its region, e.g. `src/step4_accept.rs`.
    pub file: String,
    /// The chapter to read, relative to `book/src`, e.g. `step4-accept.md`.
    pub page: String,
    /// What to write, in a few plain lines.
    pub task: String,
    /// A nudge towards the right page or section, never the answer.
    pub hint: String,
    /// The tests that grade it.
    pub test: TestSelector,
    /// What the student starts from instead of `todo!()` (a `fix` exercise's bug, a `predict`
    /// exercise's placeholder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// Wrong answers that `verify` proves the tests reject (only in the reference crate).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wrong: Vec<Wrong>,
}

/// The four kinds of exercise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Write the call(s) of one step.
    Call,
    /// A whole program's logic, graded by hostile clients.
    Program,
    /// The start is buggy code: find and fix the bug.
    Fix,
    /// Write what the kernel will say; the test runs the experiment.
    Predict,
}

impl Kind {
    /// The word `list` shows.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Call => "call",
            Kind::Program => "program",
            Kind::Fix => "fix",
            Kind::Predict => "predict",
        }
    }
}

/// `cargo test --test <target> <filter>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestSelector {
    /// The integration test file, `tests/<target>.rs`.
    pub target: String,
    /// The prefix of the test names, `exN_M_`.
    pub filter: String,
}

/// A wrong answer: region contents that the tests must reject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wrong {
    /// What is wrong with it, in a few words.
    pub name: String,
    /// The code, as it would sit between the markers.
    pub code: String,
}

impl Exercise {
    /// The command that runs its tests with their full output.
    pub fn test_command(&self) -> String {
        format!(
            "cargo test --test {} {}",
            self.test.target, self.test.filter
        )
    }

    /// The `todo!` a student copy has in place of the solution, indented by `indent`. The
    /// lessons' panic hook (`socket_steps::cli::exercise_todo`) reads the id and the title back
    /// out of it: keep the shape `"N.M: <title> — ..."`. The message is wrapped (a `\` at the
    /// end of a line continues a Rust string without the newline and the next indentation) so
    /// that the line fits in 100 columns, as rustfmt keeps the code around it.
    pub fn todo_call(&self, indent: &str) -> String {
        let escape = |text: String| text.replace('\\', "\\\\").replace('"', "\\\"");
        let head = escape(format!("{}: {} — ", self.id, self.title));
        let tail = escape(format!(
            "read {}; stuck? cargo classroom hint {}",
            self.page, self.id
        ));
        format!("{indent}todo!(\n{indent}    \"{head}\\\n{indent}     {tail}\"\n{indent})")
    }

    /// What sits between the markers before the student writes anything: the `start` code, or
    /// the `todo!`, indented by `indent`.
    pub fn unsolved(&self, indent: &str) -> String {
        match &self.start {
            Some(start) => start.clone(),
            None => format!("{}\n", self.todo_call(indent)),
        }
    }
}

/// A course on disk: its root folder and its catalogue.
#[derive(Debug, Clone)]
pub struct Course {
    /// The folder with the workspace's `Cargo.toml` and [`CATALOGUE`].
    pub root: PathBuf,
    /// The catalogue, read.
    pub catalogue: Catalogue,
}

impl Course {
    /// The course that the current folder is in (the nearest folder up with a [`CATALOGUE`]).
    pub fn find() -> anyhow::Result<Course> {
        let cwd = std::env::current_dir().context("could not read the current folder")?;
        let Some(root) = cwd
            .ancestors()
            .find(|dir| dir.join(CATALOGUE).is_file() && dir.join("Cargo.toml").is_file())
        else {
            bail!(
                "{} is not inside the course (no {CATALOGUE} here or above): `cd` into the \
                 reference crate or your student copy first",
                cwd.display()
            );
        };
        Course::open(root)
    }

    /// The course at `root`.
    pub fn open(root: &Path) -> anyhow::Result<Course> {
        let path = root.join(CATALOGUE);
        let text = fs::read_to_string(&path)
            .with_context(|| format!("could not read {}", path.display()))?;
        let catalogue = parse(&text).with_context(|| format!("{} is damaged", path.display()))?;
        Ok(Course {
            root: root.to_path_buf(),
            catalogue,
        })
    }

    /// The exercises, in order.
    pub fn exercises(&self) -> &[Exercise] {
        &self.catalogue.exercises
    }

    /// Exercise `id`, or an error that lists the ids there are.
    pub fn exercise(&self, id: &str) -> anyhow::Result<&Exercise> {
        find(self.exercises(), id)
    }

    /// The name of the lesson package (the root `Cargo.toml`'s `[package]`), for `cargo -p`.
    pub fn lesson_package(&self) -> anyhow::Result<String> {
        #[derive(Deserialize)]
        struct Manifest {
            package: Package,
        }
        #[derive(Deserialize)]
        struct Package {
            name: String,
        }
        let path = self.root.join("Cargo.toml");
        let text = fs::read_to_string(&path)
            .with_context(|| format!("could not read {}", path.display()))?;
        let manifest: Manifest = toml::from_str(&text)
            .with_context(|| format!("{} has no [package]", path.display()))?;
        Ok(manifest.package.name)
    }
}

/// Exercise `id` among `exercises`, or an error that lists the ids there are.
pub fn find<'a>(exercises: &'a [Exercise], id: &str) -> anyhow::Result<&'a Exercise> {
    exercises.iter().find(|e| e.id == id).ok_or_else(|| {
        let ids: Vec<&str> = exercises.iter().map(|e| e.id.as_str()).collect();
        anyhow::anyhow!(
            "there is no exercise `{id}`: the exercises are {}",
            ids.join(", ")
        )
    })
}

/// Reads a catalogue, and checks what the types cannot: ids are `N.M` and unique, test filters
/// name their exercise.
pub fn parse(text: &str) -> anyhow::Result<Catalogue> {
    let catalogue: Catalogue = toml::from_str(text)?;
    let mut seen = std::collections::BTreeSet::new();
    for exercise in &catalogue.exercises {
        if !is_id(&exercise.id) {
            bail!("`{}` is not an exercise id like `4.1`", exercise.id);
        }
        if !seen.insert(exercise.id.as_str()) {
            bail!("exercise {} appears twice", exercise.id);
        }
        let prefix = format!("ex{}_", exercise.id.replace('.', "_"));
        if !exercise.test.filter.starts_with(&prefix) {
            bail!(
                "exercise {}: its test filter `{}` should start with `{prefix}`",
                exercise.id,
                exercise.test.filter
            );
        }
    }
    Ok(catalogue)
}

/// What `cargo classroom new` writes as a student copy's catalogue: the same exercises without
/// their wrong answers, marked as a student copy.
pub fn student_catalogue(catalogue: &Catalogue) -> anyhow::Result<String> {
    let student = Catalogue {
        student_copy: true,
        exercises: catalogue
            .exercises
            .iter()
            .map(|e| Exercise {
                wrong: Vec::new(),
                ..e.clone()
            })
            .collect(),
    };
    Ok(format!(
        "# The exercises of this student copy, written by `cargo classroom new`: `cargo classroom`\n\
         # reads them. Leave this file as it is.\n\n{}",
        toml::to_string_pretty(&student)?
    ))
}

/// The book's table of contents, relative to the course's root.
pub const SUMMARY: &str = "book/src/SUMMARY.md";

/// The chapters that mdBook numbers, in `SUMMARY.md`'s order: the pages of its top-level list
/// items (`- [Bind](step2-bind.md)`), so that chapter `N` is the `N`th (`chapters[N - 1]`). The
/// introduction and the appendices, outside any list, have no number; sub-chapters (indented)
/// are numbered `N.M` by mdBook and are not counted here.
///
/// An exercise's id `N.M` says which chapter it belongs to: the table of contents is the one
/// list of chapters, and `verify` checks each id against it.
pub fn numbered_chapters(summary: &str) -> Vec<String> {
    summary
        .lines()
        .filter_map(|line| line.strip_prefix("- ["))
        .filter_map(|item| {
            let (_, link) = item.split_once("](")?;
            Some(link.split_once(')')?.0.to_string())
        })
        .collect()
}

/// The chapter number in exercise id `N.M`: `N`.
pub fn chapter_of(id: &str) -> Option<usize> {
    id.split_once('.')?.0.parse().ok()
}

/// `4.1`: digits, a dot, digits.
pub fn is_id(id: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    id.split_once('.')
        .is_some_and(|(chapter, number)| digits(chapter) && digits(number))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const SAMPLE: &str = r#"
[[exercise]]
id = "4.1"
title = "accept one connection"
kind = "call"
file = "src/step4_accept.rs"
page = "step4-accept.md"
task = """
Accept "one".
"""
hint = "Read the chapter."
test = { target = "step4_accept", filter = "ex4_1_" }

[[exercise.wrong]]
name = "early return"
code = """
    todo!()
"""

[[exercise]]
id = "4.2"
title = "fix it"
kind = "fix"
file = "src/step4_accept.rs"
page = "step4-accept.md"
task = "Fix."
hint = "Look."
test = { target = "step4_accept", filter = "ex4_2_" }
start = """
    buggy()
"""
"#;

    #[test]
    fn reads_the_catalogue_and_knows_each_exercises_commands() {
        let catalogue = parse(SAMPLE).unwrap();
        let first = &catalogue.exercises[0];
        assert_eq!(first.kind, Kind::Call);
        assert_eq!(first.task, "Accept \"one\".\n");
        assert_eq!(first.wrong[0].name, "early return");
        assert_eq!(
            first.test_command(),
            "cargo test --test step4_accept ex4_1_"
        );
        assert_eq!(
            first.todo_call("    "),
            "    todo!(\n        \"4.1: accept one connection — \\\n         \
             read step4-accept.md; stuck? cargo classroom hint 4.1\"\n    )"
        );
        assert_eq!(
            first.unsolved("    "),
            format!("{}\n", first.todo_call("    "))
        );
        assert_eq!(catalogue.exercises[1].unsolved("    "), "    buggy()\n");
    }

    #[test]
    fn a_student_catalogue_keeps_everything_but_the_wrong_answers() {
        let catalogue = parse(SAMPLE).unwrap();
        let student = parse(&student_catalogue(&catalogue).unwrap()).unwrap();
        assert!(student.student_copy);
        assert!(student.exercises.iter().all(|e| e.wrong.is_empty()));
        assert_eq!(student.exercises[1], catalogue.exercises[1]);
    }

    #[test]
    fn the_numbered_chapters_are_the_top_level_items_of_the_summary() {
        let summary = "# Summary\n\n[Introduction](introduction.md)\n\n# Part\n\n\
                       - [Create](step1-create.md)\n- [Bind](step2-bind.md)\n  \
                       - [Sub](sub.md)\n\n---\n\n[Appendix](reference.md)\n";
        assert_eq!(
            numbered_chapters(summary),
            ["step1-create.md", "step2-bind.md"]
        );
        assert_eq!(chapter_of("14.2"), Some(14));
        assert_eq!(chapter_of("x"), None);
    }

    #[test]
    fn a_bad_catalogue_says_what_is_wrong() {
        let twice = format!(
            "{SAMPLE}{}",
            &SAMPLE[SAMPLE.find("[[exercise]]").unwrap()..]
        );
        assert!(parse(&twice)
            .unwrap_err()
            .to_string()
            .contains("appears twice"));
        let bad_filter = SAMPLE.replace("ex4_2_", "ex9_");
        assert!(parse(&bad_filter)
            .unwrap_err()
            .to_string()
            .contains("should start with `ex4_2_`"));
        let unknown = SAMPLE.replace("kind = \"fix\"", "kind = \"quiz\"");
        assert!(parse(&unknown).is_err());
        assert!(is_id("12.3") && !is_id("4") && !is_id("a.1") && !is_id("4.1.2"));
    }
}
