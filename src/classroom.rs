//! Classroom exercises: find the exercise regions in the step modules, turn them into `todo!`s for
//! a student copy, and describe them (task, hint, test command) for the `classroom` binary and
//! the book.
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
//! a student copy builds and its tests fail until the student writes the code. Everything here is
//! text in, text out (no files, no processes), so it is unit-tested on small strings; the
//! `classroom` binary (`steps/classroom.rs`) does the I/O.

use std::fmt;

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

/// One exercise, as found in a source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exercise {
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
    /// The reference solution: the lines between the hint and the end marker, as written.
    pub solution: String,
}

impl Exercise {
    /// The chapter (= step) number: 4 for `4.1`; 7 is the client.
    pub fn chapter(&self) -> u32 {
        chapter_of(&self.id)
    }

    /// The integration test file that grades it: `step4_accept` for `src/step4_accept.rs`.
    pub fn test_target(&self) -> String {
        test_target_of(&self.file)
    }

    /// The prefix of the names of the tests that grade it: `ex4_1`.
    pub fn test_filter(&self) -> String {
        test_filter_of(&self.id)
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

    /// The exercise as the student copy's catalogue knows it (no solution).
    pub fn entry(&self) -> Entry {
        Entry {
            id: self.id.clone(),
            task: self.task.clone(),
            hint: self.hint.clone(),
            file: self.file.clone(),
            function: self.function.clone(),
        }
    }
}

/// An exercise without its solution: what a student copy records in [`MARKER_FILE`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `"4.1"`.
    pub id: String,
    /// What to write.
    pub task: String,
    /// A nudge towards the answer.
    pub hint: String,
    /// Where: `src/step4_accept.rs`.
    pub file: String,
    /// In which function: `accept`.
    pub function: String,
}

impl Entry {
    /// The chapter (= step) number.
    pub fn chapter(&self) -> u32 {
        chapter_of(&self.id)
    }
    /// The integration test file that grades it.
    pub fn test_target(&self) -> String {
        test_target_of(&self.file)
    }
    /// The prefix of the names of its tests.
    pub fn test_filter(&self) -> String {
        test_filter_of(&self.id)
    }
    /// The command that grades this exercise alone.
    pub fn test_command(&self) -> String {
        format!(
            "cargo test --test {} {}",
            self.test_target(),
            self.test_filter()
        )
    }
}

