//! The seed tutorial's demo: an echo server on port 50007 and its client.
//!
//! The server accepts one client at a time, forever. For each `recv(1024)` it sends back
//! `|From Server| ` followed by the bytes it received, until the client closes. The client sends
//! `Hello network world` and prints what comes back. Both speak exactly the seed's protocol, so
//! they work with the Python programs of the tutorial, or with `nc`.
//!
//! One thing to watch: the prefix is added once per `recv`, not once per message. A 3000-byte
//! message comes back as three or more prefixed pieces: TCP delivers a stream of bytes, and the
//! server never knows where one of the client's "messages" ended.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use socket2::Socket;

use crate::step4_accept::accept;
use crate::step5_process::{recv, send_all_within, RECV_SIZE};

/// How long the server gives a client to take each reply.
///
/// The seed has no timeout at all. We add this one so that a client that sends without ever
/// reading cannot freeze the server forever: once both sides' buffers are full, our `send`
/// would wait for ever. It is a deadline for the whole reply
/// ([`send_all_within`](crate::step5_process::send_all_within)), not a timeout per `send` call,
/// which a client that reads a few bytes now and then could renew for ever. We deliberately set
/// no *read* timeout, as in the seed: an idle client keeps the one-at-a-time server busy, which
/// the "many clients" chapter measures.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a server waits after a failed `accept` before trying again. A failure for want of
/// resources (`EMFILE`: out of file descriptors) does not go away by itself: the connection stays
/// queued and the next `accept` fails too, so we pause instead of spinning the CPU.
pub const ACCEPT_RETRY: Duration = Duration::from_millis(100);

/// Whether the `repeats`th failed `accept` in a row is worth a line in the server's log: the
/// first, then every 50th (5 s of retries), so that a server out of file descriptors does not
/// flood its log.
pub fn worth_logging(repeats: u64) -> bool {
    repeats <= 1 || repeats % 50 == 0
}

/// Calls `accept` until it succeeds. After each failure we report it to `failed`, with how many
/// failures in a row that makes, and wait [`ACCEPT_RETRY`]: the servers never stop because one
/// `accept` failed.
pub fn accept_retrying<T>(
    mut accept: impl FnMut() -> io::Result<T>,
    mut failed: impl FnMut(io::Error, u64),
) -> T {
    let mut failures_in_a_row = 0;
    loop {
        match accept() {
            Ok(accepted) => return accepted,
            Err(error) => {
                failures_in_a_row += 1;
                failed(error, failures_in_a_row);
                std::thread::sleep(ACCEPT_RETRY);
            }
        }
    }
}

/// What the seed's server puts in front of every piece it echoes: `'|From Server| ' + data`.
pub const PREFIX: &[u8] = b"|From Server| ";

// ANCHOR: reply
/// The reply to one received piece: the prefix, then the piece.
pub fn reply_to(piece: &[u8]) -> Vec<u8> {
    [PREFIX, piece].concat()
}
// ANCHOR_END: reply

// ANCHOR: serve_connection
/// Serves one client as the seed does: `recv(1024)`; if nothing came, the client closed, stop;
/// otherwise send the prefixed piece back, giving up if the client does not take it within
/// `write_timeout`. Returns how many bytes were received.
pub fn serve_connection(connection: &Socket, write_timeout: Duration) -> io::Result<u64> {
    todo!(
        "8.1: write the seed's echo server for one client — \
         read echo-demo.md; stuck? cargo classroom hint 8.1"
    )
}
// ANCHOR_END: serve_connection

/// What happened to one client of [`serve_forever`], for the server's log.
pub enum Event {
    /// `accept` returned a client (the seed prints `Server connected by (host, port)`).
    Connected(SocketAddr),
    /// The client closed its side; we echoed this many bytes and have closed ours.
    Finished(SocketAddr, u64),
    /// The connection failed (e.g. the client reset it); the server goes on with the next client.
    Failed(SocketAddr, io::Error),
    /// `accept` itself failed (e.g. too many open files) for the `n`th time in a row; the server
    /// waits [`ACCEPT_RETRY`] and goes on.
    AcceptFailed(io::Error, u64),
}

// ANCHOR: serve_forever
/// The seed's server loop: accept a client, serve it until it closes, close, repeat. One client
/// at a time: while one is served, the next ones wait in the accept queue.
///
/// `clients` limits how many clients to serve before returning (`None`: forever, as the seed).
/// Each reply must be taken within `write_timeout` ([`WRITE_TIMEOUT`] in `echo_server`). A
/// failure with one client is reported to `log` and does not stop the server.
pub fn serve_forever(
    listener: &Socket,
    clients: Option<usize>,
    write_timeout: Duration,
    mut log: impl FnMut(Event),
) {
    let mut served = 0;
    while clients.map_or(true, |limit| served < limit) {
        let (connection, peer) = accept_retrying(
            || accept(listener),
            |error, repeats| log(Event::AcceptFailed(error, repeats)),
        );
        log(Event::Connected(peer));
        let served_it = serve_connection(&connection, write_timeout);
        // close(2) before we log the end, so that the log line comes after our FIN.
        drop(connection);
        match served_it {
            Ok(bytes) => log(Event::Finished(peer, bytes)),
            Err(error) => log(Event::Failed(peer, error)),
        }
        served += 1;
    }
}
// ANCHOR_END: serve_forever

// ANCHOR: serve_clients
/// Serves `clients` clients, one after another, and returns how many of them ended cleanly
/// (closed their side after their last reply).
///
/// A client that resets its connection (`recv` fails with `ECONNRESET`) or does not take a reply
/// within `write_timeout` ends *its* connection, not the server: we close it and go on with the
/// next client, as [`serve_forever`] does. Only a failed `accept` stops this loop.
pub fn serve_clients(
    listener: &Socket,
    clients: usize,
    write_timeout: Duration,
) -> io::Result<usize> {
    let mut clean = 0;
    for _ in 0..clients {
        let (connection, _peer) = accept(listener)?;
        serve_connection(&connection, write_timeout)?;
        clean += 1;
    }
    Ok(clean)
}
// ANCHOR_END: serve_clients

/// Shows received bytes the way the seed's Python 2 client does with `repr(data)`: in single
/// quotes, with non-printable bytes escaped.
pub fn python_repr(bytes: &[u8]) -> String {
    format!("'{}'", bytes.escape_ascii())
}
