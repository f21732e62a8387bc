//! Exercise regions in a source file: find them ([`find`]) and rewrite what sits between their
//! markers ([`fill`]). Text in, text out: the callers read and write the files.
//!
//! A region is the tail of a function body, between two marker lines:
//!
//! ```text
//! pub fn answer() -> u32 {
//!     // EXERCISE 9.1
//!     42
//!     // END EXERCISE 9.1
//! }
//! ```
//!
//! so that a `todo!()` in its place still type-checks.

use std::fmt;

use crate::course::is_id;

/// The first marker line, before the id.
pub const START: &str = "// EXERCISE ";
/// The last marker line, before the id.
pub const END: &str = "// END EXERCISE ";

/// A malformed region: which file, which line (1-based), what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionError {
    /// The file being read.
    pub file: String,
    /// The 1-based line number.
    pub line: usize,
    /// What is wrong there.
    pub message: String,
}

impl fmt::Display for RegionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

impl std::error::Error for RegionError {}

/// One region's place in its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    /// `"2.1"`.
    pub id: String,
    /// The 1-based line number of the `// EXERCISE` line.
    pub start_line: usize,
    /// The 1-based line number of the `// END EXERCISE` line.
    pub end_line: usize,
    /// The indentation of the marker lines.
    pub indent: String,
    /// What sits between the markers, each line with its `\n`.
    pub body: String,
}

impl Region {
    /// Line `line` (1-based) is between the markers, or on one of them.
    pub fn contains_line(&self, line: usize) -> bool {
        (self.start_line..=self.end_line).contains(&line)
    }
}

/// Every region of `source`, in order.
pub fn find(file: &str, source: &str) -> Result<Vec<Region>, RegionError> {
    let lines: Vec<&str> = source.lines().collect();
    let error = |index: usize, message: String| RegionError {
        file: file.to_string(),
        line: index + 1,
        message,
    };
    let mut found: Vec<Region> = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let trimmed = lines[index].trim();
        if trimmed.starts_with(END) {
            return Err(error(
                index,
                "`// END EXERCISE` without a matching `// EXERCISE`".into(),
            ));
        }
        let Some(id) = trimmed.strip_prefix(START) else {
            index += 1;
            continue;
        };
        let id = id.trim().to_string();
        if !is_id(&id) {
            return Err(error(
                index,
                format!("`{trimmed}`: the marker line is `// EXERCISE N.M` and nothing else"),
            ));
        }
        if found.iter().any(|r| r.id == id) {
            return Err(error(index, format!("exercise {id} appears twice")));
        }
        let end_marker = format!("{END}{id}");
        let end = (index + 1..lines.len())
            .find(|&i| {
                let t = lines[i].trim();
                t.starts_with(START) || t.starts_with(END)
            })
            .filter(|&i| lines[i].trim() == end_marker)
            .ok_or_else(|| error(index, format!("exercise {id} has no `{end_marker}` line")))?;
        if lines.get(end + 1).map(|l| l.trim()) != Some("}") {
            return Err(error(
                end,
                format!(
                    "exercise {id} must be the tail of a function body: the line after \
                     `{end_marker}` should be `}}`"
                ),
            ));
        }
        let line = lines[index];
        found.push(Region {
            id,
            start_line: index + 1,
            end_line: end + 1,
            indent: line[..line.len() - line.trim_start().len()].to_string(),
            body: lines[index + 1..end]
                .iter()
                .map(|l| format!("{l}\n"))
                .collect(),
        });
        index = end + 1;
    }
    Ok(found)
}