fn chapter_of(id: &str) -> u32 {
    id.split('.')
        .next()
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

fn test_target_of(file: &str) -> String {
    let name = file.rsplit('/').next().unwrap_or(file);
    name.strip_suffix(".rs").unwrap_or(name).to_string()
}

fn test_filter_of(id: &str) -> String {
    format!("ex{}", id.replace('.', "_"))
}

/// A malformed exercise region: which file, which line (1-based), what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The file being read.
    pub file: String,
    /// The 1-based line number.
    pub line: usize,
    /// What is wrong there.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

const START: &str = "// EXERCISE ";
const HINT: &str = "// HINT: ";
const END: &str = "// END EXERCISE ";

/// One exercise region's place in a file (line indexes, 0-based).
struct Region {
    exercise: Exercise,
    /// The `// HINT:` line.
    hint: usize,
    /// The `// END EXERCISE` line.
    end: usize,
    /// The indentation of the `// EXERCISE` line.
    indent: String,
}

fn regions(file: &str, source: &str) -> Result<Vec<Region>, ParseError> {
    let lines: Vec<&str> = source.lines().collect();
    let error = |line: usize, message: String| ParseError {
        file: file.to_string(),
        line: line + 1,
        message,
    };
    let mut found: Vec<Region> = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let line = lines[index];
        let trimmed = line.trim_start();
        if trimmed.starts_with(END) {
            return Err(error(
                index,
                "`// END EXERCISE` without a matching `// EXERCISE`".into(),
            ));
        }
        let Some(header) = trimmed.strip_prefix(START) else {
            index += 1;
            continue;
        };
        let Some((id, task)) = header.split_once(": ") else {
            return Err(error(index, "expected `// EXERCISE N.M: <task>`".into()));
        };
        let id = id.trim().to_string();
        if !is_id(&id) {
            return Err(error(
                index,
                format!("`{id}` is not an exercise id like `4.1`"),
            ));
        }
        if found.iter().any(|r| r.exercise.id == id) {
            return Err(error(index, format!("exercise {id} appears twice")));
        }
        let start = index;
        let indent = line[..line.len() - trimmed.len()].to_string();
        let hint_line = start + 1;
        let hint = lines
            .get(hint_line)
            .and_then(|l| l.trim_start().strip_prefix(HINT))
            .ok_or_else(|| {
                error(
                    hint_line,
                    format!(
                        "exercise {id}: expected `// HINT: <hint>` on the line after `// EXERCISE`"
                    ),
                )
            })?
            .trim()
            .to_string();
        let end_marker = format!("{END}{id}");
        let end = (hint_line + 1..lines.len())
            .find(|&i| {
                let t = lines[i].trim();
                t == end_marker || t.starts_with(START) || t.starts_with(END)
            })
            .filter(|&i| lines[i].trim() == end_marker)
            .ok_or_else(|| error(start, format!("exercise {id} has no `{end_marker}` line")))?;
        let solution: String = lines[hint_line + 1..end]
            .iter()
            .map(|l| format!("{l}\n"))
            .collect();
        if solution.trim().is_empty() {
            return Err(error(start, format!("exercise {id} has no solution lines")));
        }
        let closes = lines.get(end + 1).map(|l| l.trim()) == Some("}");
        if !closes {
            return Err(error(
                end,
                format!("exercise {id} must be the tail of a function body: the line after `{end_marker}` should be `}}`"),
            ));
        }
        let function = (0..start)
            .rev()
            .find_map(|i| function_name(lines[i]))
            .ok_or_else(|| error(start, format!("exercise {id} is not inside a `fn`")))?;
        found.push(Region {
            exercise: Exercise {
                id,
                task: task.trim().to_string(),
                hint,
                file: file.to_string(),
                function,
                solution,
            },
            hint: hint_line,
            end,
            indent,
        });
        index = end + 1;
    }
    Ok(found)
}

fn is_id(id: &str) -> bool {
    let mut parts = id.split('.');
    let number =
        |p: Option<&str>| p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    number(parts.next()) && number(parts.next()) && parts.next().is_none()
}

fn function_name(line: &str) -> Option<String> {
    let after = line.split_once("fn ")?.1;
    let before = line.split_once("fn ")?.0.trim();
    // `pub fn`, `pub(crate) fn`, `fn`, `async fn`...: not `// ... fn` in a comment.
    if before.starts_with("//") {
        return None;
    }
    let name: String = after
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// Finds every exercise in one source file, in order.
pub fn parse(file: &str, source: &str) -> Result<Vec<Exercise>, ParseError> {
    Ok(regions(file, source)?
        .into_iter()
        .map(|r| r.exercise)
        .collect())
}

/// What to put in an exercise region when rendering a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fill {
    /// The reference solution, unchanged (the region stays exactly as it is).
    Solution,
    /// A `todo!` for the student, with a pointer to the hint and the test command.
    Todo,
}

/// What a student copy adds at the top of each file with a `todo!`: while an exercise is a
/// `todo!`, the compiler sees its function's arguments and the imports it needs as unused, and
/// would suggest `cargo fix`, which would rename them (`_addr`) and delete the imports.
pub const STUDENT_ALLOW: &str = "\
// Student copy: until you write the exercises below, their arguments and the imports they need
// look unused to the compiler. This line silences those warnings; do not follow `cargo fix`.
#![allow(unused_imports, unused_variables)]
";

