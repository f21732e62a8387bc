//! Step 5, process: `send(2)` and `recv(2)` move bytes; TCP keeps no message boundaries.
//!
//! Grades exercises 5.1 (`ex5_1_*`) and 5.2 (`ex5_2_*`). Run: `cargo test --test step5_process`.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::Duration;

use pretty_assertions::assert_eq;
use socket2::Socket;
use socket_steps::step2_bind::local_addr;
use socket_steps::step3_listen::listening_socket;
use socket_steps::step5_process::{recv, send, send_all, RECV_SIZE};
use socket_steps::step6_close::finish_sending;
use support::connect_socket as connect;

const STEP5: &str = env!("CARGO_BIN_EXE_step5_process");

/// A connected pair on loopback: (client, server side), both with timeouts.
fn connected_pair() -> (Socket, Socket) {
    let (client, server, _, _) = support::socket_pair();
    (client, server)
}

#[test]
fn ex5_1_recv_returns_what_was_sent() {
    let (client, server) = connected_pair();
    assert_eq!(send(&client, b"Hello network world").unwrap(), 19);
    assert_eq!(
        recv(&server, RECV_SIZE).unwrap(),
        b"Hello network world",
        "recv returns the bytes the client sent, and only those"
    );
}

#[test]
fn ex5_1_recv_takes_at_most_max_and_leaves_the_rest_buffered() {
    let (client, server) = connected_pair();
    let message: Vec<u8> = (0..2500u32).map(|i| (i % 251) as u8).collect();
    // std's write_all, not our send_all: that is exercise 5.2, which comes after this one.
    (&client).write_all(&message).unwrap();
    let mut received = Vec::new();
    let mut pieces = 0;
    while received.len() < message.len() {
        let piece = recv(&server, RECV_SIZE).unwrap();
        assert!(
            !piece.is_empty(),
            "the client has not closed: recv must not return 0 bytes"
        );
        assert!(
            piece.len() <= RECV_SIZE,
            "recv({RECV_SIZE}) returned {} bytes",
            piece.len()
        );
        received.extend_from_slice(&piece);
        pieces += 1;
    }
    assert_eq!(
        received, message,
        "the rest stayed buffered, in order, for the next recv"
    );
    assert!(
        pieces >= 3,
        "2500 bytes cannot fit in fewer than three recv(1024)"
    );
}

#[test]
fn ex5_1_recv_returns_nothing_at_end_of_file() {
    let (client, server) = connected_pair();
    finish_sending(&client).unwrap();
    assert_eq!(
        recv(&server, RECV_SIZE).unwrap(),
        b"",
        "after the peer's FIN, recv returns no bytes: the end of the stream"
    );
}

#[test]
fn send_counts_bytes_not_characters() {
    let (client, server) = connected_pair();
    assert_eq!(send(&client, "你好".as_bytes()).unwrap(), 6);
    assert_eq!(recv(&server, RECV_SIZE).unwrap(), "你好".as_bytes());
}

/// How the sending side of [`slow_connection`] stops part way.
#[derive(Clone, Copy)]
enum Sender {
    /// Non-blocking (`O_NONBLOCK`): `send(2)` takes what fits in the buffer and returns that
    /// count at once, on every system.
    NonBlocking,
    /// A send timeout (`SO_SNDTIMEO`): a blocking `send(2)` that has waited that long returns
    /// what it managed to queue (Linux, macOS). Windows fails such a send with `WSAETIMEDOUT`
    /// instead, and leaves the socket unusable, so there the sender just blocks.
    Timeout(Duration),
}

/// A connection whose sender fills up: small buffers on both sides and a reader that drains
/// slowly, so one `send` of 4 MiB cannot be taken at once.
fn slow_connection(sender: Sender) -> (Socket, thread::JoinHandle<Vec<u8>>) {
    let listener = listening_socket("127.0.0.1:0".parse().unwrap(), 1).unwrap();
    // Accepted sockets inherit the listener's receive buffer size.
    listener.set_recv_buffer_size(16 * 1024).unwrap();
    let addr = local_addr(&listener).unwrap();
    let client = connect(addr, support::LIMIT).unwrap();
    client.set_send_buffer_size(16 * 1024).unwrap();
    match sender {
        Sender::NonBlocking => client.set_nonblocking(true).unwrap(),
        Sender::Timeout(_) if cfg!(windows) => {}
        Sender::Timeout(timeout) => client.set_write_timeout(Some(timeout)).unwrap(),
    }
    let (server, _) = listener.accept().unwrap();
    server.set_read_timeout(Some(support::LIMIT)).unwrap();
    let reader = thread::spawn(move || {
        let mut stream = TcpStream::from(server);
        let mut received = Vec::new();
        let mut chunk = [0; 8 * 1024];
        loop {
            let n = stream.read(&mut chunk).expect("read");
            if n == 0 {
                return received;
            }
            received.extend_from_slice(&chunk[..n]);
            // Pacing, not synchronisation: a slow reader makes the sender's buffer fill up.
            thread::sleep(Duration::from_millis(2));
        }
    });
    (client, reader)
}

