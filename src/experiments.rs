//! Small tools for the experiments of `tests/experiments.rs`, which check each claim of the
//! tutorial against what the kernel really does (the book's "Experiments" chapter shows them).
//!
//! Each experiment needs two ends of a TCP connection in one process ([`loopback_pair`]) and a
//! way to wait for the kernel without sleeping: [`wait_for_bytes`] asks the kernel how many bytes
//! are waiting (`recv(2)` with `MSG_PEEK`) until enough are there or a deadline passes.

use std::io;
use std::mem::MaybeUninit;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use socket2::Socket;

use crate::client::connect;
use crate::step3_listen::listening_socket;
use crate::step4_accept::accept;

/// How long any experiment waits for the kernel before failing. Generous: a loaded CI machine is
/// slow, and loopback normally answers in microseconds.
pub const PATIENCE: Duration = Duration::from_secs(10);

// ANCHOR: loopback_pair
/// Both ends of one TCP connection over loopback: `(client, server)`. The listener is closed
/// once the connection is accepted; read and write timeouts of [`PATIENCE`] make sure no
/// experiment can hang.
pub fn loopback_pair() -> io::Result<(Socket, Socket)> {
    let listener = listening_socket(SocketAddr::from(([127, 0, 0, 1], 0)), 1)?;
    let addr = crate::step2_bind::local_addr(&listener)?;
    let client = connect(addr, PATIENCE)?;
    let (server, _) = accept(&listener)?;
    for socket in [&client, &server] {
        socket.set_read_timeout(Some(PATIENCE))?;
        socket.set_write_timeout(Some(PATIENCE))?;
    }
    Ok((client, server))
}
// ANCHOR_END: loopback_pair

/// How many bytes wait in `socket`'s receive buffer, up to `max`: `recv(2)` with `MSG_PEEK`,
/// which looks without taking. Blocks until at least one byte (or EOF, then 0) is there.
pub fn bytes_waiting(socket: &Socket, max: usize) -> io::Result<usize> {
    // We only use the count, never the bytes, so the buffer may stay uninitialised.
    let mut scratch = vec![MaybeUninit::<u8>::uninit(); max];
    socket.peek(&mut scratch)
}

// ANCHOR: wait_for_bytes
/// Waits until at least `n` bytes wait in `socket`'s receive buffer (checking with `MSG_PEEK`),
/// for at most [`PATIENCE`]. This is how an experiment knows "both sends have arrived" without
/// sleeping and hoping.
pub fn wait_for_bytes(socket: &Socket, n: usize) -> io::Result<()> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let waiting = bytes_waiting(socket, n)?;
        if waiting >= n {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("only {waiting} of {n} bytes arrived within {PATIENCE:?}"),
            ));
        }
        std::thread::yield_now();
    }
}
// ANCHOR_END: wait_for_bytes

/// Linux's `MSG_NOSIGNAL` (`0x4000` in `<sys/socket.h>`): "do not raise SIGPIPE if the peer is
/// gone, just fail with `EPIPE`". socket2 does not export the constant, and we do not add the
/// `libc` crate for one number. (Other systems have their own values: macOS's is `0x80000`.)
#[cfg(any(target_os = "linux", target_os = "android"))]
pub const MSG_NOSIGNAL: i32 = 0x4000;

// ANCHOR: send_no_signal
/// `send(2)` with `MSG_NOSIGNAL`: a peer that has gone gives `BrokenPipe` and never a SIGPIPE.
/// This is what std's `TcpStream::write` does on Linux. Linux only, for the flag's value (on macOS,
/// std sets the socket option `SO_NOSIGPIPE` on each socket instead).
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn send_no_signal(socket: &Socket, data: &[u8]) -> io::Result<usize> {
    socket.send_with_flags(data, MSG_NOSIGNAL)
}
// ANCHOR_END: send_no_signal

// ANCHOR: fill
/// Sends from `data` without blocking until the kernel takes no more (`WouldBlock`) and returns
/// the count of each `send(2)` that succeeded. The first count is usually less than `data.len()`:
/// a partial send.
pub fn send_until_full(socket: &Socket, data: &[u8]) -> io::Result<Vec<usize>> {
    socket.set_nonblocking(true)?;
    let mut counts = Vec::new();
    let result = loop {
        match socket.send(data) {
            Ok(sent) => counts.push(sent),
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => break Ok(counts),
            Err(error) => break Err(error),
        }
    };
    socket.set_nonblocking(false)?;
    result
}
// ANCHOR_END: fill
