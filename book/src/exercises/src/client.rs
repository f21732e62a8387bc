//! The client side: create, connect, send/recv, close.
//!
//! The tutorial's client makes a socket like the server's, then `connect((host, port))` instead
//! of bind/listen/accept. `connect(2)` sends the SYN and returns once the handshake is done; the
//! kernel picks the client's own address (an *ephemeral* port, e.g. 54321) by itself, so a client
//! rarely binds. When nothing listens on the port, the server's kernel answers with a reset and
//! `connect` fails with `ConnectionRefused`.
//!
//! std spelling: `TcpStream::connect(addr)` (create + connect, trying each address a name
//! resolves to), or `TcpStream::connect_timeout(&addr, timeout)`:
//!
//! ```no_run
//! # fn main() -> std::io::Result<()> {
//! let stream = std::net::TcpStream::connect("localhost:50007")?; // socket(2) + connect(2)
//! println!("connected from {}", stream.local_addr()?);
//! # Ok(()) }
//! ```

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use socket2::{SockAddr, Socket};

use crate::step1_create::create_tcp_socket;
use crate::step5_process::{recv, send_all, RECV_SIZE};
use crate::step6_close::{finish_sending, recv_until_closed};

/// How long our clients wait for a handshake before giving up. Without a limit, a `connect` whose
/// SYN meets a full accept queue on Linux goes on sending it for about two minutes with the
/// default settings ([`crate::syn_retries`] computes this kernel's schedule).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The seed client's message: `message = ['Hello network world']`.
pub const SEED_MESSAGE: &str = "Hello network world";

/// A message longer than one `recv(1024)` takes, so that it has to come out in pieces: step 5
/// sends it, and so does `client --long` for a step 5 server in another terminal.
pub const LONG_MESSAGE_LEN: usize = 2500;

// ANCHOR: connect
/// Creates a TCP socket and connects it to `addr`, waiting at most `timeout` for the handshake.
///
/// This function corresponds to the `socket(2)` and `connect(2)` system calls (socket2 makes the
/// socket non-blocking for the wait, then blocking again, so that it can time out).
pub fn connect(addr: SocketAddr, timeout: Duration) -> io::Result<Socket> {
    todo!(
        "7.1: connect to the server, with a time limit — \
         read client.md; stuck? cargo classroom hint 7.1"
    )
}
// ANCHOR_END: connect

// ANCHOR: exchange
/// The seed client's loop body: send one message, then receive the answer with one
/// `recv(1024)`. One `recv` may not hold the whole answer: TCP keeps no message boundaries.
pub fn exchange(socket: &Socket, message: &[u8]) -> io::Result<Vec<u8>> {
    send_all(socket, message)?;
    recv(socket, RECV_SIZE)
}
// ANCHOR_END: exchange

// ANCHOR: request
/// One request, one whole answer: sends `message`, closes our sending side (`shutdown(2)`, so
/// that the server reads end of file and knows the request is complete), and returns every byte
/// the server sends back until it closes its side.
///
/// Unlike [`exchange`], this never takes part of the answer for all of it: TCP may deliver the
/// answer in as many pieces as it likes, and only the end of the stream says it is complete.
pub fn request(socket: &Socket, message: &[u8]) -> io::Result<Vec<u8>> {
    send_all(socket, message)?;
    finish_sending(socket)?;
    recv(socket, RECV_SIZE)
}
// ANCHOR_END: request

/// Connects to the first of `addrs` that accepts, as `TcpStream::connect` does with the several
/// addresses a name like `localhost` may resolve to. Returns the last error if none does.
pub fn connect_any(addrs: &[SocketAddr], timeout: Duration) -> io::Result<(Socket, SocketAddr)> {
    let mut last_error = io::Error::new(io::ErrorKind::InvalidInput, "no address to connect to");
    for &addr in addrs {
        match connect(addr, timeout) {
            Ok(socket) => return Ok((socket, addr)),
            Err(error) => last_error = error,
        }
    }
    Err(last_error)
}
