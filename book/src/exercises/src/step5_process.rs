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
    todo!(
        "5.1: receive at most max bytes — \
         read step5-process.md; stuck? cargo classroom hint 5.1"
    )
}
// ANCHOR_END: recv

// ANCHOR: recv_retrying
/// [`recv`], called again when it fails with `EINTR` (`ErrorKind::Interrupted`): a signal cut the
/// wait short and nothing was lost. On Linux this needs no signal handler: a `recv` on a socket
/// with a receive timeout (`SO_RCVTIMEO`) fails with `EINTR` when the process is stopped and
/// continued (Ctrl-Z, then `fg`; signal(7)). A server that took that for the end of the
/// connection would drop every client it has.
pub fn recv_retrying(connection: &Socket, max: usize) -> io::Result<Vec<u8>> {
    loop {
        match recv(connection, max) {
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            result => return result,
        }
    }
}
// ANCHOR_END: recv_retrying

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
    todo!(
        "5.2: send every byte, however many sends it takes — \
         read step5-process.md; stuck? cargo classroom hint 5.2"
    )
}
// ANCHOR_END: send_all

// ANCHOR: send_all_within
/// Sends all of `data` within `limit`, or fails with `TimedOut`.
///
/// Most replies fit in the kernel's send buffer, so we first offer the whole reply without
/// waiting ([`send_now`], `MSG_DONTWAIT`): when the kernel takes it all, the reply costs that one
/// system call. Only when it would block (or took part of it) do we wait, with a deadline for
/// the whole reply. A write timeout (`SO_SNDTIMEO`) alone bounds each `send(2)` *call*: a call
/// that times out after copying a few bytes returns that count, and the next call waits the full
/// time again. A client that keeps its receive window nearly closed lets a few bytes through now
/// and then and can hold the sender for ever. So before each waiting call we set the write
/// timeout to the time left (one more system call, `setsockopt(2)`, per `send`).
pub fn send_all_within(connection: &Socket, data: &[u8], limit: Duration) -> io::Result<()> {
    send_parts_within(connection, &[data], limit)
}

/// [`send_all_within`] for a reply in parts (the seed's prefix, then the piece), sent together
/// with one `sendmsg(2)` (a *gather* write, like `writev(2)`), so that we never copy them into one
/// buffer. At most [`MAX_PARTS`] parts.
pub fn send_parts_within(connection: &Socket, parts: &[&[u8]], limit: Duration) -> io::Result<()> {
    let mut rest = Parts::new(parts);
    match send_now(connection, &rest.slices()[..rest.count]) {
        Ok(sent) => rest.advance(sent),
        Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
        Err(error) => return Err(error),
    }
    let deadline = Instant::now() + limit;
    while !rest.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        // A zero timeout would mean "wait for ever" to the kernel: stop before that.
        if left < Duration::from_millis(1) {
            return Err(too_late());
        }
        connection.set_write_timeout(Some(left))?;
        let slices = rest.slices();
        let sent = match &slices[..rest.count] {
            [one] => send(connection, one),
            several => connection.send_vectored(several),
        };
        let sent = match sent {
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
            // A signal interrupted the wait before anything was sent (on Linux, a stop and
            // continue is enough: see `recv_retrying`). Nothing was lost: send again.
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        if sent == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        rest.advance(sent);
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

// ANCHOR: send_now
/// Offers `parts` to the kernel without waiting: `send(2)` (one part) or `sendmsg(2)` (several)
/// with `MSG_DONTWAIT`, which makes this one call non-blocking whatever the socket's mode. Returns
/// how many bytes the kernel took, or `WouldBlock` if its send buffer is full.
///
/// socket2 has no name for `MSG_DONTWAIT`; rustix has, and calls it without `unsafe`. On
/// Windows, which has no such flag, we report `WouldBlock` at once: the caller then waits with
/// its deadline, as it always did there.
#[cfg(unix)]
pub fn send_now(connection: &Socket, parts: &[io::IoSlice<'_>]) -> io::Result<usize> {
    use rustix::net::SendFlags;
    let sent = match parts {
        [one] => rustix::net::send(connection, one, SendFlags::DONTWAIT),
        _ => rustix::net::sendmsg(
            connection,
            parts,
            &mut Default::default(),
            SendFlags::DONTWAIT,
        ),
    };
    // We need no MSG_NOSIGNAL: a Rust program ignores SIGPIPE, so a closed peer is an EPIPE error.
    Ok(sent?)
}
// ANCHOR_END: send_now

/// On Windows there is no `MSG_DONTWAIT`: see the Unix version.
#[cfg(not(unix))]
pub fn send_now(_connection: &Socket, _parts: &[io::IoSlice<'_>]) -> io::Result<usize> {
    Err(io::ErrorKind::WouldBlock.into())
}

/// The most parts [`send_parts_within`] takes: we keep them on the stack, not in a `Vec`.
pub const MAX_PARTS: usize = 4;

/// What is left to send of a reply in parts: the parts not yet (fully) sent.
struct Parts<'a> {
    parts: [&'a [u8]; MAX_PARTS],
    count: usize,
}

impl<'a> Parts<'a> {
    fn new(given: &[&'a [u8]]) -> Parts<'a> {
        assert!(given.len() <= MAX_PARTS, "at most {MAX_PARTS} parts");
        let mut parts = [&[][..]; MAX_PARTS];
        parts[..given.len()].copy_from_slice(given);
        let mut rest = Parts {
            parts,
            count: given.len(),
        };
        rest.advance(0); // drop empty parts at the front
        rest
    }

    fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The parts as `IoSlice`s; the first `count` are the ones left.
    fn slices(&self) -> [io::IoSlice<'a>; MAX_PARTS] {
        let mut slices = [io::IoSlice::new(&[]); MAX_PARTS];
        for (slice, part) in slices.iter_mut().zip(&self.parts[..self.count]) {
            *slice = io::IoSlice::new(part);
        }
        slices
    }

    /// Forgets the first `sent` bytes (std's `IoSlice::advance_slices` needs Rust 1.81).
    fn advance(&mut self, mut sent: usize) {
        while self.count > 0 && sent >= self.parts[0].len() {
            sent -= self.parts[0].len();
            self.parts.rotate_left(1);
            self.count -= 1;
        }
        if self.count > 0 {
            self.parts[0] = &self.parts[0][sent..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_advance_across_their_boundaries() {
        let (a, b): (&[u8], &[u8]) = (b"|From Server| ", b"Hello");
        for sent in 0..=a.len() + b.len() {
            let mut rest = Parts::new(&[a, b]);
            rest.advance(sent);
            let left: Vec<u8> = rest.parts[..rest.count].concat();
            assert_eq!(left, [a, b].concat()[sent..], "after {sent} bytes");
            assert_eq!(rest.is_empty(), sent == a.len() + b.len());
        }
        assert!(Parts::new(&[b"", b""]).is_empty());
    }
}
