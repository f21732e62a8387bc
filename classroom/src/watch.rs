//! `cargo classroom watch`: grades the current exercise, then again each time a file of the copy
//! is saved; on a pass, moves on to the next exercise and shows it. Keys: `h` the hint, `l` the
//! list, `n` the next exercise, `q` (or Ctrl-C) quit.
//!
//! Keys are read in a raw-mode terminal (crossterm), so that one key acts without Enter. When
//! standard input is not a terminal (a script, a test), we read one key per line instead.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use anyhow::Context;
use notify::Watcher;

use crate::check::{self, about, Report};
use crate::course::Course;
use crate::grade::{self, Work};
use crate::lookup::hint_text;
use crate::outcomes::Status;
use crate::process;
use crate::terminal::{bar, shorten, LiveLine};

/// What the session reacts to.
enum Input {
    /// A file of the copy changed, at this moment.
    Saved(Instant),
    /// A key.
    Key(char),
    /// Ctrl-C in raw mode, where it is a key and not a signal.
    Quit,
}

/// Raw mode is on: the Ctrl-C handler and [`RawMode`]'s drop turn it off again.
static RAW: AtomicBool = AtomicBool::new(false);

/// Leaves the terminal as we found it, if watch put it in raw mode.
pub fn restore_terminal() -> std::io::Result<()> {
    if RAW.swap(false, Ordering::SeqCst) {
        crossterm::terminal::disable_raw_mode()?;
    }
    Ok(())
}

/// Raw mode while it lives.
struct RawMode;

impl RawMode {
    fn enable() -> anyhow::Result<RawMode> {
        crossterm::terminal::enable_raw_mode().context("could not read single keys")?;
        RAW.store(true, Ordering::SeqCst);
        Ok(RawMode)
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = restore_terminal();
    }
}

/// `cargo classroom watch`.
pub fn watch() -> anyhow::Result<()> {
    let course = Course::find()?;
    let (sender, inputs) = mpsc::channel();
    let _watcher = watch_files(&course.root, sender.clone())?;
    let raw = if std::io::stdin().is_terminal() {
        Some(RawMode::enable()?)
    } else {
        None
    };
    read_keys(raw.is_some(), sender);
    let mut session = Session {
        course: &course,
        screen: Screen {
            raw: raw.is_some(),
            clear: std::io::stdout().is_terminal(),
        },
        statuses: vec![None; course.exercises().len()],
        current: 0,
    };
    let result = session.run(&inputs);
    drop(raw);
    match result {
        Err(_) if process::stopping() => Ok(()),
        other => other,
    }
}

/// Sends [`Input::Saved`] for each change to a source file of the copy (not `target/`).
fn watch_files(root: &Path, sender: Sender<Input>) -> anyhow::Result<notify::RecommendedWatcher> {
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        let changes = matches!(
            event.kind,
            notify::EventKind::Create(_)
                | notify::EventKind::Modify(_)
                | notify::EventKind::Remove(_)
        );
        if changes && event.paths.iter().any(|p| is_source(p)) {
            let _ = sender.send(Input::Saved(Instant::now()));
        }
    })
    .context("could not watch the files of the copy")?;
    for folder in ["src", "steps", "tests"] {
        let path = root.join(folder);
        if path.is_dir() {
            watcher
                .watch(&path, notify::RecursiveMode::Recursive)
                .with_context(|| format!("could not watch {}", path.display()))?;
        }
    }
    Ok(watcher)
}

/// A file whose change may change a verdict: Rust sources and the Python clients of the tests
/// (not an editor's swap or backup file).
fn is_source(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let hidden = name.is_some_and(|n| n.starts_with('.') || n.ends_with('~'));
    !hidden && path.extension().is_some_and(|e| e == "rs" || e == "py")
}

