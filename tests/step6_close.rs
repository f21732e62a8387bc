//! Step 6, close: the peer reads end of file; the side that closes first keeps TIME_WAIT.
//!
//! Grades exercises 6.1 (`ex6_1_*`) and 6.2 (`ex6_2_*`). Run: `cargo test --test step6_close`.

mod support;

use pretty_assertions::assert_eq;
use socket_steps::step2_bind::local_addr;
use socket_steps::step5_process::{recv, send_all, RECV_SIZE};
use socket_steps::step6_close::{close, finish_sending, listen_again, recv_until_closed};

const STEP6: &str = env!("CARGO_BIN_EXE_step6_close");

#[test]
fn ex6_1_recv_until_closed_reads_everything_until_end_of_file() {
    let (client, server, _, _) = support::socket_pair();
    let message: Vec<u8> = (0..3000u32).map(|i| (i % 97) as u8).collect();
    send_all(&client, &message).unwrap();
    close(client);
    assert_eq!(
        recv_until_closed(&server).unwrap(),
        message,
        "everything the peer sent (3000 bytes) before it closed"
    );
}

#[test]
fn ex6_1_recv_until_closed_returns_nothing_when_the_peer_sent_nothing() {
    let (client, server, _, _) = support::socket_pair();
    close(client);
    assert_eq!(
        recv_until_closed(&server).unwrap(),
        b"",
        "the peer closed without sending: no bytes"
    );
}

#[test]
fn close_makes_the_peer_read_end_of_file() {
    let (client, server, _, _) = support::socket_pair();
    close(server);
    assert_eq!(
        recv(&client, RECV_SIZE).unwrap(),
        b"",
        "recv returns 0 bytes after the FIN"
    );
}

#[test]
fn half_close_lets_the_peer_still_reply() {
    let (client, server, _, _) = support::socket_pair();
    send_all(&client, b"question").unwrap();
    finish_sending(&client).unwrap();
    // The server reads the question and the end of file...
    assert_eq!(recv_until_closed(&server).unwrap(), b"question");
    // ...and can still answer, because only the client's sending side is closed.
    send_all(&server, b"answer").unwrap();
    close(server);
    assert_eq!(recv_until_closed(&client).unwrap(), b"answer");
}

#[test]
#[cfg(target_os = "linux")]
fn the_side_that_closes_first_keeps_time_wait() {
    use socket_steps::proc_net::{wait_for, wait_until, TcpState};
    let (client, server, server_addr, client_addr) = support::socket_pair();
    close(server);
    assert_eq!(recv(&client, RECV_SIZE).unwrap(), b"");
    close(client);
    let server_side = wait_for(server_addr, Some(client_addr), support::LIMIT, |e| {
        e.state == TcpState::TimeWait
    });
    assert_eq!(server_side.map(|e| e.state), Some(TcpState::TimeWait));
    // The client closed second: its side goes away without TIME_WAIT, once the server's last
    // ACK is processed (it may still be in flight, LAST_ACK, for a moment).
    let client_side = wait_until(client_addr, Some(server_addr), support::LIMIT, |e| {
        e.map_or(true, |e| e.state == TcpState::TimeWait)
    });
    assert_eq!(client_side, None);
}

#[test]
fn the_binary_shows_end_of_file_and_the_restart() {
    let output = support::run(STEP6, &["127.0.0.1:0", "--with-client"]);
    support::assert_success(&output);
    let text = support::stdout(&output);
    support::assert_contains_all(
        &text,
        &[
            "server: close(fd 5) -> the kernel sends a FIN to 127.0.0.1:",
            "client: recv(fd 4, 1024) -> '|From Server| Hello network world'",
            "client: recv(fd 4, 1024) -> 0 bytes: end of file",
            "bind with SO_REUSEADDR    -> ok",
        ],
    );
    if cfg!(target_os = "linux") {
        assert!(text.contains("FIN_WAIT2"), "{text}");
        assert!(text.contains("TIME_WAIT, unread 0 B"), "{text}");
        assert!(
            text.contains("bind without SO_REUSEADDR -> error\n    EADDRINUSE"),
            "{text}"
        );
    }
}

#[test]
fn the_binary_serves_a_client_from_another_terminal_and_closes_first() {
    let mut server = support::start_server(STEP6, &["127.0.0.1:0"]);
    let client = support::run(env!("CARGO_BIN_EXE_client"), &[&server.addr.to_string()]);
    support::assert_success(&client);
    assert!(support::stdout(&client).contains("'|From Server| Hello network world'"));
    support::wait_for_line(
        &server.lines,
        "server: close(fd 4) -> the kernel sends a FIN",
    );
    if cfg!(target_os = "linux") {
        support::wait_for_line(&server.lines, "TIME_WAIT");
    }
    assert!(
        server.wait_for_exit(),
        "step6_close should end after its client"
    );
}

