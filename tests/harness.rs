//! The test harness itself (`tests/support`): a server that a test starts must not outlive the
//! test process, even when that process is killed with SIGKILL and no `Drop` runs. A leftover
//! server holds its port, and the test run's output pipe, so `cargo test | tee log` never ends.
#![cfg(target_os = "linux")]

mod support;

const THREADED: &str = env!("CARGO_BIN_EXE_echo_server_threaded");

/// Whether process `pid` has ended: gone from `/proc`, or a zombie nobody has reaped yet.
fn ended(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // The state comes after the command name in parentheses: `1234 (name) Z ...`.
        Ok(stat) => stat
            .rsplit(") ")
            .next()
            .is_some_and(|rest| rest.starts_with('Z')),
    }
}

#[test]
fn a_server_started_by_a_test_ends_when_the_test_process_is_killed() {
    if support::in_this_tests_child() {
        // The child: start the server as any test does, say which it is, and wait to be killed.
        let server = support::start_server(THREADED, &["127.0.0.1:0"]);
        println!(
            "helper: server pid {} at {}",
            server.child.id(),
            server.addr
        );
        // Killed long before this ends; if not, the parent fails first.
        std::thread::sleep(support::LIMIT);
        return;
    }
    let child = support::spawn_this_test(&[]);
    let line = support::wait_for_line(&child.lines, "helper: server pid ");
    // After the harness's `test NAME ... ` on the same line: `PID at ADDR`.
    let said = line.split("helper: server pid ").nth(1).expect("found");
    let mut words = said.split_whitespace();
    let pid: u32 = words.next().and_then(|w| w.parse().ok()).expect(&line);
    let addr: std::net::SocketAddr = words.nth(1).and_then(|w| w.parse().ok()).expect(&line);
    // We do not connect now: the server would print about it, and a print into the pipe of a
    // killed child ends the server too (EPIPE), which would hide what we test.
    assert!(!ended(pid), "the server runs");

    drop(child); // SIGKILL: the child's `Drop` of its server never runs
    let gone = socket_steps::experiments::poll_until(support::LIMIT, || ended(pid).then_some(()));
    if gone.is_none() {
        // Stop it ourselves, or its standard error, inherited from this test run, stays open.
        let server = rustix::process::Pid::from_raw(pid as i32).expect("not 0");
        let _ = rustix::process::kill_process(server, rustix::process::Signal::KILL);
        panic!(
            "the server outlived the test process that started it by {:?}",
            support::LIMIT
        );
    }
    let refused = std::net::TcpStream::connect_timeout(&addr, support::LIMIT);
    assert!(refused.is_err(), "{addr} still answers");
}
