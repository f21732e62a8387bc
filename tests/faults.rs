//! Faults and load that every echo server must survive. After each one, the next client must
//! still get a correct answer.
//!
//! Each test starts its own server process on port 0, so they run in parallel. Both servers are
//! started with short timeouts (`--write-timeout`, and `--idle-timeout` for the threaded one) so
//! that the tests that wait for a timeout take a second or two, not the default 10 or 30 s.

mod echo_support;
mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use echo_support::{assert_answers, assert_answers_within, check_echo, read_echo, Rng};
use socket2::{Domain, SockAddr, Socket, Type};
use support::{start_server, wait_for_line, Server, LIMIT};

const SERIAL: &str = env!("CARGO_BIN_EXE_echo_server");
const THREADED: &str = env!("CARGO_BIN_EXE_echo_server_threaded");
const ASYNC: &str = env!("CARGO_BIN_EXE_echo_server_async");

/// The threaded server with timeouts short enough for tests.
fn threaded(extra: &[&str]) -> Server {
    let mut args = vec!["127.0.0.1:0", "--idle-timeout=2", "--write-timeout=1"];
    args.extend_from_slice(extra);
    start_server(THREADED, &args)
}

/// The async server with the same short timeouts.
fn asynchronous(extra: &[&str]) -> Server {
    let mut args = vec!["127.0.0.1:0", "--idle-timeout=2", "--write-timeout=1"];
    args.extend_from_slice(extra);
    start_server(ASYNC, &args)
}

/// The seed's serial server, with a write deadline short enough for tests.
fn serial() -> Server {
    start_server(SERIAL, &["127.0.0.1:0", "--write-timeout=2"])
}

/// Runs `fault` against a fresh server of each kind, then checks that the server still answers.
/// What `fault` returns (e.g. a connection it leaves open) is kept until after that check.
fn both<T>(name: &str, fault: impl Fn(&Server) -> T) {
    both_within(name, LIMIT, fault)
}

/// [`both`], waiting at most `limit` for the answer after the fault.
fn both_within<T>(name: &str, limit: Duration, fault: impl Fn(&Server) -> T) {
    after(serial(), "serial", name, limit, &fault);
    after(threaded(&[]), "threaded", name, limit, &fault);
    after(asynchronous(&[]), "async", name, limit, &fault);
}

/// Runs `fault` against `server`, then checks that it answers the next client within `limit`.
fn after<T>(server: Server, kind: &str, name: &str, limit: Duration, fault: impl Fn(&Server) -> T) {
    let kept = fault(&server);
    let started = Instant::now();
    assert_answers_within(server.addr, &format!("{name} ({kind} server)"), limit);
    println!(
        "{kind} server: answered {:?} after {name}",
        started.elapsed()
    );
    drop(kept);
}

#[test]
fn a_client_that_resets_mid_stream() {
    both("a reset", |server| {
        let mut stream = support::connect(server.addr);
        let data = vec![b'x'; 200_000];
        stream.write_all(&data).unwrap();
        // Read a little of the echo, so that the server is surely busy with us...
        let mut some = [0; 100];
        stream.read_exact(&mut some).unwrap();
        // ...then reset: SO_LINGER with a zero timeout makes close(2) send RST instead of FIN.
        let socket = Socket::from(stream);
        socket.set_linger(Some(Duration::ZERO)).unwrap();
        drop(socket);
    });
}

#[test]
fn a_client_that_connects_and_closes_without_sending() {
    both("a silent close", |server| {
        for _ in 0..3 {
            drop(support::connect(server.addr));
        }
    });
}

/// A client that sends 10 MB and never reads: once the replies fill its receive buffer and the
/// server's send buffer, the server's `send` blocks. Without a write timeout it would block
/// forever, and (for the serial server) so would every later client. Returns the connection,
/// still open: the caller keeps it while the next client asks, so the server must give up on
/// its own.
///
/// `receive_buffer` is our `SO_RCVBUF`, set before connect so that it also limits the TCP window:
/// the server's replies fill it at once (setting it also turns off Linux's buffer autotuning).
fn send_10_mb_without_reading(server: &Server, receive_buffer: usize) -> TcpStream {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(receive_buffer).unwrap();
    socket
        .connect_timeout(&SockAddr::from(server.addr), LIMIT)
        .unwrap();
    socket
        .set_write_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut stream = TcpStream::from(socket);
    let chunk = vec![b'y'; 64 * 1024];
    let mut sent = 0;
    while sent < 10_000_000 {
        match stream.write(&chunk) {
            Ok(n) => sent += n,
            // A timeout: the server stopped reading, and its receive buffer and our send buffer
            // are full. An error: the server already gave up and closed. Either way, stop.
            Err(_) => break,
        }
    }
    stream
}

#[test]
fn serial_survives_a_client_that_sends_10_mb_without_reading() {
    // The smallest receive buffer the kernel allows: the window opens a few bytes at a time, so a
    // timeout per `send` call would be renewed for ever. The serial server has a 2 s deadline per
    // reply (`--write-timeout=2`): it gives up on this client, then answers the next one. Until
    // then the next client waits: one client at a time.
    after(
        serial(),
        "serial",
        "10 MB sent without reading",
        LIMIT,
        |server| send_10_mb_without_reading(server, 1),
    );
}

#[test]
fn threaded_survives_a_client_that_sends_10_mb_without_reading() {
    survives_10_mb_without_reading(THREADED);
}

#[test]
fn async_survives_a_client_that_sends_10_mb_without_reading() {
    survives_10_mb_without_reading(ASYNC);
}

