//! Helpers shared by the integration tests: run a step binary with a time limit, start a server
//! binary on port 0 and learn its address, and connect with timeouts everywhere.
//!
//! Every wait here has a deadline, so a bug makes a test fail with a message instead of hanging.
#![allow(dead_code)] // Each test file uses only some of these helpers.

mod skip;
#[allow(unused_imports)] // Each test file uses only some of these helpers.
pub use skip::{require, skip, strict};
pub mod graders; // The classroom's server exercises: their function in a thread, hostile clients.

// A test's probe in a child process: in a network namespace of its own, or as user nobody.
#[cfg(target_os = "linux")]
mod child;
#[cfg(target_os = "linux")]
#[allow(unused_imports)]
pub use child::{
    as_nobody, in_a_private_network, in_private_network, in_this_tests_child, ip, spawn_this_test,
    sysctl,
};
#[cfg(target_os = "linux")]
mod dns_stub;
#[cfg(target_os = "linux")]
pub mod strace;
#[cfg(target_os = "linux")]
#[allow(unused_imports)]
pub use dns_stub::dns_stub;

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// The longest any single binary run or wait may take in a test.
pub const LIMIT: Duration = Duration::from_secs(20);

/// Runs `exe` with `args` and stdin closed, kills it if it is still running after [`LIMIT`],
/// and returns its output.
pub fn run(exe: &str, args: &[&str]) -> Output {
    run_os(exe, args)
}

/// [`run`] for arguments that need not be text (e.g. a path that is not UTF-8).
pub fn run_os<S: AsRef<std::ffi::OsStr>>(exe: &str, args: &[S]) -> Output {
    let child = end_with_this_test(&mut Command::new(exe))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("could not start {exe}: {e}"));
    wait_with_limit(child, exe)
}

/// Waits for `child` to exit, killing it after [`LIMIT`], and collects its output.
pub fn wait_with_limit(mut child: Child, what: &str) -> Output {
    // We read both pipes in threads, so that a chatty child never blocks on a full pipe.
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
    );
    let finished = poll_until_in_time(LIMIT, || child.try_wait().expect("try_wait"));
    let Some(status) = finished else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("{what} did not finish within {LIMIT:?}");
    };
    Output {
        status,
        stdout: out.join().expect("stdout reader"),
        stderr: err.join().expect("stderr reader"),
    }
}

/// Polls `ready` until it gives `Some` and returns it, or fails the test saying that `what` did
/// not happen within `limit`: the library's one poll-until-deadline loop
/// (`socket_steps::experiments::poll_until`), for tests.
pub fn poll_until<T>(what: &str, limit: Duration, ready: impl FnMut() -> Option<T>) -> T {
    poll_until_in_time(limit, ready).unwrap_or_else(|| panic!("{what}: not within {limit:?}"))
}

use socket_steps::experiments::poll_until as poll_until_in_time;

/// Makes the program that `command` starts end when this test process is gone, even when it is
/// killed (SIGKILL: no `Drop` runs to stop its servers): the program asks the kernel for that
/// (`socket_steps::cli::END_WITH_PARENT`, Linux). Every harness here that starts a program calls
/// this.
pub fn end_with_this_test(command: &mut Command) -> &mut Command {
    command.env(
        socket_steps::cli::END_WITH_PARENT,
        std::process::id().to_string(),
    )
}

/// Every program of this package: the `[[bin]]`s of `Cargo.toml`, by name. This is the one list
/// of programs; tests check the hand-written ones (the README, the crate's map) against it.
pub fn programs() -> Vec<String> {
    let manifest = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .expect("read Cargo.toml");
    let mut names = Vec::new();
    let mut in_bin = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
        } else if let Some(value) = line.strip_prefix("name = ").filter(|_| in_bin) {
            names.push(value.trim_matches('"').to_string());
        }
    }
    assert!(names.len() >= 10, "found only {names:?} in Cargo.toml");
    names
}

/// Where cargo built `program`, one of [`programs`]: beside every other program of this package
/// (a test of ours cannot name them all with `env!("CARGO_BIN_EXE_...")` without a list).
pub fn program(program: &str) -> std::path::PathBuf {
    assert!(
        programs().iter().any(|name| name == program),
        "{program} is not a [[bin]] of Cargo.toml"
    );
    std::path::Path::new(env!("CARGO_BIN_EXE_step1_create"))
        .with_file_name(format!("{program}{}", std::env::consts::EXE_SUFFIX))
}

/// Standard output as text, with its descriptors numbered from 3 ([`fds_from_three`]).
pub fn stdout(output: &Output) -> String {
    let text = String::from_utf8_lossy(&output.stdout);
    fds_from_three(&HandleNames::ranked(&text).rename(&text))
}

