//! The event-loop server, `echo_server_events`: what it promises beyond the faults that every
//! server survives (those are in `tests/faults.rs`): many connections held on one thread, within
//! 2 KiB each; backpressure; the cap. Linux only (epoll).
#![cfg(target_os = "linux")]

mod echo_support;
mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use echo_support::{assert_answers, assert_second_served_while_first_idles, read_echo};
use socket_steps::echo::PREFIX;
use support::graders::{self, flood_without_reading, in_thread, InThread};
use support::{start_server, wait_for_line, LIMIT};

const EVENTS: &str = env!("CARGO_BIN_EXE_echo_server_events");

/// The server's resident memory (`VmRSS` in `/proc/PID/status`), in KiB.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .expect("the server's /proc status")
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .expect("a VmRSS line")
}

#[test]
fn ex17_1_an_added_socket_comes_back_with_its_token_when_ready() {
    use socket_steps::readiness::{Epoll, Interest};
    let (client, server, _, _) = support::socket_pair();
    let mut epoll = Epoll::new(8).unwrap();
    epoll.add(&server, 42, Interest::Read).unwrap();
    let quiet = epoll.wait(Some(Duration::ZERO)).unwrap();
    assert_eq!(
        quiet.len(),
        0,
        "nothing was sent yet, so nothing is ready: {quiet:?}"
    );
    (&client).write_all(b"x").unwrap();
    let ready = epoll.wait(Some(LIMIT)).unwrap();
    let tokens: Vec<u64> = ready.iter().map(|(token, _)| *token).collect();
    assert_eq!(
        tokens,
        vec![42],
        "the server side is readable, with the token we gave it"
    );
    assert!(ready[0].1.readable, "it is readable: {ready:?}");
}

#[test]
fn ex17_1_add_watches_for_the_interest_it_is_given() {
    use socket_steps::readiness::{Epoll, Interest};
    let (_client, server, _, _) = support::socket_pair();
    let mut epoll = Epoll::new(8).unwrap();
    epoll.add(&server, 7, Interest::Write).unwrap();
    let ready = epoll.wait(Some(LIMIT)).unwrap();
    assert_eq!(
        ready.len(),
        1,
        "a new connection has room to send: writable"
    );
    assert_eq!(ready[0].0, 7);
    assert!(ready[0].1.writable && !ready[0].1.readable, "{ready:?}");
    // Adding the same socket twice is the kernel's EEXIST: proof that add really added it.
    let again = epoll.add(&server, 8, Interest::Read);
    assert!(
        again.is_err(),
        "a second EPOLL_CTL_ADD of one socket must fail (EEXIST)"
    );
}

#[test]
fn ex17_2_send_reply_sends_prefix_and_piece_when_there_is_room() {
    use socket_steps::events::send_reply;
    let (client, server, _, _) = support::socket_pair();
    server.set_nonblocking(true).unwrap();
    let unsent = send_reply(&server, b"Hello network world").unwrap();
    assert_eq!(
        unsent,
        Vec::<u8>::new(),
        "the kernel had room for all of it"
    );
    read_echo_raw(&client, b"|From Server| Hello network world");
}

/// Reads exactly `expected.len()` bytes and compares.
fn read_echo_raw(client: &socket2::Socket, expected: &[u8]) {
    let mut got = vec![0; expected.len()];
    (&*client).read_exact(&mut got).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(expected)
    );
}

/// The client never reads until the end: replies back up. Whatever `send_reply` did not send it
/// must hand back, so that what the client receives plus what came back is every reply, in
/// order; and a full send buffer (WouldBlock) is not an error.
#[test]
fn ex17_2_send_reply_hands_back_what_the_kernel_did_not_take() {
    use socket_steps::events::send_reply;
    let (client, server, _, _) = support::socket_pair();
    server.set_nonblocking(true).unwrap();
    let mut sent_stream = Vec::new();
    let mut unsent = Vec::new();
    for round in 0..100_000u32 {
        let piece = vec![b'a' + (round % 26) as u8; 1000];
        sent_stream.extend_from_slice(b"|From Server| ");
        sent_stream.extend_from_slice(&piece);
        unsent = send_reply(&server, &piece).expect("a full send buffer is not an error");
        if !unsent.is_empty() {
            break;
        }
    }
    assert!(
        !unsent.is_empty(),
        "100 MB went out without the buffers ever filling"
    );
    assert!(
        unsent.len() <= 1014,
        "at most one reply (14 + 1000 bytes) can be left over, got {}",
        unsent.len()
    );
    drop(server); // FIN: the client reads to the end
    let mut received = Vec::new();
    (&client).read_to_end(&mut received).unwrap();
    received.extend_from_slice(&unsent);
    assert!(
        received == sent_stream,
        "what the client received ({} bytes) + what send_reply handed back ({}) is not every \
         reply in order ({} bytes)",
        received.len() - unsent.len(),
        unsent.len(),
        sent_stream.len()
    );
}

