//! Turning a failed system call into advice a newcomer can act on.
//!
//! The kernel answers a failed `bind(2)` with a number (`EADDRINUSE`, 98 on Linux), and Rust shows
//! it as `Address already in use (os error 98)`. That is true but not helpful to someone on their
//! first socket. Each function here keeps the original error as the *cause* (so nothing is hidden)
//! and puts in front of it what happened and what to do next.

use std::io;
use std::net::SocketAddr;

/// Explains a failed `bind(2)` of a TCP socket to `addr`. `program` is the binary's name, used to
/// suggest a command that works (e.g. `cargo run --bin step2_bind -- 127.0.0.1:50008`).
pub fn bind_failed(addr: SocketAddr, program: &str, error: io::Error) -> anyhow::Error {
    explain_bind(addr, program, error, Transport::Tcp, holder_of)
}

/// Like [`bind_failed`], for a UDP socket: UDP has no TIME_WAIT, and another tool lists its ports.
pub fn udp_bind_failed(addr: SocketAddr, program: &str, error: io::Error) -> anyhow::Error {
    explain_bind(addr, program, error, Transport::Udp, holder_of)
}

/// Which kind of port a failed bind was about.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Transport {
    Tcp,
    Udp,
}

/// The advice for a failed bind; `lookup` finds what holds a TCP port ([`holder_of`], or a stub
/// in unit tests, which must not depend on the machine's sockets).
fn explain_bind(
    addr: SocketAddr,
    program: &str,
    error: io::Error,
    transport: Transport,
    lookup: fn(SocketAddr) -> Option<Holder>,
) -> anyhow::Error {
    let (ip, port) = (addr.ip(), addr.port());
    let ip_text = match addr {
        SocketAddr::V4(_) => ip.to_string(),
        SocketAddr::V6(_) => format!("[{ip}]"),
    };
    let retry = format!(
        "try `cargo run --bin {program} -- {ip_text}:{}` (port 0: any free port)",
        port.wrapping_add(1).max(1024)
    );
    let advice = match error.kind() {
        io::ErrorKind::AddrInUse if transport == Transport::Udp => format!(
            "cannot bind {addr}: UDP port {port} is already in use (EADDRINUSE); see who with \
             `{}`, or {retry}",
            who_uses_port(port, transport)
        ),
        io::ErrorKind::AddrInUse => match lookup(addr) {
            Some(Holder::TimeWait) => format!(
                "cannot bind {addr}: port {port} is held by a connection in TIME_WAIT \
                 (EADDRINUSE), gone within a minute. Wait and run this again, or {retry}"
            ),
            _ => format!(
                "cannot bind {addr}: port {port} is already in use (EADDRINUSE); see who with \
                 `{}`, or {retry}",
                who_uses_port(port, transport)
            ),
        },
        io::ErrorKind::AddrNotAvailable => format!(
            "cannot bind {addr}: {ip} is not an address of this machine (EADDRNOTAVAIL); use \
             127.0.0.1, or an address that `{LIST_INTERFACES}` lists"
        ),
        io::ErrorKind::PermissionDenied if port != 0 && port < 1024 => format!(
            "cannot bind {addr}: port {port} is a privileged port (below 1024): it needs root \
             or CAP_NET_BIND_SERVICE (EACCES); {retry}"
        ),
        io::ErrorKind::PermissionDenied => {
            format!("cannot bind {addr}: permission denied (EACCES); {retry}")
        }
        io::ErrorKind::InvalidInput if transport == Transport::Tcp && addr.ip().is_multicast() => {
            format!(
                "cannot bind {addr}: {ip} is a multicast group (EINVAL): a TCP connection has \
                 two ends, so it binds an address of this machine, e.g. 127.0.0.1"
            )
        }
        io::ErrorKind::InvalidInput if needs_scope_id(addr) => no_scope_id("bind", addr),
        io::ErrorKind::InvalidInput => format!(
            "cannot bind {addr}: this socket is already bound (EINVAL); a socket binds once, so \
             create a new one for another address"
        ),
        // The system's own words follow as the cause; we add what to try next.
        _ => format!("cannot bind {addr}; {retry}"),
    };
    anyhow::Error::new(error).context(advice)
}

