//! `echo_server_async`: the seed's protocol on tokio, one thread for every client, and each
//! `.await` a readiness event underneath (checked with `strace`).

mod echo_support;
mod support;

use std::io::{Read, Write};

use echo_support::read_echo;
use support::{start_server, wait_for_line, LIMIT};

const ASYNC: &str = env!("CARGO_BIN_EXE_echo_server_async");

#[test]
fn one_thread_serves_many_clients_while_one_idles() {
    let server = start_server(ASYNC, &["127.0.0.1:0"]);
    let mut idle = support::connect(server.addr);
    idle.write_all(b"first").unwrap();
    read_echo(&mut idle, b"first", LIMIT).expect("the first client is answered");
    // Ten more clients at once, all connected together, each answered while the first idles.
    let mut others: Vec<_> = (0..10).map(|_| support::connect(server.addr)).collect();
    for (i, other) in others.iter_mut().enumerate() {
        let message = format!("client {i}");
        other.write_all(message.as_bytes()).unwrap();
        read_echo(other, message.as_bytes(), LIMIT)
            .unwrap_or_else(|e| panic!("client {i} got no answer while one client idled: {e}"));
    }
    // Eleven clients connected, and the server is one thread (Linux shows it in /proc).
    #[cfg(target_os = "linux")]
    {
        let status = std::fs::read_to_string(format!("/proc/{}/status", server.child.id()))
            .expect("the server's /proc status");
        let threads = status
            .lines()
            .find_map(|line| line.strip_prefix("Threads:"))
            .map(str::trim);
        assert_eq!(threads, Some("1"), "the server's threads, with 11 clients");
    }
    idle.write_all(b"still here").unwrap();
    read_echo(&mut idle, b"still here", LIMIT).expect("the idle client is still served");
}

#[test]
fn the_async_server_closes_an_idle_client_after_its_timeout() {
    let server = start_server(ASYNC, &["127.0.0.1:0", "--idle-timeout=0.5"]);
    let mut idle = support::connect(server.addr);
    idle.write_all(b"hello").unwrap();
    read_echo(&mut idle, b"hello", LIMIT).unwrap();
    let mut buffer = [0; 16];
    assert_eq!(idle.read(&mut buffer).expect("EOF, not an error"), 0);
    wait_for_line(&server.lines, "timed out");
}

#[test]
fn help_goes_to_stdout_and_bad_options_fail_cleanly() {
    let help = support::run(ASYNC, &["--help"]);
    support::assert_success(&help);
    assert!(support::stdout(&help).contains("--max-clients <N>"));
    let bad = support::run(ASYNC, &["--max-clients=none"]);
    let error = support::assert_clean_failure(&bad);
    assert!(error.contains("not a number of clients"), "{error}");
}

/// The chapter's claim, checked: tokio's `accept().await` is `accept4` that fails with EAGAIN,
/// then `epoll_wait` until the listener is readable, then `accept4` again; each connection is
/// registered once (`epoll_ctl` ADD) and each reply is one `recvfrom` and one `sendto`, with no
/// wait in between when the kernel takes the reply at once.
#[cfg(target_os = "linux")]
#[test]
fn each_await_is_a_readiness_wait_under_strace() {
    let calls = "epoll_ctl,epoll_wait,epoll_pwait,epoll_pwait2,accept4,recvfrom,sendto";
    let Some(traced) = support::strace::start(ASYNC, &["127.0.0.1:0"], calls) else {
        return support::skip("strace is not installed (apt-get install strace)");
    };
    let mut client = support::connect(traced.server.addr);
    client.write_all(b"Hello network world").unwrap();
    read_echo(&mut client, b"Hello network world", LIMIT).unwrap();
    // We close only once the server's task has gone back to sleep (its next `recvfrom` found
    // nothing), so that the trace always tells the same story.
    traced.wait_until("an EAGAIN in the trace", LIMIT, |log| {
        log.split("|From Server| ").nth(1).is_some_and(|after| {
            after
                .lines()
                .any(|l| l.contains("recvfrom(") && l.contains("EAGAIN"))
        })
    });
    drop(client);
    wait_for_line(&traced.server.lines, "closed its side");
    let text = traced.finish();
    // Everything the server did, in order.
    let trace = support::strace::InOrder { text: &text };
    let position = |needle: &str, from: usize| trace.position(needle, from);
    let line_at = |at: usize| trace.line_at(at);
    // The runtime waits for the listener to be readable (`epoll_wait`), and only then accepts
    // (`accept4`, which makes the new socket non-blocking at once)...
    let waited = position("epoll_wait(", 0);
    let accepted = position("accept4(", waited);
    assert!(
        line_at(accepted).contains("SOCK_NONBLOCK"),
        "{}",
        line_at(accepted)
    );
    assert!(
        !line_at(accepted).contains("EAGAIN"),
        "{}",
        line_at(accepted)
    );
    // ...registers the connection, once...
    let registered = position("epoll_ctl(", accepted);
    assert!(
        line_at(registered).contains("EPOLL_CTL_ADD"),
        "{}",
        line_at(registered)
    );
    // ...and once it is readable, one `recvfrom` and, at once, one `sendto`: no wait between.
    let received = position("recvfrom(", registered);
    assert!(
        line_at(received).contains("Hello network world"),
        "{}",
        line_at(received)
    );
    let replied = position("sendto(", received);
    assert!(
        line_at(replied).contains("|From Server| Hello"),
        "{}",
        line_at(replied)
    );
    assert!(!text[received..replied].contains("epoll_wait"), "{text}");
    // The next `recvfrom` finds nothing (EAGAIN): the task sleeps until `epoll_wait` says the
    // connection is readable again, here because the client closed (EPOLLRDHUP): 0 bytes.
    let empty = position("recvfrom(", replied);
    assert!(line_at(empty).contains("EAGAIN"), "{}", line_at(empty));
    let woken = position("epoll_wait(", empty);
    assert!(line_at(woken).contains("EPOLLRDHUP"), "{}", line_at(woken));
    let end = position("recvfrom(", woken);
    assert!(line_at(end).ends_with("= 0"), "{}", line_at(end));
    let gone = position("epoll_ctl(", end);
    assert!(line_at(gone).contains("EPOLL_CTL_DEL"), "{}", line_at(gone));
}
