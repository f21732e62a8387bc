//! `classroom new DIR`: a student copy of the reference crate, in which every exercise region is
//! a `todo!()`. The copy holds no solutions; its [`MARKER_FILE`] lists the exercises (their task
//! and hint) for its own `classroom check` and `classroom hint`. `verify` makes copies the same
//! way, with some exercises solved.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use super::catalogue::catalogue;
use super::regions::{render, Fill};
use super::{Entry, Exercise, Origin, MARKER_FILE};

/// Top-level folders a student copy gets (`target/`, `.git/`, `.ci/` stay behind).
const COPIED_DIRS: &[&str] = &["src", "steps", "tests", "book", "examples", "benches"];

/// Files that stay behind: the classroom's own tests (they test the teacher's side) and the
/// built book.
const SKIPPED: &[&str] = &["tests/classroom.rs", "book/book"];

/// What the README of a student copy starts with.
const STUDENT_README: &str = "\
> **This is a student copy.** The exercises 1.1 to 7.1 are `todo!()`s in `src/`: write them one
> by one, in order. `cargo run --bin classroom -- check` shows which ones pass and what to do
> next; `cargo run --bin classroom -- hint 1.1` gives a hint. Each chapter of the book (`book/`)
> ends with its exercises.

";

/// `classroom new DIR`: writes a student copy of the reference crate to `dir`, a new or empty
/// folder outside the crate's sources, and says what to do next.
pub fn new(origin: &Origin, dir: &Path) -> anyhow::Result<()> {
    let exercises = origin
        .exercises()
        .context("make student copies from the reference crate, not from a student copy")?;
    if dir.exists() {
        if !dir.is_dir() {
            bail!(
                "`{}` is a file, not a folder: choose a new folder for the student copy",
                dir.display()
            );
        }
        let mut entries =
            fs::read_dir(dir).with_context(|| format!("could not read `{}`", dir.display()))?;
        if entries.next().is_some() {
            bail!(
                "`{}` is not empty: choose a new (or empty) folder for the student copy; nothing was written",
                dir.display()
            );
        }
    }
    let root = Path::new(origin.root);
    let files = files_to_copy(root)?;
    if let (Some(dir), Ok(root)) = (resolved(dir), root.canonicalize()) {
        if COPIED_DIRS.iter().any(|d| dir.starts_with(root.join(d))) {
            bail!(
                "`{}` is inside the crate's own sources: put the student copy somewhere else",
                dir.display()
            );
        }
    }
    write_copy(origin, dir, &files, &exercises, |_| Fill::Todo)?;
    let ids: Vec<&str> = exercises.iter().map(|e| e.entry.id.as_str()).collect();
    println!("wrote a student copy to {}", dir.display());
    println!(
        "the exercises {} are todo!()s in src/; the solutions stayed here.",
        ids.join(", ")
    );
    println!();
    println!(
        "next: cd {} && cargo run --bin classroom -- check",
        dir.display()
    );
    Ok(())
}

/// `dir` as an absolute path without links, even when it does not exist yet (`new` creates it):
/// its nearest existing ancestor, canonicalized, joined with the rest.
fn resolved(dir: &Path) -> Option<PathBuf> {
    let dir = std::env::current_dir().ok()?.join(dir);
    let existing = dir.ancestors().find(|a| a.exists())?;
    let rest = dir.strip_prefix(existing).ok()?;
    Some(existing.canonicalize().ok()?.join(rest))
}

/// The files of the reference crate that go into a student copy, relative to `root`.
pub(crate) fn files_to_copy(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(root).with_context(|| format!("could not read {}", root.display()))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let kind = entry.file_type()?;
        if kind.is_file() && (!name.starts_with('.') || name == ".gitignore") {
            files.push(PathBuf::from(&name));
        } else if kind.is_dir() && COPIED_DIRS.contains(&name.as_str()) {
            walk(root, Path::new(&name), &mut files)?;
        }
    }
    files.sort();
    Ok(files)
}

fn walk(root: &Path, rel: &Path, files: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in
        fs::read_dir(root.join(rel)).with_context(|| format!("could not read {}", rel.display()))?
    {
        let entry = entry?;
        let path = rel.join(entry.file_name());
        if SKIPPED.iter().any(|s| Path::new(s) == path) {
            continue;
        }
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(root, &path, files)?;
        } else if kind.is_file() {
            files.push(path);
        }
    }
    Ok(())
}

/// Writes a copy of the crate to `dir`: `files` from the crate's root, the exercise files
/// rendered with `choose`, a student README and the marker file.
pub(crate) fn write_copy(
    origin: &Origin,
    dir: &Path,
    files: &[PathBuf],
    exercises: &[Exercise],
    choose: impl Fn(&str) -> Fill + Copy,
) -> anyhow::Result<()> {
    let root = Path::new(origin.root);
    for rel in files {
        let to = dir.join(rel);
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent)
                .with_context(|| format!("could not create {}", parent.display()))?;
        }
        let from = root.join(rel);
        let slash = rel.to_string_lossy().replace('\\', "/");
        if let Some((_, source)) = origin.sources.iter().find(|(file, _)| *file == slash) {
            fs::write(&to, render(&slash, source, choose)?)
        } else if slash == "README.md" {
            let readme = fs::read_to_string(&from)
                .with_context(|| format!("could not read {}", from.display()))?;
            fs::write(&to, format!("{STUDENT_README}{readme}"))
        } else {
            fs::copy(&from, &to).map(|_| ())
        }
        .with_context(|| format!("could not write {}", to.display()))?;
    }
    let entries: Vec<Entry> = exercises.iter().map(|e| e.entry.clone()).collect();
    let marker = dir.join(MARKER_FILE);
    fs::write(&marker, catalogue(&entries))
        .with_context(|| format!("could not write {}", marker.display()))?;
    Ok(())
}

/// Rewrites only the exercise files of a copy, and only those that change (so cargo rebuilds as
/// little as it can).
pub(crate) fn rewrite_sources(
    origin: &Origin,
    dir: &Path,
    choose: impl Fn(&str) -> Fill + Copy,
) -> anyhow::Result<()> {
    for (file, source) in origin.sources {
        let path = dir.join(file);
        let text = render(file, source, choose)?;
        if fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            fs::write(&path, text)
                .with_context(|| format!("could not write {}", path.display()))?;
        }
    }
    Ok(())
}