/// Whether `addr` is an IPv6 link-local address (`fe80::/10`, or a multicast group of one link
/// or one interface, `ff02::/16` and `ff01::/16`) without a scope id: such an address exists
/// once per interface, so the kernel needs to know which one (`EINVAL` if not).
fn needs_scope_id(addr: SocketAddr) -> bool {
    match addr {
        SocketAddr::V6(v6) => {
            let first = v6.ip().segments()[0];
            let link_local = (first & 0xffc0) == 0xfe80;
            let local_multicast = (first & 0xff0f) == 0xff01 || (first & 0xff0f) == 0xff02;
            (link_local || local_multicast) && v6.scope_id() == 0
        }
        SocketAddr::V4(_) => false,
    }
}

/// The advice for a link-local address without its interface.
fn no_scope_id(call: &str, addr: SocketAddr) -> String {
    format!(
        "cannot {call} {addr}: a link-local address (fe80::/10, ff02::/16) needs its \
         interface, a scope id (EINVAL): e.g. `[{}%2]:{}` for interface 2, as `{LIST_INTERFACES}` numbers them",
        addr.ip(),
        addr.port()
    )
}

/// The advice when the kernel has no way to `addr` (`ENETUNREACH`, `EHOSTUNREACH`), or `None`
/// for any other error. std names these kinds only from Rust 1.83, so we read the number.
fn unreachable(call: &str, addr: SocketAddr, error: &io::Error) -> Option<String> {
    let (network, host) = if cfg!(windows) {
        (10051, 10065) // WSAENETUNREACH, WSAEHOSTUNREACH
    } else if cfg!(any(target_os = "linux", target_os = "android")) {
        (101, 113)
    } else {
        (51, 65) // macOS and the BSDs
    };
    let code = error.raw_os_error()?;
    let local = if addr.ip().is_loopback() || addr.port() == 0 {
        String::new()
    } else {
        format!("; a server on this machine is at 127.0.0.1:{}", addr.port())
    };
    if code == network {
        Some(format!(
            "cannot {call} {addr}: this machine has no route to that network (ENETUNREACH): \
             check the address and this machine's network{local}"
        ))
    } else if code == host {
        Some(format!(
            "cannot {call} {addr}: that host does not answer on its network (EHOSTUNREACH): \
             check the address, and that the host is up{local}"
        ))
    } else {
        None
    }
}

/// The error number of `EMSGSIZE`, a datagram too long to send, which has no `ErrorKind` of
/// its own.
fn message_too_long() -> i32 {
    if cfg!(windows) {
        10040 // WSAEMSGSIZE
    } else if cfg!(any(target_os = "linux", target_os = "android")) {
        90
    } else {
        40 // macOS and the BSDs
    }
}

/// What holds a port, as far as the kernel's TCP table tells (Linux only).
enum Holder {
    /// Only connections in TIME_WAIT: they go away by themselves.
    TimeWait,
    /// Anything else (a listener, a connection, a socket that is only bound).
    Other,
}

/// Looks up who holds `addr`'s port in `/proc/net/tcp` (`None` off Linux or if it is not listed,
/// e.g. a socket that is only bound).
fn holder_of(addr: SocketAddr) -> Option<Holder> {
    let canonical = |ip: std::net::IpAddr| match ip {
        std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, std::net::IpAddr::V4),
        v4 => v4,
    };
    let holders: Vec<_> = crate::proc_net::snapshot()?
        .into_iter()
        .filter(|entry| {
            let (ours, theirs) = (canonical(addr.ip()), canonical(entry.local.ip()));
            entry.local.port() == addr.port()
                && (ours == theirs || ours.is_unspecified() || theirs.is_unspecified())
        })
        .collect();
    if holders.is_empty() {
        None
    } else if holders
        .iter()
        .all(|entry| entry.state == crate::proc_net::TcpState::TimeWait)
    {
        Some(Holder::TimeWait)
    } else {
        Some(Holder::Other)
    }
}

/// The command that shows which program uses a port, on this system.
fn who_uses_port(port: u16, transport: Transport) -> String {
    let (ss, name) = match transport {
        Transport::Tcp => ("-tanp", "TCP"),
        Transport::Udp => ("-uanp", "UDP"),
    };
    if cfg!(target_os = "linux") {
        format!("ss {ss} 'sport = :{port}'")
    } else if cfg!(windows) {
        format!("netstat -ano -p {name} | findstr :{port}")
    } else {
        format!("lsof -nP -i{name}:{port}")
    }
}