/// Once the buffers are full, the kernel takes nothing: `send` fails with EAGAIN (`WouldBlock`),
/// and the whole reply is what `send_reply` must hand back, as a success.
#[test]
fn ex17_2_a_full_send_buffer_is_not_an_error() {
    use socket_steps::events::send_reply;
    let (_client, server, _, _) = support::socket_pair();
    server.set_nonblocking(true).unwrap();
    let piece = vec![b'q'; 1000];
    for round in 0..100_000u32 {
        match send_reply(&server, &piece) {
            Ok(unsent) if unsent.len() == PREFIX.len() + piece.len() => return,
            Ok(_) => {}
            Err(error) => panic!(
                "round {round}: the client never reads, so the send buffer fills up and the \
                 kernel says EAGAIN ({error}); send_reply must hand back the whole reply \
                 (Ok with all 1014 bytes), not fail: the event loop sends it later"
            ),
        }
    }
    panic!("100,000 replies went out to a client that never reads: the buffers never filled");
}

#[test]
fn holds_a_thousand_connections_within_2_kib_each() {
    const CLIENTS: usize = 1000;
    let server = start_server(EVENTS, &["127.0.0.1:0", "--quiet"]);
    assert_answers(server.addr, "starting");
    let before = rss_kib(server.child.id());
    let mut clients: Vec<TcpStream> = (0..CLIENTS)
        .map(|_| support::connect(server.addr))
        .collect();
    // Every one of them is held, and answered: one round trip each.
    for (i, stream) in clients.iter_mut().enumerate() {
        let message = format!("client {i}");
        stream.write_all(message.as_bytes()).unwrap();
        read_echo(stream, message.as_bytes(), LIMIT)
            .unwrap_or_else(|e| panic!("client {i} of {CLIENTS}: {e}"));
    }
    let after = rss_kib(server.child.id());
    let per_connection = (after.saturating_sub(before) * 1024) as usize / CLIENTS;
    println!("{CLIENTS} connections: RSS {before} KiB -> {after} KiB, {per_connection} bytes each");
    assert!(
        per_connection <= 2048,
        "{per_connection} bytes of memory per connection (RSS {before} -> {after} KiB): more \
         than 2 KiB"
    );
    // And the first client is still served after the last connected.
    clients[0].write_all(b"still here").unwrap();
    read_echo(&mut clients[0], b"still here", LIMIT).expect("the first client, again");
}

/// A client that sends without reading: once its replies back up, the server stops reading from
/// it (its bytes wait in the kernel), and resumes when the client drains. Nothing is lost.
#[test]
fn backpressure_pauses_a_client_and_resumes_when_it_reads() {
    let server = start_server(EVENTS, &["127.0.0.1:0", "--write-timeout=20"]);
    let mut stream = support::connect(server.addr);
    // 2 MB: far more than the kernel's buffers on both sides hold, so the server must stop
    // reading from us for a while.
    let data: Vec<u8> = (0..2_000_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let mut writer = stream.try_clone().unwrap();
    let sending = {
        let data = data.clone();
        std::thread::spawn(move || {
            writer.write_all(&data).unwrap();
            writer.shutdown(std::net::Shutdown::Write).unwrap();
        })
    };
    // Meanwhile, the server answers others: it is not blocked by the one it paused.
    assert_answers(server.addr, "a client under backpressure");
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).unwrap();
    sending.join().unwrap();
    echo_support::check_echo(&reply, &data).unwrap_or_else(|e| panic!("{e}"));
    wait_for_line(&server.lines, "closed its side after 2000000 bytes");
}

