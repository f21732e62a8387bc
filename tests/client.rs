//! The client: `connect(2)` to a listening server, exchange, close.
//!
//! Grades exercise 7.1 (`ex7_1_*`). Run: `cargo test --test client`.

mod support;

use std::io::ErrorKind;
use std::net::{SocketAddr, TcpListener};
use std::thread;

use pretty_assertions::assert_eq;
use socket_steps::client::{connect, connect_any, exchange, SEED_MESSAGE};
use socket_steps::echo::{serve_forever, WRITE_TIMEOUT};
use socket_steps::step1_create::create_tcp_socket;
use socket_steps::step2_bind::{bind, local_addr};
use socket_steps::step3_listen::listening_socket;

const CLIENT: &str = env!("CARGO_BIN_EXE_client");

/// The seed's echo server in a thread, serving `clients` clients; returns its address.
fn echo_server(clients: usize) -> SocketAddr {
    let listener = listening_socket("127.0.0.1:0".parse().unwrap(), 5).unwrap();
    let addr = local_addr(&listener).unwrap();
    thread::spawn(move || serve_forever(&listener, Some(clients), WRITE_TIMEOUT, |_| {}));
    addr
}

/// A port where nothing listens: bound (so no one else takes it) but not listening.
fn silent_port() -> (socket2::Socket, SocketAddr) {
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let socket = create_tcp_socket(any).unwrap();
    bind(&socket, any).unwrap();
    let addr = local_addr(&socket).unwrap();
    (socket, addr)
}

#[test]
fn ex7_1_connect_reaches_the_listener() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let socket = connect(addr, support::LIMIT).expect("connect");
    assert_eq!(
        socket.peer_addr().unwrap().as_socket(),
        Some(addr),
        "the socket connect returned is connected to the listener (getpeername)"
    );
    let (_, peer) = listener.accept().unwrap();
    assert_eq!(
        peer,
        local_addr(&socket).unwrap(),
        "the kernel chose the client's address"
    );
}

#[test]
fn ex7_1_nothing_listening_is_connection_refused() {
    let (_holder, addr) = silent_port();
    let error = connect(addr, support::LIMIT)
        .map(|_| ())
        .expect_err("nothing listens");
    assert_eq!(
        error.kind(),
        ErrorKind::ConnectionRefused,
        "connecting where nothing listens: the kernel says ECONNREFUSED"
    );
}

#[test]
fn ex7_1_exchange_with_the_seed_server() {
    let addr = echo_server(1);
    let socket = connect(addr, support::LIMIT).unwrap();
    socket.set_read_timeout(Some(support::LIMIT)).unwrap();
    let answer = exchange(&socket, SEED_MESSAGE.as_bytes()).unwrap();
    assert_eq!(
        String::from_utf8(answer).unwrap(),
        "|From Server| Hello network world"
    );
}

#[test]
fn connect_any_tries_each_address_in_turn() {
    let (_holder, refused) = silent_port();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let good = listener.local_addr().unwrap();
    let (_, chosen) = connect_any(&[refused, good], support::LIMIT).unwrap();
    assert_eq!(chosen, good);
}

#[test]
fn the_binary_talks_to_the_seed_server() {
    let addr = echo_server(1).to_string();
    let output = support::run(CLIENT, &[&addr]);
    support::assert_success(&output);
    let text = support::stdout(&output);
    let connected = format!("connect(fd 3, {addr}) -> ok, from 127.0.0.1:");
    support::assert_contains_all(
        &text,
        &[
            connected.as_str(),
            "send(fd 3, 'Hello network world') -> 19 bytes",
            "recv(fd 3, 1024) -> '|From Server| Hello network world'",
            "close(fd 3) -> ok",
        ],
    );
}

#[test]
fn the_binary_sends_each_argument_as_one_message() {
    let addr = echo_server(1).to_string();
    let output = support::run(CLIENT, &[&addr, "你好", "x", "hello world"]);
    support::assert_success(&output);
    let text = support::stdout(&output);
    // Counts are bytes, not characters: 你好 is 6 bytes in UTF-8.
    for sent in [
        "-> 6 bytes",
        "'x') -> 1 byte\n",
        "'hello world') -> 11 bytes",
    ] {
        assert!(text.contains(sent), "no {sent:?} in:\n{text}");
    }
    assert_eq!(
        text.matches("recv(fd 3, 1024) -> '|From Server| ").count(),
        3,
        "{text}"
    );
}

#[test]
fn nothing_listening_says_to_start_a_server() {
    let (_holder, addr) = silent_port();
    let output = support::run(CLIENT, &[&addr.to_string()]);
    let error = support::assert_clean_failure(&output);
    assert!(
        error.contains(&format!("cannot connect to {addr}: nothing is listening")),
        "{error}"
    );
    assert!(error.contains("cargo run --bin echo_server"), "{error}");
}

/// The lookup runs in a network namespace of our own, against a resolver stub there: the
/// program really asks, and no query leaves this machine.
#[test]
#[cfg(target_os = "linux")]
fn an_unknown_host_is_a_resolver_error() {
    support::in_private_network(|| {
        let resolver = support::dns_stub();
        let output = support::run(CLIENT, &["no-such-host.invalid:50007"]);
        let error = support::assert_clean_failure(&output);
        assert!(
            error.contains("could not resolve the host `no-such-host.invalid`"),
            "{error}"
        );
        assert!(
            !resolver.asked().is_empty(),
            "the client asked the resolver"
        );
        Ok(())
    });
}