/// The command that lists this machine's addresses.
const LIST_INTERFACES: &str = if cfg!(target_os = "linux") {
    "ip addr"
} else if cfg!(windows) {
    "ipconfig"
} else {
    "ifconfig"
};

/// Explains a failed `connect(2)` to `addr`.
pub fn connect_failed(addr: SocketAddr, error: io::Error) -> anyhow::Error {
    let here = addr.ip().is_loopback() || addr.ip().is_unspecified();
    let refused = error.kind() == io::ErrorKind::ConnectionRefused;
    let advice = match error.kind() {
        _ if addr.port() == 0 && refused => format!(
            "cannot connect to {addr}: port 0 is not a real port; a server given port 0 prints \
             the port the OS chose (`listening on {}:PORT`): connect to that one",
            addr.ip()
        ),
        io::ErrorKind::ConnectionRefused if here => format!(
            "cannot connect to {addr}: nothing is listening there (ECONNREFUSED). Start a server \
             first, e.g. `cargo run --bin echo_server -- {addr}` in another terminal"
        ),
        io::ErrorKind::ConnectionRefused => format!(
            "cannot connect to {addr}: refused (ECONNREFUSED) by that machine or a firewall: \
             is a server running there, bound to 0.0.0.0 rather than 127.0.0.1?"
        ),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => format!(
            "cannot connect to {addr}: no answer in time (ETIMEDOUT): the host may be \
             unreachable, or the server's accept queue is full and its kernel drops our SYN"
        ),
        io::ErrorKind::AddrNotAvailable => format!(
            "cannot connect to {addr}: that address cannot be reached from here \
             (EADDRNOTAVAIL); use 127.0.0.1 to reach a server on this machine"
        ),
        io::ErrorKind::InvalidInput if needs_scope_id(addr) => no_scope_id("connect to", addr),
        _ => unreachable("connect to", addr, &error).unwrap_or_else(|| {
            // The system's own words (e.g. "No route to host") follow as the cause.
            format!(
                "cannot connect to {addr}: check the address, and that this machine can reach \
                 it; a server on this machine is at 127.0.0.1:{}",
                addr.port()
            )
        }),
    };
    anyhow::Error::new(error).context(advice)
}

/// Explains why a UDP client's `connect`, `send` or `recv` with `addr` failed: a refusal (the kernel learned
/// from an ICMP "port unreachable" that nothing is bound there; only a *connected* UDP socket
/// hears it), no route, or silence (UDP has no handshake, so a missing server and a lost datagram
/// look the same).
pub fn udp_failed(addr: SocketAddr, error: io::Error) -> anyhow::Error {
    let here = addr.ip().is_loopback() || addr.ip().is_unspecified();
    let refused = error.kind() == io::ErrorKind::ConnectionRefused;
    let advice = match error.kind() {
        _ if addr.port() == 0 && refused => format!(
            "no UDP server at {addr}: port 0 is not a real port; a server given port 0 prints \
             the port the OS chose: send to that one"
        ),
        io::ErrorKind::ConnectionRefused if !here => format!(
            "no UDP server at {addr}: an ICMP \"port unreachable\" came back (ECONNREFUSED): \
             is a UDP server running there, bound to 0.0.0.0 rather than 127.0.0.1?"
        ),
        io::ErrorKind::ConnectionRefused => format!(
            "no UDP server at {addr}: its kernel answered with ICMP \"port unreachable\" \
             (ECONNREFUSED). Start one first, e.g. `cargo run --bin udp_echo_server -- {addr}`"
        ),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => format!(
            "no answer from {addr} in time: UDP cannot tell a missing server from a lost \
             datagram; is `cargo run --bin udp_echo_server -- {addr}` running?"
        ),
        io::ErrorKind::InvalidInput if needs_scope_id(addr) => no_scope_id("send to", addr),
        _ if error.raw_os_error() == Some(message_too_long()) => format!(
            "cannot send to {addr}: the message is too long for one UDP datagram (EMSGSIZE): at \
             most {} bytes; send a shorter one",
            crate::udp::MAX_DATAGRAM
        ),
        _ => unreachable("send to", addr, &error).unwrap_or_else(|| {
            format!(
                "no answer from UDP server {addr}: check the address, and that this machine can \
                 reach it"
            )
        }),
    };
    anyhow::Error::new(error).context(advice)
}

