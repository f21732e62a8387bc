//! The seed's echo demo: `|From Server| ` + each piece, one client at a time, forever.
//!
//! Run: `cargo test --test echo`. The Python tests run the tutorial's own programs (ported to
//! Python 3, in `tests/python/`) against ours, when `python3` is installed.

mod echo_support;
mod support;

use echo_support::{check_echo, read_echo};
use support::graders::{self, flood_without_reading, in_thread, InThread, SOON};

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::thread;
use std::time::Duration;

use pretty_assertions::assert_eq;
use socket_steps::client::SEED_MESSAGE;
use socket_steps::echo::{serve_clients, serve_connection, serve_forever, PREFIX, WRITE_TIMEOUT};
use socket_steps::step2_bind::local_addr;
use socket_steps::step3_listen::listening_socket;
use socket_steps::step4_accept::accept;

const SERVER: &str = env!("CARGO_BIN_EXE_echo_server");
const CLIENT: &str = env!("CARGO_BIN_EXE_echo_client");

/// The seed's server loop in a thread, for `clients` clients.
fn start_echo(clients: usize) -> SocketAddr {
    let listener = listening_socket("127.0.0.1:0".parse().unwrap(), 5).unwrap();
    let addr = local_addr(&listener).unwrap();
    thread::spawn(move || serve_forever(&listener, Some(clients), WRITE_TIMEOUT, |_| {}));
    addr
}

/// Sends `message`, closes our sending side, and reads everything until the server closes.
fn send_and_read_all(addr: SocketAddr, message: &[u8]) -> Vec<u8> {
    let mut stream = support::connect(addr);
    stream.write_all(message).unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    answer
}

/// Splits an answer into the pieces the server echoed, checking each starts with the prefix.
fn pieces(answer: &[u8]) -> Vec<Vec<u8>> {
    assert!(
        answer.starts_with(PREFIX),
        "the answer must start with the prefix"
    );
    let text = answer.to_vec();
    let mut result = Vec::new();
    let mut rest = &text[PREFIX.len()..];
    while let Some(at) = rest.windows(PREFIX.len()).position(|w| w == PREFIX) {
        result.push(rest[..at].to_vec());
        rest = &rest[at + PREFIX.len()..];
    }
    result.push(rest.to_vec());
    result
}

#[test]
fn hello_network_world_round_trip() {
    let addr = start_echo(1);
    let mut stream = support::connect(addr);
    stream.write_all(b"Hello network world").unwrap();
    let mut answer = [0; 1024];
    let n = stream.read(&mut answer).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&answer[..n]),
        "|From Server| Hello network world"
    );
}

#[test]
fn a_long_message_comes_back_complete_as_prefixed_pieces() {
    let addr = start_echo(1);
    // Letters only, so the prefix cannot appear inside the message.
    let message: Vec<u8> = (0..3000).map(|i| b'a' + (i % 26) as u8).collect();
    let answer = send_and_read_all(addr, &message);
    let pieces = pieces(&answer);
    assert!(
        pieces.len() >= 3,
        "3000 bytes through recv(1024) make at least 3 pieces"
    );
    assert!(pieces.iter().all(|p| !p.is_empty() && p.len() <= 1024));
    assert_eq!(pieces.concat(), message, "every byte, in order");
}

#[test]
fn the_server_serves_the_next_client_after_an_abrupt_disconnect() {
    let addr = start_echo(2);
    // The first client sends, then resets the connection (SO_LINGER 0 makes close send RST).
    let rude = socket2::Socket::from(support::connect(addr));
    rude.send(b"half a message").unwrap();
    rude.set_linger(Some(std::time::Duration::ZERO)).unwrap();
    drop(rude);
    let answer = send_and_read_all(addr, b"Hello network world");
    assert_eq!(answer, b"|From Server| Hello network world");
}