/// Rewrites `source` with each exercise region filled as `choose(id)` says. With
/// [`Fill::Solution`] everywhere, the output is the input.
///
/// A [`Fill::Todo`] region keeps its `// EXERCISE` and `// END EXERCISE` lines (so the student
/// sees where to write) but loses the hint (it is one `classroom hint` away) and the solution; a
/// file with a `todo!` also gets [`STUDENT_ALLOW`] after its `//!` docs.
pub fn render(
    file: &str,
    source: &str,
    choose: impl Fn(&str) -> Fill,
) -> Result<String, ParseError> {
    let regions = regions(file, source)?;
    let lines: Vec<&str> = source.lines().collect();
    let mut out = String::with_capacity(source.len());
    let mut next = 0;
    if regions.iter().any(|r| choose(&r.exercise.id) == Fill::Todo) {
        // After the module's `//!` docs: an inner attribute must come before the first item.
        let docs = lines.iter().take_while(|l| l.starts_with("//!")).count();
        for line in &lines[..docs] {
            out.push_str(line);
            out.push('\n');
        }
        if docs > 0 {
            out.push('\n');
        }
        out.push_str(STUDENT_ALLOW);
        next = docs;
    }
    for region in &regions {
        if choose(&region.exercise.id) == Fill::Solution {
            continue;
        }
        for line in &lines[next..region.hint] {
            out.push_str(line);
            out.push('\n');
        }
        let ex = &region.exercise;
        let indent = &region.indent;
        out.push_str(&format!(
            "{indent}// Stuck? `cargo run --bin classroom -- hint {}`. Done? `{}`\n",
            ex.id,
            ex.test_command()
        ));
        out.push_str(&format!("{indent}{}\n", ex.todo_call()));
        next = region.end;
    }
    for line in &lines[next..] {
        out.push_str(line);
        out.push('\n');
    }
    if !source.ends_with('\n') {
        out.pop();
    }
    Ok(out)
}

/// Reads the id out of a `todo!` message made by [`Exercise::todo_call`]: for
/// `"4.1: accept one connection ... — see chapter 4"` it returns `("4.1", "accept one ...")`.
pub fn parse_todo_message(message: &str) -> Option<(&str, &str)> {
    let (id, rest) = message.split_once(": ")?;
    if !is_id(id) {
        return None;
    }
    let task = rest
        .rsplit_once(" — see chapter ")
        .map_or(rest, |(task, _)| task);
    Some((id, task))
}

/// The exercise page of one chapter for the book (`book/src/exercises/stepN.md`): each
/// exercise's task, where to write it, a folded hint and the command that grades it.
pub fn book_page(exercises: &[Exercise]) -> String {
    let mut page = String::from(
        "## Exercises\n\n<!-- Generated from the exercise regions in src/ by `cargo run --bin classroom -- book`: do not edit. -->\n",
    );
    if exercises.is_empty() {
        page.push_str("\nThis chapter has no exercises.\n");
    }
    for ex in exercises {
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
                .filter(|e| e.chapter() == chapter)
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

/// Writes the catalogue of a student copy ([`MARKER_FILE`]): a small TOML file.
pub fn catalogue(entries: &[Entry]) -> String {
    let mut out = String::from(
        "# This folder is a socket-steps student copy, made by `cargo run --bin classroom -- new`.\n\
         # `cargo run --bin classroom -- check` and `-- hint` read the exercises below.\n\
         # Leave this file as it is.\n",
    );
    for entry in entries {
        out.push_str(&format!(
            "\n[[exercise]]\nid = {}\ntask = {}\nhint = {}\nfile = {}\nfunction = {}\n",
            toml_string(&entry.id),
            toml_string(&entry.task),
            toml_string(&entry.hint),
            toml_string(&entry.file),
            toml_string(&entry.function),
        ));
    }
    out
}

fn toml_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn parse_toml_string(text: &str) -> Option<String> {
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            '"' => out.push('"'),
            '\\' => out.push('\\'),
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'u' => {
                let hex: String = chars.by_ref().take(4).collect();
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
            }
            _ => return None,
        }
    }
    Some(out)
}

