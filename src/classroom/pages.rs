//! The book's exercise pages (`book/src/exercises/stepN.md`, included at the end of each
//! chapter): each exercise's task, where to write it, a folded hint and the command that grades
//! it. [`book_pages`] makes them; [`write_book`] (`classroom book`) writes the changed ones.

use std::fs;
use std::path::Path;

use anyhow::Context;

use super::{Exercise, Origin, CLIENT_CHAPTER};

/// The exercise page of one chapter for the book (`book/src/exercises/stepN.md`): each
/// exercise's task, where to write it, a folded hint and the command that grades it.
pub fn book_page(exercises: &[Exercise]) -> String {
    let mut page = String::from(
        "## Exercises\n\n<!-- Generated from the exercise regions in src/ by `cargo run --bin classroom -- book`: do not edit. -->\n",
    );
    if exercises.is_empty() {
        page.push_str("\nThis chapter has no exercises.\n");
    }
    for ex in exercises.iter().map(|e| &e.entry) {
        page.push_str(&format!(
            "\n### Exercise {id}: {task}\n\n\
             In your student copy, write it at the end of `{function}` in `{file}`, in place of the\n\
             `todo!`.\n\n\
             <details><summary>Hint</summary>\n\n{hint}\n\n</details>\n\n\
             Check it:\n\n```console\n{command}\n```\n",
            id = ex.id,
            task = ex.task,
            function = ex.function,
            file = ex.file,
            hint = sentence(&ex.hint),
            command = ex.test_command(),
        ));
    }
    if !exercises.is_empty() {
        page.push_str(
            "\n`cargo run --bin classroom -- check` shows your progress on every exercise.\n",
        );
    }
    page
}

/// `text` with its first letter capitalised, as the start of a sentence.
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// Every chapter's exercise page: `(file name, page)` for chapters 1 to 7, from all exercises.
pub fn book_pages(exercises: &[Exercise]) -> Vec<(String, String)> {
    (1..=CLIENT_CHAPTER)
        .map(|chapter| {
            let these: Vec<Exercise> = exercises
                .iter()
                .filter(|e| e.entry.chapter() == chapter)
                .cloned()
                .collect();
            (book_page_name(chapter), book_page(&these))
        })
        .collect()
}

/// The file name of a chapter's exercise page, under `book/src/exercises/`.
pub fn book_page_name(chapter: u32) -> String {
    if chapter == CLIENT_CHAPTER {
        "client.md".to_string()
    } else {
        format!("step{chapter}.md")
    }
}

/// `classroom book`: rewrites the pages in `book/src/exercises/` of the reference crate that
/// changed, and says which.
pub fn write_book(origin: &Origin) -> anyhow::Result<()> {
    let exercises = origin.exercises()?;
    let dir = Path::new(origin.root).join("book/src/exercises");
    fs::create_dir_all(&dir).with_context(|| format!("could not create {}", dir.display()))?;
    for (name, page) in book_pages(&exercises) {
        let path = dir.join(name);
        let old = fs::read_to_string(&path).unwrap_or_default();
        if old == page {
            println!("unchanged {}", path.display());
        } else {
            fs::write(&path, page)
                .with_context(|| format!("could not write {}", path.display()))?;
            println!("wrote     {}", path.display());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classroom::regions::{parse, tests::SAMPLE};

    #[test]
    fn book_page_lists_task_folded_hint_and_command() {
        let page = book_page(&parse("src/step4_accept.rs", SAMPLE).unwrap());
        assert!(page.starts_with("## Exercises\n"), "{page}");
        assert!(page.contains("### Exercise 4.1: accept one connection"));
        assert!(page.contains(
            "<details><summary>Hint</summary>\n\n`listener.accept()` returns a pair.\n\n</details>"
        ));
        assert!(page.contains("```console\ncargo test --test step4_accept ex4_1\n```"));
        assert_eq!(book_page_name(4), "step4.md");
        assert_eq!(book_page_name(7), "client.md");
    }
}
