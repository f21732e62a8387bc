//! What the book shows of the exercises, generated from the catalogue and the sources (a test
//! fails while the files on disk are stale; `cargo classroom book` rewrites them):
//!
//! - `book/src/exercises/<page>` for each chapter with exercises: each exercise's task, where
//!   to write it, a folded hint and the commands;
//! - `book/src/exercises/src/<file>.rs` for each source file with exercises: the file as a
//!   student copy has it (each region is its `todo!()` or `start` code), without the marker
//!   lines; the chapters include their listings from these, never from `src/` itself, so the
//!   book shows no answer;
//! - `book/src/solutions.md`: every solution, on one page a teacher can leave out.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use std::process::{Command, Stdio};

use crate::copy::{exercise_files, without_solutions};
use crate::course::{Course, Exercise, SUMMARY};
use crate::grade::region_of;
use crate::grade::{copied, copy_tree};
use crate::process::TempFolder;
use crate::regions::{self, END, START};

/// The folder of the generated exercise pages, under `book/src`.
pub const EXERCISE_PAGES: &str = "exercises";
/// The solutions page, under `book/src`.
pub const SOLUTIONS_PAGE: &str = "solutions.md";

/// Every generated file: `(path relative to the course root, contents)`.
pub fn generated(course: &Course) -> anyhow::Result<Vec<(PathBuf, String)>> {
    let mut files = Vec::new();
    let mut pages: Vec<&str> = Vec::new();
    for exercise in course.exercises() {
        if !pages.contains(&exercise.page.as_str()) {
            pages.push(&exercise.page);
        }
    }
    for page in pages {
        let these: Vec<&Exercise> = course
            .exercises()
            .iter()
            .filter(|e| e.page == page)
            .collect();
        files.push((
            Path::new("book/src").join(EXERCISE_PAGES).join(page),
            exercise_page(&these),
        ));
    }
    for file in exercise_files(course.exercises()) {
        let source = fs::read_to_string(course.root.join(&file))
            .with_context(|| format!("could not read {file}"))?;
        files.push((
            Path::new("book/src").join(EXERCISE_PAGES).join(&file),
            student_view(course.exercises(), &file, &source)?,
        ));
    }
    if !course.catalogue.student_copy {
        files.push((
            Path::new("book/src").join(SOLUTIONS_PAGE),
            solutions_page(course)?,
        ));
    }
    Ok(files)
}

/// `source` as the book shows it: each region as a fresh student copy has it, without the
/// marker lines.
pub fn student_view(exercises: &[Exercise], file: &str, source: &str) -> anyhow::Result<String> {
    let filled = regions::fill(file, source, |region| {
        let exercise = exercises.iter().find(|e| e.id == region.id)?;
        Some(exercise.unsolved(&region.indent))
    })?;
    let markers: Vec<String> = regions::find(file, &filled)?
        .iter()
        .flat_map(|r| [format!("{START}{}", r.id), format!("{END}{}", r.id)])
        .collect();
    let mut out: String = filled
        .lines()
        .filter(|line| !markers.iter().any(|m| line.trim() == m))
        .map(|line| format!("{line}\n"))
        .collect();
    if !source.ends_with('\n') {
        out.pop();
    }
    Ok(out)
}

/// The chapters' includes of a source file that has exercises (they would show the answers):
/// `(chapter, the include)`.
pub fn direct_includes(course: &Course) -> anyhow::Result<Vec<(String, String)>> {
    let files = exercise_files(course.exercises());
    let src = course.root.join("book/src");
    let mut found = Vec::new();
    let mut pages = Vec::new();
    markdown_files(&src, &mut pages)?;
    for page in pages {
        let text = fs::read_to_string(&page)?;
        for (at, _) in text.match_indices("{{#") {
            let include = &text[at..];
            let include = &include[..include.find("}}").map_or(include.len(), |e| e + 2)];
            if files.iter().any(|f| include.contains(&format!("../{f}"))) {
                let rel = page.strip_prefix(&src).unwrap_or(&page);
                found.push((rel.display().to_string(), include.to_string()));
            }
        }
    }
    Ok(found)
}

fn markdown_files(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            markdown_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
    Ok(())
}

/// One chapter's exercises.
pub fn exercise_page(exercises: &[&Exercise]) -> String {
    let mut page = String::from(
        "## Exercises\n\n<!-- Generated from classroom/exercises.toml by `cargo classroom book`: do not edit. -->\n\n\
         Do them in your student copy (`cargo classroom new ../my-course`, then\n\
         `cargo classroom watch` in it): the listings above show each one as you will find it.\n",
    );
    for exercise in exercises {
        page.push_str(&format!(
            "\n### Exercise {id}: {title}\n\n{task}\n\nWrite it in `{file}`, in place of the `todo!()`.\n\n\
             <details><summary>Hint</summary>\n\n{hint}\n\n</details>\n\n\
             Check it with `cargo classroom check {id}` (or `{command}` for the tests' whole output).\n",
            id = exercise.id,
            title = exercise.title,
            task = exercise.task.trim(),
            file = exercise.file,
            hint = exercise.hint.trim(),
            command = exercise.test_command(),
        ));
    }
    page
}