/// Sends each key: from the raw terminal, or one per line from a pipe. `q` and Ctrl-C also stop
/// what is running at once (a check may take a while), through [`process::stop_everything`].
fn read_keys(raw: bool, sender: Sender<Input>) {
    std::thread::spawn(move || {
        let quit = |sender: &Sender<Input>, input: Input| {
            process::stop_everything();
            let _ = sender.send(input);
        };
        if raw {
            use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
            while let Ok(event) = event::read() {
                let Event::Key(key) = event else { continue };
                if key.kind != KeyEventKind::Press {
                    continue;
                }
                match key.code {
                    KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                        return quit(&sender, Input::Quit)
                    }
                    KeyCode::Char('q') | KeyCode::Esc => return quit(&sender, Input::Key('q')),
                    KeyCode::Char(c) => {
                        let _ = sender.send(Input::Key(c));
                    }
                    _ => {}
                }
            }
        } else {
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { break };
                for c in line.trim().chars() {
                    if c == 'q' {
                        return quit(&sender, Input::Key('q'));
                    }
                    let _ = sender.send(Input::Key(c));
                }
            }
            // End of input: keep watching (`watch < /dev/null` grades until Ctrl-C).
        }
    });
}

/// Where the session writes: stdout, with `\r\n` line ends in raw mode.
struct Screen {
    raw: bool,
    clear: bool,
}

impl Screen {
    fn say(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        let text = if self.raw {
            text.replace('\n', "\r\n")
        } else {
            text.to_string()
        };
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    fn clear(&self) {
        if self.clear {
            self.say("\x1b[2J\x1b[H");
        }
    }
}

const KEYS: &str = "keys: h hint · l list · n next exercise · q quit";

struct Session<'a> {
    course: &'a Course,
    screen: Screen,
    /// What we know of each exercise.
    statuses: Vec<Option<Status>>,
    /// The exercise on screen.
    current: usize,
}