/// Explains a failed `bind(2)` of a Unix-domain socket to `path`.
pub fn unix_bind_failed(path: &std::path::Path, program: &str, error: io::Error) -> anyhow::Error {
    let shown = crate::cli::quote(&path.to_string_lossy());
    let advice = match error.kind() {
        io::ErrorKind::AddrInUse => format!(
            "cannot bind {shown}: something already exists at that path (EADDRINUSE); use \
             another path, e.g. `cargo run --bin {program} -- other.sock`"
        ),
        io::ErrorKind::PermissionDenied => format!(
            "cannot bind {shown}: no permission to create a file in its directory (EACCES); use \
             one of your own, e.g. `cargo run --bin {program} -- ./echo.sock`"
        ),
        io::ErrorKind::NotFound => format!(
            "cannot bind {shown}: its directory does not exist (ENOENT); create it, or choose \
             a path in an existing directory"
        ),
        io::ErrorKind::InvalidInput => format!(
            "cannot bind {shown}: the path is too long for a Unix socket address (sun_path \
             holds about 100 bytes); choose a shorter one"
        ),
        _ => format!("cannot bind {shown}"),
    };
    anyhow::Error::new(error).context(advice)
}

/// Explains a failed `connect(2)` to the Unix-domain socket at `path`.
pub fn unix_connect_failed(path: &std::path::Path, error: io::Error) -> anyhow::Error {
    let text = path.to_string_lossy();
    let shown = crate::cli::quote(&text);
    // A command to copy: with the path itself when it is short and needs no shell quoting
    // (quoted once above, a long path is not written out twice); else with PATH for it.
    let plain = text.chars().count() <= 40
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c));
    let (start, list) = if plain {
        (
            format!("`cargo run --bin unix_echo_server -- {text}`"),
            format!("`ls -l {text}`"),
        )
    } else {
        (
            "`cargo run --bin unix_echo_server -- PATH` with this path".to_string(),
            "`ls -l PATH`".to_string(),
        )
    };
    let advice = match error.kind() {
        io::ErrorKind::NotFound => format!(
            "cannot connect to {shown}: there is no socket file at that path (ENOENT); start \
             the server first: {start}"
        ),
        io::ErrorKind::ConnectionRefused if !is_socket_file(path) && path.exists() => format!(
            "cannot connect to {shown}: it is not a socket but an ordinary file or a directory \
             (ECONNREFUSED); give the path the server printed"
        ),
        io::ErrorKind::InvalidInput => format!(
            "cannot connect to {shown}: the path is too long for a Unix socket address \
             (sun_path holds about 100 bytes); use a shorter one"
        ),
        io::ErrorKind::ConnectionRefused if text.starts_with('@') => format!(
            "cannot connect to {shown}: no server listens on that abstract name (ECONNREFUSED). \
             Start one first, e.g. {start}"
        ),
        io::ErrorKind::ConnectionRefused => format!(
            "cannot connect to {shown}: the socket file exists but no server listens on it \
             (ECONNREFUSED); start one: {start}"
        ),
        io::ErrorKind::PermissionDenied => format!(
            "cannot connect to {shown}: connecting needs write permission on the socket file \
             (EACCES); check {list}"
        ),
        _ => format!("cannot connect to {shown}"),
    };
    anyhow::Error::new(error).context(advice)
}