/// A person at the other terminal (e.g. with `nc`) may close long after the server: the server
/// says it waits, and shows TIME_WAIT once the client has closed.
#[test]
#[cfg(target_os = "linux")]
fn the_binary_waits_for_a_slow_client_to_close() {
    use std::io::{Read, Write};
    let mut server = support::start_server(STEP6, &["127.0.0.1:0"]);
    let mut client = support::connect(server.addr);
    client.write_all(b"Hello network world").unwrap();
    let mut reply = Vec::new();
    client.read_to_end(&mut reply).unwrap(); // the reply, then the server's FIN
    assert_eq!(reply, b"|From Server| Hello network world");
    support::wait_for_line(&server.lines, "FIN_WAIT2");
    support::wait_for_line(&server.lines, "for the client to close its side");
    drop(client);
    support::wait_for_line(&server.lines, "TIME_WAIT");
    support::wait_for_line(&server.lines, "bind with SO_REUSEADDR    -> ok");
    assert!(server.wait_for_exit(), "step6_close should end cleanly");
}

/// A client that sends after the server closed gets a reset: no TIME_WAIT, and the restart still
/// works (the failed-or-not first bind must not hold the port for the second).
#[test]
#[cfg(target_os = "linux")]
fn the_binary_explains_a_reset_instead_of_time_wait() {
    use std::io::{Read, Write};
    let mut server = support::start_server(STEP6, &["127.0.0.1:0"]);
    let mut client = support::connect(server.addr);
    client.write_all(b"Hello network world").unwrap();
    let mut reply = Vec::new();
    client.read_to_end(&mut reply).unwrap();
    support::wait_for_line(&server.lines, "for the client to close its side");
    // Data for a socket that is closed on the server: its kernel answers with a reset.
    client.write_all(b"more").unwrap();
    support::wait_for_line(&server.lines, "it ended with a reset (RST)");
    support::wait_for_line(&server.lines, "bind without SO_REUSEADDR -> ok");
    support::wait_for_line(&server.lines, "bind with SO_REUSEADDR    -> ok");
    assert!(server.wait_for_exit(), "step6_close should end cleanly");
}

// ---- Exercise 6.2: a restart that gets its port back -------------------------------------------

/// A port whose server has gone and whose last connection it closed first, so that the
/// connection holds the port in TIME_WAIT (on Linux we wait until `/proc/net/tcp` says so).
/// Returns the port's address and the old client's address.
#[cfg(unix)]
fn a_port_held_by_time_wait() -> (std::net::SocketAddr, std::net::SocketAddr) {
    let (client, server, addr, client_addr) = support::socket_pair();
    close(server); // the server closes first: it will keep TIME_WAIT
    assert_eq!(
        recv(&client, RECV_SIZE).unwrap(),
        b"",
        "the client reads the server's FIN"
    );
    close(client);
    // `socket_pair`'s listener is gone already: only the old connection holds the port.
    #[cfg(target_os = "linux")]
    socket_steps::proc_net::wait_for(addr, Some(client_addr), support::LIMIT, |e| {
        e.state == socket_steps::proc_net::TcpState::TimeWait
    });
    (addr, client_addr)
}

#[test]
#[cfg(unix)]
fn ex6_2_a_restarted_server_listens_on_its_port_while_time_wait_holds_it() {
    use socket_steps::step1_create::create_tcp_socket;
    use socket_steps::step2_bind::bind;
    use socket_steps::step4_accept::accept;
    use std::io::ErrorKind;
    let (addr, old_client) = a_port_held_by_time_wait();
    let kernel = socket_steps::proc_net::describe(addr, Some(old_client));
    // The experiment first: without SO_REUSEADDR the kernel refuses the port.
    let plain = create_tcp_socket(addr).unwrap();
    let refused = bind(&plain, addr);
    assert!(
        matches!(&refused, Err(e) if e.kind() == ErrorKind::AddrInUse),
        "setting up: a plain bind to {addr} should be refused (AddrInUse) while the old \
         connection holds the port ({kernel}), but it returned {refused:?}"
    );
    drop(plain);
    let listener = listen_again(addr, 4).unwrap_or_else(|error| {
        panic!(
            "listen_again({addr}) failed: {error} ({:?}). The old connection still holds the \
             port ({kernel}); bind lets a socket share it only if SO_REUSEADDR is set on that \
             socket before bind(2) is called",
            error.kind()
        )
    });
    let client = support::connect_socket(addr, support::LIMIT)
        .expect("a client connects to the restarted server (the kernel completes the handshake)");
    listener.set_read_timeout(Some(support::LIMIT)).unwrap(); // bounds accept on Linux
    let (_connection, peer) = accept(&listener).expect("the restarted server accepts it");
    assert_eq!(
        Some(peer),
        client.local_addr().unwrap().as_socket(),
        "accept returns the client that connected to the restarted server"
    );
}

#[test]
fn ex6_2_the_listener_keeps_so_reuseaddr_for_the_next_restart() {
    let listener = listen_again("127.0.0.1:0".parse().unwrap(), 4)
        .expect("listen_again on a free port (port 0: the kernel picks one)");
    let addr = local_addr(&listener).unwrap();
    let _client = support::connect_socket(addr, support::LIMIT)
        .expect("the socket listen_again returns listens: a client's connect succeeds");
    assert_eq!(
        listener.reuse_address().unwrap(),
        cfg!(unix),
        "getsockopt(SO_REUSEADDR) on the returned socket: set on Unix (so that the next restart \
         works too), not on Windows (where it means something else)"
    );
}