/// `text` with its file descriptors renumbered as if the program had inherited only stdin,
/// stdout and stderr: the lowest `fd N` becomes `fd 3`, the others keep their order and their
/// differences (see [`shift_fds`]). So tests, and the book's transcripts, can expect a program's
/// first socket to be `fd 3`. This is the one place that decides it; [`read_lines`] does the
/// same for output that comes line by line.
pub fn fds_from_three(text: &str) -> String {
    match fds(text).min() {
        Some(lowest) if lowest > 3 => shift_fds(text, lowest - 3),
        _ => text.to_string(),
    }
}

/// Windows names a socket by a handle, which our programs print as `socket 340`, where Unix
/// prints `fd 3`. We rename each distinct handle `fd 3`, `fd 4`... so that the tests'
/// expectations hold on both. Unix output has no `socket <number>`, so there this changes nothing.
///
/// The order matters: a program may create its client's socket before `accept` returns the
/// server's, yet print the server's first. Unix numbers descriptors in the order they are made
/// (the lowest free one), and Windows hands out increasing handles, so when we have the whole
/// output we rank the handles by value ([`HandleNames::ranked`]); a stream read line by line can
/// only name them in order of first appearance ([`HandleNames::default`]).
#[derive(Default)]
pub struct HandleNames {
    seen: Vec<String>,
}

impl HandleNames {
    /// Names for the handles of a whole output: the smallest handle is `fd 3`, the next `fd 4`...
    pub fn ranked(text: &str) -> HandleNames {
        let mut handles: Vec<u64> = text
            .match_indices("socket ")
            .filter_map(|(at, found)| {
                let after = &text[at + found.len()..];
                let digits = after.chars().take_while(char::is_ascii_digit).count();
                after[..digits].parse().ok()
            })
            .collect();
        handles.sort_unstable();
        handles.dedup();
        HandleNames {
            seen: handles.iter().map(u64::to_string).collect(),
        }
    }

    /// `text` with every `socket <handle>` written as `fd <n>`.
    pub fn rename(&mut self, text: &str) -> String {
        let mut result = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find("socket ") {
            let after = &rest[at + "socket ".len()..];
            let digits = after.chars().take_while(char::is_ascii_digit).count();
            if digits == 0 {
                result.push_str(&rest[..at + "socket ".len()]);
                rest = after;
                continue;
            }
            let handle = after[..digits].to_string();
            let index = match self.seen.iter().position(|h| *h == handle) {
                Some(index) => index,
                None => {
                    self.seen.push(handle);
                    self.seen.len() - 1
                }
            };
            result.push_str(&rest[..at]);
            result.push_str(&format!("fd {}", index + 3));
            rest = &after[digits..];
        }
        result.push_str(rest);
        result
    }
}

/// The numbers that follow `fd ` in `text`.
fn fds(text: &str) -> impl Iterator<Item = u32> + '_ {
    text.match_indices("fd ").filter_map(|(at, _)| {
        let digits: String = text[at + 3..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    })
}

/// Lowers every `fd N` in `text` by `offset`. A test run that inherits descriptors from its
/// parent (make's jobserver, some IDEs and CI agents leave some open) passes them on to the
/// programs it starts, whose sockets then get higher numbers than the usual 3, 4, 5.
pub fn shift_fds(text: &str, offset: u32) -> String {
    if offset == 0 {
        return text.to_string();
    }
    let mut result = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("fd ") {
        result.push_str(&rest[..at + 3]);
        rest = &rest[at + 3..];
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        match rest[..digits].parse::<u32>() {
            Ok(fd) if fd >= offset => result.push_str(&(fd - offset).to_string()),
            _ => result.push_str(&rest[..digits]),
        }
        rest = &rest[digits..];
    }
    result.push_str(rest);
    result
}

/// Standard error as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts that the run succeeded, showing both streams if not.
pub fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "exit status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        stdout(output),
        stderr(output)
    );
}

/// Asserts that the run failed with exit status 1 and one clear message (no panic).
pub fn assert_clean_failure(output: &Output) -> String {
    let err = stderr(output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "stdout:\n{}\nstderr:\n{err}",
        stdout(output)
    );
    assert!(
        !err.contains("panicked"),
        "a panic instead of a message:\n{err}"
    );
    assert!(
        err.starts_with("error: "),
        "expected `error: ...`, got:\n{err}"
    );
    err
}

