//! A server run under `strace(1)`, for the tests that check a chapter's list of system calls
//! against what the kernel was really asked (the async and event-loop chapters).

use std::path::PathBuf;
use std::time::Duration;

use super::{poll_until, start_server, Server};

/// A server started as `strace -f -o LOG -e trace=CALLS PROGRAM ARGS...`: [`Traced::server`] is
/// strace itself, whose output is the server's (strace writes its trace to LOG, not to stdout).
pub struct Traced {
    /// strace, with the server as its child; `addr` and `lines` are the server's.
    pub server: Server,
    /// Where strace writes the trace, one line per call, as each call returns.
    log: PathBuf,
    /// The folder of `log`, removed when the test is done with it.
    _dir: tempfile::TempDir,
}

/// Starts `program ARGS` under strace, tracing only `calls` (e.g. `"recvfrom,sendto"`), and
/// waits for it to say where it listens. `None` when strace is not installed: the caller skips
/// with [`super::skip`] (which fails in strict mode, as in CI).
pub fn start(program: &str, args: &[&str], calls: &str) -> Option<Traced> {
    let found = std::process::Command::new("strace").arg("-V").output();
    if !found.is_ok_and(|o| o.status.success()) {
        return None;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let log = dir.path().join("strace.txt");
    let log_name = log.to_str().expect("a UTF-8 temporary path").to_string();
    let trace = format!("trace={calls}");
    let mut strace_args = vec!["-f", "-qq", "-o", &log_name, "-e", &trace, program];
    strace_args.extend_from_slice(args);
    let server = start_server("strace", &strace_args);
    Some(Traced {
        server,
        log,
        _dir: dir,
    })
}

impl Traced {
    /// The trace so far (strace writes each line as its call returns).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits at most `limit` until `done(trace so far)` holds: a poll with a deadline, since
    /// strace tells nobody when it has written a line.
    pub fn wait_until(&self, what: &str, limit: Duration, done: impl Fn(&str) -> bool) {
        poll_until(what, limit, || done(&self.log()).then_some(()));
    }

    /// The process ID of the traced server: strace's child.
    fn traced_pid(&self) -> String {
        let strace = self.server.child.id();
        let children = std::fs::read_to_string(format!("/proc/{strace}/task/{strace}/children"))
            .expect("strace's children");
        let pid = children.split_whitespace().next();
        pid.expect("the traced server").to_string()
    }

    /// Waits at most `limit` until the server's main thread sleeps in `epoll_wait`: the kernel
    /// function it sleeps in (`/proc/PID/wchan`) is `do_epoll_wait`. Then it has done all it
    /// would do with what it has, and the trace says what that was.
    pub fn wait_until_idle_in_epoll_wait(&self, limit: Duration) {
        let wchan = format!("/proc/{}/wchan", self.traced_pid());
        poll_until("the server asleep in epoll_wait", limit, || {
            let sleeping_in = std::fs::read_to_string(&wchan).unwrap_or_default();
            sleeping_in.contains("epoll_wait").then_some(())
        });
    }

    /// Stops the server and returns the whole trace. We kill strace's child, the server
    /// (killing strace would only detach it), so that strace writes the last lines and exits.
    pub fn finish(mut self) -> String {
        let pid = self.traced_pid();
        let killed = std::process::Command::new("kill")
            .arg(&pid)
            .status()
            .expect("kill(1)");
        assert!(killed.success(), "could not stop the server {pid}");
        assert!(!self.server.wait_for_exit(), "the server ends by a signal");
        std::fs::read_to_string(&self.log).expect("strace's log")
    }
}

/// Finds things in a trace in order: each search starts where the previous one ended.
pub struct InOrder<'a> {
    /// The whole trace.
    pub text: &'a str,
}

impl<'a> InOrder<'a> {
    /// Where the first `needle` after byte `from` is; the test fails, showing the trace, if
    /// there is none.
    pub fn position(&self, needle: &str, from: usize) -> usize {
        self.text[from..]
            .find(needle)
            .map(|at| at + from)
            .unwrap_or_else(|| {
                panic!(
                    "no `{needle}` after byte {from} in the trace:\n{}",
                    self.text
                )
            })
    }

    /// The line that starts at byte `at`.
    pub fn line_at(&self, at: usize) -> &'a str {
        self.text[at..].lines().next().unwrap_or("")
    }
}