/// Every solution, in course order, for teachers.
pub fn solutions_page(course: &Course) -> anyhow::Result<String> {
    let mut page = String::from(
        "# Solutions\n\n<!-- Generated from the sources by `cargo classroom book`: do not edit. -->\n\n\
         The reference solution of every exercise, as it sits at the end of its function in the\n\
         reference crate. This page is for teachers: a student copy's book leaves it out, and\n\
         `cargo classroom book --student DIR` builds the book without it.\n",
    );
    for exercise in course.exercises() {
        let region = region_of(&course.root, exercise)?;
        page.push_str(&format!(
            "\n## Exercise {id}: {title}\n\nIn `{file}` ([the chapter]({page})):\n\n```rust,ignore\n{code}```\n",
            id = exercise.id,
            title = exercise.title,
            file = exercise.file,
            page = exercise.page,
            code = dedent(&region.body),
        ));
    }
    Ok(page)
}

/// `code` with the indentation its lines share taken off.
fn dedent(code: &str) -> String {
    let shared = code
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    code.lines()
        .map(|l| format!("{}\n", l.get(shared..).unwrap_or("")))
        .collect()
}

/// The generated files whose contents on disk differ: `(path, contents)`.
pub fn stale(course: &Course) -> anyhow::Result<Vec<(PathBuf, String)>> {
    Ok(generated(course)?
        .into_iter()
        .filter(|(path, text)| {
            fs::read_to_string(course.root.join(path)).ok().as_deref() != Some(text.as_str())
        })
        .collect())
}

/// `cargo classroom book`: rewrites the generated files that are stale, and says which.
pub fn write() -> anyhow::Result<()> {
    let course = Course::find()?;
    if course.catalogue.student_copy {
        bail!("`book` rewrites the reference crate's book; this is a student copy");
    }
    let stale = stale(&course)?;
    for (path, text) in &stale {
        let full = course.root.join(path);
        if let Some(parent) = full.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(&full, text).with_context(|| format!("could not write {}", full.display()))?;
        println!("wrote {}", path.display());
    }
    if stale.is_empty() {
        println!("the book's exercise pages and solutions page are up to date");
    }
    let direct = direct_includes(&course)?;
    if !direct.is_empty() {
        for (page, include) in &direct {
            eprintln!("{page}: {include}");
        }
        bail!(
            "these includes show the answers: include the student's view, `exercises/src/...`, \
             instead of `../../src/...`"
        );
    }
    Ok(())
}

/// `cargo classroom book --student DIR`: the book without its solutions page, built by mdbook
/// into `dir`, then searched for every solution (an error if one is there).
pub fn student_edition(dir: &Path) -> anyhow::Result<()> {
    let course = Course::find()?;
    if course.catalogue.student_copy {
        bail!("a student copy's book has no solutions already: `mdbook build book` builds it");
    }
    if !stale(&course)?.is_empty() {
        bail!("the book's generated pages are stale: run `cargo classroom book` first");
    }
    let out = std::env::current_dir()?.join(dir);
    // The book includes code from `src/`, `steps/`, `tests/`: we build it in a copy of the
    // course whose book has no solutions page.
    let copy = TempFolder::new("student-book")?;
    copy_tree(&course.root, copy.path(), Path::new(""), &|rel| {
        copied(rel) && rel != Path::new("book/src").join(SOLUTIONS_PAGE)
    })?;
    let summary = copy.path().join(SUMMARY);
    fs::write(&summary, without_solutions(&fs::read_to_string(&summary)?))?;
    let built = Command::new("mdbook")
        .arg("build")
        .arg(copy.path().join("book"))
        .arg("--dest-dir")
        .arg(&out)
        .stdin(Stdio::null())
        .output()
        .context(
            "could not run mdbook: install it with `cargo install mdbook --locked` (the version \
             in .ci/run)",
        )?;
    if !built.status.success() {
        bail!(
            "mdbook failed:\n{}{}",
            String::from_utf8_lossy(&built.stdout),
            String::from_utf8_lossy(&built.stderr)
        );
    }
    let leaks = leaks(&course, &out)?;
    if !leaks.is_empty() {
        bail!(
            "the student edition in {} still shows answers:\n{}",
            out.display(),
            leaks.join("\n")
        );
    }
    println!(
        "wrote the student edition of the book (no solutions page; checked: no solution and no \
         exercise marker in it) to {}",
        out.display()
    );
    Ok(())
}

/// What a built book in `dir` shows that it should not: exercise markers, and the solutions of
/// several lines (a one-line solution is the call a chapter teaches, and may well appear in its
/// prose).
pub fn leaks(course: &Course, dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut solutions = Vec::new();
    for exercise in course.exercises() {
        let body = region_of(&course.root, exercise)?.body;
        if body.lines().filter(|l| !l.trim().is_empty()).count() >= 2 {
            solutions.push((exercise.id.clone(), words(&body)));
        }
    }
    let mut found = Vec::new();
    let mut pages = Vec::new();
    files_with(dir, "html", &mut pages)?;
    for page in pages {
        let text = words(&unescape(&fs::read_to_string(&page)?));
        let name = page
            .strip_prefix(dir)
            .unwrap_or(&page)
            .display()
            .to_string();
        if let Some(marker) = marker_in(&text) {
            found.push(format!("{name}: an exercise marker: `{marker}`"));
        }
        for (id, code) in &solutions {
            if text.contains(code.as_str()) {
                found.push(format!("{name}: the solution of exercise {id}"));
            }
        }
    }
    Ok(found)
}