fn survives_10_mb_without_reading(exe: &str) {
    // A 3 s write timeout: long enough that, with a timeout per `send` call instead of a deadline
    // per reply, the trickle below keeps restarting it and the server never gives up (checked:
    // no "timed out" within 20 s); with the deadline it gives up after about 3 s.
    let server = start_server(exe, &["127.0.0.1:0", "--write-timeout=3"]);
    // The smallest receive buffer the kernel allows: the hardest case, where the window opens a
    // few bytes at a time.
    let kept = send_10_mb_without_reading(&server, 1);
    // Other clients are served meanwhile...
    assert_answers(server.addr, &format!("10 MB sent without reading ({exe})"));
    // ...and the server gives up on this one when a reply misses its deadline.
    wait_for_line(&server.lines, "timed out");
    drop(kept);
}

/// A deterministic mix of chunk lengths and byte values: every byte must come back, in order.
#[test]
fn random_bytes_of_random_lengths() {
    both("random bytes", |server| {
        let mut rng = Rng::new(0x5eed_50c7);
        let mut data = Vec::new();
        let mut chunks = Vec::new();
        while data.len() < 300_000 {
            let len = rng.between(1, 5000);
            let chunk = rng.bytes(len);
            data.extend_from_slice(&chunk);
            chunks.push(chunk);
        }
        let stream = support::connect(server.addr);
        let mut writer = stream.try_clone().unwrap();
        // We write from one thread and read from another: writing everything before reading could
        // fill both directions' buffers and deadlock (the fault of the previous test).
        let sending = thread::spawn(move || {
            for chunk in chunks {
                writer.write_all(&chunk).unwrap();
            }
            writer.shutdown(Shutdown::Write).unwrap();
        });
        let mut reply = Vec::new();
        let mut reader = stream;
        reader.read_to_end(&mut reply).unwrap();
        sending.join().unwrap();
        let pieces = check_echo(&reply, &data).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            pieces >= data.len() / 1024,
            "{pieces} pieces for {} bytes",
            data.len()
        );
    });
}

#[test]
fn a_thousand_connections_one_after_another() {
    both("1,000 connections", |server| {
        for i in 0..1000 {
            let message = format!("client {i}");
            let mut stream = support::connect(server.addr);
            stream.write_all(message.as_bytes()).unwrap();
            read_echo(&mut stream, message.as_bytes(), LIMIT)
                .unwrap_or_else(|e| panic!("connection {i}: {e}"));
        }
    });
}

/// More clients than the cap, at once: the first `MAX_CLIENTS` are served; the others wait in the
/// accept queue (the server says so) and are served as soon as threads are free.
#[test]
fn threaded_survives_200_concurrent_clients_over_its_cap() {
    survives_200_concurrent_clients_over_its_cap(
        threaded(&["--idle-timeout=20"]),
        socket_steps::threaded::MAX_CLIENTS,
    );
}

/// The async server's cap is 10,000; we lower it to the threaded server's, to run the same test.
#[test]
fn async_survives_200_concurrent_clients_over_its_cap() {
    survives_200_concurrent_clients_over_its_cap(
        asynchronous(&["--idle-timeout=20", "--max-clients=128"]),
        128,
    );
}

fn survives_200_concurrent_clients_over_its_cap(server: Server, cap: usize) {
    let addr = server.addr;
    // The first `cap` clients are answered once and then hold their connection (and a thread).
    let release = Arc::new(Barrier::new(cap + 1));
    let holders: Vec<_> = (0..cap)
        .map(|i| {
            let release = Arc::clone(&release);
            thread::spawn(move || {
                let stream = round_trip(addr, i);
                release.wait();
                stream.shutdown(Shutdown::Write).unwrap();
            })
        })
        .collect();
    wait_for_line(
        &server.lines,
        &format!("at the cap: {cap} clients being served"),
    );
    // The rest connect now: the kernel completes their handshakes, but the server accepts none
    // of them until a holder leaves.
    let waiters: Vec<_> = (cap..200)
        .map(|i| thread::spawn(move || drop(round_trip(addr, i))))
        .collect();
    release.wait();
    for handle in holders.into_iter().chain(waiters) {
        handle.join().expect("a client failed");
    }
    assert_answers(addr, "200 concurrent clients");
}

fn round_trip(addr: SocketAddr, i: usize) -> TcpStream {
    let message = format!("client {i}");
    let mut stream = support::connect(addr);
    stream.write_all(message.as_bytes()).unwrap();
    read_echo(&mut stream, message.as_bytes(), LIMIT).unwrap_or_else(|e| panic!("client {i}: {e}"));
    stream
}

/// Out of file descriptors: with `ulimit -n 32` the server can hold about 28 connections; the
/// next `accept` fails with EMFILE. The server must say so, keep going, and serve again once
/// clients leave.
#[cfg(unix)]
#[test]
fn threaded_survives_running_out_of_file_descriptors() {
    survives_running_out_of_file_descriptors(THREADED);
}

#[cfg(unix)]
#[test]
fn async_survives_running_out_of_file_descriptors() {
    survives_running_out_of_file_descriptors(ASYNC);
}

#[cfg(unix)]
fn survives_running_out_of_file_descriptors(exe: &str) {
    let command = format!("ulimit -n 32 && exec '{exe}' 127.0.0.1:0 --idle-timeout=20");
    let server = start_server("sh", &["-c", &command]);
    // Every one of these completes its handshake (the kernel does that), but the server cannot
    // accept them all.
    let clients: Vec<TcpStream> = (0..40).map(|_| support::connect(server.addr)).collect();
    let line = wait_for_line(&server.lines, "accept failed");
    assert!(
        line.contains("Too many open files") || line.contains("os error 24"),
        "{line}"
    );
    drop(clients);
    assert_answers(server.addr, "running out of file descriptors");
}