/// After backpressure the idle timeout holds again, even when it is shorter than the write
/// timeout: a client that stopped reading, then took every reply and fell quiet, is closed once
/// it has been quiet for the idle timeout (it was kept until the reply's deadline, an hour here).
#[test]
fn after_backpressure_a_quiet_client_is_closed_after_the_idle_timeout() {
    let server = start_server(
        EVENTS,
        &["127.0.0.1:0", "--idle-timeout=1s", "--write-timeout=1h"],
    );
    let mut stream = support::connect(server.addr);
    // Twice as much data as the server's send buffer can ever hold (`tcp_wmem`'s maximum), and
    // ours grows only as we read: the replies cannot all wait in kernel buffers, so the server
    // must stop reading from us.
    let most_sent = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem")
        .ok()
        .and_then(|text| text.split_whitespace().nth(2)?.parse::<usize>().ok())
        .unwrap_or(4 << 20);
    let data: Vec<u8> = (0..2 * most_sent + (1 << 20))
        .map(|i| b'a' + (i % 26) as u8)
        .collect();
    let mut writer = stream.try_clone().unwrap();
    let sending = {
        let data = data.clone();
        std::thread::spawn(move || writer.write_all(&data))
    };
    // The client does not read for longer than the idle timeout (the scenario, not a wait for
    // the server): meanwhile the server holds a reply it cannot send.
    std::thread::sleep(Duration::from_millis(1500));
    // Then it takes every reply. Each prefix has two `|` and the data none: what is not prefix
    // is echoed data.
    let (mut reply, mut bars) = (Vec::new(), 0);
    let mut buffer = vec![0; 1 << 16];
    while reply.len() - bars / 2 * PREFIX.len() < data.len() {
        let got = stream.read(&mut buffer).expect("the replies");
        assert!(got > 0, "closed before the last reply");
        bars += buffer[..got].iter().filter(|&&b| b == b'|').count();
        reply.extend_from_slice(&buffer[..got]);
    }
    echo_support::check_echo(&reply, &data).unwrap_or_else(|e| panic!("{e}"));
    sending.join().unwrap().unwrap();
    // ...and falls quiet: closed after the idle timeout, long before LIMIT.
    let mut rest = [0; 16];
    let closed = stream.read(&mut rest);
    assert!(
        matches!(closed, Ok(0)),
        "a quiet client was not closed within {LIMIT:?} (idle timeout 1s): {closed:?}"
    );
    server.wait_for("timed out (quiet)");
}

#[test]
fn at_its_cap_it_stops_accepting_and_says_so() {
    let server = start_server(EVENTS, &["127.0.0.1:0", "--max-clients=2"]);
    let mut first = support::connect(server.addr);
    let mut second = support::connect(server.addr);
    for stream in [&mut first, &mut second] {
        stream.write_all(b"hi").unwrap();
        read_echo(stream, b"hi", LIMIT).unwrap();
    }
    wait_for_line(&server.lines, "at the cap: 2 connections held");
    // A third client connects (the kernel completes the handshake) but is not answered...
    let mut third = support::connect(server.addr);
    third.write_all(b"third").unwrap();
    third
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut buffer = [0; 64];
    assert!(
        third.read(&mut buffer).is_err(),
        "a third client was answered above the cap of 2"
    );
    // ...until one leaves: then it is accepted and served.
    drop(first);
    wait_for_line(&server.lines, "accepting again");
    read_echo(&mut third, b"third", LIMIT).expect("the third client, after one left");
}