/// A server program running in the background: the one harness the tests use for them. Started
/// by [`start_server`] (TCP or UDP: `A` is a `SocketAddr`) or [`start_server_with`] (any command,
/// e.g. a Unix-domain server: `A` is a `PathBuf`). Killed when dropped, so that a failing test
/// leaves no server behind, and gone with the test process even when no `Drop` runs
/// ([`end_with_this_test`]).
pub struct Server<A = SocketAddr> {
    /// The process.
    pub child: Child,
    /// Where it listens, as it announced on its standard output.
    pub addr: A,
    /// Its standard output lines after the announcement, as they come.
    pub lines: mpsc::Receiver<String>,
    /// Its standard input, a pipe from the test: `take()` and drop it for end of file (step 3
    /// waits for Enter on it).
    pub stdin: Option<std::process::ChildStdin>,
    /// Every line it printed on standard output, from the first, however the test read
    /// [`Server::lines`]: what [`Server::stop`] returns (a transcript shows the whole log).
    printed: Printed,
}

/// The lines a program printed, kept by the thread that reads them ([`read_lines_kept`]).
type Printed = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

impl<A> Server<A> {
    /// Waits at most [`LIMIT`] for the server to exit by itself, and returns whether it succeeded.
    pub fn wait_for_exit(&mut self) -> bool {
        let child = &mut self.child;
        poll_until("the server's exit", LIMIT, || {
            child.try_wait().expect("try_wait")
        })
        .success()
    }

    /// Waits at most [`LIMIT`] for a line containing `needle` and returns it; if none comes, the
    /// failure shows everything the server printed.
    pub fn wait_for(&self, needle: &str) -> String {
        next_line_with(&self.lines, needle).unwrap_or_else(|| {
            panic!(
                "no line containing {needle:?} within {LIMIT:?}; the server printed:\n{}",
                self.printed()
            )
        })
    }

    /// Stops the server (SIGKILL) and returns everything it printed on standard output, from
    /// its first line: for a test that shows the server's log.
    pub fn stop(mut self) -> String {
        self.kill();
        // Its output ends once the process is gone: then the reading thread has kept every line
        // and drops its end of `lines`.
        let deadline = std::time::Instant::now() + LIMIT;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(_) => continue,
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    panic!("the killed server's output did not end within {LIMIT:?}")
                }
            }
        }
        self.printed()
    }

    /// The lines printed so far, each ended by `\n`.
    fn printed(&self) -> String {
        let printed = self.printed.lock().unwrap_or_else(|e| e.into_inner());
        printed.iter().map(|line| format!("{line}\n")).collect()
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl<A> Drop for Server<A> {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Starts a server binary (e.g. on `127.0.0.1:0`) and waits, at most [`LIMIT`], for the line
/// where it says `listening on ADDR`.
pub fn start_server(exe: &str, args: &[&str]) -> Server {
    let mut command = Command::new(exe);
    command.args(args);
    start_server_with(command)
}

/// Starts `command`, a server (a program with arguments that need not be text, or a shell that
/// sets a limit first and `exec`s it), and waits at most [`LIMIT`] for the line where it says
/// `listening on ADDR`; ADDR is read as an `A`: a `SocketAddr`, or the `PathBuf` of a
/// Unix-domain socket.
pub fn start_server_with<A: std::str::FromStr>(mut command: Command) -> Server<A> {
    let what = command.get_program().to_string_lossy().into_owned();
    let mut child = end_with_this_test(&mut command)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("could not start {what}: {e}"));
    let printed = Printed::default();
    let lines = read_lines_kept(child.stdout.take().expect("piped stdout"), Some(&printed));
    let addr = next_line_with(&lines, "listening on ").and_then(|line| {
        let rest = line.split("listening on ").nth(1)?;
        let addr = rest.split_whitespace().next()?;
        addr.trim_end_matches([',', '.', ':']).parse().ok()
    });
    let Some(addr) = addr else {
        let _ = child.kill();
        let _ = child.wait();
        let printed = printed.lock().unwrap_or_else(|e| e.into_inner()).join("\n");
        panic!("{what} did not say where it listens within {LIMIT:?}; it printed:\n{printed}");
    };
    Server {
        stdin: child.stdin.take(),
        child,
        addr,
        lines,
        printed,
    }
}

/// Reads a server's output line by line in a thread; the lines come through the channel.
///
/// The first descriptor a server prints is its first socket: fd 3, unless the test run inherited
/// extra descriptors; we renumber from it (see [`shift_fds`]).
pub fn read_lines(out: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    read_lines_kept(out, None)
}

/// [`read_lines`], also keeping every line in `printed`, if given.
fn read_lines_kept(
    out: impl std::io::Read + Send + 'static,
    printed: Option<&Printed>,
) -> mpsc::Receiver<String> {
    let (send, lines) = mpsc::channel();
    let keep = printed.cloned();
    thread::spawn(move || {
        let mut offset = None;
        let mut handles = HandleNames::default();
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let line = handles.rename(&line);
            if offset.is_none() {
                offset = fds(&line).next().map(|first| first.saturating_sub(3));
            }
            let line = shift_fds(&line, offset.unwrap_or(0));
            if let Some(keep) = &keep {
                keep.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(line.clone());
            }
            if send.send(line).is_err() {
                break;
            }
        }
    });
    lines
}

