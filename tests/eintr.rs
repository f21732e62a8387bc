//! `EINTR`: a blocking call that a signal interrupts returns "Interrupted system call" instead of
//! its result, and the program must call it again. std's `read_exact` and `write_all` do; a
//! plain `read` (one `recv(2)`) hands the error to us.
//!
//! A signal handler would need `unsafe`, so we use the one interruption Linux makes without
//! any handler (signal(7), "Interruption of system calls and library functions by stop
//! signals"): a process stopped (SIGSTOP) and continued (SIGCONT) while it blocks in `recv` on a
//! socket with a receive timeout (`SO_RCVTIMEO`) sees `recv` fail with `EINTR`. The process is a
//! child: this very test started again, which blocks while we stop and continue it. The
//! Process chapter ("`EINTR`") includes this file.
#![cfg(target_os = "linux")]

mod support;

use std::io::{self, Read, Write};
use std::net::TcpStream;

use socket_steps::experiments::PATIENCE;
use socket_steps::step3_listen::listening_socket;

/// Tells the child where to connect.
const PORT: &str = "SOCKET_STEPS_EINTR_PORT";

// ANCHOR: child
/// The child: blocks in `recv`, which the stop and continue interrupts; then in `read_exact`,
/// which is interrupted too, tries again, and returns the bytes that come afterwards.
fn child() -> io::Result<()> {
    let port: u16 = std::env::var(PORT).unwrap().parse().unwrap();
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(PATIENCE))?; // SO_RCVTIMEO: the condition for EINTR here
    println!("blocking in recv");
    let error = stream.read(&mut [0; 16]).expect_err("interrupted");
    assert_eq!(error.kind(), io::ErrorKind::Interrupted, "{error}");
    println!("recv: {error}");
    println!("blocking in read_exact");
    let mut hello = [0; 5];
    stream.read_exact(&mut hello)?; // EINTR inside, retried by std
    println!("read_exact: {}", String::from_utf8_lossy(&hello));
    Ok(())
}
// ANCHOR_END: child

// ANCHOR: parent
#[test]
fn a_stopped_and_continued_recv_fails_with_eintr_and_read_exact_tries_again() -> io::Result<()> {
    if support::in_this_tests_child() {
        return child();
    }
    let listener = listening_socket("127.0.0.1:0".parse().unwrap(), 1)?;
    listener.set_read_timeout(Some(PATIENCE))?; // Linux: bounds accept
    let port = listener
        .local_addr()?
        .as_socket()
        .unwrap()
        .port()
        .to_string();
    let child = support::spawn_this_test(&[(PORT, &port)]);
    let (pid, lines) = (child.pid(), &child.lines);
    let (connection, _) = listener.accept()?;

    support::wait_for_line(lines, "blocking in recv");
    stop_and_continue_while_it_waits(pid);
    let said = support::wait_for_line(lines, "recv: ");
    assert!(said.contains("Interrupted system call"), "{said}");

    support::wait_for_line(lines, "blocking in read_exact");
    stop_and_continue_while_it_waits(pid);
    (&connection).write_all(b"hello")?; // only now: what read_exact waits for
    support::wait_for_line(lines, "read_exact: hello");

    child.finish();
    Ok(())
}
// ANCHOR_END: parent

// ANCHOR: stop_and_continue
/// Waits until a thread of process `pid` sleeps in the kernel waiting for socket data
/// (`wait_woken` in `/proc/PID/task/TID/wchan`), then stops it (SIGSTOP), waits until it is
/// stopped (`T` in `/proc/PID/stat`) and continues it (SIGCONT).
fn stop_and_continue_while_it_waits(pid: u32) {
    support::stop_and_continue_when(pid, "blocked on the socket", || {
        let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).unwrap();
        tasks.flatten().any(|task| {
            std::fs::read_to_string(task.path().join("wchan")).is_ok_and(|w| w == "wait_woken")
        })
    });
}
// ANCHOR_END: stop_and_continue
