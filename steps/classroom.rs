//! `classroom`: hand this crate to a class.
//!
//! ```text
//! cargo run --bin classroom -- new DIR        # a student copy: every exercise becomes a todo!()
//! cargo run --bin classroom -- check          # in a student copy: which exercises pass, what next
//! cargo run --bin classroom -- hint 4.1       # the hint of exercise 4.1
//! cargo run --bin classroom -- solution 4.1   # the reference solution (teachers, reference crate)
//! cargo run --bin classroom -- verify         # CI: every exercise's tests fail unsolved, pass solved
//! cargo run --bin classroom -- book           # rewrite book/src/exercises/*.md from the regions
//! ```
//!
//! The exercises live in `src/` as regions (`// EXERCISE 4.1: ...` to `// END EXERCISE 4.1`); the
//! parsing and rewriting is `socket_steps::classroom`. This binary reads the reference sources at
//! build time (`include_str!`), so it always knows the solutions of the crate it was built from. A
//! student copy has a `.classroom.toml` at its root: its own `classroom` binary then knows it holds
//! no solutions, and reads the tasks and hints from that file.

use std::collections::BTreeSet;
use std::fs;
use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use socket_steps::classroom::{self, Entry, Exercise, Fill, EXERCISE_FILES, MARKER_FILE};
use socket_steps::cli;

/// The root of the crate this binary was built from: the reference crate, or a student copy.
const CRATE_ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The exercise files as they were when this binary was built, in chapter order.
const SOURCES: [(&str, &str); 7] = [
    (
        "src/step1_create.rs",
        include_str!("../src/step1_create.rs"),
    ),
    ("src/step2_bind.rs", include_str!("../src/step2_bind.rs")),
    (
        "src/step3_listen.rs",
        include_str!("../src/step3_listen.rs"),
    ),
    (
        "src/step4_accept.rs",
        include_str!("../src/step4_accept.rs"),
    ),
    (
        "src/step5_process.rs",
        include_str!("../src/step5_process.rs"),
    ),
    ("src/step6_close.rs", include_str!("../src/step6_close.rs")),
    ("src/client.rs", include_str!("../src/client.rs")),
];

