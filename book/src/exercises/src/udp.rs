//! Datagrams: UDP, `SOCK_DGRAM`. No listen, no accept, no connection: each `sendto(2)` is one
//! message, and each `recvfrom(2)` returns exactly one message and who sent it.
//!
//! The tutorial names `SOCK_DGRAM` but only shows TCP. A UDP server is steps 1 and 2 (create,
//! bind) and then a loop of `recv_from` / `send_to`: there is no accept queue and no per-client
//! socket, one socket talks to everybody. Two things differ from TCP in ways that matter:
//! - Boundaries are kept: two `send_to` calls are two `recv_from` results, never one.
//! - A datagram larger than the receive buffer is *truncated*: the tail is discarded, not kept
//!   for the next call (the tutorial's "the rest stays buffered" is true for TCP only). The
//!   kernel says so with the `MSG_TRUNC` flag, which [`receive_datagram`] reports.
//!
//! We create and bind with `socket2` (to see each call), then hand the socket to std's
//! [`UdpSocket`], whose `recv_from(&mut [u8])` and `send_to` are exactly `recvfrom(2)` and
//! `sendto(2)`.

use std::io;
use std::mem::MaybeUninit;
use std::net::{SocketAddr, UdpSocket};

use socket2::{MaybeUninitSlice, SockRef};

use crate::step1_create::create_udp_socket;
use crate::step2_bind::bind;

/// The UDP echo server's buffer: the seed's `recv(1024)`. A longer datagram is cut, which the
/// server reports instead of hiding.
pub const RECV_SIZE: usize = 1024;

/// The largest payload a UDP datagram over IPv4 can carry: 65535 minus 8 (UDP header) minus 20
/// (IP header).
pub const MAX_DATAGRAM: usize = 65_507;

// ANCHOR: bind_udp
/// Creates a UDP socket and binds it to `addr`: steps 1 and 2, and that is all a UDP server needs.
/// There is no `listen` and no `accept`: datagrams from anyone arrive on this one socket.
///
/// This function corresponds to the `socket(2)` and `bind(2)` system calls (std spelling:
/// `UdpSocket::bind(addr)`).
pub fn bind_udp(addr: SocketAddr) -> io::Result<UdpSocket> {
    let socket = create_udp_socket(addr)?;
    bind(&socket, addr)?;
    Ok(UdpSocket::from(socket))
}
// ANCHOR_END: bind_udp

// ANCHOR: recv_from
/// Receives one datagram of at most `max` bytes and returns it with its sender's address.
/// Waits until a datagram arrives. If the datagram was longer than `max`, you get its first `max`
/// bytes and the rest is gone.
///
/// This function directly corresponds to the `recvfrom(2)` system call.
pub fn recv_from(socket: &UdpSocket, max: usize) -> io::Result<(Vec<u8>, SocketAddr)> {
    let mut buffer = vec![0; max];
    let (received, from) = socket.recv_from(&mut buffer)?;
    buffer.truncate(received);
    Ok((buffer, from))
}
// ANCHOR_END: recv_from

/// Sends `data` as one datagram to `to`. All or nothing: a datagram is never sent in part (one
/// too large for UDP fails with `EMSGSIZE`).
///
/// This function directly corresponds to the `sendto(2)` system call.
pub fn send_to(socket: &UdpSocket, data: &[u8], to: SocketAddr) -> io::Result<usize> {
    socket.send_to(data, to)
}

/// One datagram as [`receive_datagram`] got it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram {
    /// The bytes we got: at most the buffer size.
    pub bytes: Vec<u8>,
    /// Who sent it.
    pub from: SocketAddr,
    /// The kernel set `MSG_TRUNC`: the datagram was longer than our buffer and its tail is lost.
    pub truncated: bool,
}

// ANCHOR: receive_datagram
/// Receives one datagram into a buffer of `max` bytes and reports whether the kernel had to cut
/// it (`MSG_TRUNC` in the flags of `recvmsg(2)`).
///
/// Two calls, because safe Rust has no single call for both: std's `peek_from` (`recvfrom(2)`
/// with `MSG_PEEK`) copies the head into an ordinary buffer without consuming the datagram; then
/// socket2's `recv_from_vectored` (`recvmsg(2)`) consumes it and returns the flags. socket2 writes
/// into a `MaybeUninit` buffer that safe code may not read, which is why we peek first.
///
/// Windows reports a cut datagram differently: the peek fills the buffer with the datagram's
/// head and then fails with `WSAEMSGSIZE`; socket2 turns that error of `recvmsg`'s equivalent
/// into the truncated flag. We take the sender's address from that second call then. (Read
/// from the documentation, not run: the experiments that rely on this run on Unix.)
pub fn receive_datagram(socket: &UdpSocket, max: usize) -> io::Result<Datagram> {
    let mut head = vec![0; max];
    let (received, peeked_from) = match socket.peek_from(&mut head) {
        Ok((received, from)) => (received, Some(from)),
        Err(error) if cut_on_windows(&error) => (max, None),
        Err(error) => return Err(error),
    };
    head.truncate(received);
    let mut scratch = vec![MaybeUninit::<u8>::uninit(); max];
    let (_, flags, sender) =
        SockRef::from(socket).recv_from_vectored(&mut [MaybeUninitSlice::new(&mut scratch)])?;
    let from = peeked_from
        .or_else(|| sender.as_socket())
        .ok_or_else(|| io::Error::other("a datagram from an address that is not IP"))?;
    Ok(Datagram {
        bytes: head,
        from,
        truncated: flags.is_truncated(),
    })
}