#[test]
fn the_binaries_talk_to_each_other() {
    let server = support::start_server(SERVER, &["127.0.0.1:0"]);
    let addr = server.addr.to_string();
    let output = support::run(CLIENT, &[&addr]);
    support::assert_success(&output);
    assert_eq!(
        support::stdout(&output),
        "Client received: '|From Server| Hello network world'\n"
    );
    let connected = support::wait_for_line(&server.lines, "Server connected by");
    assert!(
        connected.starts_with("Server connected by ('127.0.0.1', "),
        "{connected}"
    );
    support::wait_for_line(&server.lines, "closed after 19 bytes");
    // Forever, as the seed: a second client is served too.
    let again = support::run(CLIENT, &[&addr, "again"]);
    assert_eq!(
        support::stdout(&again),
        "Client received: '|From Server| again'\n"
    );
}

#[test]
fn the_server_says_why_it_binds_loopback() {
    let server = support::start_server(SERVER, &["127.0.0.1:0"]);
    support::wait_for_line(&server.lines, "the tutorial binds '' (every interface)");
}

#[test]
fn a_port_in_use_is_a_clear_error() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = holder.local_addr().unwrap().to_string();
    let output = support::run(SERVER, &[&taken]);
    let error = support::assert_clean_failure(&output);
    assert!(error.contains("is already in use"), "{error}");
    assert!(
        error.contains("cargo run --bin echo_server -- 127.0.0.1:"),
        "{error}"
    );
}

#[test]
fn the_tutorials_python_client_talks_to_our_server() {
    let Some(python) = support::python3() else {
        return;
    };
    let server = support::start_server(SERVER, &["127.0.0.1:0"]);
    assert_eq!(
        graders::seed_client_output(python, server.addr),
        "Client received: b'|From Server| Hello network world'\n"
    );
}

#[test]
fn our_client_talks_to_the_tutorials_python_server() {
    let Some(python) = support::python3() else {
        return;
    };
    let server = support::start_server(
        python,
        &[&support::python_file("seed_server.py"), "127.0.0.1", "0"],
    );
    let output = support::run(CLIENT, &[&server.addr.to_string()]);
    support::assert_success(&output);
    assert_eq!(
        support::stdout(&output),
        "Client received: '|From Server| Hello network world'\n"
    );
}

