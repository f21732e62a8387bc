//! Faults and load that every echo server must survive. After each one, the next client must
//! still get a correct answer.
//!
//! [`SERVERS`] is the one list of servers these tests run against; a new server joins the list
//! and is tested against every fault. Each test starts its own server process on port 0, so they
//! run in parallel. The servers are started with short timeouts (`--write-timeout`, and
//! `--idle-timeout` where there is one) so that the tests that wait for a timeout take a second
//! or two, not the default 10 or 30 s.

mod echo_support;
mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use echo_support::{assert_answers, assert_answers_within, check_echo, read_echo, Rng};
use socket2::{Domain, SockAddr, Socket, Type};
use support::{start_server, wait_for_line, Server, LIMIT};

/// An echo server binary, and how the fault tests start it.
struct Kind {
    /// For messages: "serial", "threaded"...
    name: &'static str,
    exe: &'static str,
    /// Arguments after `127.0.0.1:0`: timeouts short enough for tests.
    test_args: &'static [&'static str],
    /// Whether it serves many clients at once (every server but the seed's).
    concurrent: bool,
}

impl Kind {
    /// Starts this server on a free port with its test arguments, then `extra`.
    fn start(&self, extra: &[&str]) -> Server {
        let mut args = vec!["127.0.0.1:0"];
        args.extend_from_slice(self.test_args);
        args.extend_from_slice(extra);
        start_server(self.exe, &args)
    }
}

const SERIAL: Kind = Kind {
    name: "serial",
    exe: env!("CARGO_BIN_EXE_echo_server"),
    test_args: &["--write-timeout=2"],
    concurrent: false,
};

const THREADED: Kind = Kind {
    name: "threaded",
    exe: env!("CARGO_BIN_EXE_echo_server_threaded"),
    test_args: &["--idle-timeout=2", "--write-timeout=1"],
    concurrent: true,
};

/// The event loop is Linux's (epoll); elsewhere the binary says so and exits.
#[cfg(target_os = "linux")]
const EVENTS: Kind = Kind {
    name: "events",
    exe: env!("CARGO_BIN_EXE_echo_server_events"),
    test_args: &["--idle-timeout=2", "--write-timeout=1"],
    concurrent: true,
};

const ASYNC: Kind = Kind {
    name: "async",
    exe: env!("CARGO_BIN_EXE_echo_server_async"),
    test_args: &["--idle-timeout=2", "--write-timeout=1"],
    concurrent: true,
};

/// Every echo server: the one list that the fault tests run against.
const SERVERS: &[Kind] = &[
    SERIAL,
    THREADED,
    #[cfg(target_os = "linux")]
    EVENTS,
    ASYNC,
];

/// The servers that serve many clients at once.
fn concurrent() -> impl Iterator<Item = &'static Kind> {
    SERVERS.iter().filter(|kind| kind.concurrent)
}

