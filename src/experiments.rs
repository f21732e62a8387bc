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

// ANCHOR: poll_until
/// Asks `ready` again and again, for at most `limit`, until it gives `Some`, and returns that;
/// `None` once the time is over. This is our one poll-until-deadline loop, for a state that the
/// kernel reaches in its own time and that no call waits for: bytes in a buffer, a TIME_WAIT in
/// `/proc/net/tcp`, a connection in a queue. Between two tries we give the CPU away: 1 ms at
/// first, twice as long after each try, at most 50 ms. The kernel usually gets there within
/// milliseconds; a long wait (step 6 waits up to 30 s for a person's client to close) then costs
/// little CPU, though one read of `/proc/net/tcp` takes a millisecond or more on a busy machine.
pub fn poll_until<T>(limit: Duration, mut ready: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + limit;
    let mut pause = Duration::from_millis(1);
    loop {
        if let Some(found) = ready() {
            return Some(found);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}
// ANCHOR_END: poll_until

// ANCHOR: wait_for_bytes
/// Waits until at least `n` bytes wait in `socket`'s receive buffer (checking with `MSG_PEEK`),
/// for at most [`PATIENCE`]. This is how an experiment knows "both sends have arrived" without
/// sleeping and hoping.
pub fn wait_for_bytes(socket: &Socket, n: usize) -> io::Result<()> {
    let mut waiting = 0;
    let found = poll_until(PATIENCE, || match bytes_waiting(socket, n) {
        Ok(now) if now >= n => Some(Ok(())),
        Ok(now) => {
            waiting = now;
            None
        }
        Err(error) => Some(Err(error)),
    });
    found.unwrap_or_else(|| {
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("only {waiting} of {n} bytes arrived within {PATIENCE:?}"),
        ))
    })
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

// ANCHOR: inet_diag
/// The TCP sockets that are bound but neither listening nor connected, as the kernel's socket
/// monitoring interface (`inet_diag`, what `ss` uses) lists them: `(local address, state)`.
///
/// `/proc/net/tcp` never shows such a socket. `inet_diag` does, on recent kernels, but only when
/// asked for the state bit `TCP_BOUND_INACTIVE` (13), and it reports their state as CLOSE (7).
/// We ask through a netlink socket, `socket(AF_NETLINK, SOCK_DGRAM, NETLINK_SOCK_DIAG)`, with one
/// request built by hand (`sock_diag(7)`); IPv4 only. Linux only.
#[cfg(target_os = "linux")]
pub fn bound_only_tcp_sockets() -> io::Result<Vec<(SocketAddr, u8)>> {
    use socket2::{Domain, Protocol, Type};
    use std::io::Read;

    const AF_NETLINK: i32 = 16;
    const NETLINK_SOCK_DIAG: i32 = 4;
    const SOCK_DIAG_BY_FAMILY: u16 = 20;
    const NLM_F_REQUEST_DUMP: u16 = 0x301;
    const NLMSG_ERROR: u16 = 2;
    const NLMSG_DONE: u16 = 3;
    const TCP_BOUND_INACTIVE: u32 = 13;

    let socket = Socket::new(
        Domain::from(AF_NETLINK),
        Type::DGRAM,
        Some(Protocol::from(NETLINK_SOCK_DIAG)),
    )?;
    socket.set_read_timeout(Some(PATIENCE))?;
    // struct nlmsghdr (16 bytes), then struct inet_diag_req_v2 (56 bytes): AF_INET, IPPROTO_TCP,
    // no extensions, the states we want, and an all-zero inet_diag_sockid (every socket).
    let mut request = Vec::with_capacity(72);
    request.extend_from_slice(&72u32.to_ne_bytes());
    request.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    request.extend_from_slice(&NLM_F_REQUEST_DUMP.to_ne_bytes());
    request.extend_from_slice(&[0; 8]); // sequence number and port id: 0 is fine
    request.extend_from_slice(&[2, 6, 0, 0]); // AF_INET, IPPROTO_TCP, extensions, padding
    request.extend_from_slice(&(1u32 << TCP_BOUND_INACTIVE).to_ne_bytes());
    request.extend_from_slice(&[0; 48]);
    socket.send(&request)?; // no address: a netlink message goes to the kernel

    let mut found = Vec::new();
    let mut buffer = vec![0u8; 32 * 1024];
    loop {
        let received = (&socket).read(&mut buffer)?;
        let mut at = 0;
        while at + 16 <= received {
            let field = |offset: usize, len: usize| &buffer[at + offset..at + offset + len];
            let len = u32::from_ne_bytes(field(0, 4).try_into().unwrap()) as usize;
            if len < 16 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "a short netlink message",
                ));
            }
            match u16::from_ne_bytes(field(4, 2).try_into().unwrap()) {
                NLMSG_DONE => return Ok(found),
                NLMSG_ERROR => {
                    let code = i32::from_ne_bytes(field(16, 4).try_into().unwrap());
                    return Err(io::Error::from_raw_os_error(-code));
                }
                _ => {
                    // struct inet_diag_msg: family, state, timer, retransmits, then the
                    // sockid, whose port and address are in network byte order.
                    let state = field(17, 1)[0];
                    let port = u16::from_be_bytes(field(20, 2).try_into().unwrap());
                    let ip: [u8; 4] = field(24, 4).try_into().unwrap();
                    found.push((SocketAddr::from((ip, port)), state));
                }
            }
            at += (len + 3) & !3; // messages are aligned to 4 bytes
        }
    }
}
// ANCHOR_END: inet_diag
