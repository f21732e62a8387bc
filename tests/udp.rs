//! Datagrams: UDP keeps message boundaries, cuts what does not fit, and has no connection.
//! The book's "Datagrams" chapter includes these tests (`ANCHOR` regions).

mod support;

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use socket_steps::udp::{bind_udp, connect_udp, recv_from, send_to};

const PATIENCE: Duration = Duration::from_secs(10);

/// A UDP socket on 127.0.0.1 with a free port and a read timeout, so no test can hang.
fn udp_socket() -> io::Result<UdpSocket> {
    let socket = bind_udp(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    socket.set_read_timeout(Some(PATIENCE))?;
    Ok(socket)
}

// ANCHOR: no_listen_no_accept
#[test]
fn udp_needs_no_listen_and_no_accept() -> io::Result<()> {
    let server = udp_socket()?; // socket + bind: that is all
    let client = udp_socket()?;
    send_to(&client, b"Hello network world", server.local_addr()?)?;
    let (message, from) = recv_from(&server, 1024)?;
    assert_eq!(message, b"Hello network world");
    assert_eq!(
        from,
        client.local_addr()?,
        "each datagram comes with its sender's address"
    );
    send_to(&server, b"|From Server| Hello network world", from)?;
    assert_eq!(
        recv_from(&client, 1024)?.0,
        b"|From Server| Hello network world"
    );
    Ok(())
}
// ANCHOR_END: no_listen_no_accept

// ANCHOR: boundaries
#[test]
fn udp_keeps_message_boundaries() -> io::Result<()> {
    let (server, client) = (udp_socket()?, udp_socket()?);
    let to = server.local_addr()?;
    send_to(&client, b"Hello ", to)?;
    send_to(&client, b"network world", to)?;
    // Two sends, two receives, even with room for both in the buffer.
    assert_eq!(recv_from(&server, 1024)?.0, b"Hello ");
    assert_eq!(recv_from(&server, 1024)?.0, b"network world");
    Ok(())
}
// ANCHOR_END: boundaries

// ANCHOR: truncation
#[test]
#[cfg(unix)]
fn a_datagram_larger_than_the_buffer_loses_its_tail() -> io::Result<()> {
    use socket_steps::udp::receive_datagram;
    let (server, client) = (udp_socket()?, udp_socket()?);
    let to = server.local_addr()?;
    send_to(&client, b"0123456789", to)?;
    send_to(&client, b"next", to)?;
    let first = receive_datagram(&server, 4)?;
    assert_eq!(first.bytes, b"0123");
    assert!(first.truncated, "the kernel flags the cut with MSG_TRUNC");
    // The tail "456789" is gone: the next receive is the next datagram.
    let second = receive_datagram(&server, 1024)?;
    assert_eq!(second.bytes, b"next");
    assert!(!second.truncated);
    Ok(())
}

#[test]
fn tcp_keeps_what_recv_did_not_take() -> io::Result<()> {
    use socket_steps::experiments::{loopback_pair, wait_for_bytes};
    use socket_steps::step5_process::{recv, send_all};
    let (client, server) = loopback_pair()?;
    send_all(&client, b"0123456789")?;
    wait_for_bytes(&server, 10)?;
    assert_eq!(recv(&server, 4)?, b"0123");
    assert_eq!(
        recv(&server, 1024)?,
        b"456789",
        "TCP kept the rest for the next recv"
    );
    Ok(())
}
// ANCHOR_END: truncation

// ANCHOR: connected
#[test]
fn connected_udp_talks_to_one_peer_only() -> io::Result<()> {
    let (server, client, stranger) = (udp_socket()?, udp_socket()?, udp_socket()?);
    connect_udp(&client, server.local_addr()?)?;
    // The stranger's datagram is dropped by the client's kernel; the server's gets through.
    send_to(&stranger, b"from a stranger", client.local_addr()?)?;
    send_to(&server, b"from the server", client.local_addr()?)?;
    let mut buffer = [0; 64];
    let received = client.recv(&mut buffer)?; // plain recv: the peer is known
    assert_eq!(&buffer[..received], b"from the server");
    client.send(b"plain send")?; // plain send: no address needed
    assert_eq!(
        recv_from(&server, 64)?,
        (b"plain send".to_vec(), client.local_addr()?)
    );
    Ok(())
}

#[test]
#[cfg(target_os = "linux")]
fn connected_udp_hears_that_nobody_is_there() -> io::Result<()> {
    // A port that nobody uses: bind one, note it, close it.
    let free = udp_socket()?.local_addr()?;
    let client = udp_socket()?;
    connect_udp(&client, free)?;
    client.send(b"anyone?")?; // succeeds: UDP sends without asking
    let mut buffer = [0; 64];
    let error = client
        .recv(&mut buffer)
        .expect_err("an ICMP port unreachable came back");
    assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused);
    Ok(())
}
// ANCHOR_END: connected