#[test]
fn ex5_2_send_all_sends_every_byte_even_when_send_is_partial() {
    // On Linux and macOS each timed-out `send` returns part of the data, so a `send_all` that
    // calls `send` once loses the rest. (On Windows a blocking `send` takes everything, so there
    // this test cannot tell one `send` from a loop: the grading happens on Linux and macOS.)
    let (client, reader) = slow_connection(Sender::Timeout(Duration::from_millis(500)));
    let message: Vec<u8> = (0..4 * 1024 * 1024u32).map(|i| (i % 253) as u8).collect();
    send_all(&client, &message).expect("send_all");
    finish_sending(&client).unwrap();
    let received = reader.join().unwrap();
    assert_eq!(received.len(), message.len(), "every byte must arrive");
    assert!(received == message, "the bytes must arrive in order");
}

#[test]
fn one_send_may_take_only_part_of_the_data() {
    // This is why send_all exists: a non-blocking send(2) takes what fits and says how much.
    let (client, reader) = slow_connection(Sender::NonBlocking);
    let big = vec![7u8; 4 * 1024 * 1024];
    let sent = send(&client, &big).unwrap();
    assert!(
        sent < big.len(),
        "send took all {} bytes at once",
        big.len()
    );
    finish_sending(&client).unwrap();
    assert_eq!(
        reader.join().unwrap().len(),
        sent,
        "the peer got exactly what send reported"
    );
}

#[test]
#[cfg(not(windows))]
fn a_blocking_send_with_a_timeout_returns_what_it_queued() {
    // Linux and macOS: a blocking send(2) that hits SO_SNDTIMEO after queueing some bytes returns
    // that count (Windows fails it with WSAETIMEDOUT instead).
    let (client, reader) = slow_connection(Sender::Timeout(Duration::from_millis(200)));
    let big = vec![7u8; 4 * 1024 * 1024];
    let sent = send(&client, &big).unwrap();
    assert!(
        0 < sent && sent < big.len(),
        "send returned {sent} of {}",
        big.len()
    );
    finish_sending(&client).unwrap();
    assert_eq!(reader.join().unwrap().len(), sent);
}

#[test]
fn the_binary_shows_recv_taking_a_long_message_in_pieces() {
    let output = support::run(STEP5, &["127.0.0.1:0", "--with-client"]);
    support::assert_success(&output);
    let text = support::stdout(&output);
    support::assert_contains_all(
        &text,
        &[
            "server: recv(fd 5, 1024) -> 19 bytes: 'Hello network world'",
            "server: send(fd 5, 33 bytes) -> 33",
            "client: recv(fd 4, 1024) -> '|From Server| Hello network world'",
            "client: send(fd 4, \"你好\") -> 6",
            "server: recv(fd 5, 1024) -> 1024 bytes, 1476 still buffered",
            "server: recv(fd 5, 1024) -> 452 bytes, 0 still buffered",
            "Next: end a connection properly: cargo run --bin step6_close",
        ],
    );
}

#[test]
fn the_binary_serves_a_client_from_another_terminal_like_the_seed() {
    let mut server = support::start_server(STEP5, &["127.0.0.1:0"]);
    let client = support::run(env!("CARGO_BIN_EXE_client"), &[&server.addr.to_string()]);
    support::assert_success(&client);
    let text = support::stdout(&client);
    assert!(
        text.contains("recv(fd 3, 1024) -> '|From Server| Hello network world'"),
        "{text}"
    );
    support::wait_for_line(
        &server.lines,
        "recv(fd 4, 1024) -> 19 bytes: 'Hello network world'",
    );
    support::wait_for_line(&server.lines, "recv(fd 4, 1024) -> 0 bytes");
    assert!(
        server.wait_for_exit(),
        "step5_process should end after its client"
    );
}