/// Runs `fault` against a fresh server of each kind, then checks that the server still answers.
/// What `fault` returns (e.g. a connection it leaves open) is kept until after that check.
fn every_server<T>(name: &str, fault: impl Fn(&Server) -> T) {
    for kind in SERVERS {
        after(kind.start(&[]), kind.name, name, LIMIT, &fault);
    }
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

/// The tutorial's own client, `tests/python/seed_client.py`, talks to every server.
#[test]
fn the_tutorials_python_client_talks_to_every_server() {
    let Some(python) = support::python3() else {
        return;
    };
    for kind in SERVERS {
        let server = kind.start(&[]);
        let port = server.addr.port().to_string();
        let seed_client = support::python_file("seed_client.py");
        let output = support::run(python, &[&seed_client, "127.0.0.1", &port]);
        support::assert_success(&output);
        assert_eq!(
            support::stdout(&output),
            "Client received: b'|From Server| Hello network world'\n",
            "the seed's client against the {} server",
            kind.name
        );
    }
}

#[test]
fn a_client_that_resets_mid_stream() {
    every_server("a reset", |server| {
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
    every_server("a silent close", |server| {
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
        SERIAL.start(&[]),
        "serial",
        "10 MB sent without reading",
        LIMIT,
        |server| send_10_mb_without_reading(server, 1),
    );
}

#[test]
fn concurrent_servers_survive_a_client_that_sends_10_mb_without_reading() {
    for kind in concurrent() {
        // A 3 s write timeout: long enough that, with a timeout per `send` call instead of a
        // deadline per reply, the trickle below keeps restarting it and the threaded server
        // never gives up (checked: no "timed out" within 20 s); with the deadline it gives up
        // after about 3 s.
        let server = kind.start(&["--write-timeout=3"]);
        // The smallest receive buffer the kernel allows: the hardest case, where the window
        // opens a few bytes at a time.
        let kept = send_10_mb_without_reading(&server, 1);
        // Other clients are served meanwhile...
        assert_answers(
            server.addr,
            &format!("10 MB sent without reading ({} server)", kind.name),
        );
        // ...and the server gives up on this one when a reply misses its deadline.
        wait_for_line(&server.lines, "timed out");
        drop(kept);
    }
}

/// A slowloris crowd: 150 clients (more than the threaded server's cap of 128) that each send one
/// byte every 200 ms, for longer than the server's idle timeout (1 s here), so that the timeout,
/// renewed by every byte, never closes them. The echo protocol has no request boundary, so each
/// of them is also a legitimate slow client (a person typing into `nc`): the server cannot tell.
/// A normal client must be answered while the whole crowd is still trickling, and every trickler
/// must have been served too (an echo of each of its bytes).
fn a_normal_client_is_served_while_a_slowloris_crowd_trickles(kind: &Kind) {
    let server = kind.start(&["--idle-timeout=1"]);
    let crowd: Vec<TcpStream> = (0..150).map(|_| support::connect(server.addr)).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let (outlived_the_timeout, told) = mpsc::channel();
    let trickling = {
        let stop = Arc::clone(&stop);
        thread::spawn(move || {
            let started = Instant::now();
            let mut rounds = 0;
            while !stop.load(Ordering::Relaxed) && started.elapsed() < LIMIT {
                for mut stream in &crowd {
                    // Fails if the server has closed this client (reset, broken pipe).
                    stream
                        .write_all(b"a")
                        .expect("a trickling client was closed or reset");
                }
                rounds += 1;
                if started.elapsed() > Duration::from_millis(1500) {
                    let _ = outlived_the_timeout.send(());
                }
                // The trickle's pace: this pause is the fault itself, not synchronisation.
                thread::sleep(Duration::from_millis(200));
            }
            (crowd, rounds)
        })
    };
    told.recv_timeout(LIMIT)
        .expect("the crowd trickles for longer than the idle timeout");
    assert_answers(
        server.addr,
        &format!(
            "a normal client while 150 clients trickle ({} server)",
            kind.name
        ),
    );
    stop.store(true, Ordering::Relaxed);
    let (crowd, rounds) = trickling.join().expect("the trickling crowd");
    for (i, mut stream) in crowd.into_iter().enumerate() {
        read_echo(&mut stream, &vec![b'a'; rounds], LIMIT)
            .unwrap_or_else(|e| panic!("trickling client {i} of the {} server: {e}", kind.name));
    }
}

/// The lesson of the slowloris test: an event loop holds the whole crowd (a connection costs
/// it a few hundred bytes) and keeps serving, with no special policy.
#[cfg(target_os = "linux")]
#[test]
fn events_serves_a_normal_client_while_a_slowloris_crowd_trickles() {
    a_normal_client_is_served_while_a_slowloris_crowd_trickles(&EVENTS);
}

/// The same lesson with tokio: a task per connection, and the crowd costs a few hundred bytes
/// a client.
#[test]
fn async_serves_a_normal_client_while_a_slowloris_crowd_trickles() {
    a_normal_client_is_served_while_a_slowloris_crowd_trickles(&ASYNC);
}

/// A deterministic mix of chunk lengths and byte values: every byte must come back, in order.
#[test]
fn random_bytes_of_random_lengths() {
    every_server("random bytes", |server| {
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
    every_server("1,000 connections", |server| {
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
/// accept queue (the server says so) and are served as soon as a connection closes.
#[test]
fn concurrent_servers_survive_200_concurrent_clients_over_their_cap() {
    let cap = socket_steps::threaded::MAX_CLIENTS;
    for kind in concurrent() {
        let server = kind.start(&["--idle-timeout=20", &format!("--max-clients={cap}")]);
        let addr = server.addr;
        // The first `cap` clients are answered once and then hold their connection.
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
        wait_for_line(&server.lines, &format!("at the cap: {cap} "));
        // The rest connect now: the kernel completes their handshakes, but the server accepts
        // none of them until a holder leaves.
        let waiters: Vec<_> = (cap..200)
            .map(|i| thread::spawn(move || drop(round_trip(addr, i))))
            .collect();
        release.wait();
        for handle in holders.into_iter().chain(waiters) {
            handle.join().expect("a client failed");
        }
        assert_answers(
            addr,
            &format!("200 concurrent clients ({} server)", kind.name),
        );
    }
}

/// A storm: 1,000 clients connect at once (from 10 threads), each makes a round trip and leaves.
/// The handshakes pile up in the accept queue faster than any server accepts.
#[test]
fn concurrent_servers_survive_a_storm_of_1000_connections() {
    for kind in concurrent() {
        let server = kind.start(&[]);
        let addr = server.addr;
        let threads: Vec<_> = (0..10)
            .map(|t| {
                thread::spawn(move || {
                    for i in 0..100 {
                        drop(round_trip(addr, t * 100 + i));
                    }
                })
            })
            .collect();
        for handle in threads {
            handle.join().expect("a client of the storm failed");
        }
        assert_answers(addr, &format!("a storm ({} server)", kind.name));
    }
}

fn round_trip(addr: SocketAddr, i: usize) -> TcpStream {
    let message = format!("client {i}");
    let mut stream = support::connect(addr);
    stream.write_all(message.as_bytes()).unwrap();
    read_echo(&mut stream, message.as_bytes(), LIMIT).unwrap_or_else(|e| panic!("client {i}: {e}"));
    stream
}

/// Out of file descriptors: with `ulimit -n 32` a server can hold about 28 connections; the
/// next `accept` fails with EMFILE. The server must say so, keep going, and serve again once
/// clients leave.
#[cfg(unix)]
#[test]
fn concurrent_servers_survive_running_out_of_file_descriptors() {
    for kind in concurrent() {
        let command = format!(
            "ulimit -n 32 && exec '{}' 127.0.0.1:0 --idle-timeout=20",
            kind.exe
        );
        let server = start_server("sh", &["-c", &command]);
        // Every one of these completes its handshake (the kernel does that), but the server
        // cannot accept them all.
        let clients: Vec<TcpStream> = (0..40).map(|_| support::connect(server.addr)).collect();
        let line = wait_for_line(&server.lines, "accept failed");
        assert!(
            line.contains("Too many open files") || line.contains("os error 24"),
            "{} server: {line}",
            kind.name
        );
        drop(clients);
        assert_answers(
            server.addr,
            &format!("running out of file descriptors ({} server)", kind.name),
        );
    }
}
