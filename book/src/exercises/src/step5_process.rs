//! Step 5, process: `send(2)` and `recv(2)` move bytes over the connection.
//!
//! The tutorial: `send` "returns the number of characters sent"; `recv(n)` blocks, returns at
//! most `n`, and whatever it does not take "stays buffered for the next `recv`". Right in outline;
//! the details that matter:
//! - `send` counts *bytes*, not characters ("你好" is 6 bytes in UTF-8), and may take fewer than
//!   you gave it: on Linux a blocking `send` waits until all is queued, but a non-blocking socket,
//!   a send timeout (`SO_SNDTIMEO`) or a signal cuts it short. Loop until all is sent
//!   ([`send_all`], or std's `write_all`).
//! - TCP is a byte stream with no message boundaries: two sends may arrive in one `recv`, one send
//!   in several. What `recv(n)` leaves stays buffered in the kernel (the tutorial is right here for
//!   TCP; for UDP it is wrong: see the datagram chapter).
//! - `recv` returning 0 bytes means the peer closed its side: end of file.
//!
//! std spelling: `TcpStream` implements `Read` and `Write`: `stream.read(&mut buf)`,
//! `stream.write(data)`, `stream.write_all(data)`:
//!
//! ```no_run
//! use std::io::{Read, Write};
//! # fn main() -> std::io::Result<()> {
//! let mut stream = std::net::TcpStream::connect("127.0.0.1:50007")?;
//! stream.write_all(b"Hello network world")?; // send(2), as many times as it takes
//! let mut buffer = [0; 1024];
//! let n = stream.read(&mut buffer)?; // recv(2): at most 1024 bytes; 0 means end of file
//! println!("{:?}", String::from_utf8_lossy(&buffer[..n]));
//! # Ok(()) }
//! ```

use std::io::{self, Read};
use std::time::{Duration, Instant};

use socket2::Socket;

/// The seed's buffer size: `connection.recv(1024)`.
pub const RECV_SIZE: usize = 1024;

// ANCHOR: recv
/// Receives at most `max` bytes: whatever the kernel has buffered for us, up to `max`, waiting
/// until at least one byte (or the end of the stream) is there. An empty result means the peer
/// closed its sending side (end of file).
///
/// This function directly corresponds to the `recv(2)` system call (through socket2's
/// `Read for &Socket`, which lets us pass an ordinary `[u8]` buffer without `unsafe`).
pub fn recv(connection: &Socket, max: usize) -> io::Result<Vec<u8>> {
    todo!("5.1: receive at most max bytes — read step5-process.md; stuck? cargo classroom hint 5.1")
}
// ANCHOR_END: recv

// ANCHOR: send
/// Hands `data` to the kernel's send buffer and returns how many bytes it took: possibly fewer
/// than `data.len()`. (On Linux a blocking socket waits until all of it is queued; a non-blocking
/// socket, a send timeout or a signal makes it return a partial count.)
///
/// This function directly corresponds to the `send(2)` system call.
pub fn send(connection: &Socket, data: &[u8]) -> io::Result<usize> {
    connection.send(data)
}
// ANCHOR_END: send

// ANCHOR: send_all
/// Sends all of `data`, calling `send(2)` as many times as it takes. This is what Python's
/// `sendall` and Rust's `write_all` do; the tutorial's `send` alone may stop part way.
pub fn send_all(connection: &Socket, data: &[u8]) -> io::Result<()> {
    todo!("5.2: send every byte, however many sends it takes — read step5-process.md; stuck? cargo classroom hint 5.2")
}
// ANCHOR_END: send_all

// ANCHOR: send_all_within
/// Sends all of `data` within `limit`, or fails with `TimedOut`.
///
/// A write timeout (`SO_SNDTIMEO`) alone bounds each `send(2)` *call*: a call that times out
/// after copying a few bytes returns that count, and the next call waits the full time again. A
/// client that keeps its receive window nearly closed lets a few bytes through now and then and
/// can hold the sender for ever. So we keep a deadline for the whole reply and, before each call,
/// set the write timeout to the time left (one more system call, `setsockopt(2)`, per `send`).
pub fn send_all_within(connection: &Socket, data: &[u8], limit: Duration) -> io::Result<()> {
    let deadline = Instant::now() + limit;
    let mut rest = data;
    while !rest.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        // A zero timeout would mean "wait for ever" to the kernel: stop before that.
        if left < Duration::from_millis(1) {
            return Err(too_late());
        }
        connection.set_write_timeout(Some(left))?;
        let sent = match send(connection, rest) {
            Ok(sent) => sent,
            // The time ran out inside the call: Unix reports EAGAIN (`WouldBlock`), Windows
            // WSAETIMEDOUT (`TimedOut`). Both mean the same here.
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Err(too_late());
            }
            Err(error) => return Err(error),
        };
        if sent == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        rest = &rest[sent..];
    }
    Ok(())
}
// ANCHOR_END: send_all_within

/// The error of a reply that missed its deadline.
fn too_late() -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        "the client did not take our reply in time",
    )
}