/// `source` with the body of each region whose id `choose` maps to `Some(code)` replaced by
/// `code` (whole lines, with their indentation and `\n`). Regions mapped to `None` stay as they
/// are, so `fill(.., |_| None)` is the identity.
pub fn fill(
    file: &str,
    source: &str,
    mut choose: impl FnMut(&Region) -> Option<String>,
) -> Result<String, RegionError> {
    let regions = find(file, source)?;
    let lines: Vec<&str> = source.lines().collect();
    let mut out = String::with_capacity(source.len());
    let mut next = 0;
    for region in &regions {
        let Some(code) = choose(region) else {
            continue;
        };
        // Up to and with the `// EXERCISE` line, then the code; the `// END` line comes next.
        for line in &lines[next..region.start_line] {
            out.push_str(line);
            out.push('\n');
        }
        out.push_str(&code);
        if !code.is_empty() && !code.ends_with('\n') {
            out.push('\n');
        }
        next = region.end_line - 1;
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

/// The same code, ignoring indentation and blank lines: how we tell whether a student has
/// touched a region.
pub fn same_code(a: &str, b: &str) -> bool {
    let lines = |s: &str| -> Vec<String> {
        s.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect()
    };
    lines(a) == lines(b)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One region in a small file, for the tests of this module and its neighbours.
    pub(crate) const SAMPLE: &str = "\
use std::io;

/// Doc.
pub fn accept(listener: &Socket) -> io::Result<(Socket, SocketAddr)> {
    // EXERCISE 4.1
    let (connection, peer) = listener.accept()?;
    Ok((connection, peer))
    // END EXERCISE 4.1
}

fn other() -> u8 {
    7
}
";

    #[test]
    fn finds_a_region_with_its_lines_and_body() {
        let found = find("src/step4_accept.rs", SAMPLE).unwrap();
        assert_eq!(found.len(), 1);
        let region = &found[0];
        assert_eq!(region.id, "4.1");
        assert_eq!((region.start_line, region.end_line), (5, 8));
        assert_eq!(region.indent, "    ");
        assert_eq!(
            region.body,
            "    let (connection, peer) = listener.accept()?;\n    Ok((connection, peer))\n"
        );
        assert!(region.contains_line(6) && !region.contains_line(9));
    }

    #[test]
    fn fill_replaces_the_body_and_keeps_the_markers() {
        let todo = fill("a.rs", SAMPLE, |_| Some("    todo!()\n".into())).unwrap();
        assert!(todo.contains(
            "    // EXERCISE 4.1\n    todo!()\n    // END EXERCISE 4.1\n}\n\nfn other()"
        ));
        assert!(!todo.contains("listener.accept()"));
        assert_eq!(find("a.rs", &todo).unwrap()[0].body, "    todo!()\n");
        assert_eq!(fill("a.rs", SAMPLE, |_| None).unwrap(), SAMPLE);
        let trimmed = SAMPLE.trim_end();
        assert_eq!(fill("a.rs", trimmed, |_| None).unwrap(), trimmed);
    }

    #[test]
    fn fill_chooses_per_region() {
        let two = format!(
            "{SAMPLE}\n{}",
            SAMPLE
                .replace("4.1", "4.2")
                .replace("fn accept", "fn accept2")
        );
        let only_second = fill("a.rs", &two, |r| {
            (r.id == "4.2").then(|| "    todo!()\n".to_string())
        })
        .unwrap();
        let regions = find("a.rs", &only_second).unwrap();
        assert_eq!(regions[0].body, find("a.rs", SAMPLE).unwrap()[0].body);
        assert_eq!(regions[1].body, "    todo!()\n");
    }

    #[test]
    fn same_code_ignores_indentation_and_blank_lines() {
        assert!(same_code("    todo!()\n", "todo!()"));
        assert!(same_code("a\n\n  b\n", "a\nb\n"));
        assert!(!same_code("todo!()", "Ok(())"));
    }

    #[test]
    fn malformed_regions_are_errors_with_a_line_number() {
        let no_end = SAMPLE.replace("    // END EXERCISE 4.1\n", "");
        let error = find("f.rs", &no_end).unwrap_err();
        assert_eq!(error.line, 5);
        assert!(error.to_string().contains("no `// END EXERCISE 4.1` line"));

        let with_text = SAMPLE.replace("EXERCISE 4.1\n", "EXERCISE 4.1: accept\n");
        assert!(find("f.rs", &with_text)
            .unwrap_err()
            .message
            .contains("nothing else"));

        let not_tail = SAMPLE.replace(
            "    // END EXERCISE 4.1\n}",
            "    // END EXERCISE 4.1\n    ;\n}",
        );
        assert!(find("f.rs", &not_tail)
            .unwrap_err()
            .message
            .contains("tail of a function body"));

        let stray_end = "fn f() {\n    // END EXERCISE 1.1\n}\n";
        assert!(find("f.rs", stray_end)
            .unwrap_err()
            .message
            .contains("without a matching"));

        let twice = format!("{SAMPLE}{SAMPLE}");
        assert!(find("f.rs", &twice)
            .unwrap_err()
            .message
            .contains("appears twice"));
    }
}
