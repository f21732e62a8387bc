//! Step 1, create: `socket(2)` makes a socket, an endpoint that is not yet connected to anything.
//!
//! The tutorial: `socket.socket(family, type)`. The *family* says which addresses the socket
//! speaks (`AF_INET` for IPv4, `AF_INET6` for IPv6, `AF_UNIX` for a path on this machine); the
//! *type* says how data moves (`SOCK_STREAM`: a reliable byte stream, TCP; `SOCK_DGRAM`: separate
//! messages, UDP; `SOCK_RAW`: packets below TCP and UDP, for tools like `traceroute`).
//!
//! The kernel answers with a file descriptor, a small number like 3: a socket is a file the
//! program can read and write. Nothing is sent on the network yet.
//!
//! std has no separate "create" call: `TcpListener::bind` and `TcpStream::connect` create their
//! socket inside. `socket2` lets us make the call on its own, so we can look at each step.

use std::io;
use std::net::SocketAddr;

use socket2::{Domain, Protocol, Socket, Type};

// ANCHOR: create_tcp
/// Creates a TCP socket for addresses like `addr` (IPv4 or IPv6): `socket(AF_INET, SOCK_STREAM,
/// IPPROTO_TCP)`, or `AF_INET6` for an IPv6 `addr`.
///
/// This function directly corresponds to the `socket(2)` system call.
pub fn create_tcp_socket(addr: SocketAddr) -> io::Result<Socket> {
    todo!(
        "1.1: create a TCP socket whose family matches the address — \
         read step1-create.md; stuck? cargo classroom hint 1.1"
    )
}
// ANCHOR_END: create_tcp

/// Creates a UDP socket: `socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP)` (`AF_INET6` for IPv6).
///
/// This function directly corresponds to the `socket(2)` system call.
pub fn create_udp_socket(addr: SocketAddr) -> io::Result<Socket> {
    Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))
}

/// Creates a raw IPv4 socket for ICMP, the protocol of `ping` (which on Linux today prefers an
/// ICMP datagram socket, needing no privilege): `socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)`. An IPv4
/// raw socket reads whole IP packets and writes the ICMP header itself, so it can forge traffic: the
/// kernel allows it only to root or a program with `CAP_NET_RAW`, and otherwise answers `EPERM`
/// (`ErrorKind::PermissionDenied`).
///
/// This function directly corresponds to the `socket(2)` system call.
pub fn create_raw_socket() -> io::Result<Socket> {
    Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::ICMPV4))
}

/// Creates a Unix-domain stream socket: `socket(AF_UNIX, SOCK_STREAM, 0)`. Its addresses are
/// paths on this machine, not IP addresses; it never touches the network. Unix only.
///
/// This function directly corresponds to the `socket(2)` system call.
#[cfg(unix)]
pub fn create_unix_socket() -> io::Result<Socket> {
    Socket::new(Domain::UNIX, Type::STREAM, None)
}

// ANCHOR: kinds
/// One `socket(2)` call of the tour in [`create_each_kind`]: the call as C would write it, and
/// what the kernel answered.
pub struct Attempt {
    /// The call, e.g. `socket(AF_INET, SOCK_STREAM, IPPROTO_TCP)`.
    pub call: &'static str,
    /// The new socket, or the kernel's refusal.
    pub result: io::Result<Socket>,
}

/// Creates one socket of each kind the tutorial names: TCP over IPv4 and IPv6, UDP, Unix-domain
/// (on Unix) and raw (which needs privilege).
pub fn create_each_kind() -> Vec<Attempt> {
    let v4: SocketAddr = ([127, 0, 0, 1], 0).into();
    let v6: SocketAddr = (std::net::Ipv6Addr::LOCALHOST, 0).into();
    let mut attempts = vec![
        Attempt {
            call: "socket(AF_INET, SOCK_STREAM, IPPROTO_TCP)",
            result: create_tcp_socket(v4),
        },
        Attempt {
            call: "socket(AF_INET6, SOCK_STREAM, IPPROTO_TCP)",
            result: create_tcp_socket(v6),
        },
        Attempt {
            call: "socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP)",
            result: create_udp_socket(v4),
        },
    ];
    #[cfg(unix)]
    attempts.push(Attempt {
        call: "socket(AF_UNIX, SOCK_STREAM, 0)",
        result: create_unix_socket(),
    });
    attempts.push(Attempt {
        call: "socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)",
        result: create_raw_socket(),
    });
    attempts
}
// ANCHOR_END: kinds

/// What a failed raw-socket creation means, in a sentence.
pub fn explain_raw_error(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::PermissionDenied => {
            "refused (EPERM): raw sockets need root or CAP_NET_RAW, \
             because they can read and forge any packet; ordinary programs use TCP or UDP"
                .to_string()
        }
        _ => format!("refused: {error}"),
    }
}

/// How a socket is named for the reader: its file descriptor on Unix (`fd 3`), its handle on
/// Windows. A socket is a file descriptor; the number is how the program names it in each call.
pub fn describe(socket: &Socket) -> String {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        format!("fd {}", socket.as_raw_fd())
    }
    #[cfg(windows)]
    {
        use std::os::windows::io::AsRawSocket;
        format!("socket {}", socket.as_raw_socket())
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = socket;
        "a socket".to_string()
    }
}
