//! Many clients: the seed's server serves one at a time, so one idle client blocks everyone
//! (head-of-line blocking); the threaded server answers the others anyway.

mod echo_support;
mod support;

use std::io::{ErrorKind, Read, Write};
use std::time::Duration;

use echo_support::{read_echo, Rng};
use support::{start_server, wait_for_line, LIMIT};

const SERIAL: &str = env!("CARGO_BIN_EXE_echo_server");
const THREADED: &str = env!("CARGO_BIN_EXE_echo_server_threaded");

/// How long the second client waits for an answer that must not come. Long enough that a server
/// that could answer would have (a loopback round trip takes microseconds).
const NO_ANSWER_WAIT: Duration = Duration::from_secs(1);

#[test]
fn serial_server_one_idle_client_blocks_the_next() {
    let server = start_server(SERIAL, &["127.0.0.1:0"]);
    // The first client is served (its echo proves that the server is busy with it), then sits
    // there, connected and quiet.
    let mut idle = support::connect(server.addr);
    idle.write_all(b"first").unwrap();
    read_echo(&mut idle, b"first", LIMIT).expect("the first client is answered");

    // The second client connects fine (the kernel completes the handshake: it waits in the accept
    // queue) and sends its request...
    let mut second = support::connect(server.addr);
    second.write_all(b"second").unwrap();
    // ...but no answer comes: the server is in `recv` on the idle client's connection.
    second.set_read_timeout(Some(NO_ANSWER_WAIT)).unwrap();
    let mut buffer = [0; 64];
    let error = second
        .read(&mut buffer)
        .expect_err("the serial server answered a second client while the first was connected");
    assert!(
        matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "expected a read timeout, got {error}"
    );

    // As soon as the idle client leaves, the second one is served: it was only waiting.
    drop(idle);
    read_echo(&mut second, b"second", LIMIT).expect("answered after the first client left");
}

#[test]
fn threaded_server_answers_while_a_client_is_idle() {
    let server = start_server(THREADED, &["127.0.0.1:0"]);
    let mut idle = support::connect(server.addr);
    idle.write_all(b"first").unwrap();
    read_echo(&mut idle, b"first", LIMIT).expect("the first client is answered");

    // The idle client is still connected, and still has its thread; ten more clients come and
    // go, each answered.
    for i in 0..10 {
        let message = format!("client {i}");
        let mut other = support::connect(server.addr);
        other.write_all(message.as_bytes()).unwrap();
        read_echo(&mut other, message.as_bytes(), LIMIT)
            .unwrap_or_else(|e| panic!("client {i} got no answer while one client idled: {e}"));
    }
    // And the idle client can still talk.
    idle.write_all(b"still here").unwrap();
    read_echo(&mut idle, b"still here", LIMIT).expect("the idle client is still served");
}

#[test]
fn threaded_server_closes_an_idle_client_after_its_timeout() {
    let server = start_server(THREADED, &["127.0.0.1:0", "--idle-timeout=0.5"]);
    let mut idle = support::connect(server.addr);
    idle.write_all(b"hello").unwrap();
    read_echo(&mut idle, b"hello", LIMIT).unwrap();
    // Quiet from now on: the server's `recv` times out and it closes; we read end-of-file.
    let mut buffer = [0; 16];
    assert_eq!(idle.read(&mut buffer).expect("EOF, not an error"), 0);
    wait_for_line(&server.lines, "timed out");
}

#[test]
fn threaded_server_keeps_each_clients_bytes_apart() {
    // Several clients stream at the same time; each must get back exactly its own bytes.
    let server = start_server(THREADED, &["127.0.0.1:0"]);
    let addr = server.addr;
    let clients: Vec<_> = (0..8u64)
        .map(|i| {
            std::thread::spawn(move || {
                let mut rng = Rng::new(i + 1);
                let mut stream = support::connect(addr);
                for round in 0..20 {
                    let len = rng.between(1, 3000);
                    // Letters only, different per client, so that a mix-up shows.
                    let message: Vec<u8> = (0..len)
                        .map(|k| b'a' + ((i as usize + k) % 26) as u8)
                        .collect();
                    stream.write_all(&message).unwrap();
                    read_echo(&mut stream, &message, LIMIT)
                        .unwrap_or_else(|e| panic!("client {i} round {round}: {e}"));
                }
            })
        })
        .collect();
    for client in clients {
        client.join().expect("a client failed");
    }
}

// ANCHOR: why_not_16
/// The answer to the chapter's last question, "why not 16?". `ulimit -n 16` limits descriptor
/// *numbers*: every new descriptor must be below 16. Some of those numbers are taken before the
/// first client comes: 0, 1 and 2, the listener, and any descriptor the process inherited. The
/// server accepts exactly one client per number left.
#[test]
#[cfg(target_os = "linux")]
fn under_ulimit_16_the_server_accepts_one_client_per_free_descriptor_number() {
    let command = format!("ulimit -n 16 && exec '{THREADED}' 127.0.0.1:0");
    let server = start_server("sh", &["-c", &command]);
    let taken = std::fs::read_dir(format!("/proc/{}/fd", server.child.id()))
        .expect("the server's descriptors")
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|fd| *fd < 16)
        .count();
    let _clients: Vec<_> = (0..20).map(|_| support::connect(server.addr)).collect();
    let mut accepted = 0;
    loop {
        let line = wait_for_line(&server.lines, "");
        if line.contains("accept failed") {
            break;
        }
        if line.contains("connected by") {
            accepted += 1;
        }
    }
    println!("{taken} descriptor numbers below 16 were taken; {accepted} clients accepted");
    assert_eq!(accepted, 16 - taken);
}
// ANCHOR_END: why_not_16