/// Reads a catalogue written by [`catalogue`]. The error says which line is wrong.
pub fn parse_catalogue(text: &str) -> Result<Vec<Entry>, String> {
    let mut entries = Vec::new();
    let mut current: Option<[Option<String>; 5]> = None;
    const KEYS: [&str; 5] = ["id", "task", "hint", "file", "function"];
    let finish = |fields: [Option<String>; 5], entries: &mut Vec<Entry>| -> Result<(), String> {
        let [id, task, hint, file, function] = fields;
        let missing = |name: &str| format!("an [[exercise]] has no `{name}`");
        entries.push(Entry {
            id: id.ok_or_else(|| missing("id"))?,
            task: task.ok_or_else(|| missing("task"))?,
            hint: hint.ok_or_else(|| missing("hint"))?,
            file: file.ok_or_else(|| missing("file"))?,
            function: function.ok_or_else(|| missing("function"))?,
        });
        Ok(())
    };
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line == "[[exercise]]" {
            if let Some(fields) = current.take() {
                finish(fields, &mut entries)?;
            }
            current = Some(Default::default());
            continue;
        }
        let bad = || format!("line {}: cannot read `{line}`", number + 1);
        let (key, value) = line.split_once(" = ").ok_or_else(bad)?;
        let slot = KEYS.iter().position(|k| *k == key).ok_or_else(bad)?;
        let fields = current.as_mut().ok_or_else(bad)?;
        fields[slot] = Some(parse_toml_string(value).ok_or_else(bad)?);
    }
    if let Some(fields) = current.take() {
        finish(fields, &mut entries)?;
    }
    Ok(entries)
}

/// One test's outcome in `cargo test` output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestOutcome {
    /// The test's name.
    pub name: String,
    /// `true` for `ok`, `false` for `FAILED`.
    pub passed: bool,
}

/// Reads the `test NAME ... ok` / `... FAILED` lines of `cargo test` output (libtest's default
/// format). Ignored tests are left out.
pub fn test_outcomes(stdout: &str) -> Vec<TestOutcome> {
    stdout
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("test ")?;
            let (name, result) = rest.rsplit_once(" ... ")?;
            let passed = match result.trim() {
                "ok" => true,
                "FAILED" => false,
                _ => return None,
            };
            Some(TestOutcome {
                name: name.to_string(),
                passed,
            })
        })
        .collect()
}

/// The panic messages in `cargo test` output: for each `---- NAME stdout ----` section, the
/// first lines after `panicked at FILE:LINE:`.
pub fn failure_messages(stdout: &str) -> Vec<(String, String)> {
    let mut messages = Vec::new();
    let mut lines = stdout.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(name) = line
            .strip_prefix("---- ")
            .and_then(|l| l.strip_suffix(" stdout ----"))
        else {
            continue;
        };
        let mut message = Vec::new();
        while let Some(next) = lines.peek() {
            if next.starts_with("---- ") || next.trim() == "failures:" {
                break;
            }
            let next = lines.next().unwrap_or_default();
            if next.contains("panicked at") {
                message.clear();
                continue;
            }
            if next.starts_with("note: run with `RUST_BACKTRACE")
                || next.starts_with("stack backtrace:")
            {
                break;
            }
            message.push(next);
        }
        let text = message
            .iter()
            .map(|l| l.trim_end())
            .collect::<Vec<_>>()
            .join("\n");
        messages.push((name.to_string(), text.trim().to_string()));
    }
    messages
}

/// `text` without terminal colour codes (`ESC [ ... m` and the like), for output that is not a
/// terminal: `pretty_assertions` colours its diffs even when they go to a pipe.
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            out.push(c);
            continue;
        }
        match chars.next() {
            // Control sequence: parameters, then one final letter.
            Some('[') => {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            // Character set selection, e.g. `ESC ( B`.
            Some('(' | ')') => {
                chars.next();
            }
            _ => {}
        }
    }
    out
}

