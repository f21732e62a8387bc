//! Turning a failed system call into advice a newcomer can act on.
//!
//! The kernel answers a failed `bind(2)` with a number (`EADDRINUSE`, 98 on Linux), and Rust shows
//! it as `Address already in use (os error 98)`. That is true but not helpful to someone on their
//! first socket. Each function here keeps the original error as the *cause* (so nothing is hidden)
//! and puts in front of it what happened and what to do next.

use std::io;
use std::net::SocketAddr;

/// Explains a failed `bind(2)` of `addr`. `program` is the binary's name, used to suggest a
/// command that works (e.g. `cargo run --bin step2_bind -- 127.0.0.1:50008`).
pub fn bind_failed(addr: SocketAddr, program: &str, error: io::Error) -> anyhow::Error {
    let (ip, port) = (addr.ip(), addr.port());
    let ip_text = match addr {
        SocketAddr::V4(_) => ip.to_string(),
        SocketAddr::V6(_) => format!("[{ip}]"),
    };
    let retry = format!(
        "choose another port, e.g. `cargo run --bin {program} -- {ip_text}:{}`, \
         or port 0 to let the OS pick a free one",
        port.wrapping_add(1).max(1024)
    );
    let advice = match error.kind() {
        io::ErrorKind::AddrInUse => format!(
            "cannot bind {addr}: port {port} is already in use (EADDRINUSE). Another socket holds \
             it: another copy of this program, another server, or a connection in TIME_WAIT. \
             See who with `ss -tanp 'sport = :{port}'`; stop it, or {retry}"
        ),
        io::ErrorKind::AddrNotAvailable => format!(
            "cannot bind {addr}: {ip} is not an address of this machine (EADDRNOTAVAIL). You can \
             only bind addresses your network interfaces have: use 127.0.0.1 for this machine \
             only, or one that `ip addr` lists"
        ),
        io::ErrorKind::PermissionDenied if port != 0 && port < 1024 => format!(
            "cannot bind {addr}: port {port} is a privileged port (below 1024) and this program \
             is not allowed to use it (EACCES). Binding it needs root or CAP_NET_BIND_SERVICE; \
             instead, {retry}"
        ),
        io::ErrorKind::PermissionDenied => {
            format!("cannot bind {addr}: permission denied (EACCES); {retry}")
        }
        io::ErrorKind::InvalidInput => format!(
            "cannot bind {addr}: this socket is already bound (EINVAL). A socket is bound once; \
             create a new socket to bind another address"
        ),
        _ => format!("cannot bind {addr}: {error}; {retry}"),
    };
    anyhow::Error::new(error).context(advice)
}

/// Explains a failed `connect(2)` to `addr`.
pub fn connect_failed(addr: SocketAddr, error: io::Error) -> anyhow::Error {
    let advice = match error.kind() {
        io::ErrorKind::ConnectionRefused => format!(
            "cannot connect to {addr}: nothing is listening there (ECONNREFUSED: the server's \
             kernel answered our SYN with a reset). Start a server first, e.g. in another terminal \
             `cargo run --bin echo_server -- {addr}`, then run this again"
        ),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => format!(
            "cannot connect to {addr}: no answer in time (ETIMEDOUT). The host may be unreachable, \
             or the server's accept queue is full and its kernel drops our SYN; check the address, \
             or make the server accept its waiting connections"
        ),
        io::ErrorKind::AddrNotAvailable => format!(
            "cannot connect to {addr}: that address cannot be reached from here (EADDRNOTAVAIL); \
             use 127.0.0.1 to reach a server on this machine"
        ),
        _ => format!("cannot connect to {addr}: {error}"),
    };
    anyhow::Error::new(error).context(advice)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr() -> SocketAddr {
        "127.0.0.1:50007".parse().unwrap()
    }

    #[test]
    fn address_in_use_names_the_port_and_another_one() {
        let error = bind_failed(addr(), "step2_bind", io::ErrorKind::AddrInUse.into());
        let text = error.to_string();
        assert!(text.contains("port 50007 is already in use"), "{text}");
        assert!(
            text.contains("cargo run --bin step2_bind -- 127.0.0.1:50008"),
            "{text}"
        );
        // The original error stays available as the cause.
        assert_eq!(error.chain().count(), 2);
    }

    #[test]
    fn privileged_port_explains_the_rule() {
        let low: SocketAddr = "127.0.0.1:80".parse().unwrap();
        let text =
            bind_failed(low, "echo_server", io::ErrorKind::PermissionDenied.into()).to_string();
        assert!(text.contains("privileged port"), "{text}");
        assert!(text.contains("127.0.0.1:1024"), "{text}");
    }

    #[test]
    fn refused_connect_says_to_start_a_server() {
        let text = connect_failed(addr(), io::ErrorKind::ConnectionRefused.into()).to_string();
        assert!(text.contains("nothing is listening"), "{text}");
        assert!(
            text.contains("cargo run --bin echo_server -- 127.0.0.1:50007"),
            "{text}"
        );
    }
}
