//! Non-blocking sockets: each call that would wait says so at once (`WouldBlock`), a
//! non-blocking connect returns `EINPROGRESS` and reports its outcome through `SO_ERROR`, and
//! retrying at once costs calls where `poll` costs one.
//!
//! Unix only: the tests wait for readiness with our `poll(2)` wrapper, never with a sleep.
#![cfg(unix)]

mod support;

use std::io::ErrorKind;
use std::time::Duration;

use socket_steps::nonblocking::{
    is_in_progress, set_nonblocking, start_connect, try_accept, try_recv, try_send, Connecting,
};
use socket_steps::step2_bind::local_addr;
use socket_steps::step3_listen::listening_socket;
use support::LIMIT;

fn nonblocking_listener() -> (socket2::Socket, std::net::SocketAddr) {
    let listener = listening_socket("127.0.0.1:0".parse().unwrap(), 5).unwrap();
    set_nonblocking(&listener, true).unwrap();
    let addr = local_addr(&listener).unwrap();
    (listener, addr)
}

/// Waits (at most [`LIMIT`]) until `socket` is readable: with poll, never with a sleep.
fn wait_readable(socket: &socket2::Socket) {
    socket_steps::readiness::poll_one(socket, socket_steps::readiness::Interest::Read, Some(LIMIT))
        .unwrap();
}

#[test]
fn ex16_1_try_recv_says_none_while_nothing_has_arrived() {
    let (_client, server, _, _) = support::socket_pair();
    set_nonblocking(&server, true).unwrap();
    assert_eq!(
        try_recv(&server, 1024).expect("WouldBlock is not an error: it is Ok(None)"),
        None,
        "nothing was sent: try_recv must say `not yet` (Ok(None)), not Some(bytes)"
    );
}

#[test]
fn ex16_1_try_recv_returns_exactly_the_bytes_that_arrived() {
    let (client, server, _, _) = support::socket_pair();
    set_nonblocking(&server, true).unwrap();
    std::io::Write::write_all(&mut &client, b"Hello network world").unwrap();
    wait_readable(&server);
    assert_eq!(
        try_recv(&server, 1024).unwrap(),
        Some(b"Hello network world".to_vec()),
        "19 bytes were sent and are waiting"
    );
    std::io::Write::write_all(&mut &client, &[7; 3000]).unwrap();
    wait_readable(&server);
    let piece = try_recv(&server, 1024)
        .unwrap()
        .expect("3000 bytes are waiting");
    assert!(
        !piece.is_empty() && piece.len() <= 1024,
        "try_recv(1024) returned {} bytes",
        piece.len()
    );
}

#[test]
fn ex16_1_try_recv_returns_empty_at_end_of_file() {
    let (client, server, _, _) = support::socket_pair();
    set_nonblocking(&server, true).unwrap();
    drop(client);
    wait_readable(&server);
    assert_eq!(
        try_recv(&server, 1024).unwrap(),
        Some(Vec::new()),
        "the client closed: 0 bytes is end of file (Some(empty)), not `not yet` (None)"
    );
}

#[test]
fn ex16_2_finish_connect_is_ok_when_the_handshake_succeeded() {
    use socket_steps::nonblocking::finish_connect;
    let (listener, addr) = nonblocking_listener();
    let (client, _) = start_connect(addr).unwrap();
    assert!(
        finish_connect(&client, LIMIT).is_ok(),
        "someone listens at {addr}: the connect succeeded"
    );
    wait_readable(&listener);
    assert!(try_accept(&listener).unwrap().is_some());
}

#[test]
fn ex16_2_finish_connect_reports_a_refusal_from_so_error() {
    use socket_steps::nonblocking::finish_connect;
    let closed = socket_steps::step2_bind::create_and_bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = local_addr(&closed).unwrap();
    let (client, _) = start_connect(addr).expect("the connect starts (EINPROGRESS)");
    let result = finish_connect(&client, LIMIT);
    assert_eq!(
        result.as_ref().map_err(|e| e.kind()),
        Err(ErrorKind::ConnectionRefused),
        "nobody listens at {addr}: SO_ERROR holds ECONNREFUSED, got {result:?}"
    );
}

#[test]
fn accept_on_an_empty_queue_would_block_instead_of_waiting() {
    let (listener, _) = nonblocking_listener();
    assert!(
        try_accept(&listener).unwrap().is_none(),
        "accept found a client although nobody connected"
    );
    // The same call, as the kernel reports it: EAGAIN, which Rust calls WouldBlock.
    let error = listener.accept().expect_err("a client from nowhere");
    assert_eq!(error.kind(), ErrorKind::WouldBlock, "{error}");
}

