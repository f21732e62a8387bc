//! Step 2, bind: `bind(2)` gives the socket its own address, the (host, port) that clients will
//! connect to.
//!
//! The tutorial: `socket.bind((host, port))`. Three things the tutorial leaves out:
//! - Its demo binds host `''`, which is not "localhost" but `INADDR_ANY` (0.0.0.0): every network
//!   interface, so the server is reachable from other machines. Our servers bind 127.0.0.1.
//! - Port 0 asks the kernel for any free port; `getsockname(2)` (`local_addr`) then says which.
//!   Tests always use port 0, so they never collide.
//! - Each failure has its own error: the port is taken (`AddrInUse`), the IP is not one of this
//!   machine's (`AddrNotAvailable`), the socket is already bound (`InvalidInput`), the port is
//!   below 1024 without privilege (`PermissionDenied`).
//!
//! std spelling: `TcpListener::bind(addr)` does socket + bind + listen in one call, and
//! `UdpSocket::bind(addr)` does socket + bind:
//!
//! ```no_run
//! # fn main() -> std::io::Result<()> {
//! let socket = std::net::UdpSocket::bind("127.0.0.1:0")?; // socket(2) + bind(2)
//! println!("the OS chose {}", socket.local_addr()?); // getsockname(2)
//! # Ok(()) }
//! ```

use std::io;
use std::net::SocketAddr;

use socket2::{SockAddr, Socket};

use crate::step1_create::create_tcp_socket;

// ANCHOR: bind
/// Binds `socket` to `addr`.
///
/// This function directly corresponds to the `bind(2)` system call.
pub fn bind(socket: &Socket, addr: SocketAddr) -> io::Result<()> {
    todo!(
        "2.1: bind the socket to its address — \
         read step2-bind.md; stuck? cargo classroom hint 2.1"
    )
}
// ANCHOR_END: bind

// ANCHOR: local_addr
/// The address the socket is bound to, with the port the kernel chose if we asked for port 0.
///
/// This function directly corresponds to the `getsockname(2)` system call.
pub fn local_addr(socket: &Socket) -> io::Result<SocketAddr> {
    socket
        .local_addr()?
        .as_socket()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not an IP socket"))
}
// ANCHOR_END: local_addr

// ANCHOR: reuse
/// Lets a restarted server bind its port while connections from its previous run linger in
/// TIME_WAIT: `setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)`, before `bind`.
///
/// Without it, a server that closed connections first cannot bind its port again for about 60
/// seconds on Linux. It never lets two sockets *listen* on the same address (a different option,
/// `SO_REUSEPORT`, does: the Experiments chapter shows both). std's
/// `TcpListener::bind` sets it too on Unix. We do not set it on Windows, where it means something
/// else (another program could take over the port), just as std does not.
///
/// This function directly corresponds to the `setsockopt(2)` system call.
pub fn allow_quick_restart(socket: &Socket) -> io::Result<()> {
    if cfg!(windows) {
        return Ok(());
    }
    socket.set_reuse_address(true)
}
// ANCHOR_END: reuse

/// Creates a TCP socket and binds it to `addr`: steps 1 and 2 together, with
/// [`allow_quick_restart`] in between.
pub fn create_and_bind(addr: SocketAddr) -> io::Result<Socket> {
    let socket = create_tcp_socket(addr)?;
    allow_quick_restart(&socket)?;
    bind(&socket, addr)?;
    Ok(socket)
}

/// An address that no machine on a real network has: 198.51.100.1 is reserved for documentation
/// (RFC 5737, TEST-NET-2), so binding it fails with `AddrNotAvailable`.
pub const NOT_OUR_ADDRESS: &str = "198.51.100.1:0";

/// What a bind error means, in one sentence for the reader.
pub fn explain_bind_error(error: &io::Error) -> &'static str {
    match error.kind() {
        io::ErrorKind::AddrInUse => {
            "EADDRINUSE: another socket is already bound to this address and port"
        }
        io::ErrorKind::AddrNotAvailable => {
            "EADDRNOTAVAIL: this IP address does not belong to any interface of this machine"
        }
        io::ErrorKind::InvalidInput => "EINVAL: this socket is already bound; a socket binds once",
        io::ErrorKind::PermissionDenied => {
            "EACCES: ports below 1024 need root or CAP_NET_BIND_SERVICE"
        }
        _ => "an unexpected error",
    }
}
