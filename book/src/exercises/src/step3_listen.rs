//! Step 3, listen: `listen(2)` turns a bound socket into one that accepts connections.
//!
//! The tutorial: `socket.listen(backlog)`, "the maximum number of connections, at least 1; when the
//! queue is full, requests are refused". What really happens on Linux:
//! - From now on the *kernel* completes TCP handshakes (SYN, SYN-ACK, ACK) by itself, before the
//!   program calls `accept`. Finished connections wait in the *accept queue*.
//! - `backlog` bounds that queue: backlog N holds N + 1 connections on Linux, and values above
//!   `net.core.somaxconn` are lowered to it. `listen(0)` still queues one.
//! - When the queue is full, Linux does not refuse. A SYN that finds it full is dropped, and the
//!   client's kernel sends it again on a timer ([`crate::syn_retries`] computes when, from this
//!   kernel's settings) until its connect fails with `ETIMEDOUT`. A client whose SYN found room
//!   connects; if the queue is full when its handshake's last ACK arrives, that ACK is dropped and
//!   the client waits for an answer that never comes (or gets a reset with
//!   `net.ipv4.tcp_abort_on_overflow=1`). Windows's manual says it refuses instead.
//!
//! std spelling: `TcpListener::bind(addr)` is socket + `SO_REUSEADDR` + bind + `listen(128)`; std
//! offers no way to choose the backlog:
//!
//! ```no_run
//! # fn main() -> std::io::Result<()> {
//! let listener = std::net::TcpListener::bind("127.0.0.1:50007")?; // steps 1 to 3 at once
//! # Ok(()) }
//! ```

use std::io;
use std::net::SocketAddr;

use socket2::Socket;

use crate::step2_bind::create_and_bind;

/// The seed's backlog: `mysock.listen(5)`.
pub const SEED_BACKLOG: i32 = 5;

// ANCHOR: listen
/// Marks `socket` as passive: the kernel will complete incoming handshakes and queue up to
/// `backlog` (+1 on Linux) connections for `accept`.
///
/// This function directly corresponds to the `listen(2)` system call.
pub fn listen(socket: &Socket, backlog: i32) -> io::Result<()> {
    todo!(
        "3.1: make the socket listen — \
         read step3-listen.md; stuck? cargo classroom hint 3.1"
    )
}
// ANCHOR_END: listen

// ANCHOR: listening_socket
/// Steps 1 to 3 in one call: create a TCP socket, bind it to `addr` and listen with `backlog`.
/// This is what std's `TcpListener::bind` does for you (with a backlog of 128).
pub fn listening_socket(addr: SocketAddr, backlog: i32) -> io::Result<Socket> {
    let socket = create_and_bind(addr)?;
    listen(&socket, backlog)?;
    Ok(socket)
}
// ANCHOR_END: listening_socket

/// How many connections wait in the accept queue of the listener at `addr`, as the kernel reports
/// it in `/proc/net/tcp`. `None` off Linux.
pub fn accept_queue_len(addr: SocketAddr) -> Option<u32> {
    crate::proc_net::state_of(addr, None).map(|entry| entry.rx_queue)
}