#[test]
fn recv_would_block_until_data_comes_and_send_until_there_is_room() {
    let (client, server, _, _) = support::socket_pair();
    set_nonblocking(&server, true).unwrap();
    assert_eq!(
        try_recv(&server, 1024).unwrap(),
        None,
        "recv with nothing sent"
    );
    assert_eq!(try_send(&client, b"hello").unwrap(), Some(5));
    // Readable within the limit: we wait with poll, not with a sleep.
    socket_steps::readiness::poll_one(
        &server,
        socket_steps::readiness::Interest::Read,
        Some(LIMIT),
    )
    .unwrap();
    assert_eq!(try_recv(&server, 1024).unwrap(), Some(b"hello".to_vec()));
    // The client never reads: after enough sends the buffers are full and send would block.
    let chunk = vec![0; 64 * 1024];
    let mut taken = 0;
    while let Some(n) = try_send(&server, &chunk).unwrap() {
        taken += n;
        assert!(
            taken < 1 << 30,
            "the kernel took a gigabyte without blocking"
        );
    }
    assert!(taken > 0, "not even the first send was taken");
    // End of file is not WouldBlock: after the client closes, recv says 0 bytes.
    drop(client);
    socket_steps::readiness::poll_one(
        &server,
        socket_steps::readiness::Interest::Read,
        Some(LIMIT),
    )
    .unwrap();
    let end = try_recv(&server, 1024);
    assert!(
        matches!(&end, Ok(Some(piece)) if piece.is_empty()) || end.is_err(),
        "expected end of file (or a reset: we left bytes unread), got {end:?}"
    );
}

#[test]
fn a_nonblocking_connect_is_in_progress_then_so_error_says_how_it_went() {
    use socket_steps::nonblocking::finish_connect;
    let (listener, addr) = nonblocking_listener();
    let (client, how) = start_connect(addr).unwrap();
    // On Linux, even on loopback, connect returns before the handshake: EINPROGRESS.
    #[cfg(target_os = "linux")]
    assert_eq!(how, Connecting::InProgress);
    if how == Connecting::InProgress {
        finish_connect(&client, LIMIT).expect("the handshake succeeded");
    }
    socket_steps::readiness::poll_one(
        &listener,
        socket_steps::readiness::Interest::Read,
        Some(LIMIT),
    )
    .unwrap();
    assert!(
        try_accept(&listener).unwrap().is_some(),
        "the client is in the accept queue"
    );

    // A port where nobody listens: connect still starts, and SO_ERROR reports the refusal.
    let closed = socket_steps::step2_bind::create_and_bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let closed_addr = local_addr(&closed).unwrap();
    match start_connect(closed_addr) {
        Ok((client, _)) => {
            let error = finish_connect(&client, LIMIT).expect_err("connected to nobody");
            assert_eq!(error.kind(), ErrorKind::ConnectionRefused, "{error}");
            // Reading SO_ERROR cleared it.
            assert!(client.take_error().unwrap().is_none());
        }
        Err(error) => assert_eq!(error.kind(), ErrorKind::ConnectionRefused, "{error}"),
    }
}

#[test]
fn einprogress_is_recognised_by_its_number_not_its_kind() {
    let code = socket_steps::nonblocking::in_progress_code();
    assert!(is_in_progress(&std::io::Error::from_raw_os_error(code)));
    assert!(!is_in_progress(&std::io::Error::from(
        ErrorKind::WouldBlock
    )));
    #[cfg(target_os = "linux")]
    assert_eq!(code, 115, "EINPROGRESS on Linux");
}

/// Not a timed test: we check what each way of waiting *did* (calls made), and print the CPU
/// figures, which depend on the machine's load.
#[test]
fn retrying_at_once_makes_many_calls_where_poll_makes_one() {
    use socket_steps::nonblocking::{poll_for_recv, spin_on_recv};
    let (_client, server, _, _) = support::socket_pair();
    set_nonblocking(&server, true).unwrap();
    let interval = Duration::from_millis(100);
    let spin = spin_on_recv(&server, interval).unwrap();
    let poll = poll_for_recv(&server, interval).unwrap();
    println!("spinning: {spin:?}\npoll: {poll:?}");
    assert!(
        spin.calls > 1,
        "the spinning loop made {} calls",
        spin.calls
    );
    assert_eq!(poll.calls, 1);
    assert!(
        poll.waited >= interval,
        "poll returned early: {:?}",
        poll.waited
    );
    #[cfg(target_os = "linux")]
    assert!(
        spin.cpu.is_some() && poll.cpu.is_some(),
        "no CPU time from /proc"
    );
}

#[test]
fn the_program_narrates_each_call() {
    let output = support::run(env!("CARGO_BIN_EXE_nonblocking"), &["127.0.0.1:0"]);
    support::assert_success(&output);
    support::assert_contains_all(
        &support::stdout(&output),
        &[
            "accept(fd 3) -> EAGAIN (Rust: ErrorKind::WouldBlock)",
            "-> EINPROGRESS (os error",
            "SO_ERROR) -> 0: connected",
            "recv(fd 5, 1024) -> EAGAIN: nothing has arrived yet",
            "recv(fd 5, 1024) -> 19 bytes: 'Hello network world'",
            "SO_ERROR) -> Connection refused",
            "measured: recv again at once:",
            "measured: one poll: 1 call in",
        ],
    );
}
