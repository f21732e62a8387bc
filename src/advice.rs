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

/// Explains why a UDP client got no answer from `addr`: a refusal (the kernel learned from an
/// ICMP "port unreachable" that nothing is bound there; only a *connected* UDP socket hears it)
/// or silence (UDP has no handshake, so a missing server and a lost datagram look the same).
pub fn udp_no_answer(addr: SocketAddr, error: io::Error) -> anyhow::Error {
    let advice = match error.kind() {
        io::ErrorKind::ConnectionRefused => format!(
            "no UDP server at {addr}: its kernel answered our datagram with ICMP \"port \
             unreachable\" (reported as ECONNREFUSED because our UDP socket is connected). Start \
             one first, e.g. in another terminal `cargo run --bin udp_echo_server -- {addr}`"
        ),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => format!(
            "no answer from {addr} in time: UDP has no connection, so nothing tells us whether \
             the server is missing, busy, or our datagram was lost. Check that \
             `cargo run --bin udp_echo_server -- {addr}` is running"
        ),
        _ => format!("no answer from UDP server {addr}: {error}"),
    };
    anyhow::Error::new(error).context(advice)
}

/// Explains a failed `bind(2)` of a Unix-domain socket to `path`.
pub fn unix_bind_failed(path: &std::path::Path, program: &str, error: io::Error) -> anyhow::Error {
    let shown = path.display();
    let advice = match error.kind() {
        io::ErrorKind::AddrInUse => format!(
            "cannot bind {shown}: something already exists at that path (EADDRINUSE). A Unix \
             socket file outlives its server; if no server runs, remove it (`rm {shown}`), or use \
             another path, e.g. `cargo run --bin {program} -- /tmp/socket-steps-2.sock`"
        ),
        io::ErrorKind::PermissionDenied => format!(
            "cannot bind {shown}: no permission to create a file in that directory (EACCES); \
             use a path under /tmp, e.g. `cargo run --bin {program} -- /tmp/socket-steps.sock`"
        ),
        io::ErrorKind::NotFound => format!(
            "cannot bind {shown}: its directory does not exist (ENOENT); create it or choose a \
             path under /tmp"
        ),
        io::ErrorKind::InvalidInput => format!(
            "cannot bind {shown}: the path is too long for a Unix socket address (sun_path holds \
             about 100 bytes); choose a shorter one, e.g. /tmp/socket-steps.sock"
        ),
        _ => format!("cannot bind {shown}: {error}"),
    };
    anyhow::Error::new(error).context(advice)
}

/// Explains a failed `connect(2)` to the Unix-domain socket at `path`.
pub fn unix_connect_failed(path: &std::path::Path, error: io::Error) -> anyhow::Error {
    let shown = path.display();
    let advice = match error.kind() {
        io::ErrorKind::NotFound => format!(
            "cannot connect to {shown}: there is no socket file at that path (ENOENT). Start the \
             server first, e.g. in another terminal `cargo run --bin unix_echo_server -- {shown}`"
        ),
        io::ErrorKind::ConnectionRefused if shown.to_string().starts_with('@') => format!(
            "cannot connect to {shown}: no server listens on that abstract name (ECONNREFUSED). \
             Start one first, e.g. `cargo run --bin unix_echo_server -- {shown}`"
        ),
        io::ErrorKind::ConnectionRefused => format!(
            "cannot connect to {shown}: the socket file exists but no server listens on it \
             (ECONNREFUSED): it was left behind by a server that stopped. Start \
             `cargo run --bin unix_echo_server -- {shown}`; it removes the stale file"
        ),
        io::ErrorKind::PermissionDenied => format!(
            "cannot connect to {shown}: connecting needs write permission on the socket file \
             (EACCES); check `ls -l {shown}`"
        ),
        _ => format!("cannot connect to {shown}: {error}"),
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
