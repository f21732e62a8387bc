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

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use echo_support::{assert_answers, assert_answers_within, check_echo, read_echo, Rng};
use socket2::Socket;
use support::graders::flood_without_reading;
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
    /// What a crowd of slowly trickling clients does to it.
    slowloris: Slowloris,
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
    slowloris: Slowloris::HeldByOne,
};

const THREADED: Kind = Kind {
    name: "threaded",
    exe: env!("CARGO_BIN_EXE_echo_server_threaded"),
    test_args: &["--idle-timeout=2", "--write-timeout=1"],
    concurrent: true,
    slowloris: Slowloris::Evicts(&["--idle-timeout=1", "--max-clients=4", "--evict-after=100ms"]),
};

/// The event loop is Linux's (epoll); elsewhere the binary says so and exits.
#[cfg(target_os = "linux")]
const EVENTS: Kind = Kind {
    name: "events",
    exe: env!("CARGO_BIN_EXE_echo_server_events"),
    test_args: &["--idle-timeout=2", "--write-timeout=1"],
    concurrent: true,
    slowloris: Slowloris::Holds,
};

const ASYNC: Kind = Kind {
    name: "async",
    exe: env!("CARGO_BIN_EXE_echo_server_async"),
    test_args: &["--idle-timeout=2", "--write-timeout=1"],
    concurrent: true,
    slowloris: Slowloris::Holds,
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
        assert_eq!(
            support::graders::seed_client_output(python, server.addr),
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
        |server| flood_without_reading(server.addr, &[b'y'; 64 * 1024]),
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
        let kept = flood_without_reading(server.addr, &[b'y'; 64 * 1024]);
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

/// How a server meets the slowloris crowd of
/// [`a_normal_client_is_served_while_a_slowloris_crowd_trickles`].
enum Slowloris {
    /// One client at a time: a single trickler holds the server for as long as it likes
    /// (head-of-line blocking, the first lesson of the Many clients chapter).
    HeldByOne,
    /// A thread per client: a cap's worth of tricklers takes every slot, and the server makes
    /// room for a newcomer by closing the quietest (its policy). Started with these arguments: a
    /// small cap, so that a cap's worth is a handful, and a short grace before eviction.
    Evicts(&'static [&'static str]),
    /// A connection costs a few hundred bytes: a crowd of [`CROWD`] (more than the threaded
    /// server's default cap) is nothing to its cap of 10,000, and no policy is needed.
    Holds,
}

/// The crowd against the servers that hold it: more than the threaded server's default cap.
const CROWD: usize = 150;

/// The threaded server's cap in the slowloris test (`Slowloris::Evicts`).
const SMALL_CAP: usize = 4;

/// A slowloris crowd: clients that each send one byte every 200 ms, for longer than the server's
/// idle timeout (1 s here), so that the timeout, renewed by every byte, never closes them. The
/// echo protocol has no request boundary, so each of them is also a legitimate slow client (a
/// person typing into `nc`): the server cannot tell. A normal client must be answered while the
/// whole crowd is still trickling (except by the serial server, which a single trickler holds),
/// and every trickler must have been served too (an echo of each of its bytes), except one that
/// the threaded server evicted, which must have been closed.
#[test]
fn a_normal_client_is_served_while_a_slowloris_crowd_trickles() {
    for kind in SERVERS {
        let (crowd_size, args): (usize, &[&str]) = match kind.slowloris {
            Slowloris::HeldByOne => (1, &[]),
            Slowloris::Evicts(args) => (SMALL_CAP, args),
            Slowloris::Holds => (CROWD, &["--idle-timeout=1"]),
        };
        let server = kind.start(args);
        let crowd: Vec<TcpStream> = (0..crowd_size)
            .map(|_| support::connect(server.addr))
            .collect();
        let stop = Arc::new(AtomicBool::new(false));
        let (outlived_the_timeout, told) = mpsc::channel();
        let trickling = {
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                let started = Instant::now();
                // Bytes each trickler sent, and whether the server closed it (a failed write).
                let mut sent = vec![0; crowd.len()];
                let mut closed = vec![false; crowd.len()];
                while !stop.load(Ordering::Relaxed) && started.elapsed() < LIMIT {
                    for (i, mut stream) in crowd.iter().enumerate() {
                        if !closed[i] {
                            match stream.write_all(b"a") {
                                Ok(()) => sent[i] += 1,
                                Err(_) => closed[i] = true,
                            }
                        }
                    }
                    if started.elapsed() > Duration::from_millis(1500) {
                        let _ = outlived_the_timeout.send(());
                    }
                    // The trickle's pace: this pause is the fault itself, not synchronisation.
                    thread::sleep(Duration::from_millis(200));
                }
                (crowd, sent, closed)
            })
        };
        told.recv_timeout(LIMIT)
            .expect("the crowd trickles for longer than the idle timeout");
        let what = format!(
            "a normal client while {crowd_size} clients trickle ({} server)",
            kind.name
        );
        let mut normal = None;
        // The trickler that the threaded server closed to make room, as its log names it.
        let mut evicted = None;
        match kind.slowloris {
            Slowloris::HeldByOne => normal = Some(not_answered_while_held(server.addr, &what)),
            Slowloris::Evicts(_) => {
                assert_answers(server.addr, &what);
                let line = wait_for_line(&server.lines, "evicted: quiet for");
                let peer = line.split(' ').next().unwrap_or_default();
                evicted = Some(peer.parse::<SocketAddr>().expect(&line));
            }
            Slowloris::Holds => assert_answers(server.addr, &what),
        }
        stop.store(true, Ordering::Relaxed);
        let (crowd, sent, closed) = trickling.join().expect("the trickling crowd");
        for (i, mut stream) in crowd.into_iter().enumerate() {
            let whose = format!("trickling client {i} of the {} server", kind.name);
            if evicted == Some(stream.local_addr().unwrap()) {
                // Whatever it got is an echo of what it sent before; then the server's FIN (or,
                // if it wrote after that, a reset).
                let mut rest = Vec::new();
                stream.set_read_timeout(Some(LIMIT)).unwrap();
                match stream.read_to_end(&mut rest) {
                    Ok(_) => {
                        let echoed = rest.iter().filter(|&&b| b == b'a').count();
                        check_echo(&rest, &vec![b'a'; echoed])
                            .unwrap_or_else(|e| panic!("{whose}, evicted: {e}"));
                    }
                    Err(error) => assert_eq!(error.kind(), ErrorKind::ConnectionReset, "{whose}"),
                }
                continue;
            }
            assert!(!closed[i], "{whose} was closed");
            read_echo(&mut stream, &vec![b'a'; sent[i]], LIMIT)
                .unwrap_or_else(|e| panic!("{whose}: {e}"));
        }
        if let Some(mut normal) = normal {
            // The serial server: once the trickler has gone, the normal client is served.
            let message = b"Hello network world";
            read_echo(&mut normal, message, LIMIT)
                .unwrap_or_else(|e| panic!("{what}, after the trickler left: {e}"));
        }
    }
}

