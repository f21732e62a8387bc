//! A student's session, end to end, in a fresh student copy that this test builds (in
//! `target/classroom-verify`, shared with `cargo classroom verify`, so later runs build little):
//!
//! 1. `check` in the fresh copy: nothing passes, 1.1 is next, nothing else was run;
//! 2. 1.1 solved and a type error in 2.1: `check` names 2.1, shows the compiler's error and the
//!    hint, grades 1.1 as passed, and the later exercises wait for 2.1;
//! 3. `watch` (keys on a pipe, one per line): it shows 2.1; saving the fix turns it green and
//!    names 3.1; breaking 2.1 again brings 2.1 back with its error; `q` quits;
//! 4. Ctrl-C (SIGINT) while `check 3.1` runs a test that never ends: the runner exits with 130
//!    and leaves no cargo or test process behind (Linux: we look in /proc).

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

const CLASSROOM: &str = env!("CARGO_BIN_EXE_classroom");

/// How long a step may take: the first build of a copy takes minutes on two busy cores.
const LIMIT: Duration = Duration::from_secs(600);

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
        // The build folder `verify` uses (same profile: no debug info), so the two share what
        // they built.
        .join("classroom-verify")
}

fn command(copy: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(CLASSROOM);
    command
        .args(args)
        .current_dir(copy)
        .env("CARGO_TARGET_DIR", target_dir())
        // Debug info makes each link slower and helps no verdict.
        .env("CARGO_PROFILE_DEV_DEBUG", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn run(copy: &Path, args: &[&str]) -> Output {
    let child = command(copy, args).spawn().expect("start classroom");
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    finished
        .recv_timeout(LIMIT)
        .unwrap_or_else(|_| panic!("`classroom {}` ran past {LIMIT:?}", args.join(" ")))
        .expect("classroom's output")
}

/// The lines a child prints on stdout, as they come.
fn lines_of(child: &mut Child) -> Receiver<String> {
    let stdout = child.stdout.take().expect("piped stdout");
    let (send, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    lines
}

/// Reads lines until one contains `wanted`; returns everything read. Fails at the deadline.
fn read_until(lines: &Receiver<String>, wanted: &str, seen: &mut String) {
    let deadline = Instant::now() + LIMIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => {
                seen.push_str(&line);
                seen.push('\n');
                if line.contains(wanted) {
                    return;
                }
            }
            Err(_) => panic!("no line with {wanted:?} within {LIMIT:?}; output so far:\n{seen}"),
        }
    }
}

/// Writes the solution of exercise 2.1 into the student copy, and waits until `watch` has
/// graded it: "2.1 passes", then its prompt.
fn solve_2_1_under_watch(copy: &Path, lines: &Receiver<String>, seen: &mut String) {
    write_exercise(
        copy,
        "src/step2_bind.rs",
        "2.1",
        "socket.bind(&SockAddr::from(addr))",
    );
    read_until(lines, "2.1 passes", seen);
    read_until(lines, "Save a file to grade it again", seen);
}

/// Replaces the `todo!(...)` of exercise `id` in `file` (a few lines: its message is wrapped)
/// with `code`, or the line that an earlier call wrote.
fn write_exercise(copy: &Path, file: &str, id: &str, code: &str) {
    let path = copy.join(file);
    let text = fs::read_to_string(&path).unwrap();
    let written = format!("    {code} // was {id}");
    let replaced = match text.find(&format!("\"{id}: ")) {
        Some(message) => {
            let start = text[..message]
                .rfind("todo!(")
                .expect("todo!( before its message");
            let start = text[..start].rfind('\n').map_or(0, |newline| newline + 1);
            let hint = format!("hint {id}\"");
            let end = message + text[message..].find(&hint).expect("the hint ends it") + hint.len();
            let end = end + text[end..].find(')').expect("the closing parenthesis") + 1;
            format!("{}{written}{}", &text[..start], &text[end..])
        }
        None => {
            let line = text
                .lines()
                .find(|l| l.contains(&format!("// was {id}")))
                .unwrap_or_else(|| panic!("no todo! of {id} in {file}"));
            text.replacen(line, &written, 1)
        }
    };
    fs::write(&path, replaced).unwrap();
}

#[test]
fn a_student_session_check_compile_error_watch_and_ctrl_c() {
    let parent = tempfile::tempdir().unwrap();
    let copy = parent.path().join("my-course");
    let made = run(&root(), &["new", copy.to_str().unwrap()]);
    assert!(made.status.success(), "{made:?}");

    // 1. A fresh copy.
    let fresh = run(&copy, &["check"]);
    let out = String::from_utf8_lossy(&fresh.stdout);
    assert_eq!(fresh.status.code(), Some(1), "{out}");
    assert!(out.contains("0 of ") && out.contains("Next: 1.1:"), "{out}");
    assert!(
        out.contains("2.1    call") && out.contains("waits for 1.1"),
        "{out}"
    );

    // 2. 1.1 solved, a type error in 2.1.
    write_exercise(
        &copy,
        "src/step1_create.rs",
        "1.1",
        "Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))",
    );
    write_exercise(&copy, "src/step2_bind.rs", "2.1", "socket.bind(addr)");
    let broken = run(&copy, &["check"]);
    let out = String::from_utf8_lossy(&broken.stdout);
    assert!(out.contains("Exercise 2.1 does not compile:"), "{out}");
    assert!(
        out.contains("src/step2_bind.rs:") && out.contains("error[E0308]"),
        "{out}"
    );
    assert!(out.contains("hint:"), "{out}");
    let row = |id: &str| {
        out.lines()
            .find(|l| l.starts_with(id))
            .unwrap_or("")
            .to_string()
    };
    assert!(row("1.1").ends_with("passed"), "{out}");
    assert!(row("2.1").ends_with("does not compile"), "{out}");
    assert!(row("3.1").ends_with("waits for 2.1"), "{out}");
    assert!(!out.contains("FAILING"), "{out}");

    // 3. watch: the fix turns 2.1 green and names 3.1.
    let mut watch = command(&copy, &["watch"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("start watch");
    let lines = lines_of(&mut watch);
    let mut seen = String::new();
    read_until(&lines, "Save a file to grade it again", &mut seen);
    assert!(seen.contains("Next: 2.1"), "{seen}");
    solve_2_1_under_watch(&copy, &lines, &mut seen);
    assert!(seen.contains("Next: 3.1"), "{seen}");
    // Breaking 2.1 again while 3.1 is on screen: watch goes back to 2.1 and shows the error.
    write_exercise(&copy, "src/step2_bind.rs", "2.1", "socket.bind(addr)");
    read_until(&lines, "Exercise 2.1 does not compile:", &mut seen);
    read_until(&lines, "Save a file to grade it again", &mut seen);
    solve_2_1_under_watch(&copy, &lines, &mut seen);
    let mut keys = watch.stdin.take().unwrap();
    writeln!(keys, "h").unwrap();
    read_until(&lines, "Hint:", &mut seen);
    writeln!(keys, "q").unwrap();
    read_until(&lines, "bye", &mut seen);
    assert!(watch.wait().unwrap().success());

    // 4. Ctrl-C during a test that never ends.
    #[cfg(target_os = "linux")]
    ctrl_c_leaves_nothing_behind(&copy);
}

#[cfg(target_os = "linux")]
fn ctrl_c_leaves_nothing_behind(copy: &Path) {
    write_exercise(
        copy,
        "src/step3_listen.rs",
        "3.1",
        "loop { std::hint::spin_loop() }",
    );
    let mut check = command(copy, &["check", "3.1"])
        .spawn()
        .expect("start check");
    let test_binary = format!("{}/debug/deps/step3_listen-", target_dir().display());
    let ours = |pattern: &str| -> Vec<String> {
        let mut found = Vec::new();
        for entry in fs::read_dir("/proc").unwrap().flatten() {
            let cmdline = fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            let cwd = fs::read_link(entry.path().join("cwd")).ok();
            let in_copy = cwd.as_deref() == Some(copy) && cmdline.contains("cargo");
            if cmdline.contains(pattern) || in_copy {
                found.push(format!(
                    "{}: {cmdline}",
                    entry.file_name().to_string_lossy()
                ));
            }
        }
        found
    };
    let deadline = Instant::now() + LIMIT;
    while ours(&test_binary).is_empty() {
        assert!(Instant::now() < deadline, "the test of 3.1 never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = check.id().to_string();
    assert!(Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    let status = check.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    // The runner has sent SIGKILL to their process groups before it exits; the kernel takes a
    // moment to deliver it.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = ours(&test_binary);
        if left.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "left behind after Ctrl-C:\n{}",
            left.join("\n")
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
