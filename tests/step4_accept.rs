//! Step 4, accept: `accept(2)` returns a new socket for one connection, and the peer's address.
//!
//! Grades exercise 4.1 (`ex4_1_*`). Run: `cargo test --test step4_accept`.

mod support;

use std::net::SocketAddr;

use pretty_assertions::assert_eq;
use socket_steps::step2_bind::local_addr;
use socket_steps::step3_listen::listening_socket;
use socket_steps::step4_accept::{accept, peer_addr};
use support::connect_socket as connect;

const STEP4: &str = env!("CARGO_BIN_EXE_step4_accept");
const CLIENT: &str = env!("CARGO_BIN_EXE_client");

fn listener() -> (socket2::Socket, SocketAddr) {
    let listener = listening_socket("127.0.0.1:0".parse().unwrap(), 5).unwrap();
    let addr = local_addr(&listener).unwrap();
    // An accept that waits for a connection that never comes fails (on Linux, `SO_RCVTIMEO`
    // bounds `accept` too) instead of hanging the test.
    listener.set_read_timeout(Some(support::LIMIT)).unwrap();
    (listener, addr)
}

#[test]
fn ex4_1_accept_returns_a_new_socket_and_the_peer_address() {
    let (listener, addr) = listener();
    let client = connect(addr, support::LIMIT).unwrap();
    let (connection, peer) = accept(&listener).expect("accept");
    // The peer address is the client's own address: its IP and its ephemeral port.
    assert_eq!(
        peer,
        local_addr(&client).unwrap(),
        "the peer address accept returned, and the client's own address"
    );
    assert_eq!(
        peer_addr(&connection).unwrap(),
        peer,
        "the new socket's peer (getpeername), and the peer accept returned"
    );
    // The new socket is bound to the server's address, connected to the client.
    assert_eq!(
        local_addr(&connection).unwrap(),
        addr,
        "the new socket's own address, and the listener's"
    );
}

#[test]
fn ex4_1_the_listening_socket_keeps_listening() {
    let (listener, addr) = listener();
    let first = connect(addr, support::LIMIT).unwrap();
    let second = connect(addr, support::LIMIT).unwrap();
    let (_a, peer_a) = accept(&listener).unwrap();
    let (_b, peer_b) = accept(&listener).unwrap();
    // Connections come off the accept queue in the order they completed.
    assert_eq!(
        peer_a,
        local_addr(&first).unwrap(),
        "the first accept returns the first client"
    );
    assert_eq!(
        peer_b,
        local_addr(&second).unwrap(),
        "the second accept returns the second client"
    );
}

#[test]
fn ex4_1_accept_waits_until_a_client_has_connected() {
    let (listener, _addr) = listener();
    listener.set_nonblocking(true).unwrap();
    // A non-blocking accept on an empty queue says "would block" instead of waiting.
    let error = accept(&listener).map(|_| ()).expect_err("nobody connected");
    assert_eq!(
        error.kind(),
        std::io::ErrorKind::WouldBlock,
        "a non-blocking accept with nobody waiting: the kernel says EAGAIN"
    );
}

#[test]
fn the_binary_with_its_own_client_reports_the_peer() {
    let output = support::run(STEP4, &["127.0.0.1:0", "--with-client"]);
    support::assert_success(&output);
    let text = support::stdout(&output);
    support::assert_contains_all(
        &text,
        &[
            "accept(fd 3) -> new socket fd ",
            "accept returned a NEW socket",
            "is the peer address the client's own address",
            "? yes",
            "Next: exchange data over the connection: cargo run --bin step5_process",
        ],
    );
    if cfg!(target_os = "linux") {
        assert!(text.contains("LISTEN, accept queue 1"), "{text}");
        assert!(text.contains("ESTABLISHED"), "{text}");
    }
}

/// What the README promises: step 4 waits, a client from "another terminal" connects, step 4
/// reports it and ends.
#[test]
fn the_binary_waits_for_a_client_from_another_terminal() {
    let mut server = support::start_server(STEP4, &["127.0.0.1:0"]);
    let addr = server.addr.to_string();
    support::wait_for_line(&server.lines, "cargo run --bin client -- 127.0.0.1:");
    let client = support::run(CLIENT, &[&addr]);
    support::assert_success(&client);
    let reported = support::wait_for_line(&server.lines, "accept(fd 3) -> new socket");
    assert!(reported.contains("peer 127.0.0.1:"), "{reported}");
    support::wait_for_line(&server.lines, "Next: exchange data");
    assert!(server.wait_for_exit(), "step4_accept should end cleanly");
}

// ANCHOR: wildcard_local_addr
#[test]
#[cfg(target_os = "linux")]
fn a_connection_of_a_wildcard_listener_has_the_address_the_client_used() {
    // 0.0.0.0 is every interface, so we listen on it only in a network namespace of our own.
    support::in_private_network(|| {
        let listener = listening_socket("0.0.0.0:0".parse().unwrap(), 5)?;
        let port = local_addr(&listener)?.port();
        // Linux routes all of 127.0.0.0/8 to the loopback interface: two addresses to choose from.
        for ip in ["127.0.0.1", "127.0.0.2"] {
            let target = SocketAddr::new(ip.parse().unwrap(), port);
            let _client = connect(target, support::LIMIT)?;
            let (connection, _) = accept(&listener)?;
            // Not 0.0.0.0: the accepted socket has the specific address the client connected to.
            assert_eq!(local_addr(&connection)?, target);
        }
        Ok(())
    });
}
// ANCHOR_END: wildcard_local_addr