/// Out of file descriptors with clients waiting, the loop stops watching the listener for
/// `ACCEPT_PAUSE` (100 ms), tries again, fails again: 50 tries in 5 s. The log says so twice
/// (failures 1 and 50), and nothing in between: resuming after each pause is not news (it
/// printed `accepting again` ten times a second, the whole log of the chapter's `ulimit -n 16`
/// experiment).
#[cfg(unix)]
#[test]
fn out_of_descriptors_the_log_stays_short() {
    let command = format!("ulimit -n 16 && exec '{EVENTS}' 127.0.0.1:0 --quiet");
    let server = start_server("sh", &["-c", &command]);
    // More clients than free descriptors: the kernel completes every handshake, and the rest
    // wait in the accept queue while `accept` fails with EMFILE.
    let _clients: Vec<TcpStream> = (0..20).map(|_| support::connect(server.addr)).collect();
    let first = server.wait_for("(failure 1 in a row)");
    assert!(first.contains("Too many open files"), "{first}");
    let deadline = std::time::Instant::now() + LIMIT;
    let mut between = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let line = server
            .lines
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no 50th failure within {LIMIT:?}; then: {between:?}"));
        if line.contains("(failure 50 in a row)") {
            break;
        }
        between.push(line);
    }
    assert!(
        between.is_empty(),
        "{} lines between the 1st and the 50th failed accept, e.g. {:?}",
        between.len(),
        between.first()
    );
}

#[test]
fn help_goes_to_stdout_and_bad_input_is_one_line() {
    let help = support::run(EVENTS, &["--help"]);
    support::assert_success(&help);
    assert!(support::stdout(&help).contains("--max-clients <N>"));
    let bad = support::run(EVENTS, &["--max-clients=none"]);
    let error = support::assert_clean_failure(&bad);
    assert!(error.contains("is not a number of clients"), "{error}");
}

/// `event_loop` narrates poll, then epoll: only the ready socket is served each time.
#[test]
fn the_event_loop_program_serves_whoever_is_ready() {
    let output = support::run(env!("CARGO_BIN_EXE_event_loop"), &["127.0.0.1:0"]);
    support::assert_success(&output);
    support::assert_contains_all(
        &support::stdout(&output),
        &[
            "poll([fd 3 POLLIN], 5s) -> 1 ready: fd 3 (listener) POLLIN",
            "-> 1 ready: fd 7 (B) POLLIN",
            "client B: recv -> '|From Server| from B'",
            "epoll_wait(5s) -> 1 event(s): token 1 EPOLLIN",
            "client A: recv -> '|From Server| from A'",
            "epoll_wait(50ms) -> 0 event(s)",
            "recv(fd 7, 1024) -> 0 bytes: end of file",
        ],
    );
}

/// The idle deadline comes from the timer heap: a quiet client is closed after it (we read end
/// of file), and the log says why; a client that keeps talking is not.
#[test]
fn a_quiet_client_is_closed_after_the_idle_timeout() {
    let server = start_server(EVENTS, &["127.0.0.1:0", "--idle-timeout=500ms"]);
    let mut quiet = support::connect(server.addr);
    quiet.write_all(b"hello").unwrap();
    read_echo(&mut quiet, b"hello", LIMIT).unwrap();
    let mut buffer = [0; 16];
    assert_eq!(
        quiet.read(&mut buffer).expect("end of file, not an error"),
        0,
        "the server should have closed the quiet client"
    );
    wait_for_line(&server.lines, "timed out (quiet)");
    assert_answers(server.addr, "an idle timeout");
}

// ---- Exercise 17.3: the seed's server with poll ------------------------------------------------

/// Runs `echo_with_poll` for `clients` clients in a thread. Its listener has no accept timeout
/// (see [`in_thread`]).
fn poll_server(clients: usize, write_timeout: Duration) -> InThread<std::io::Result<()>> {
    in_thread("echo_with_poll", None, move |listener| {
        socket_steps::readiness::echo_with_poll(listener, clients, write_timeout)
    })
}

/// The server must return once its clients have all gone, without an error.
#[track_caller]
fn assert_finished(server: InThread<std::io::Result<()>>) {
    if let Err(error) = server.returned(LIMIT, "its clients left") {
        panic!("echo_with_poll failed: {error}")
    }
}

#[test]
fn ex17_3_serves_a_second_client_while_the_first_idles() {
    let server = poll_server(2, LIMIT);
    let clients = assert_second_served_while_first_idles(
        server.addr,
        LIMIT,
        "the second client is answered while the first stays connected and quiet",
    );
    drop(clients);
    assert_finished(server);
}