/// Waits at most [`LIMIT`] for a line containing `needle`, and returns it.
pub fn wait_for_line(lines: &mpsc::Receiver<String>, needle: &str) -> String {
    next_line_with(lines, needle)
        .unwrap_or_else(|| panic!("no line containing {needle:?} within {LIMIT:?}"))
}

/// The next line containing `needle` within [`LIMIT`], or `None` (also when the output ended).
fn next_line_with(lines: &mpsc::Receiver<String>, needle: &str) -> Option<String> {
    let deadline = std::time::Instant::now() + LIMIT;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return Some(line),
            Ok(_) => continue,
            Err(_) => return None,
        }
    }
}

/// Connects with a timeout, and sets read and write timeouts on the stream.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, LIMIT).expect("connect");
    stream.set_read_timeout(Some(LIMIT)).unwrap();
    stream.set_write_timeout(Some(LIMIT)).unwrap();
    stream
}

/// Whether this test process runs as root (effective uid 0). Linux only.
#[cfg(target_os = "linux")]
pub fn is_root() -> bool {
    // The effective uid is the second number of the `Uid:` line.
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1).map(|id| id == "0"))
        .unwrap_or(false)
}

/// A command for `exe` that runs as the unprivileged user `nobody` when the tests run as root
/// (as they do in CI), so that privilege errors can be tested; otherwise as the current user.
///
/// `nobody` must be able to reach `exe`: a checkout under a private directory (`/root` is mode
/// 700) is not, and exec would fail with "permission denied". Then we run a copy of `exe` from a
/// directory of our own under the temporary directory.
#[cfg(target_os = "linux")]
pub fn unprivileged(exe: &str) -> Command {
    use std::os::unix::process::CommandExt;
    let mut command;
    if is_root() {
        command = Command::new(reachable_by_everyone(exe));
        command.uid(65534).gid(65534);
    } else {
        command = Command::new(exe);
    }
    command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(Stdio::null());
    command
}

/// `exe` itself if every user may run it, otherwise a copy that every user may run.
#[cfg(target_os = "linux")]
fn reachable_by_everyone(exe: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;
    let others_may = |path: &Path, bit: u32| {
        std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & bit != 0)
    };
    let path = Path::new(exe);
    let reachable = path
        .ancestors()
        .skip(1)
        .filter(|dir| !dir.as_os_str().is_empty())
        .all(|dir| others_may(dir, 0o001))
        && others_may(path, 0o001);
    if reachable {
        return path.to_path_buf();
    }
    // One directory per test process, one copy per program: copying while another test of this
    // process runs the copy would fail ("text file busy"), hence the lock.
    //
    // `tempfile` makes the directory under a name nobody can have taken first, with mode 700: a
    // fixed name (`socket-steps-unprivileged-PID`) could have been made beforehand by another
    // user, who could then swap the copy that we run. We open it to everyone (755) only once it
    // is ours. A static is never dropped, so the directory stays after the tests, as before.
    static COPYING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    let _guard = COPYING.lock().unwrap_or_else(|e| e.into_inner());
    let dir = DIR.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("socket-steps-unprivileged-")
            .tempdir()
            .expect("a directory for the unprivileged copy");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        dir
    });
    let copy = dir
        .path()
        .join(path.file_name().expect("a program file name"));
    if !copy.exists() {
        std::fs::copy(path, &copy).expect("copy the program for nobody");
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    copy
}

