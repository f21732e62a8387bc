//! Step 4, accept: `accept(2)` takes one finished connection off the accept queue.
//!
//! The tutorial: `connection, address = socket.accept()`. It blocks until a client connects
//! (more exactly: until the accept queue is not empty). It returns a *new* socket for this one
//! connection, and the client's address: its IP and the ephemeral port its kernel picked, which is
//! exactly the client's own `local_addr()`. The listening socket is untouched and keeps listening:
//! a server calls `accept` again for the next client.
//!
//! std spelling: `TcpListener::accept() -> io::Result<(TcpStream, SocketAddr)>`:
//!
//! ```no_run
//! # fn main() -> std::io::Result<()> {
//! let listener = std::net::TcpListener::bind("127.0.0.1:50007")?;
//! let (connection, address) = listener.accept()?; // blocks until a client connects
//! println!("Server connected by {address}");
//! # drop(connection); Ok(()) }
//! ```

use std::io;
use std::net::SocketAddr;

use socket2::Socket;

// ANCHOR: accept
/// Waits for a connection on `listener` and returns a new socket for it, with the peer's address.
///
/// This function directly corresponds to the `accept(2)` system call (`accept4(2)` with
/// `SOCK_CLOEXEC` on Linux, so the new socket is not inherited by programs we start).
pub fn accept(listener: &Socket) -> io::Result<(Socket, SocketAddr)> {
    todo!(
        "4.1: accept one connection, with the peer's address — \
         read step4-accept.md; stuck? cargo classroom hint 4.1"
    )
}
// ANCHOR_END: accept

/// The address of the other end of a connected socket.
///
/// This function directly corresponds to the `getpeername(2)` system call.
pub fn peer_addr(connection: &Socket) -> io::Result<SocketAddr> {
    connection
        .peer_addr()?
        .as_socket()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "peer is not an IP address"))
}
