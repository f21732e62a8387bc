//! Step 6, close: `close(2)` releases the socket; for a connection, the kernel sends a FIN.
//!
//! The tutorial: "when the transfer is over, the server calls `close`". What the peer and the
//! kernel see:
//! - The peer's next `recv` returns 0 bytes: end of file. That is how the seed's server loop
//!   (`if not data: break`) knows the client is done.
//! - `shutdown(Write)` closes only our sending side (a half-close): the peer reads EOF but can
//!   still send us its answer.
//! - The side that closes *first* keeps the connection in TIME_WAIT (60 s on Linux), so that late
//!   packets of this connection cannot be mistaken for a new one on the same ports.
//! - Closing while unread data sits in our receive buffer sends a reset (RST) instead of a FIN, on
//!   Linux and macOS (FreeBSD discards the data and sends a FIN): the peer reads what had arrived,
//!   then gets `ConnectionReset`. A `shutdown(Write)` before the close does not prevent it.
//!
//! In Rust, `close(2)` happens when the socket is dropped: there is no `close` method to forget.
//! std spelling:
//!
//! ```no_run
//! # fn main() -> std::io::Result<()> {
//! let stream = std::net::TcpStream::connect("127.0.0.1:50007")?;
//! stream.shutdown(std::net::Shutdown::Write)?; // shutdown(2): half-close, the peer reads EOF
//! drop(stream); // close(2)
//! # Ok(()) }
//! ```

use std::io;
use std::net::{Shutdown, SocketAddr};

use socket2::Socket;

use crate::step1_create::create_tcp_socket;
use crate::step2_bind::{allow_quick_restart, bind};
use crate::step3_listen::listen;
use crate::step5_process::recv;

// ANCHOR: close
/// Closes the socket. Taking it by value means no one can use it afterwards.
///
/// This function directly corresponds to the `close(2)` system call (made by `Drop`).
pub fn close(socket: Socket) {
    drop(socket);
}
// ANCHOR_END: close

// ANCHOR: shutdown
/// Closes our sending side only: the peer's `recv` returns 0 (EOF), and we can still receive.
///
/// This function directly corresponds to the `shutdown(2)` system call with `SHUT_WR`.
pub fn finish_sending(connection: &Socket) -> io::Result<()> {
    connection.shutdown(Shutdown::Write)
}
// ANCHOR_END: shutdown

// ANCHOR: read_to_eof
/// Receives until the peer closes its side, and returns everything received. A `recv` that
/// returns no bytes is the end of the stream.
pub fn recv_until_closed(connection: &Socket) -> io::Result<Vec<u8>> {
    todo!(
        "6.1: receive until the peer closes — \
         read step6-close.md; stuck? cargo classroom hint 6.1"
    )
}
// ANCHOR_END: read_to_eof

// ANCHOR: listen_again
/// A restarted server's listening socket on `addr`: socket, `SO_REUSEADDR`, bind, listen with
/// room for `backlog` connections.
///
/// The connections that the server's previous run closed first still hold `addr`'s port in
/// TIME_WAIT for a minute; `bind` refuses the port (`AddrInUse`) unless the new socket has
/// `SO_REUSEADDR` ([`allow_quick_restart`]) by the time it binds. Setting an option after the
/// call it is meant for changes nothing: the kernel checks it inside `bind(2)`.
pub fn listen_again(addr: SocketAddr, backlog: i32) -> io::Result<Socket> {
    let socket = create_tcp_socket(addr)?;
    bind(&socket, addr)?;
    allow_quick_restart(&socket)?;
    listen(&socket, backlog)?;
    Ok(socket)
}
// ANCHOR_END: listen_again
