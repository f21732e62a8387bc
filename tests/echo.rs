//! The seed's echo demo: `|From Server| ` + each piece, one client at a time, forever.
//!
//! Run: `cargo test --test echo`. The Python tests run the tutorial's own programs (ported to
//! Python 3, in `tests/python/`) against ours, when `python3` is installed.

mod support;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::thread;

use pretty_assertions::assert_eq;
use socket_steps::echo::{serve_forever, PREFIX, WRITE_TIMEOUT};
use socket_steps::step2_bind::local_addr;
use socket_steps::step3_listen::listening_socket;

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
    let port = server.addr.port().to_string();
    let output = support::run(
        python,
        &[&support::python_file("seed_client.py"), "127.0.0.1", &port],
    );
    support::assert_success(&output);
    assert_eq!(
        support::stdout(&output),
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