/// The serial server's part: a normal client's request gets no answer while a trickler is
/// connected. Returns the client, whose answer comes once the trickler leaves.
fn not_answered_while_held(addr: SocketAddr, what: &str) -> TcpStream {
    let mut normal = support::connect(addr);
    normal.write_all(b"Hello network world").unwrap();
    // Long enough that a server that could answer would have (a loopback round trip takes
    // microseconds): the absence of an answer is what we check, not a way to wait.
    normal
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut buffer = [0; 64];
    let error = normal.read(&mut buffer).expect_err(&format!(
        "{what}: answered while the trickler held the server"
    ));
    assert!(
        matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{what}: expected a read timeout, got {error}"
    );
    normal
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

/// More clients than the cap, at once: the first `MAX_CLIENTS` are served; the others wait (the
/// server says that it is at the cap) and are served as soon as a connection closes, or, in the
/// threaded server, once a connection has been quiet long enough to be evicted for them.
#[test]
fn concurrent_servers_survive_200_concurrent_clients_over_their_cap() {
    let cap = socket_steps::threaded::MAX_CLIENTS;
    for kind in concurrent() {
        let server = kind.start(&["--idle-timeout=20", &format!("--max-clients={cap}")]);
        let addr = server.addr;
        // The first `cap` clients are answered once and then hold their connection.
        let release = Arc::new(Barrier::new(cap + 1));
        let (answered, told) = mpsc::channel();
        let holders: Vec<_> = (0..cap)
            .map(|i| {
                let release = Arc::clone(&release);
                let answered = answered.clone();
                thread::spawn(move || {
                    let stream = round_trip(addr, i);
                    let _ = answered.send(());
                    release.wait();
                    // Fails if the threaded server evicted this holder meanwhile: that is fine.
                    let _ = stream.shutdown(Shutdown::Write);
                })
            })
            .collect();
        for _ in 0..cap {
            told.recv_timeout(LIMIT).expect("a holder is answered");
        }
        // The rest connect now: the kernel completes their handshakes, but the server serves
        // none of them until a holder leaves.
        let waiters: Vec<_> = (cap..200)
            .map(|i| thread::spawn(move || drop(round_trip(addr, i))))
            .collect();
        wait_for_line(&server.lines, &format!("at the cap: {cap} "));
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

/// Ctrl-Z, then `fg`: the server is stopped (SIGSTOP) and continued (SIGCONT) while its clients
/// wait. On Linux that makes a `recv` on a socket with a receive timeout fail with EINTR
/// (signal(7)), which means "call again", not "the client has gone": the threaded server used to
/// close every connection it had. Each client must still be answered afterwards.
#[cfg(target_os = "linux")]
#[test]
fn every_server_keeps_its_clients_when_stopped_and_continued() {
    for kind in SERVERS {
        // Idle timeouts far longer than the test, so that only the stop could close a client.
        let args: &[&str] = if kind.concurrent {
            &["--idle-timeout=60"]
        } else {
            &[]
        };
        let server = kind.start(args);
        // The serial server has room for one client at a time.
        let count = if kind.concurrent { 3 } else { 1 };
        let clients: Vec<TcpStream> = (0..count).map(|i| round_trip(server.addr, i)).collect();
        let pid = server.child.id();
        // Answered, each connection waits for its next piece: every thread of the server sleeps
        // in the kernel (in `recv`, `accept` or `epoll_wait`).
        support::stop_and_continue_when(pid, "every thread of the server asleep", || {
            let states = support::thread_states(pid);
            !states.is_empty() && states.iter().all(|&state| state == 'S')
        });
        for (i, mut stream) in clients.into_iter().enumerate() {
            let message = format!("after the stop, client {i}");
            stream.write_all(message.as_bytes()).unwrap();
            read_echo(&mut stream, message.as_bytes(), LIMIT).unwrap_or_else(|e| {
                panic!(
                    "{} server, client {i}, stopped and continued: {e}",
                    kind.name
                )
            });
        }
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