#[test]
fn the_udp_echo_pair_answers_each_datagram() {
    let server = support::start_server(env!("CARGO_BIN_EXE_udp_echo_server"), &["127.0.0.1:0"]);
    let addr = server.addr.to_string();
    let output = support::run(
        env!("CARGO_BIN_EXE_udp_echo_client"),
        &[&addr, "Hello", "network world"],
    );
    support::assert_success(&output);
    let out = support::stdout(&output);
    assert!(
        out.contains("Client received: '|From Server| Hello'"),
        "{out}"
    );
    assert!(
        out.contains("Client received: '|From Server| network world'"),
        "{out}"
    );
    support::wait_for_line(&server.lines, "recv_from(fd 3) -> 5 bytes from 127.0.0.1:");
    support::wait_for_line(&server.lines, "recv_from(fd 3) -> 13 bytes from 127.0.0.1:");
}

#[test]
#[cfg(unix)]
fn the_udp_echo_server_reports_a_truncated_datagram() {
    let server = support::start_server(env!("CARGO_BIN_EXE_udp_echo_server"), &["127.0.0.1:0"]);
    let long = "x".repeat(1500);
    let output = support::run(
        env!("CARGO_BIN_EXE_udp_echo_client"),
        &[&server.addr.to_string(), &long],
    );
    support::assert_success(&output);
    support::wait_for_line(&server.lines, "-> 1024 bytes from");
    support::wait_for_line(&server.lines, "MSG_TRUNC");
    let out = support::stdout(&output);
    assert!(
        out.contains("recv(fd 3) -> 1038 bytes"),
        "14 bytes of prefix + the first 1024: {out}"
    );
}

#[test]
#[cfg(target_os = "linux")]
fn the_udp_client_without_a_server_says_what_to_do() {
    let free = udp_socket().unwrap().local_addr().unwrap().to_string();
    let output = support::run(env!("CARGO_BIN_EXE_udp_echo_client"), &[&free]);
    let err = support::assert_clean_failure(&output);
    assert!(err.contains("no UDP server at"), "{err}");
    assert!(err.contains("cargo run --bin udp_echo_server --"), "{err}");
}

/// A message longer than a datagram can carry fails in `send` itself (`EMSGSIZE`): nothing was
/// sent, so the error is about the message, not about the server.
#[test]
#[cfg(target_os = "linux")]
fn the_udp_client_says_when_a_message_is_too_long_for_a_datagram() {
    let silent = udp_socket().unwrap();
    let addr = silent.local_addr().unwrap().to_string();
    let long = "x".repeat(socket_steps::udp::MAX_DATAGRAM + 1);
    let output = support::run(env!("CARGO_BIN_EXE_udp_echo_client"), &[&addr, &long]);
    let err = support::assert_clean_failure(&output);
    assert!(
        err.contains("too long for one UDP datagram (EMSGSIZE): at most 65507 bytes"),
        "{err}"
    );
    assert!(!err.contains("no answer from"), "{err}");
}