const USAGE: &str = "\
usage: cargo run --bin classroom -- COMMAND

  new DIR        write a student copy of this crate to DIR (a new or empty folder): every
                 exercise becomes a todo!() for the student to write
  check          inside a student copy: run each exercise's tests, show progress and what next
  hint ID        show the hint of exercise ID (e.g. 4.1)
  solution ID    show the reference solution of exercise ID (teachers, in the reference crate)
  verify         for CI, in the reference crate: prove that every exercise's tests fail while it
                 is unsolved and pass once it is solved
  book           rewrite book/src/exercises/*.md from the exercises in src/";

fn main() {
    cli::run_main(|| {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        match args.as_slice() {
            ["new", dir] => new(Path::new(dir)),
            ["check"] => check(),
            ["hint", id] => hint(id),
            ["solution", id] => solution(id),
            ["verify"] => verify(),
            ["book"] => book(),
            ["-h" | "--help" | "help"] => {
                println!("{USAGE}");
                Ok(())
            }
            [] => bail!("which command?\n{USAGE}"),
            [command, ..] => bail!(
                "`{}` is not a classroom command (or has the wrong arguments)\n{USAGE}",
                command
            ),
        }
    });
}

// ---- Where we are ---------------------------------------------------------------------------

/// This binary was built from a student copy (its crate has a `.classroom.toml`).
fn built_from_student_copy() -> bool {
    Path::new(CRATE_ROOT).join(MARKER_FILE).exists()
}

/// The exercises of the reference crate, with solutions.
fn reference_exercises() -> anyhow::Result<Vec<Exercise>> {
    if built_from_student_copy() {
        bail!(
            "this is a student copy ({}): solutions are for teachers: run this in the reference crate",
            CRATE_ROOT
        );
    }
    let mut all = Vec::new();
    for ((file, source), expected) in SOURCES.iter().zip(EXERCISE_FILES) {
        assert_eq!(file, expected, "SOURCES and EXERCISE_FILES disagree");
        all.extend(
            classroom::parse(file, source).context("an exercise region in src/ is malformed")?,
        );
    }
    Ok(all)
}

/// The exercises without solutions: from the reference sources, or from a student copy's
/// catalogue.
fn entries() -> anyhow::Result<Vec<Entry>> {
    if built_from_student_copy() {
        read_catalogue(Path::new(CRATE_ROOT))
    } else {
        Ok(reference_exercises()?.iter().map(Exercise::entry).collect())
    }
}

fn read_catalogue(root: &Path) -> anyhow::Result<Vec<Entry>> {
    let path = root.join(MARKER_FILE);
    let text =
        fs::read_to_string(&path).with_context(|| format!("could not read {}", path.display()))?;
    classroom::parse_catalogue(&text)
        .map_err(|e| anyhow::anyhow!("{} is damaged: {e}", path.display()))
}

fn find<'a, T>(items: &'a [T], id: &str, id_of: impl Fn(&T) -> &str) -> anyhow::Result<&'a T> {
    items.iter().find(|item| id_of(item) == id).ok_or_else(|| {
        let ids: Vec<&str> = items.iter().map(&id_of).collect();
        anyhow::anyhow!(
            "there is no exercise `{id}`: the exercises are {}",
            ids.join(", ")
        )
    })
}

// ---- hint, solution, book -------------------------------------------------------------------

fn hint(id: &str) -> anyhow::Result<()> {
    let entries = entries()?;
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

fn solution(id: &str) -> anyhow::Result<()> {
    let exercises = reference_exercises()?;
    let exercise = find(&exercises, id, |e| &e.id)?;
    println!("// Exercise {}: {}", exercise.id, exercise.task);
    println!(
        "// the end of `{}` in {}:",
        exercise.function, exercise.file
    );
    print!("{}", exercise.solution);
    Ok(())
}

fn book() -> anyhow::Result<()> {
    let exercises = reference_exercises()?;
    let dir = Path::new(CRATE_ROOT).join("book/src/exercises");
    fs::create_dir_all(&dir).with_context(|| format!("could not create {}", dir.display()))?;
    for (name, page) in classroom::book_pages(&exercises) {
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

// ---- new --------------------------------------------------------------------------------------

/// Top-level folders a student copy gets (`target/`, `.git/`, `.ci/` stay behind).
const COPIED_DIRS: &[&str] = &["src", "steps", "tests", "book", "examples", "benches"];

/// Files that stay behind: the classroom's own tests (they test the teacher's side) and the
/// built book.
const SKIPPED: &[&str] = &["tests/classroom.rs", "book/book"];

const STUDENT_README: &str = "\
> **This is a student copy.** The exercises 1.1 to 7.1 are `todo!()`s in `src/`: write them one
> by one, in order. `cargo run --bin classroom -- check` shows which ones pass and what to do
> next; `cargo run --bin classroom -- hint 1.1` gives a hint. Each chapter of the book (`book/`)
> ends with its exercises.

";

fn new(dir: &Path) -> anyhow::Result<()> {
    let exercises = reference_exercises()
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
    let root = Path::new(CRATE_ROOT);
    let files = files_to_copy(root)?;
    if let (Ok(dir), Ok(root)) = (dir.canonicalize(), root.canonicalize()) {
        if COPIED_DIRS.iter().any(|d| dir.starts_with(root.join(d))) {
            bail!(
                "`{}` is inside the crate's own sources: put the student copy somewhere else",
                dir.display()
            );
        }
    }
    write_copy(root, dir, &files, &exercises, |_| Fill::Todo)?;
    let ids: Vec<&str> = exercises.iter().map(|e| e.id.as_str()).collect();
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

/// The files of the reference crate that go into a student copy, relative to `root`.
fn files_to_copy(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
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

/// Writes a copy of the crate to `dir`: `files` from `root`, the exercise files rendered with
/// `choose`, a student README and the marker file.
fn write_copy(
    root: &Path,
    dir: &Path,
    files: &[PathBuf],
    exercises: &[Exercise],
    choose: impl Fn(&str) -> Fill + Copy,
) -> anyhow::Result<()> {
    for rel in files {
        let to = dir.join(rel);
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent)
                .with_context(|| format!("could not create {}", parent.display()))?;
        }
        let from = root.join(rel);
        let slash = rel.to_string_lossy().replace('\\', "/");
        if let Some((_, source)) = SOURCES.iter().find(|(file, _)| *file == slash) {
            fs::write(&to, classroom::render(&slash, source, choose)?)
        } else if slash == "README.md" {
            let readme = fs::read_to_string(&from)
                .with_context(|| format!("could not read {}", from.display()))?;
            fs::write(&to, format!("{STUDENT_README}{readme}"))
        } else {
            fs::copy(&from, &to).map(|_| ())
        }
        .with_context(|| format!("could not write {}", to.display()))?;
    }
    let entries: Vec<Entry> = exercises.iter().map(Exercise::entry).collect();
    let marker = dir.join(MARKER_FILE);
    fs::write(&marker, classroom::catalogue(&entries))
        .with_context(|| format!("could not write {}", marker.display()))?;
    Ok(())
}

/// Rewrites only the exercise files of a copy, and only those that change (so cargo rebuilds as
/// little as it can).
fn rewrite_sources(dir: &Path, choose: impl Fn(&str) -> Fill + Copy) -> anyhow::Result<()> {
    for (file, source) in SOURCES {
        let path = dir.join(file);
        let text = classroom::render(file, source, choose)?;
        if fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            fs::write(&path, text)
                .with_context(|| format!("could not write {}", path.display()))?;
        }
    }
    Ok(())
}

// ---- Running cargo ----------------------------------------------------------------------------

struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
    /// We stopped it at its deadline.
    timed_out: bool,
}

/// How long one exercise's tests may run in `check` and `verify`. The tests bound every wait,
/// but a student's loop that never ends (a `recv` loop that misses the empty `recv`) would
/// otherwise hang `check` for ever.
const TEST_DEADLINE: Duration = Duration::from_secs(120);

/// Runs `cargo ARGS` in `dir`, calling `progress` with each line cargo prints on stderr, and
/// stops it (with the test programs it started) after `deadline`.
fn cargo(
    dir: &Path,
    args: &[&str],
    target_dir: Option<&Path>,
    deadline: Option<Duration>,
    mut progress: impl FnMut(&str),
) -> anyhow::Result<Run> {
    let program = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut command = Command::new(&program);
    command
        .args(args)
        .current_dir(dir)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(target_dir) = target_dir {
        command.env("CARGO_TARGET_DIR", target_dir);
    }
    // Its own process group, so that at the deadline we stop the test program too, not only cargo.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command
        .spawn()
        .with_context(|| format!("could not run `{program}`"))?;
    let mut stdout_pipe = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout_pipe.read_to_string(&mut text);
        text
    });
    let stderr_pipe = child.stderr.take().expect("piped");
    let (lines, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr_pipe).lines() {
            if lines.send(line.unwrap_or_default()).is_err() {
                break;
            }
        }
    });
    let started = Instant::now();
    let mut stderr = String::new();
    let mut timed_out = false;
    loop {
        let left = deadline.map_or(Duration::from_secs(3600), |d| {
            d.saturating_sub(started.elapsed())
        });
        match received.recv_timeout(left) {
            Ok(line) => {
                progress(&line);
                stderr.push_str(&line);
                stderr.push('\n');
            }
            Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {
                if deadline.is_some_and(|d| started.elapsed() >= d) {
                    timed_out = true;
                    stop(&mut child);
                    break;
                }
            }
        }
    }
    let status = child.wait()?;
    let stdout = reader.join().unwrap_or_default();
    Ok(Run {
        status,
        stdout,
        stderr,
        timed_out,
    })
}

/// Kills `child` and, on Unix, every process in its group (the test program cargo started).
fn stop(child: &mut std::process::Child) {
    #[cfg(unix)]
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .stderr(Stdio::null())
        .status();
    let _ = child.kill();
}

/// The test targets that grade `entries`, once each, in order.
fn test_targets(entries: &[Entry]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    entries
        .iter()
        .map(Entry::test_target)
        .filter(|t| seen.insert(t.clone()))
        .collect()
}

/// `cargo test --no-run` for the graded test files: builds the crate, its binaries and tests.
fn build_tests(
    dir: &Path,
    entries: &[Entry],
    target_dir: Option<&Path>,
    progress: impl FnMut(&str),
) -> anyhow::Result<Run> {
    let targets = test_targets(entries);
    let mut args = vec!["test", "--no-run"];
    for target in &targets {
        args.push("--test");
        args.push(target);
    }
    cargo(dir, &args, target_dir, None, progress)
}

/// How one exercise's tests went.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Status {
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
    /// The tests ran past [`TEST_DEADLINE`] and were stopped.
    TimedOut,
}

impl Status {
    fn label(&self) -> String {
        match self {
            Status::Passed => "passed".to_string(),
            Status::NotStarted => "not started".to_string(),
            Status::WaitsFor(id) => format!("waits for {id}"),
            Status::Failing => "FAILING".to_string(),
            Status::NoTests => "no tests?!".to_string(),
            Status::Error => "ERROR".to_string(),
            Status::TimedOut => "TIMED OUT".to_string(),
        }
    }
}

struct Graded {
    status: Status,
    passed: Vec<String>,
    failed: Vec<(String, String)>,
    run: Run,
}

fn grade(dir: &Path, entry: &Entry, target_dir: Option<&Path>) -> anyhow::Result<Graded> {
    let target = entry.test_target();
    let filter = entry.test_filter();
    let run = cargo(
        dir,
        &["test", "--test", &target, &filter],
        target_dir,
        Some(TEST_DEADLINE),
        |_| {},
    )?;
    let outcomes = classroom::test_outcomes(&run.stdout);
    let messages = classroom::failure_messages(&run.stdout);
    let passed: Vec<String> = outcomes
        .iter()
        .filter(|o| o.passed)
        .map(|o| o.name.clone())
        .collect();
    let failed: Vec<(String, String)> = outcomes
        .iter()
        .filter(|o| !o.passed)
        .map(|o| {
            let message = messages
                .iter()
                .find(|(n, _)| *n == o.name)
                .map(|(_, m)| m.clone())
                .unwrap_or_default();
            (o.name.clone(), message)
        })
        .collect();
    let status = if run.timed_out {
        Status::TimedOut
    } else if outcomes.is_empty() {
        if run.status.success() {
            Status::NoTests
        } else {
            Status::Error
        }
    } else if failed.is_empty() {
        if run.status.success() {
            Status::Passed
        } else {
            Status::Error
        }
    } else if let Some(other) = failed
        .iter()
        .find_map(|(_, m)| classroom::blocked_by(&entry.id, m))
    {
        Status::WaitsFor(other.to_string())
    } else if failed
        .iter()
        .all(|(_, m)| m.contains(&format!("not yet implemented: {}:", entry.id)))
    {
        Status::NotStarted
    } else {
        Status::Failing
    };
    Ok(Graded {
        status,
        passed,
        failed,
        run,
    })
}

// ---- The live line ----------------------------------------------------------------------------

/// One line on the terminal that we keep rewriting (`\r` + "erase line"); nothing when stderr is
/// not a terminal (CI logs, pipes), so logs hold only the final table.
struct LiveLine {
    on: bool,
    width: usize,
}

impl LiveLine {
    fn new() -> LiveLine {
        let width = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(80);
        LiveLine {
            on: std::io::stderr().is_terminal(),
            width: width.max(20) - 1,
        }
    }

    fn show(&self, text: &str) {
        if self.on {
            let text: String = text.chars().take(self.width).collect();
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[2K{text}");
            let _ = stderr.flush();
        }
    }

    fn clear(&self) {
        if self.on {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    }
}

fn bar(done: usize, total: usize) -> String {
    let width = 16;
    let filled = (done * width).checked_div(total).unwrap_or(width);
    format!(
        "[{}{}] {done}/{total}",
        "#".repeat(filled),
        "-".repeat(width - filled)
    )
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}

/// Breaks `text` into lines of at most `width` characters (at spaces), indenting the later ones.
fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let line = lines.last_mut().expect("one line");
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(word.to_string());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines.join(&format!("\n{indent}"))
}

// ---- check ------------------------------------------------------------------------------------

/// The student copy that the current folder is in: the nearest folder up with a `Cargo.toml`
/// must also have the marker file.
fn student_root() -> anyhow::Result<PathBuf> {
    let cwd = std::env::current_dir().context("could not read the current folder")?;
    let root = cwd.ancestors().find(|dir| dir.join("Cargo.toml").is_file());
    match root {
        Some(root) if root.join(MARKER_FILE).is_file() => Ok(root.to_path_buf()),
        Some(root) => bail!(
            "`check` runs inside a student copy, and {} is not one (it has no {MARKER_FILE}).\n\
             Make one with `cargo run --bin classroom -- new DIR`, then run `check` inside DIR.\n\
             (To test the reference crate's exercises, run `cargo run --bin classroom -- verify`.)",
            root.display()
        ),
        None => bail!(
            "`check` runs inside a student copy, and {} is not in a Rust crate at all: `cd` into your copy first",
            cwd.display()
        ),
    }
}

fn check() -> anyhow::Result<()> {
    let root = student_root()?;
    let entries = read_catalogue(&root)?;
    let started = Instant::now();
    let live = LiveLine::new();
    live.show("building your copy and its tests (the first build takes longest)...");
    let build = build_tests(&root, &entries, None, |line| {
        let line = line.trim();
        if line.starts_with("Compiling") || line.starts_with("Building") {
            live.show(&format!("building: {line}"));
        }
    })?;
    live.clear();
    if !build.status.success() {
        let shown: Vec<&str> = build
            .stderr
            .lines()
            .filter(|l| {
                !l.trim_start().starts_with("Compiling") && !l.trim_start().starts_with("Blocking")
            })
            .collect();
        eprintln!("{}", shown.join("\n"));
        eprintln!();
        eprintln!("Your copy does not compile yet: fix the first error above (cargo shows the file and line), then run check again.");
        std::process::exit(1);
    }
    let mut results = Vec::new();
    for (done, entry) in entries.iter().enumerate() {
        live.show(&format!(
            "{} checking {}: {}",
            bar(done, entries.len()),
            entry.id,
            entry.task
        ));
        results.push(grade(&root, entry, None)?);
    }
    live.clear();
    print_progress(&entries, &results);
    println!("(checked in {}s)", started.elapsed().as_secs());
    let all = results.iter().all(|r| r.status == Status::Passed);
    if !all {
        std::process::exit(1);
    }
    Ok(())
}

fn print_progress(entries: &[Entry], results: &[Graded]) {
    println!("{:<10} {:<8} {:<54} status", "step", "exercise", "task");
    for (entry, result) in entries.iter().zip(results) {
        let step = if entry.chapter() == classroom::CLIENT_CHAPTER {
            "7 (client)".to_string()
        } else {
            entry.chapter().to_string()
        };
        println!(
            "{:<10} {:<8} {:<54} {}",
            step,
            entry.id,
            shorten(&entry.task, 54),
            result.status.label()
        );
    }
    let passed = results
        .iter()
        .filter(|r| r.status == Status::Passed)
        .count();
    println!();
    println!("{passed} of {} exercises pass.", entries.len());
    let Some((entry, result)) = entries
        .iter()
        .zip(results)
        .find(|(_, r)| r.status != Status::Passed)
    else {
        println!(
            "Every exercise passes: well done! Run the whole crate's tests with `cargo test`."
        );
        return;
    };
    println!();
    println!("Next: exercise {}: {}", entry.id, entry.task);
    println!(
        "  where: the end of `{}` in {} (chapter {})",
        entry.function,
        entry.file,
        entry.chapter()
    );
    println!("  hint:  {}", wrap(&entry.hint, 88, "         "));
    println!("  test:  {}", entry.test_command());
    match &result.status {
        Status::NotStarted => println!("  Its `todo!` is still there: replace it with your code."),
        Status::WaitsFor(other) => {
            println!("  Its tests stop at exercise {other}'s `todo!`: do {other} first.")
        }
        Status::NoTests => println!(
            "  No test is named `{}...` in tests/{}.rs: tell your teacher.",
            entry.test_filter(),
            entry.test_target()
        ),
        Status::TimedOut => println!(
            "  Its tests were still running after {} s, so check stopped them: is there a loop \
             that never ends?\n  Run them yourself to see where: {}",
            TEST_DEADLINE.as_secs(),
            entry.test_command()
        ),
        Status::Error => {
            println!("  The tests did not run; cargo said:");
            for line in result
                .run
                .stderr
                .lines()
                .rev()
                .take(15)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
            {
                println!("    {line}");
            }
        }
        Status::Failing | Status::Passed => {
            if let Some((name, message)) = result.failed.first() {
                println!(
                    "  {} of {} tests fail; the first, `{name}`, says:",
                    result.failed.len(),
                    result.failed.len() + result.passed.len()
                );
                let message = if std::io::stdout().is_terminal() {
                    message.clone()
                } else {
                    classroom::strip_ansi(message)
                };
                for line in message.lines().take(12) {
                    let line = line.trim_end();
                    if line.is_empty() {
                        println!();
                    } else {
                        println!("    {line}");
                    }
                }
            }
        }
    }
}

// ---- verify -----------------------------------------------------------------------------------

fn verify() -> anyhow::Result<()> {
    let exercises = reference_exercises()?;
    let entries: Vec<Entry> = exercises.iter().map(Exercise::entry).collect();
    let started = Instant::now();
    let root = Path::new(CRATE_ROOT);
    let target_dir = root.join("target").join("classroom-verify");
    let copy = std::env::temp_dir().join(format!("socket-steps-verify-{}", std::process::id()));
    if copy.exists() {
        fs::remove_dir_all(&copy).with_context(|| format!("could not clear {}", copy.display()))?;
    }
    let files = files_to_copy(root)?;
    println!(
        "verify: a student copy in {}, built in {}",
        copy.display(),
        target_dir.display()
    );
    let live = LiveLine::new();
    let result = verify_in(&copy, &target_dir, &files, &exercises, &entries, &live);
    live.clear();
    let _ = fs::remove_dir_all(&copy);
    let failures = result?;
    println!(
        "verify took {:.0?}",
        Duration::from_secs(started.elapsed().as_secs())
    );
    if failures > 0 {
        bail!("verify found {failures} problem(s), listed above: a class could not do the exercises as written");
    }
    println!("every exercise's tests fail while it is unsolved and pass once it is solved.");
    Ok(())
}

/// Runs the whole verification in `copy`; returns the number of problems found.
fn verify_in(
    copy: &Path,
    target_dir: &Path,
    files: &[PathBuf],
    exercises: &[Exercise],
    entries: &[Entry],
    live: &LiveLine,
) -> anyhow::Result<usize> {
    let root = Path::new(CRATE_ROOT);
    let mut problems = Vec::new();
    let build = |what: &str| -> anyhow::Result<()> {
        live.show(&format!("building {what}..."));
        let run = build_tests(copy, entries, Some(target_dir), |line| {
            let line = line.trim();
            if line.starts_with("Compiling") {
                live.show(&format!("building {what}: {line}"));
            }
        })?;
        live.clear();
        if !run.status.success() {
            bail!(
                "the student copy with {what} does not build:\n{}",
                run.stderr
            );
        }
        Ok(())
    };
    let classroom_exe = target_dir
        .join("debug")
        .join(format!("classroom{}", std::env::consts::EXE_SUFFIX));

    // 1. A fresh copy: it builds, and `check` names exercise 1.1 first.
    write_copy(root, copy, files, exercises, |_| Fill::Todo)?;
    build("every exercise unsolved")?;
    live.show("running `classroom check` in the fresh copy...");
    let fresh = Command::new(&classroom_exe)
        .arg("check")
        .current_dir(copy)
        .env("CARGO_TARGET_DIR", target_dir)
        .output()
        .context("could not run the copy's `classroom check`")?;
    live.clear();
    let fresh_out = String::from_utf8_lossy(&fresh.stdout);
    let first = &entries[0];
    let expected_next = format!("Next: exercise {}:", first.id);
    let fresh_ok = !fresh.status.success()
        && fresh_out.contains(&expected_next)
        && fresh_out.contains(&format!("0 of {} exercises pass.", entries.len()));
    println!(
        "fresh copy: builds; `check` exits {} and names {} first: {}",
        fresh.status.code().unwrap_or(-1),
        first.id,
        if fresh_ok { "ok" } else { "NO" }
    );
    if !fresh_ok {
        problems.push(format!(
            "`check` in a fresh copy did not report 0 passing and exercise {} next:\n{fresh_out}",
            first.id
        ));
    }

    // 2. One exercise unsolved at a time: its own tests must fail.
    println!();
    let header = |what: &str| println!("{:<9} {:<10} {what:<24} verdict", "exercise", "its tests");
    header("fail while unsolved");
    for (index, entry) in entries.iter().enumerate() {
        live.show(&format!(
            "{} only {} unsolved",
            bar(index, entries.len()),
            entry.id
        ));
        rewrite_sources(copy, |id| {
            if id == entry.id {
                Fill::Todo
            } else {
                Fill::Solution
            }
        })?;
        build(&format!("only {} unsolved", entry.id))?;
        live.show(&format!(
            "{} only {} unsolved: {}",
            bar(index, entries.len()),
            entry.id,
            entry.test_command()
        ));
        let graded = grade(copy, entry, Some(target_dir))?;
        live.clear();
        let total = graded.passed.len() + graded.failed.len();
        let verdict = if graded.run.timed_out {
            problems.push(format!(
                "exercise {}: its tests did not finish within {} s while it is unsolved",
                entry.id,
                TEST_DEADLINE.as_secs()
            ));
            "TIMED OUT".to_string()
        } else if total == 0 {
            problems.push(format!(
                "exercise {}: no test matches `{}`",
                entry.id,
                entry.test_command()
            ));
            "NO TESTS".to_string()
        } else if graded.failed.is_empty() {
            problems.push(format!(
                "exercise {}: its tests all pass while it is unsolved (no teeth): {}",
                entry.id,
                graded.passed.join(", ")
            ));
            "NO TEETH".to_string()
        } else if !graded.passed.is_empty() {
            format!("ok (passes unsolved: {})", graded.passed.join(", "))
        } else {
            "ok".to_string()
        };
        println!(
            "{:<9} {:<10} {:<24} {}",
            entry.id,
            total,
            format!("{} of {total}", graded.failed.len()),
            verdict
        );
    }

    // 3. In order, as a class works: with only the exercises before X solved, solving X makes its
    //    tests pass (they need nothing from a later exercise), so `check` advances one by one.
    println!();
    header("pass with 1.1..X solved");
    for (index, entry) in entries.iter().enumerate().take(entries.len() - 1) {
        let done: Vec<&str> = entries[..=index].iter().map(|e| e.id.as_str()).collect();
        live.show(&format!(
            "{} in order: {} solved",
            bar(index, entries.len()),
            done.join(" ")
        ));
        rewrite_sources(copy, |id| {
            if done.contains(&id) {
                Fill::Solution
            } else {
                Fill::Todo
            }
        })?;
        build(&format!("{} solved", done.join(" ")))?;
        let graded = grade(copy, entry, Some(target_dir))?;
        live.clear();
        let total = graded.passed.len() + graded.failed.len();
        let verdict = match &graded.status {
            Status::Passed => "ok".to_string(),
            Status::WaitsFor(later) => {
                problems.push(format!(
                    "exercise {}: its tests need the later exercise {later} (they stop at its todo!); \
                     a student doing the exercises in order is stuck at {}",
                    entry.id, entry.id
                ));
                format!("NEEDS {later}")
            }
            other => {
                problems.push(format!(
                    "exercise {}: with 1.1..{} solved, `{}` does not pass ({})",
                    entry.id,
                    entry.id,
                    entry.test_command(),
                    other.label()
                ));
                "FAILS".to_string()
            }
        };
        println!(
            "{:<9} {:<10} {:<24} {}",
            entry.id,
            total,
            format!("{} of {total}", graded.passed.len()),
            verdict
        );
    }

    // 4. Everything solved (the reference code, exactly): every exercise's tests pass, `check` says
    //    so, and the copy's `classroom` still keeps the solutions to itself.
    println!();
    rewrite_sources(copy, |_| Fill::Solution)?;
    build("every exercise solved")?;
    header("pass when all solved");
    for (index, entry) in entries.iter().enumerate() {
        live.show(&format!(
            "{} all solved: {}",
            bar(index, entries.len()),
            entry.test_command()
        ));
        let graded = grade(copy, entry, Some(target_dir))?;
        live.clear();
        let total = graded.passed.len() + graded.failed.len();
        let ok = graded.status == Status::Passed;
        if !ok {
            let failed: Vec<&str> = graded.failed.iter().map(|(n, _)| n.as_str()).collect();
            problems.push(format!(
                "exercise {}: with the reference solution, `{}` does not pass (failing: {}){}",
                entry.id,
                entry.test_command(),
                failed.join(", "),
                if total == 0 {
                    format!("\n{}", graded.run.stderr)
                } else {
                    String::new()
                }
            ));
        }
        println!(
            "{:<9} {:<10} {:<24} {}",
            entry.id,
            total,
            format!("{} of {total}", graded.passed.len()),
            if ok { "ok" } else { "FAILS" }
        );
    }
    live.show("running `classroom check` and `classroom solution` in the solved copy...");
    let solved = Command::new(&classroom_exe)
        .arg("check")
        .current_dir(copy)
        .env("CARGO_TARGET_DIR", target_dir)
        .output()
        .context("could not run the copy's `classroom check`")?;
    let leak = Command::new(&classroom_exe)
        .args(["solution", &first.id])
        .current_dir(copy)
        .output()
        .context("could not run the copy's `classroom solution`")?;
    live.clear();
    let solved_out = String::from_utf8_lossy(&solved.stdout);
    let all_pass = format!("{n} of {n} exercises pass.", n = entries.len());
    let solved_ok = solved.status.success() && solved_out.contains(&all_pass);
    println!();
    println!(
        "solved copy: `check` says \"{all_pass}\": {}",
        if solved_ok { "ok" } else { "NO" }
    );
    if !solved_ok {
        problems.push(format!(
            "`check` in the solved copy did not report {all_pass}:\n{solved_out}"
        ));
    }
    let leak_err = String::from_utf8_lossy(&leak.stderr);
    let refuses = !leak.status.success()
        && leak_err.contains("solutions are for teachers")
        && leak.stdout.is_empty();
    println!(
        "student copy: `classroom solution {}` refuses: {}",
        first.id,
        if refuses { "ok" } else { "NO" }
    );
    if !refuses {
        problems.push(format!(
            "a student copy's `classroom solution` did not refuse: {leak_err}"
        ));
    }
    let hint = Command::new(&classroom_exe)
        .args(["hint", &first.id])
        .current_dir(copy)
        .output()
        .context("could not run the copy's `classroom hint`")?;
    let hint_out = String::from_utf8_lossy(&hint.stdout);
    let hints = hint.status.success() && hint_out.contains(&first.hint);
    println!(
        "student copy: `classroom hint {}` gives the hint: {}",
        first.id,
        if hints { "ok" } else { "NO" }
    );
    if !hints {
        problems.push(format!(
            "a student copy's `classroom hint {}` did not give the hint:\n{hint_out}{}",
            first.id,
            String::from_utf8_lossy(&hint.stderr)
        ));
    }
    if !problems.is_empty() {
        println!();
        for problem in &problems {
            println!("problem: {problem}");
        }
    }
    Ok(problems.len())
}
