//! Reading `cargo test` output: which tests passed ([`test_outcomes`]), what the failures said
//! ([`failure_messages`]), and from both an exercise's [`Status`] (passed, not started, waiting
//! for an earlier exercise...). Text in, text out: `check` and `verify` run cargo.

use crate::course::is_id;

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

/// A failed test: its name, where it panicked (`tests/step4_accept.rs:31`) and what it said.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Failure {
    /// The test's name.
    pub name: String,
    /// `FILE:LINE` of the panic, if the output said.
    pub place: Option<String>,
    /// The panic's message (with a diff, if the assertion made one).
    pub message: String,
}

/// The panic messages in `cargo test` output: for each `---- NAME stdout ----` section, the
/// lines after `panicked at FILE:LINE:COLUMN:`, and that place.
pub fn failure_messages(stdout: &str) -> Vec<Failure> {
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
        let mut place = None;
        while let Some(next) = lines.peek() {
            if next.starts_with("---- ") || next.trim() == "failures:" {
                break;
            }
            let next = lines.next().unwrap_or_default();
            if let Some((_, at)) = next.split_once("panicked at ") {
                // `tests/step4_accept.rs:31:5:` -> `tests/step4_accept.rs:31`
                let at = at.trim_end_matches(':');
                place = Some(
                    at.rsplit_once(':')
                        .map_or(at, |(file_line, _)| file_line)
                        .to_string(),
                );
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
        messages.push(Failure {
            name: name.to_string(),
            place,
            message: text.trim().to_string(),
        });
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

/// The exercise whose `todo!` a failure stopped at: `not yet implemented: 2.1: bind ...`.
pub fn todo_of(message: &str) -> Option<&str> {
    message
        .match_indices("not yet implemented: ")
        .find_map(|(at, prefix)| {
            let (id, _) = message[at + prefix.len()..].split_once(": ")?;
            is_id(id).then_some(id)
        })
}

/// If a failure is a `todo!` of another exercise (e.g. 4.1's tests fail because 2.1 is not
/// done), that exercise's id.
pub fn blocked_by<'a>(own_id: &str, message: &'a str) -> Option<&'a str> {
    todo_of(message).filter(|id| *id != own_id)
}

/// The tests of one exercise, as one `cargo test` run reported them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestResults {
    /// The names of the tests that passed.
    pub passed: Vec<String>,
    /// The tests that failed, with what their panic said.
    pub failed: Vec<Failure>,
}

impl TestResults {
    /// Reads the results out of `cargo test`'s standard output.
    pub fn read(stdout: &str) -> TestResults {
        let outcomes = test_outcomes(stdout);
        let messages = failure_messages(stdout);
        let passed = outcomes
            .iter()
            .filter(|o| o.passed)
            .map(|o| o.name.clone())
            .collect();
        let failed = outcomes
            .iter()
            .filter(|o| !o.passed)
            .map(|o| {
                messages
                    .iter()
                    .find(|f| f.name == o.name)
                    .cloned()
                    .unwrap_or_else(|| Failure {
                        name: o.name.clone(),
                        ..Failure::default()
                    })
            })
            .collect();
        TestResults { passed, failed }
    }

    /// How many tests ran.
    pub fn total(&self) -> usize {
        self.passed.len() + self.failed.len()
    }

    /// The status of exercise `id` whose tests gave these results; `succeeded` is cargo's exit
    /// status, `timed_out` says we stopped the tests at their deadline.
    pub fn status(&self, id: &str, succeeded: bool, timed_out: bool) -> Status {
        if timed_out {
            Status::TimedOut
        } else if self.total() == 0 {
            if succeeded {
                Status::NoTests
            } else {
                Status::Error
            }
        } else if self.failed.is_empty() {
            if succeeded {
                Status::Passed
            } else {
                Status::Error
            }
        } else if let Some(other) = self.failed.iter().find_map(|f| blocked_by(id, &f.message)) {
            Status::WaitsFor(other.to_string())
        } else if self.failed.iter().all(|f| todo_of(&f.message) == Some(id)) {
            Status::NotStarted
        } else {
            Status::Failing
        }
    }
}

/// How one exercise's tests went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Every one of its tests passes.
    Passed,
    /// Its own `todo!` is still there.
    NotStarted,
    /// Its tests stop at an earlier exercise's `todo!`.
    WaitsFor(String),
    /// Written, but a test fails.
    Failing,
    /// No test is named after it.
    NoTests,
    /// The test binary did not run (it crashed, or cargo failed).
    Error,
    /// Its code does not compile.
    DoesNotCompile,
    /// The tests ran past their deadline and were stopped.
    TimedOut,
}

impl Status {
    /// The word for the status column of `check`'s table.
    pub fn label(&self) -> String {
        match self {
            Status::Passed => "passed".to_string(),
            Status::NotStarted => "not started".to_string(),
            Status::WaitsFor(id) => format!("waits for {id}"),
            Status::Failing => "FAILING".to_string(),
            Status::NoTests => "no tests?!".to_string(),
            Status::Error => "ERROR".to_string(),
            Status::DoesNotCompile => "does not compile".to_string(),
            Status::TimedOut => "TIMED OUT".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTPUT: &str = "\nrunning 2 tests\ntest ex4_1_a ... ok\ntest ex4_1_b ... FAILED\n\nfailures:\n\n---- ex4_1_b stdout ----\n\nthread 'ex4_1_b' panicked at tests/step4_accept.rs:10:5:\nnot yet implemented: 2.1: bind — see chapter 2\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n\n\nfailures:\n    ex4_1_b\n\ntest result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out\n";

    #[test]
    fn reads_cargo_test_output() {
        let output = OUTPUT;
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
            vec![Failure {
                name: "ex4_1_b".to_string(),
                place: Some("tests/step4_accept.rs:10".to_string()),
                message: "not yet implemented: 2.1: bind — see chapter 2".to_string()
            }]
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
    fn a_todo_of_another_exercise_blocks() {
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
    fn the_status_follows_from_the_results() {
        let results = TestResults::read(OUTPUT);
        assert_eq!(results.passed, ["ex4_1_a"]);
        assert_eq!(results.total(), 2);
        assert_eq!(
            results.status("4.1", false, false),
            Status::WaitsFor("2.1".into())
        );
        assert_eq!(results.status("2.1", false, false), Status::NotStarted);
        assert_eq!(results.status("2.1", false, true), Status::TimedOut);
        let other = OUTPUT.replace("not yet implemented: 2.1: bind — see chapter 2", "oops");
        assert_eq!(
            TestResults::read(&other).status("4.1", false, false),
            Status::Failing
        );
        let none = TestResults::default();
        assert_eq!(none.status("4.1", true, false), Status::NoTests);
        assert_eq!(none.status("4.1", false, false), Status::Error);
        let passing = TestResults {
            passed: vec!["ex4_1_a".into()],
            failed: vec![],
        };
        assert_eq!(passing.status("4.1", true, false), Status::Passed);
        assert_eq!(passing.status("4.1", false, false), Status::Error);
        assert_eq!(Status::WaitsFor("1.1".into()).label(), "waits for 1.1");
    }
}
