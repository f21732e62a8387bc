//! The seed in today's Python: what a reader of the original tutorial (Python 2) meets when
//! running it with Python 3, checked by running `tests/python/seed_today.py` against real
//! sockets. The echo-demo chapter ("The seed in today's Python") includes both files.

mod support;

use std::net::TcpListener;

const ECHO_SERVER: &str = env!("CARGO_BIN_EXE_echo_server");

/// Runs one experiment of `seed_today.py` against `addr`, and returns what it printed.
fn seed_today(experiment: &str, addr: std::net::SocketAddr) -> Option<String> {
    let python = support::python3()?;
    let script = support::python_file("seed_today.py");
    let port = addr.port().to_string();
    let output = support::run(python, &[&script, experiment, "127.0.0.1", &port]);
    support::assert_success(&output);
    Some(support::stdout(&output))
}

// ANCHOR: str
#[test]
fn python_3_refuses_to_send_a_str_and_receives_bytes() {
    let server = support::start_server(ECHO_SERVER, &["127.0.0.1:0"]);
    let Some(printed) = seed_today("str", server.addr) else {
        return;
    };
    assert_eq!(
        printed,
        "TypeError: a bytes-like object is required, not 'str'\n\
         Client received: b'|From Server| Hello network world'\n\
         as text: |From Server| Hello network world\n"
    );
}
// ANCHOR_END: str

// ANCHOR: partial
#[test]
fn python_settimeout_makes_send_partial_and_sendall_times_out() {
    // A listener that never accepts: the client's connection completes in its queue, and the
    // bytes it sends wait there until the buffers are full.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let Some(printed) = seed_today("partial", listener.local_addr().unwrap()) else {
        return;
    };
    let sent: usize = printed
        .strip_prefix("send() sent ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{printed}"));
    assert!(
        sent > 0 && sent < 64 * 1024 * 1024,
        "a partial send: {printed}"
    );
    assert!(
        printed.contains("sendall() timed out: timed out"),
        "{printed}"
    );
    println!("{printed}");
}
// ANCHOR_END: partial