// ANCHOR: loss
#[test]
#[cfg(target_os = "linux")]
fn a_receiver_that_falls_behind_loses_datagrams_and_the_sender_never_knows() {
    support::in_private_network(|| {
        // Our own network namespace: its counters start at 0 and no other program adds to them.
        let receiver = udp_socket()?;
        let sender = udp_socket()?;
        let to = receiver.local_addr()?;
        let sent = 10_000;
        for _ in 0..sent {
            // Every sendto succeeds: the datagram left our socket, that is all it says.
            assert_eq!(send_to(&sender, &[7u8; 1024], to)?, 1024);
        }
        // Only now does the receiver read: what is in its receive buffer, without waiting.
        receiver.set_nonblocking(true)?;
        let mut arrived = 0u64;
        while recv_from(&receiver, 1024).is_ok() {
            arrived += 1;
        }
        // The receiving kernel dropped the rest, because the receive buffer was full, and
        // counted them in /proc/net/snmp (`nstat -az UdpRcvbufErrors`).
        let dropped = socket_steps::proc_net::counter("Udp", "RcvbufErrors").unwrap();
        println!("sent {sent}, arrived {arrived}, Udp RcvbufErrors {dropped}");
        assert!(arrived < sent, "the receive buffer holds fewer than {sent}");
        assert_eq!(
            arrived + dropped,
            sent,
            "every datagram arrived or was counted"
        );
        Ok(())
    });
}
// ANCHOR_END: loss

// ANCHOR: recverr
/// An unconnected UDP socket sends to a port where nothing is bound, first as usual, then with
/// the option `IP_RECVERR` (ip(7)). Neither std nor socket2 can set that option, and reading
/// its error queue (`recvmsg` with `MSG_ERRQUEUE`) needs ancillary data, so the probe is a few
/// lines of Python, the tutorial's language.
#[cfg(target_os = "linux")]
const RECVERR_PROBE: &str = r#"
import socket, struct, sys
IP_RECVERR = 11  # from <linux/in.h>; Python's socket module has no name for it
port = int(sys.argv[1])
for recverr in (0, 1):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, IP_RECVERR, recverr)
    s.settimeout(0.5)
    s.sendto(b"anyone?", ("127.0.0.1", port))  # unconnected: sendto, no connect
    try:
        s.recvfrom(1024)
        print(f"IP_RECVERR={recverr}: a datagram")
    except ConnectionRefusedError:
        _, ancillary, _, to = s.recvmsg(1024, 1024, socket.MSG_ERRQUEUE)
        errno, origin, kind, code = struct.unpack_from("=IBBB", ancillary[0][2])
        print(f"IP_RECVERR={recverr}: refused; error queue: errno {errno}, origin {origin}, "
              f"ICMP type {kind} code {code}, for {to[0]}:{to[1]}")
    except socket.timeout:
        print(f"IP_RECVERR={recverr}: silence")
"#;

#[test]
#[cfg(target_os = "linux")]
fn with_ip_recverr_an_unconnected_socket_hears_of_icmp_errors() {
    let Some(python) = support::python3() else {
        return; // skipped, with the reason (a failure under SOCKET_STEPS_STRICT=1)
    };
    // In a namespace of our own, nothing is bound to port 9 (discard).
    support::in_private_network(|| {
        let output = std::process::Command::new(python)
            .args(["-c", RECVERR_PROBE, "9"])
            .output()?;
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            "IP_RECVERR=0: silence\n\
             IP_RECVERR=1: refused; error queue: errno 111, origin 2, ICMP type 3 code 3, \
             for 127.0.0.1:9\n",
            "{output:?}"
        );
        Ok(())
    });
}
// ANCHOR_END: recverr

// ---- Exercise 9.1: the seed's echo over UDP ----------------------------------------------------

/// How long a client waits for a reply that a wrong `echo_datagrams` may never send.
const SOON: Duration = Duration::from_secs(5);