/// Whether `path` is a socket file (always `false` where there are no Unix sockets).
fn is_socket_file(path: &std::path::Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket())
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr() -> SocketAddr {
        "127.0.0.1:50007".parse().unwrap()
    }

    #[test]
    fn address_in_use_names_the_port_and_another_one() {
        let in_use = io::ErrorKind::AddrInUse.into();
        let error = explain_bind(addr(), "step2_bind", in_use, Transport::Tcp, |_| None);
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
    fn connect_to_port_0_says_to_use_the_port_the_server_printed() {
        let zero: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let text = connect_failed(zero, io::ErrorKind::ConnectionRefused.into()).to_string();
        assert!(text.contains("port 0 is not a real port"), "{text}");
        assert!(!text.contains("cargo run --bin echo_server"), "{text}");
    }

    #[test]
    fn refused_by_another_machine_does_not_suggest_a_local_server() {
        let remote: SocketAddr = "192.0.2.1:50007".parse().unwrap();
        let text = connect_failed(remote, io::ErrorKind::ConnectionRefused.into()).to_string();
        assert!(text.contains("is a server running there"), "{text}");
        assert!(!text.contains("cargo run --bin echo_server"), "{text}");
    }

    #[test]
    fn an_unexpected_error_still_says_what_to_check_and_keeps_the_cause() {
        let error = io::Error::other("No route to host");
        let error = connect_failed("[2001:db8::1]:80".parse().unwrap(), error);
        let text = error.to_string();
        assert!(text.contains("check the address"), "{text}");
        assert!(
            !text.contains("No route to host"),
            "said once, as the cause: {text}"
        );
        assert_eq!(error.root_cause().to_string(), "No route to host");
    }

    /// A port held only by a connection in TIME_WAIT gets its own advice: wait, or reuse.
    #[test]
    #[cfg(target_os = "linux")]
    fn a_port_held_by_time_wait_says_so() {
        use crate::{client, step1_create, step2_bind, step3_listen, step4_accept};
        let listener = step3_listen::listening_socket("127.0.0.1:0".parse().unwrap(), 1).unwrap();
        let addr = step2_bind::local_addr(&listener).unwrap();
        let client = client::connect(addr, client::CONNECT_TIMEOUT).unwrap();
        client
            .set_read_timeout(Some(std::time::Duration::from_secs(20)))
            .unwrap();
        let (server_side, peer) = step4_accept::accept(&listener).unwrap();
        drop(listener);
        drop(server_side); // the server closes first: its side will be in TIME_WAIT
        assert_eq!(crate::step5_process::recv(&client, 16).unwrap(), b"");
        drop(client);
        let entry =
            crate::proc_net::wait_for(addr, Some(peer), std::time::Duration::from_secs(20), |e| {
                e.state == crate::proc_net::TcpState::TimeWait
            });
        assert_eq!(
            entry.map(|e| e.state),
            Some(crate::proc_net::TcpState::TimeWait)
        );
        // Wait for the client's side to be gone, so that only the TIME_WAIT holds the port.
        let limit = std::time::Duration::from_secs(20);
        let client_side = crate::proc_net::wait_until(peer, Some(addr), limit, |e| e.is_none());
        assert_eq!(client_side, None, "the client side stays");
        let again = step1_create::create_tcp_socket(addr).unwrap();
        let error = step2_bind::bind(&again, addr).expect_err("TIME_WAIT holds the port");
        let text = bind_failed(addr, "step2_bind", error).to_string();
        assert!(text.contains("in TIME_WAIT"), "{text}");
        assert!(text.contains("Wait and run this again"), "{text}");
    }

    #[test]
    fn a_udp_port_in_use_mentions_neither_time_wait_nor_tcp() {
        let error = udp_bind_failed(addr(), "udp_echo_server", io::ErrorKind::AddrInUse.into());
        let text = error.to_string();
        assert!(text.contains("UDP port 50007 is already in use"), "{text}");
        assert!(
            !text.contains("TIME_WAIT") && !text.contains("-tanp"),
            "{text}"
        );
        assert!(
            text.contains("udp_echo_server -- 127.0.0.1:50008"),
            "{text}"
        );
    }

    #[test]
    fn udp_refused_by_another_machine_does_not_suggest_a_local_server() {
        let remote: SocketAddr = "192.0.2.1:50007".parse().unwrap();
        let text = udp_failed(remote, io::ErrorKind::ConnectionRefused.into()).to_string();
        assert!(text.contains("is a UDP server running there"), "{text}");
        let zero: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let text = udp_failed(zero, io::ErrorKind::ConnectionRefused.into()).to_string();
        assert!(text.contains("port 0 is not a real port"), "{text}");
    }

    /// Every piece of advice, printed as `run_main` prints it, fits one line of about 200
    /// characters, even for a long IPv6 address and the system's own words after it.
    #[test]
    fn every_advice_is_one_short_line() {
        use io::ErrorKind::*;
        let v4: SocketAddr = "127.0.0.1:50007".parse().unwrap();
        let v6: SocketAddr = "[2001:db8::1]:50007".parse().unwrap();
        let link_local: SocketAddr = "[fe80::1]:50007".parse().unwrap();
        let unreachable = io::Error::from_raw_os_error(if cfg!(windows) { 10051 } else { 101 });
        let kinds = [
            AddrInUse,
            AddrNotAvailable,
            PermissionDenied,
            InvalidInput,
            ConnectionRefused,
            TimedOut,
            NotFound,
            Other,
        ];
        let path = std::path::Path::new("/tmp/socket-steps-1000/echo.sock");
        let mut advice = Vec::new();
        for addr in [v4, v6, link_local] {
            for kind in kinds {
                let low = SocketAddr::new(addr.ip(), 80);
                advice.push(bind_failed(low, "echo_server_threaded", kind.into()));
                advice.push(udp_bind_failed(addr, "udp_echo_server", kind.into()));
                advice.push(connect_failed(addr, kind.into()));
                advice.push(udp_failed(addr, kind.into()));
                advice.push(unix_bind_failed(path, "unix_echo_server", kind.into()));
                advice.push(unix_connect_failed(path, kind.into()));
            }
            advice.push(connect_failed(addr, io::Error::from(unreachable.kind())));
            advice.push(connect_failed(
                addr,
                io::Error::from_raw_os_error(unreachable.raw_os_error().unwrap()),
            ));
        }
        let too_long: Vec<String> = advice
            .iter()
            .map(|error| format!("error: {}", crate::cli::one_line_chain(error)))
            .filter(|line| line.chars().count() > 220)
            .collect();
        assert!(
            too_long.is_empty(),
            "longer than 220 characters:\n{}",
            too_long.join("\n")
        );
    }

    /// The command a refused Unix client suggests is one to copy: the path itself only when it is
    /// short and plain; a long path is not written out a second time, nor one with a space or a
    /// line break in it, which the shell would split.
    #[test]
    fn a_unix_client_suggests_a_command_that_can_be_copied() {
        use io::ErrorKind::{ConnectionRefused, NotFound, PermissionDenied};
        let short = std::path::Path::new("echo.sock");
        let text = unix_connect_failed(short, NotFound.into()).to_string();
        assert!(
            text.contains("`cargo run --bin unix_echo_server -- echo.sock`"),
            "{text}"
        );
        let long = "a".repeat(107);
        for odd in [long.as_str(), "my socket", "new\nline.sock"] {
            let path = std::path::Path::new(odd);
            for kind in [NotFound, ConnectionRefused, PermissionDenied] {
                let text = unix_connect_failed(path, kind.into()).to_string();
                assert!(
                    !text.contains(&format!("-- {odd}`")) && !text.contains(&format!("-l {odd}`")),
                    "{text}"
                );
                assert!(text.chars().count() <= 200, "{text}");
            }
        }
    }

    #[test]
    fn a_link_local_address_without_interface_is_explained() {
        let addr: SocketAddr = "[fe80::1]:0".parse().unwrap();
        let text = bind_failed(addr, "step2_bind", io::ErrorKind::InvalidInput.into()).to_string();
        assert!(text.contains("needs its interface, a scope id"), "{text}");
        assert!(text.contains("[fe80::1%2]:0"), "{text}");
        // A multicast group of one link is link-local too (UDP binds it with its interface);
        // TCP cannot bind a group at all. Neither is "already bound".
        let group: SocketAddr = "[ff02::1]:0".parse().unwrap();
        let udp = udp_bind_failed(group, "udp_echo_server", io::ErrorKind::InvalidInput.into());
        let udp = udp.to_string();
        assert!(udp.contains("needs its interface, a scope id"), "{udp}");
        let tcp = bind_failed(group, "step2_bind", io::ErrorKind::InvalidInput.into()).to_string();
        assert!(tcp.contains("is a multicast group (EINVAL)"), "{tcp}");
        for text in [udp, tcp] {
            assert!(!text.contains("already bound"), "{text}");
        }
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn an_unreachable_network_is_blamed_even_on_port_0() {
        let addr: SocketAddr = "10.1.2.3:0".parse().unwrap();
        let text = connect_failed(addr, io::Error::from_raw_os_error(101)).to_string();
        assert!(
            text.contains("no route to that network (ENETUNREACH)"),
            "{text}"
        );
        assert!(!text.contains("port 0"), "{text}");
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
