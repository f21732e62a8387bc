//! Exercise regions in a source file: find them ([`parse`]) and rewrite them ([`render`]), as
//! `todo!`s for a student copy or as the reference solution. Text in, text out: the callers read
//! and write the files.
//!
//! A region is `// EXERCISE N.M: <task>`, `// HINT: <hint>`, the solution lines and
//! `// END EXERCISE N.M`, and must be the tail of a function body (the next line is `}`), so that
//! a `todo!()` in its place still type-checks.

use std::fmt;

use super::{Entry, Exercise};

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
        if found.iter().any(|r| r.exercise.entry.id == id) {
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
                entry: Entry {
                    id,
                    task: task.trim().to_string(),
                    hint,
                    file: file.to_string(),
                    function,
                },
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
    if regions
        .iter()
        .any(|r| choose(&r.exercise.entry.id) == Fill::Todo)
    {
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
        if choose(&region.exercise.entry.id) == Fill::Solution {
            continue;
        }
        for line in &lines[next..region.hint] {
            out.push_str(line);
            out.push('\n');
        }
        let ex = &region.exercise.entry;
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

/// Reads the id out of a `todo!` message made by [`Entry::todo_call`]: for
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One exercise region in a small file, for the tests of this module and its neighbours.
    pub(crate) const SAMPLE: &str = "\
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
        let ex = &found[0].entry;
        assert_eq!(ex.id, "4.1");
        assert_eq!(
            ex.task,
            "accept one connection and return it with the \"peer\"'s address"
        );
        assert_eq!(ex.hint, "`listener.accept()` returns a pair.");
        assert_eq!(ex.function, "accept");
        assert_eq!(
            found[0].solution,
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
    }
}