/// The first `// EXERCISE N.M`, `// END EXERCISE N.M` or `// HINT:` in `text`.
pub fn marker_in(text: &str) -> Option<String> {
    if let Some(at) = text.find("// HINT:") {
        return Some(text[at..].chars().take(20).collect());
    }
    for prefix in [START, END] {
        for (at, _) in text.match_indices(prefix) {
            let id: String = text[at + prefix.len()..]
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            if crate::course::is_id(id.trim_end_matches('.')) {
                return Some(format!("{prefix}{id}"));
            }
        }
    }
    None
}

/// `text` with its runs of white space made single spaces.
fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The few HTML escapes mdbook writes in code.
fn unescape(html: &str) -> String {
    html.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn files_with(dir: &Path, extension: &str, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in fs::read_dir(dir).with_context(|| format!("could not read {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            files_with(&path, extension, out)?;
        } else if path.extension().is_some_and(|e| e == extension) {
            out.push(path);
        }
    }
    Ok(())
}

/// `cargo classroom book --check DIR`: an error if the book built in `dir` shows an exercise
/// marker (the reference book may show the solutions, on its solutions page).
pub fn check_built(dir: &Path) -> anyhow::Result<()> {
    let mut pages = Vec::new();
    files_with(dir, "html", &mut pages)?;
    let mut found = Vec::new();
    for page in &pages {
        if let Some(marker) = marker_in(&unescape(&fs::read_to_string(page)?)) {
            found.push(format!("{}: `{marker}`", page.display()));
        }
    }
    if !found.is_empty() {
        bail!(
            "the built book shows exercise markers (an include from `../../src/` instead of \
             `exercises/src/`?):\n{}",
            found.join("\n")
        );
    }
    println!("{} pages, no exercise marker in any", pages.len());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generated_book_pages_are_up_to_date() {
        let course = Course::open(Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()).unwrap();
        let stale: Vec<String> = stale(&course)
            .unwrap()
            .iter()
            .map(|(path, _)| path.display().to_string())
            .collect();
        assert!(
            stale.is_empty(),
            "stale: {}; run `cargo classroom book` and read the diff",
            stale.join(", ")
        );
    }

    #[test]
    fn no_chapter_includes_an_exercise_file_itself() {
        let course = Course::open(Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()).unwrap();
        let found: Vec<String> = direct_includes(&course)
            .unwrap()
            .iter()
            .map(|(page, include)| format!("{page}: {include}"))
            .collect();
        assert!(
            found.is_empty(),
            "these includes would show the answers; include from `exercises/src/...` (the student's \
             view, written by `cargo classroom book`) instead of `../../src/...`:\n{}",
            found.join("\n")
        );
    }

    #[test]
    fn a_built_page_with_a_solution_is_a_leak() {
        let course = Course::open(Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()).unwrap();
        let exercise = course.exercise("4.1").unwrap();
        let body = region_of(&course.root, exercise).unwrap().body;
        let built = tempfile::tempdir().unwrap();
        let escaped = body
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        fs::write(
            built.path().join("a.html"),
            format!("<pre><code>{escaped}</code></pre>"),
        )
        .unwrap();
        fs::write(built.path().join("b.html"), "<p>nothing here</p>").unwrap();
        assert_eq!(
            leaks(&course, built.path()).unwrap(),
            ["a.html: the solution of exercise 4.1"]
        );
    }

    #[test]
    fn finds_markers_but_not_their_description() {
        assert_eq!(
            marker_in("a\n    // EXERCISE 2.1\n"),
            Some("// EXERCISE 2.1".into())
        );
        assert_eq!(
            marker_in("x // END EXERCISE 12.3 y"),
            Some("// END EXERCISE 12.3".into())
        );
        assert_eq!(
            marker_in("// HINT: use bind"),
            Some("// HINT: use bind".into())
        );
        assert_eq!(
            marker_in("the lines `// EXERCISE N.M` and `// END EXERCISE N.M`"),
            None
        );
    }

    #[test]
    fn the_student_view_has_the_todo_and_no_markers() {
        use crate::regions::tests::SAMPLE;
        let exercises = crate::course::parse(crate::course::tests::SAMPLE)
            .unwrap()
            .exercises;
        let view = student_view(&exercises, "src/step4_accept.rs", SAMPLE).unwrap();
        assert!(
            !view.contains("// EXERCISE") && !view.contains("// END EXERCISE"),
            "{view}"
        );
        assert!(!view.contains("listener.accept()"), "{view}");
        assert!(view.contains(&format!(
            "-> io::Result<(Socket, SocketAddr)> {{\n{}\n}}\n",
            exercises[0].todo_call("    ")
        )));
    }
}