/// `echo_datagrams(datagrams)` on a fresh socket, in a thread; its result comes through the
/// channel.
fn udp_echo(datagrams: usize) -> (SocketAddr, std::sync::mpsc::Receiver<io::Result<()>>) {
    let server = udp_socket().unwrap();
    let addr = server.local_addr().unwrap();
    let (done, result) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(socket_steps::udp::echo_datagrams(&server, datagrams));
    });
    (addr, result)
}

/// A client socket whose `recv_from` waits at most `SOON`.
fn udp_client() -> UdpSocket {
    let client = udp_socket().unwrap();
    client.set_read_timeout(Some(SOON)).unwrap();
    client
}

/// Sends `message` from `client` and returns the reply, which must come from the server.
#[track_caller]
fn echoed(client: &UdpSocket, server: SocketAddr, message: &[u8], what: &str) -> Vec<u8> {
    send_to(client, message, server).unwrap();
    let (reply, from) = recv_from(client, socket_steps::udp::MAX_DATAGRAM).unwrap_or_else(|e| {
        panic!(
            "{what}: no reply within {SOON:?} to the datagram of {} bytes that {} sent ({e})",
            message.len(),
            client.local_addr().unwrap()
        )
    });
    assert_eq!(
        from, server,
        "{what}: the reply comes from the server's socket"
    );
    reply
}

/// The server must return once it has had its datagrams.
#[track_caller]
fn assert_returned(result: std::sync::mpsc::Receiver<io::Result<()>>) {
    match result.recv_timeout(SOON) {
        Ok(Ok(())) => {}
        Ok(Err(error)) => panic!("echo_datagrams failed: {error}"),
        Err(_) => panic!("echo_datagrams did not return within {SOON:?} of its last datagram"),
    }
}

#[test]
fn ex9_1_each_datagram_gets_one_reply_sent_to_its_sender() {
    let (server, result) = udp_echo(3);
    let (alice, bob) = (udp_client(), udp_client());
    let to_alice = echoed(&alice, server, b"one", "alice's first datagram");
    assert_eq!(to_alice, b"|From Server| one");
    let to_bob = echoed(&bob, server, b"two", "bob's datagram, from another socket");
    assert_eq!(
        to_bob, b"|From Server| two",
        "one socket serves every client: each reply goes where its datagram came from"
    );
    let again = echoed(&alice, server, b"three", "alice's second datagram");
    assert_eq!(again, b"|From Server| three");
    assert_returned(result);
}