/// Asserts that `text` contains each of `lines`, naming the first one missing.
pub fn assert_contains_all(text: &str, lines: &[&str]) {
    for line in lines {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
}

/// A connected TCP pair on loopback, made with the crate's own steps: (client, server side,
/// server address, client address). Both sockets have read and write timeouts.
pub fn socket_pair() -> (socket2::Socket, socket2::Socket, SocketAddr, SocketAddr) {
    use socket_steps::{step2_bind, step3_listen, step4_accept};
    let listener = step3_listen::listening_socket("127.0.0.1:0".parse().unwrap(), 1).unwrap();
    let addr = step2_bind::local_addr(&listener).unwrap();
    listener.set_read_timeout(Some(LIMIT)).unwrap(); // bounds accept on Linux
    let client = connect_socket(addr, LIMIT).unwrap();
    let (server, peer) = step4_accept::accept(&listener).unwrap();
    for socket in [&client, &server] {
        socket.set_read_timeout(Some(LIMIT)).unwrap();
        socket.set_write_timeout(Some(LIMIT)).unwrap();
    }
    (client, server, addr, peer)
}

/// Connects to `addr` with std (`TcpStream::connect_timeout`) and hands back a socket2 `Socket`.
///
/// The tests of steps 3 to 6 use this, not `socket_steps::client::connect`: that is classroom
/// exercise 7.1, which a class does last, and a step's tests must need only the exercises before
/// it (`cargo classroom verify` checks this).
pub fn connect_socket(addr: SocketAddr, timeout: Duration) -> std::io::Result<socket2::Socket> {
    TcpStream::connect_timeout(&addr, timeout).map(socket2::Socket::from)
}

/// `python3`, to run the tutorial's own programs (`tests/python/`) against ours, if it runs here;
/// otherwise the test [`skip`]s (fails in strict mode).
pub fn python3() -> Option<&'static str> {
    let version = Command::new("python3")
        .arg("--version")
        .output()
        .map_err(|error| error.to_string())
        .and_then(|o| match o.status.success() {
            true => Ok(()),
            false => Err(format!("python3 --version: {}", o.status)),
        });
    require(
        version,
        "python3 is needed to run the tutorial's own programs",
    )
    .map(|()| "python3")
}

/// `nc` from Debian's netcat-openbsd, the one whose `-N` our programs suggest, if it runs here;
/// otherwise the test [`skip`]s (fails in strict mode). `.ci/run` installs it.
pub fn netcat() -> Option<&'static str> {
    // netcat-openbsd's `nc -h` prints its options on standard error.
    let help = Command::new("nc")
        .arg("-h")
        .stdin(Stdio::null())
        .output()
        .map_err(|error| error.to_string())
        .and_then(|o| {
            let text = String::from_utf8_lossy(&o.stderr).into_owned();
            match text.contains("-N") {
                true => Ok(()),
                false => Err("this nc has no -N: it is not netcat-openbsd".to_string()),
            }
        });
    require(
        help,
        "nc (netcat-openbsd) runs the commands our servers suggest",
    )
    .map(|()| "nc")
}

/// The path of one of the tutorial's Python programs in `tests/python/`.
pub fn python_file(name: &str) -> String {
    format!("{}/tests/python/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Polls `done` every millisecond until it holds; fails the test after [`LIMIT`].
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    poll_until(what, LIMIT, || done().then_some(()))
}

/// `kill -SIGNAL pid`, with the shell's own `kill` (std can only send SIGKILL, and `kill(2)`
/// of our own would need `unsafe`).
#[cfg(unix)]
pub fn signal(pid: u32, name: &str) {
    let status = Command::new("sh")
        .args(["-c", &format!("kill -{name} {pid}")])
        .status()
        .expect("sh");
    assert!(status.success(), "kill -{name} {pid}");
}

/// The state of each thread of process `pid`, from `/proc/PID/task/TID/stat`: `S` sleeps in the
/// kernel (in `recv`, `accept`, `epoll_wait`...), `R` runs, `T` is stopped. Linux only.
#[cfg(target_os = "linux")]
pub fn thread_states(pid: u32) -> Vec<char> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("stat")).ok())
        .filter_map(|stat| process_state(&stat))
        .collect()
}

/// The state letter in a `/proc/.../stat` line, `pid (name) STATE ...`: it follows the name's
/// closing parenthesis (the name itself may hold spaces and parentheses).
#[cfg(target_os = "linux")]
fn process_state(stat: &str) -> Option<char> {
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

/// Ctrl-Z, then `fg`: once `ready` holds, stops process `pid` (SIGSTOP), waits until it is
/// stopped (`T` in `/proc/PID/stat`) and continues it (SIGCONT). On Linux this interrupts the
/// calls that it blocks in, without any signal handler (signal(7)). Linux only.
#[cfg(target_os = "linux")]
pub fn stop_and_continue_when(pid: u32, what: &str, ready: impl FnMut() -> bool) {
    wait_until(what, ready);
    signal(pid, "STOP");
    wait_until("stopped", || {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        process_state(&stat) == Some('T')
    });
    signal(pid, "CONT");
}