#[test]
fn ex17_3_long_messages_and_one_byte_writes_come_back_whole() {
    let server = poll_server(1, LIMIT);
    let mut stream = support::connect(server.addr);
    let long: Vec<u8> = (0..3000u32).map(|i| b'a' + (i % 26) as u8).collect();
    stream.write_all(&long).unwrap();
    let reply = read_echo(&mut stream, &long, LIMIT).expect("3000 bytes, in pieces");
    let pieces = echo_support::check_echo(&reply, &long).unwrap();
    assert!(
        pieces >= 3,
        "recv(1024) takes 3000 bytes in 3 or more pieces, got {pieces}"
    );
    for byte in b"hello" {
        stream.write_all(&[*byte]).unwrap();
        read_echo(&mut stream, &[*byte], LIMIT).expect("one byte, one reply");
    }
    drop(stream);
    assert_finished(server);
}

#[test]
fn ex17_3_a_reset_does_not_stop_the_others() {
    let server = poll_server(2, LIMIT);
    let other = support::connect(server.addr);
    let resetting = support::connect(server.addr);
    (&resetting).write_all(&[b'x'; 50_000]).unwrap();
    graders::reset(resetting); // RST instead of FIN
    let mut other = other;
    other.write_all(b"after a reset").unwrap();
    read_echo(&mut other, b"after a reset", LIMIT).expect("the other client is still served");
    drop(other);
    assert_finished(server);
}

#[test]
fn ex17_3_a_client_that_never_reads_is_dropped_after_the_deadline() {
    let server = poll_server(2, Duration::from_secs(1));
    let kept = flood_without_reading(server.addr, &[b'y'; 64 * 1024]);
    let mut next = support::connect(server.addr);
    next.write_all(b"next").unwrap();
    read_echo(&mut next, b"next", LIMIT)
        .expect("the next client is served once the server gives up on the one that never reads");
    drop((next, kept));
    assert_finished(server);
}

#[test]
fn ex17_3_the_tutorials_python_client_talks_to_it() {
    let Some(python) = support::python3() else {
        return;
    };
    let server = poll_server(1, LIMIT);
    assert_eq!(
        graders::seed_client_output(python, server.addr),
        "Client received: b'|From Server| Hello network world'\n"
    );
    assert_finished(server);
}

/// The chapter's claim, checked: after a short read the event loop goes back to `epoll_wait`
/// without the `recvfrom` that would only say EAGAIN (level-triggered epoll reports the socket
/// again when more comes), so each message costs one `recvfrom` and one `sendmsg`: one call
/// fewer than tokio's edge-triggered loop (`each_await_is_a_readiness_wait_under_strace`).
#[cfg(target_os = "linux")]
#[test]
fn each_message_costs_one_recvfrom_and_one_sendmsg_under_strace() {
    let calls = "recvfrom,sendto,sendmsg";
    let Some(traced) = support::strace::start(EVENTS, &["127.0.0.1:0"], calls) else {
        return support::skip("strace is not installed (apt-get install strace)");
    };
    let mut client = support::connect(traced.server.addr);
    // Each message waits until the server, having answered the one before, sleeps in
    // `epoll_wait`: each arrives on its own, and whatever the server does after a reply (another
    // `recvfrom`, or none) is in the trace before the next message comes.
    for message in [&b"Hello network world"[..], b"and once more"] {
        client.write_all(message).unwrap();
        read_echo(&mut client, message, LIMIT).unwrap();
        traced.wait_until_idle_in_epoll_wait(LIMIT);
    }
    drop(client);
    wait_for_line(&traced.server.lines, "closed its side");
    let text = traced.finish();
    let receives: Vec<&str> = text.lines().filter(|l| l.contains("recvfrom(")).collect();
    assert_eq!(
        receives.len(),
        3,
        "one recvfrom per message, one for the end of file:\n{text}"
    );
    assert!(
        receives[0].contains("Hello network world") && receives[1].contains("and once more"),
        "{text}"
    );
    assert!(
        receives[2].ends_with("= 0"),
        "the last recvfrom is the end of file:\n{text}"
    );
    assert!(
        !text.contains("EAGAIN"),
        "no call waited for nothing:\n{text}"
    );
    let replies = text
        .lines()
        .filter(|l| l.contains("sendmsg(") && l.contains("|From Server| "))
        .count();
    assert_eq!(replies, 2, "one sendmsg per reply:\n{text}");
}