#[test]
fn ex9_1_a_3000_byte_datagram_comes_back_whole_in_one_reply() {
    let (server, result) = udp_echo(1);
    let long: Vec<u8> = (0..3000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let reply = echoed(&udp_client(), server, &long, "a 3000-byte datagram");
    assert!(
        reply == [socket_steps::echo::PREFIX, &long].concat(),
        "a 3000-byte datagram: expected one reply of 14 + 3000 bytes, got {} bytes. A datagram \
         comes out of recvfrom whole or cut; the bytes that do not fit the buffer are lost",
        reply.len()
    );
    assert_returned(result);
}

#[test]
fn ex9_1_an_empty_datagram_is_a_message_not_an_end() {
    let (server, result) = udp_echo(2);
    let client = udp_client();
    let reply = echoed(&client, server, b"", "an empty datagram");
    assert_eq!(
        reply,
        socket_steps::echo::PREFIX,
        "an empty datagram gets the prefix alone: UDP has no end of file"
    );
    let after = echoed(&client, server, b"after", "the datagram after an empty one");
    assert_eq!(after, b"|From Server| after");
    assert_returned(result);
}

#[test]
fn ex9_1_a_datagram_too_long_to_echo_does_not_stop_the_server() {
    let (server, result) = udp_echo(2);
    let client = udp_client();
    // The largest datagram IPv4 carries: its reply would be 14 bytes longer (EMSGSIZE).
    let largest = vec![b'z'; socket_steps::udp::MAX_DATAGRAM];
    send_to(&client, &largest, server).unwrap();
    let reply = echoed(
        &client,
        server,
        b"next",
        "the datagram after one of 65507 bytes, whose reply (65521 bytes) no datagram can carry",
    );
    assert_eq!(reply, b"|From Server| next");
    assert_returned(result);
}

/// Runs `udp::serve_forever` for `datagrams` datagrams in a thread; the thread returns what
/// the server reported, one short line per event. (Both tests that use it are Unix-only.)
#[cfg(unix)]
fn serving_in_a_thread(
    server: UdpSocket,
    datagrams: usize,
) -> std::thread::JoinHandle<io::Result<Vec<String>>> {
    use socket_steps::udp::Event;
    std::thread::spawn(move || {
        let mut events = Vec::new();
        let result = socket_steps::udp::serve_forever(&server, Some(datagrams), |event| {
            events.push(match event {
                Event::Received(d) => format!("received {} {}", d.bytes.len(), d.truncated),
                Event::Replied(_, length, sent) => format!("replied {length} {sent}"),
                Event::ReplyFailed(_, error) => format!("failed {error}"),
                Event::ReceiveFailed(error) => format!("receive failed: {:?}", error.kind()),
            })
        });
        result.map(|()| events)
    })
}

/// The server's loop runs in a thread as well as in `udp_echo_server`: each datagram is answered
/// to its sender, and a long one loses its tail (`MSG_TRUNC`), as the program narrates. Unix:
/// Windows reports the cut datagram differently.
#[test]
#[cfg(unix)]
fn the_servers_loop_answers_and_reports_each_datagram_in_a_thread() {
    let server = udp_socket().unwrap();
    let addr = server.local_addr().unwrap();
    let serving = serving_in_a_thread(server, 2);
    let client = udp_client();
    assert_eq!(
        echoed(&client, addr, b"Hello", "a short datagram"),
        b"|From Server| Hello"
    );
    let long = vec![b'x'; socket_steps::udp::RECV_SIZE + 100];
    let reply = echoed(&client, addr, &long, "a long datagram");
    assert_eq!(
        reply.len(),
        14 + socket_steps::udp::RECV_SIZE,
        "the tail is gone"
    );
    let events = serving
        .join()
        .expect("the server thread")
        .expect("serve_forever");
    assert_eq!(
        events,
        [
            "received 5 false",
            "replied 19 19",
            "received 1024 true",
            "replied 1038 1038"
        ]
    );
}

/// A reply that was refused (its sender had gone, and an ICMP "port unreachable" came back)
/// makes a later receive fail; the server reports it and goes on. Windows reports it on any
/// UDP socket (`WSAECONNRESET`), Linux only on a connected one (`ECONNREFUSED`), so here we
/// connect the server's socket to a port that nobody holds, send there, wait until `poll`
/// shows the error pending (`POLLERR`), and then connect it to the client.
#[test]
#[cfg(target_os = "linux")]
fn a_refused_earlier_reply_does_not_stop_the_udp_server() {
    use socket_steps::readiness::{poll_one, Interest};
    let server = udp_socket().unwrap();
    let nobody = udp_socket().unwrap().local_addr().unwrap(); // bound, then closed at once
    let client = udp_client();
    server.connect(nobody).unwrap();
    server.send(b"to nobody").unwrap();
    let ready = poll_one(&server, Interest::None, Some(PATIENCE)).unwrap();
    assert!(ready.error, "no ICMP port unreachable within {PATIENCE:?}");
    server.connect(client.local_addr().unwrap()).unwrap();
    let addr = server.local_addr().unwrap();
    let serving = serving_in_a_thread(server, 1);
    assert_eq!(
        echoed(&client, addr, b"Hello", "after a refused reply"),
        b"|From Server| Hello"
    );
    let events = serving
        .join()
        .expect("the server thread")
        .expect("serve_forever goes on after a refused reply");
    assert_eq!(
        events,
        [
            "receive failed: ConnectionRefused",
            "received 5 false",
            "replied 19 19"
        ]
    );
}