// ANCHOR: python_after_step6
/// Step 6's server closes first, so its side of the connection stays in TIME_WAIT for 60 s. The
/// tutorial's Python server does not set `SO_REUSEADDR`, so on that same port it fails with
/// `Errno 98` until the TIME_WAIT is gone (ours set the option and bind at once).
#[test]
#[cfg(target_os = "linux")]
fn right_after_step_6_the_tutorials_python_server_cannot_bind_its_port() {
    let Some(python) = support::python3() else {
        return;
    };
    let step6 = support::run(
        env!("CARGO_BIN_EXE_step6_close"),
        &["127.0.0.1:0", "--with-client"],
    );
    support::assert_success(&step6);
    let text = support::stdout(&step6);
    let port = text
        .split("listening on 127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .expect("step 6 says where it listens");
    let output = support::run(
        python,
        &[&support::python_file("seed_server.py"), "127.0.0.1", port],
    );
    assert!(!output.status.success());
    let error = support::stderr(&output);
    assert!(
        error.contains("[Errno 98] Address already in use"),
        "{error}"
    );
}
// ANCHOR_END: python_after_step6

// ---- Exercise 8.1: the seed's server for one client, by hostile clients ----------------------

/// `serve_connection` for the first client of a fresh listener, in a thread.
fn one_client(write_timeout: Duration) -> InThread<io::Result<u64>> {
    in_thread("serve_connection", Some(support::LIMIT), move |listener| {
        accept(listener).and_then(|(connection, _)| serve_connection(&connection, write_timeout))
    })
}

#[test]
fn ex8_1_answers_the_seeds_hello_and_returns_the_bytes_received() {
    let server = one_client(support::LIMIT);
    let mut stream = support::connect(server.addr);
    stream.write_all(SEED_MESSAGE.as_bytes()).unwrap();
    let reply = read_echo(&mut stream, SEED_MESSAGE.as_bytes(), SOON)
        .unwrap_or_else(|e| panic!("no whole echo of {SEED_MESSAGE:?}: {e}"));
    assert_eq!(
        String::from_utf8_lossy(&reply),
        "|From Server| Hello network world",
        "one recv(1024) of the 19 bytes, one reply: the prefix and the bytes"
    );
    drop(stream); // close: the server's recv returns 0 bytes
    match server.returned(SOON, "its client closed") {
        Ok(received) => assert_eq!(
            received, 19,
            "serve_connection returns how many bytes it received (19) once the client closed"
        ),
        Err(error) => panic!("the client closed cleanly, yet serve_connection failed: {error}"),
    }
}

#[test]
fn ex8_1_one_byte_writes_get_one_reply_each() {
    let server = one_client(support::LIMIT);
    let mut stream = support::connect(server.addr);
    stream.set_nodelay(true).unwrap(); // each byte its own segment
    for byte in b"hello" {
        stream.write_all(&[*byte]).unwrap();
        let reply = read_echo(&mut stream, &[*byte], SOON).unwrap_or_else(|e| {
            panic!(
                "after writing the single byte {:?} (and waiting for each earlier one's reply) \
                 the client got no reply ({e}): serve the client until it closes, not just \
                 its first piece",
                *byte as char
            )
        });
        assert_eq!(reply, [PREFIX, &[*byte]].concat());
    }
    drop(stream);
    assert_eq!(
        server.returned(SOON, "its client closed").ok(),
        Some(5),
        "5 bytes received"
    );
}

#[test]
fn ex8_1_a_3000_byte_message_comes_back_in_prefixed_pieces_of_at_most_1024() {
    let server = one_client(support::LIMIT);
    let long: Vec<u8> = (0..3000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let mut stream = support::connect(server.addr);
    stream.write_all(&long).unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    let mut reply = Vec::new();
    stream
        .read_to_end(&mut reply)
        .expect("the server answers and closes");
    let pieces = check_echo(&reply, &long).unwrap_or_else(|problem| {
        panic!(
            "3000 bytes sent, {} bytes came back before the server closed: {problem}. \
             Expected the seed's answer: each recv(1024) answered with the prefix and what it \
             received",
            reply.len()
        )
    });
    assert!(
        pieces >= 3,
        "recv(1024) takes 3000 bytes in 3 or more pieces, each answered with its own prefix: \
         got {pieces} prefixed pieces"
    );
    assert_eq!(server.returned(SOON, "its client closed").ok(), Some(3000));
}

#[test]
fn ex8_1_a_reset_is_the_error_it_returns() {
    let server = one_client(support::LIMIT);
    let mut stream = support::connect(server.addr);
    stream.write_all(b"then a reset").unwrap();
    read_echo(&mut stream, b"then a reset", SOON).expect("the echo before the reset");
    graders::reset(stream);
    match server.returned(SOON, "its client reset the connection") {
        Err(error) => assert_eq!(
            error.kind(),
            io::ErrorKind::ConnectionReset,
            "the client reset the connection (RST); the kernel's recv said: {error}"
        ),
        Ok(received) => panic!(
            "the client reset the connection (RST), and recv failed with ECONNRESET; \
             serve_connection returned Ok({received}) as if it had closed cleanly: return the \
             error, so that the server's log says what happened"
        ),
    }
}

#[test]
fn ex8_1_a_client_that_never_reads_is_given_up_after_the_write_timeout() {
    let server = one_client(Duration::from_secs(1));
    let _kept = flood_without_reading(server.addr, &[b'y'; 64 * 1024]);
    match server.returned(SOON, "the write timeout (1 s) of a client that never reads") {
        Err(error) => assert_eq!(
            error.kind(),
            io::ErrorKind::TimedOut,
            "the client never read its replies; after 1 s, serve_connection should fail with \
             TimedOut, not: {error}"
        ),
        Ok(received) => {
            panic!("the client never read a reply, yet serve_connection returned Ok({received})")
        }
    }
}

#[test]
fn ex8_1_the_tutorials_python_client_talks_to_it() {
    let Some(python) = support::python3() else {
        return;
    };
    let server = one_client(support::LIMIT);
    assert_eq!(
        graders::seed_client_output(python, server.addr),
        "Client received: b'|From Server| Hello network world'\n",
        "the seed's own client, against serve_connection"
    );
    assert_eq!(
        server.returned(SOON, "the Python client closed").ok(),
        Some(19)
    );
}

// ---- Exercise 8.2: a reset ends a client, not the server ---------------------------------------

/// `serve_clients(clients)` on a fresh listener, in a thread.
fn serial(clients: usize, write_timeout: Duration) -> InThread<io::Result<usize>> {
    in_thread("serve_clients", Some(support::LIMIT), move |listener| {
        serve_clients(listener, clients, write_timeout)
    })
}

/// What `serve_clients` returned, once its last client has gone.
#[track_caller]
fn clean_clients(server: InThread<io::Result<usize>>) -> usize {
    match server.returned(SOON, "its last client") {
        Ok(clean) => clean,
        Err(error) => panic!("serve_clients failed: {error}"),
    }
}

#[test]
fn ex8_2_a_client_that_resets_does_not_stop_the_server() {
    let server = serial(2, support::LIMIT);
    let mut first = support::connect(server.addr);
    let mut second = support::connect(server.addr); // waits in the accept queue meanwhile
    first.write_all(b"first").unwrap();
    read_echo(&mut first, b"first", SOON).expect("the first client is answered");
    graders::reset(first); // the server's recv fails with ECONNRESET
    second.write_all(b"second").unwrap();
    if let Err(error) = read_echo(&mut second, b"second", SOON) {
        panic!(
            "the first client reset its connection (ECONNRESET in the server's recv); the second \
             one, waiting in the accept queue, got no answer ({error}). serve_clients \
             {}: one client's failure must end that client's connection only",
            match server.returned_yet() {
                Some(Ok(clean)) => format!("returned Ok({clean}) already"),
                Some(Err(e)) => format!("returned the error: {e}"),
                None => "has not returned".to_string(),
            }
        );
    }
    drop(second);
    assert_eq!(
        clean_clients(server),
        1,
        "of the two clients one ended cleanly: the other reset its connection"
    );
}

#[test]
fn ex8_2_a_client_that_never_reads_does_not_stop_the_server() {
    let server = serial(2, Duration::from_secs(1));
    let socket = flood_without_reading(server.addr, &[b'y'; 64 * 1024]);
    let mut next = support::connect(server.addr);
    next.write_all(b"next").unwrap();
    read_echo(&mut next, b"next", SOON).expect(
        "the next client is answered once the server has given up on the one that never reads \
         (its write timeout, 1 s)",
    );
    drop((next, socket));
    assert_eq!(
        clean_clients(server),
        1,
        "one client ended cleanly; the other missed its write timeout"
    );
}

#[test]
fn ex8_2_clients_that_close_cleanly_are_all_counted() {
    let server = serial(3, support::LIMIT);
    for n in 0..3 {
        answered(server.addr, &format!("client {n}"));
    }
    assert_eq!(
        clean_clients(server),
        3,
        "three clients, each closed cleanly"
    );
}

/// One client: a message, its echo, close.
fn answered(addr: SocketAddr, message: &str) {
    let mut stream = support::connect(addr);
    stream.write_all(message.as_bytes()).unwrap();
    read_echo(&mut stream, message.as_bytes(), SOON)
        .unwrap_or_else(|e| panic!("no echo of {message:?}: {e}"));
}