/// If a failure is a `todo!` of another exercise (e.g. 4.1's tests fail because 2.1 is not
/// done), that exercise's id.
pub fn blocked_by<'a>(own_id: &str, message: &'a str) -> Option<&'a str> {
    message
        .match_indices("not yet implemented: ")
        .find_map(|(at, prefix)| {
            let (id, _) = parse_todo_message(&message[at + prefix.len()..])?;
            (id != own_id).then_some(id)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
use std::io;

/// Doc.
pub fn accept(listener: &Socket) -> io::Result<(Socket, SocketAddr)> {
    // EXERCISE 4.1: accept one connection and return it with the \"peer\"'s address
    // HINT: `listener.accept()` returns a pair.
    let (connection, peer) = listener.accept()?;
    Ok((connection, peer))
    // END EXERCISE 4.1
}

fn other() -> u8 {
    7
}
";

    #[test]
    fn finds_a_region_with_its_task_hint_function_and_solution() {
        let found = parse("src/step4_accept.rs", SAMPLE).unwrap();
        assert_eq!(found.len(), 1);
        let ex = &found[0];
        assert_eq!(ex.id, "4.1");
        assert_eq!(
            ex.task,
            "accept one connection and return it with the \"peer\"'s address"
        );
        assert_eq!(ex.hint, "`listener.accept()` returns a pair.");
        assert_eq!(ex.function, "accept");
        assert_eq!(
            ex.solution,
            "    let (connection, peer) = listener.accept()?;\n    Ok((connection, peer))\n"
        );
        assert_eq!(ex.chapter(), 4);
        assert_eq!(ex.test_command(), "cargo test --test step4_accept ex4_1");
    }

    #[test]
    fn todo_replaces_the_solution_and_hint_and_keeps_the_rest() {
        let student = render("src/step4_accept.rs", SAMPLE, |_| Fill::Todo).unwrap();
        assert!(!student.contains("listener.accept()"), "{student}");
        assert!(student.contains(
            "    todo!(\"4.1: accept one connection and return it with the \\\"peer\\\"'s address — see chapter 4\")\n    // END EXERCISE 4.1\n}\n"
        ));
        assert!(student.contains("// EXERCISE 4.1: accept one connection"));
        assert!(student.contains("classroom -- hint 4.1"));
        assert!(student.ends_with("fn other() -> u8 {\n    7\n}\n"));
        assert!(
            student.starts_with(&format!("{STUDENT_ALLOW}use std::io;\n")),
            "{student}"
        );
        let with_docs = render("a.rs", &format!("//! Docs.\n//! More.\n{SAMPLE}"), |_| {
            Fill::Todo
        })
        .unwrap();
        assert!(with_docs.starts_with(&format!(
            "//! Docs.\n//! More.\n\n{STUDENT_ALLOW}use std::io;\n"
        )));
        // A student copy can be parsed again only by its catalogue, not by `parse` (no hint line).
        assert!(parse("x.rs", &student).is_err());
    }

    #[test]
    fn solution_everywhere_is_the_identity() {
        assert_eq!(render("a.rs", SAMPLE, |_| Fill::Solution).unwrap(), SAMPLE);
        let no_newline = SAMPLE.trim_end();
        assert_eq!(
            render("a.rs", no_newline, |_| Fill::Solution).unwrap(),
            no_newline
        );
    }

    #[test]
    fn chooses_per_exercise() {
        let two = format!(
            "{SAMPLE}\n{}",
            SAMPLE
                .replace("4.1", "4.2")
                .replace("fn accept", "fn accept2")
        );
        let only_second = render("src/step4_accept.rs", &two, |id| {
            if id == "4.2" {
                Fill::Todo
            } else {
                Fill::Solution
            }
        })
        .unwrap();
        assert!(only_second
            .contains("    // HINT: `listener.accept()` returns a pair.\n    let (connection"));
        assert!(only_second.contains("todo!(\"4.2: "));
        assert!(!only_second.contains("todo!(\"4.1: "));
    }

    #[test]
    fn malformed_regions_are_errors_with_a_line_number() {
        let no_end = SAMPLE.replace("    // END EXERCISE 4.1\n", "");
        let error = parse("f.rs", &no_end).unwrap_err();
        assert_eq!(error.line, 5);
        assert!(
            error.to_string().contains("no `// END EXERCISE 4.1` line"),
            "{error}"
        );

        let no_hint = SAMPLE.replace("// HINT: ", "// ");
        assert!(parse("f.rs", &no_hint)
            .unwrap_err()
            .message
            .contains("HINT"));

        let bad_id = SAMPLE.replace("EXERCISE 4.1:", "EXERCISE four:");
        assert!(parse("f.rs", &bad_id)
            .unwrap_err()
            .message
            .contains("not an exercise id"));

        let not_tail = SAMPLE.replace(
            "    // END EXERCISE 4.1\n}",
            "    // END EXERCISE 4.1\n    ;\n}",
        );
        assert!(parse("f.rs", &not_tail)
            .unwrap_err()
            .message
            .contains("tail of a function body"));

        let stray_end = "fn f() {\n    // END EXERCISE 1.1\n}\n";
        assert!(parse("f.rs", stray_end)
            .unwrap_err()
            .message
            .contains("without a matching"));

        let twice = format!("{SAMPLE}{SAMPLE}");
        assert!(parse("f.rs", &twice)
            .unwrap_err()
            .message
            .contains("appears twice"));
    }

    #[test]
    fn todo_messages_name_their_exercise() {
        assert_eq!(
            parse_todo_message("4.1: accept one connection — see chapter 4"),
            Some(("4.1", "accept one connection"))
        );
        assert_eq!(parse_todo_message("just a todo"), None);
        assert_eq!(parse_todo_message("x.1: no"), None);
        assert_eq!(
            blocked_by(
                "4.1",
                "not yet implemented: 2.1: bind the socket — see chapter 2"
            ),
            Some("2.1")
        );
        assert_eq!(
            blocked_by(
                "2.1",
                "not yet implemented: 2.1: bind the socket — see chapter 2"
            ),
            None
        );
    }

    #[test]
    fn catalogue_round_trips() {
        let mut entry = parse("src/step4_accept.rs", SAMPLE).unwrap()[0].entry();
        entry
            .hint
            .push_str(" a \\ backslash,\ta tab and a\nnewline");
        let text = catalogue(&[entry.clone(), entry.clone()]);
        assert_eq!(parse_catalogue(&text).unwrap(), vec![entry.clone(), entry]);
        assert!(parse_catalogue("[[exercise]]\nid = \"1.1\"\n")
            .unwrap_err()
            .contains("no `task`"));
        assert!(parse_catalogue("id = 1").unwrap_err().contains("line 1"));
    }

    #[test]
    fn reads_cargo_test_output() {
        let output = "\nrunning 2 tests\ntest ex4_1_a ... ok\ntest ex4_1_b ... FAILED\n\nfailures:\n\n---- ex4_1_b stdout ----\n\nthread 'ex4_1_b' panicked at tests/step4_accept.rs:10:5:\nnot yet implemented: 2.1: bind — see chapter 2\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n\n\nfailures:\n    ex4_1_b\n\ntest result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out\n";
        assert_eq!(
            test_outcomes(output),
            vec![
                TestOutcome {
                    name: "ex4_1_a".into(),
                    passed: true
                },
                TestOutcome {
                    name: "ex4_1_b".into(),
                    passed: false
                },
            ]
        );
        assert_eq!(
            failure_messages(output),
            vec![(
                "ex4_1_b".to_string(),
                "not yet implemented: 2.1: bind — see chapter 2".to_string()
            )]
        );
    }

    #[test]
    fn strips_colour_codes() {
        assert_eq!(
            strip_ansi("\x1b[1mDiff\x1b[0m \x1b[31m< left\x1b(B\x1b[m ok"),
            "Diff < left ok"
        );
        assert_eq!(strip_ansi("plain — text"), "plain — text");
    }

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