/// `WSAEMSGSIZE` (10040): on Windows, the datagram was longer than the buffer, which holds its
/// head. Unix never fails a receive for that reason (it cuts, and says so in the flags).
fn cut_on_windows(error: &io::Error) -> bool {
    cfg!(windows) && error.raw_os_error() == Some(10040)
}
// ANCHOR_END: receive_datagram

// ANCHOR: connect_udp
/// "Connects" a UDP socket to `peer`. No packet is sent: `connect(2)` on a datagram socket only
/// records a default destination, so that plain `send`/`recv` work, and makes the kernel drop
/// datagrams from anybody else. It also lets the kernel report an ICMP "port unreachable" back to
/// us: the next `recv` fails with `ConnectionRefused`.
///
/// This function directly corresponds to the `connect(2)` system call.
pub fn connect_udp(socket: &UdpSocket, peer: SocketAddr) -> io::Result<()> {
    socket.connect(peer)
}
// ANCHOR_END: connect_udp

// ANCHOR: echo_datagrams
/// The seed's echo over UDP, for the next `datagrams` datagrams: each one, from whoever sent it,
/// is answered with one datagram to its sender, `|From Server| ` and the datagram's bytes.
///
/// What TCP habits get wrong here: a datagram is received whole or cut (so the buffer must hold
/// the largest one, [`MAX_DATAGRAM`], not the seed's 1024); an empty datagram is a message like
/// any other, not an end of file (UDP has none); and one socket talks to every client, so each
/// reply goes to the address its datagram came from. A reply too long for one datagram
/// (`sendto(2)` fails with `EMSGSIZE`) is not sent, and the server goes on: one client's
/// datagram must not stop it. Only a failed `recvfrom(2)` does.
pub fn echo_datagrams(socket: &UdpSocket, datagrams: usize) -> io::Result<()> {
    todo!(
        "9.1: write the seed's echo over UDP — \
         read datagrams.md; stuck? cargo classroom hint 9.1"
    )
}
// ANCHOR_END: echo_datagrams

// ANCHOR: serve_forever
/// What [`serve_forever`] did with a datagram, for the caller to narrate.
pub enum Event<'a> {
    /// A datagram arrived (cut to [`RECV_SIZE`] bytes if `truncated`).
    Received(&'a Datagram),
    /// Its reply of `.1` bytes went back to the sender; `sendto(2)` sent `.2`.
    Replied(&'a Datagram, usize, usize),
    /// Its reply could not be sent: one client's trouble, so the server goes on.
    ReplyFailed(&'a Datagram, io::Error),
    /// A receive failed because a reply we sent earlier was refused: its sender had gone, and
    /// the kernel got an ICMP "port unreachable" back. One client's trouble again, so the server
    /// goes on. Windows reports it on the next `recvfrom` of any socket (`WSAECONNRESET`); Linux
    /// only on a socket that is connected or asks for errors (`ECONNREFUSED`).
    ReceiveFailed(io::Error),
}

/// Whether a failed receive is about one earlier sender rather than our socket: the ICMP error
/// of a refused reply (see [`Event::ReceiveFailed`]).
fn refused_earlier_reply(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionRefused
    )
}

/// The UDP echo server's loop, as the seed's TCP one but without accept: receive a datagram
/// from anybody into [`RECV_SIZE`] bytes (the seed's `recv(1024)`; a longer one loses its tail),
/// and send `|From Server| ` + its bytes to whoever sent it. `datagrams` of them, or forever with
/// `None`; only a receive that fails for our own socket stops it. `udp_echo_server` narrates
/// each [`Event`]; tests run it in a thread.
///
/// This function corresponds to `recvmsg(2)` (see [`receive_datagram`]) and `sendto(2)`.
pub fn serve_forever(
    socket: &UdpSocket,
    datagrams: Option<usize>,
    mut log: impl FnMut(Event<'_>),
) -> io::Result<()> {
    let mut served = 0;
    while datagrams.map_or(true, |most| served < most) {
        let datagram = match receive_datagram(socket, RECV_SIZE) {
            Ok(datagram) => datagram,
            // A signal (Ctrl-Z, then `fg`) interrupted the wait: wait again.
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) if refused_earlier_reply(&error) => {
                log(Event::ReceiveFailed(error));
                continue;
            }
            Err(error) => return Err(error),
        };
        log(Event::Received(&datagram));
        let reply = crate::echo::reply_to(&datagram.bytes);
        match send_to(socket, &reply, datagram.from) {
            Ok(sent) => log(Event::Replied(&datagram, reply.len(), sent)),
            Err(error) => log(Event::ReplyFailed(&datagram, error)),
        }
        served += 1;
    }
    Ok(())
}
// ANCHOR_END: serve_forever

/// `AF_INET` or `AF_INET6`, for the narration of `socket(2)`.
pub fn family_name(addr: SocketAddr) -> &'static str {
    if addr.is_ipv4() {
        "AF_INET"
    } else {
        "AF_INET6"
    }
}

/// Received bytes for a log line: as Python's `repr` shows them, cut after 60 bytes.
pub fn preview(bytes: &[u8]) -> String {
    const SHOWN: usize = 60;
    if bytes.len() <= SHOWN {
        crate::echo::python_repr(bytes)
    } else {
        format!(
            "{}... ({} more bytes)",
            crate::echo::python_repr(&bytes[..SHOWN]),
            bytes.len() - SHOWN
        )
    }
}