impl Session<'_> {
    fn run(&mut self, inputs: &Receiver<Input>) -> anyhow::Result<()> {
        self.screen.clear();
        self.screen
            .say("cargo classroom watch: grading your copy to find where you are...\n");
        let report = check::grade(self.course, None, &LiveLine::new())?;
        for (status, verdict) in self.statuses.iter_mut().zip(&report.verdicts) {
            *status = verdict.as_ref().map(|v| v.status.clone());
        }
        self.current = report.next().unwrap_or(0);
        self.show(&report, "", None);
        let mut queued = Vec::new();
        loop {
            let input = match queued.pop() {
                Some(input) => input,
                None => match inputs.recv() {
                    Ok(input) => input,
                    Err(_) => return Ok(()),
                },
            };
            match input {
                Input::Saved(at) => {
                    // An editor saves in several steps: wait until the files are quiet.
                    loop {
                        match inputs.recv_timeout(Duration::from_millis(150)) {
                            Ok(Input::Saved(_)) => continue,
                            Ok(other) => queued.insert(0, other),
                            Err(RecvTimeoutError::Timeout) => break,
                            Err(RecvTimeoutError::Disconnected) => return Ok(()),
                        }
                    }
                    self.regrade(at)?;
                }
                Input::Key('h') => {
                    let exercise = &self.course.exercises()[self.current];
                    self.screen
                        .say(&format!("\n{}\n{KEYS}\n", hint_text(exercise)));
                }
                Input::Key('l') => self.list(),
                Input::Key('n') => {
                    self.current = (self.current + 1) % self.statuses.len();
                    let report = self.grade()?;
                    self.show(&report, "", None);
                }
                Input::Key('q') | Input::Quit => {
                    self.screen
                        .say("\nbye: `cargo classroom watch` takes you back here.\n");
                    return Ok(());
                }
                Input::Key(_) => self.screen.say(&format!("{KEYS}\n")),
            }
        }
    }

    /// A file changed: grade the current exercise again; on a pass, go on to the next one that
    /// does not pass, and show it.
    fn regrade(&mut self, saved: Instant) -> anyhow::Result<()> {
        let mut report = self.grade()?;
        // The library compiles as a whole, so a save can break another exercise than the one on
        // screen (a type error in 2.1 while 3.1 is shown): the first broken one comes first.
        let broken = self
            .course
            .exercises()
            .iter()
            .position(|e| report.build.broken.contains_key(&e.id));
        if let Some(broken) = broken.filter(|&b| b != self.current) {
            self.current = broken;
            report = self.grade()?;
        }
        if self.statuses[self.current] != Some(Status::Passed) {
            self.show(&report, "", Some(saved));
            return Ok(());
        }
        let done = &self.course.exercises()[self.current];
        let note = format!(
            "✓ {} passes (verdict {:.1} s after your save): {}\n\n",
            done.id,
            saved.elapsed().as_secs_f64(),
            done.title
        );
        let n = self.statuses.len();
        let Some(next) = (1..n)
            .map(|step| (self.current + step) % n)
            .find(|&i| self.statuses[i] != Some(Status::Passed))
        else {
            self.screen.clear();
            self.screen.say(&format!(
                "{note}Every exercise passes: well done! `cargo test` runs the whole course's \
                 tests.\n{KEYS}\n"
            ));
            return Ok(());
        };
        self.current = next;
        let report = self.grade()?;
        self.show(&report, &format!("{note}Next up:\n"), None);
        Ok(())
    }

    /// Grades the current exercise and remembers its status.
    fn grade(&mut self) -> anyhow::Result<Report> {
        let id = self.course.exercises()[self.current].id.clone();
        let report = check::grade(self.course, Some(&id), &LiveLine::new())?;
        self.statuses[self.current] = report.verdicts[self.current]
            .as_ref()
            .map(|v| v.status.clone());
        Ok(report)
    }

    fn show(&self, report: &Report, note: &str, saved: Option<Instant>) {
        let exercises = self.course.exercises();
        let passed = self
            .statuses
            .iter()
            .filter(|s| **s == Some(Status::Passed))
            .count();
        self.screen.clear();
        let mut text = format!(
            "{note}cargo classroom watch · {} {passed} of {} exercises pass\n\n",
            bar(passed, exercises.len())
                .split(' ')
                .next()
                .unwrap_or_default(),
            exercises.len()
        );
        if report.build.outside.is_some() {
            text.push_str(&check::next_steps(self.course, report, false));
        } else if let Some(verdict) = &report.verdicts[self.current] {
            let exercise = &exercises[self.current];
            text.push_str(&about(
                exercise,
                verdict,
                report.build.broken.get(&exercise.id),
                false,
            ));
        }
        if let Some(saved) = saved {
            text.push_str(&format!(
                "\n(verdict {:.1} s after your save)\n",
                saved.elapsed().as_secs_f64()
            ));
        }
        text.push_str(&format!("\nSave a file to grade it again. {KEYS}\n"));
        self.screen.say(&text);
    }

    /// Every exercise with what we know of it.
    fn list(&self) {
        let work = grade::work(self.course, &self.course.root);
        let mut text = String::from("\n");
        // As `check` says it: untouched exercises after the first that does not pass wait for it.
        let mut first_pending: Option<&str> = None;
        for (index, exercise) in self.course.exercises().iter().enumerate() {
            let state = match (&work[index], &self.statuses[index], first_pending) {
                (Work::Untouched, _, Some(first)) => format!("waits for {first}"),
                (Work::Untouched, _, None) => "not started".to_string(),
                (_, Some(status), _) => status.label(),
                (_, None, _) => "written, not graded yet".to_string(),
            };
            if state != "passed" && first_pending.is_none() {
                first_pending = Some(&exercise.id);
            }
            let mark = if index == self.current { ">" } else { " " };
            text.push_str(&format!(
                "{mark} {:<6} {:<8} {:<52} {state}\n",
                exercise.id,
                exercise.kind.label(),
                shorten(&exercise.title, 52)
            ));
        }
        text.push_str(&format!("{KEYS}\n"));
        self.screen.say(&text);
    }
}
