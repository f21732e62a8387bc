//! Step 2, bind: `bind(2)` gives a socket its address, and each refusal has its own error.
//!
//! Grades exercise 2.1 (`ex2_1_*`). Run: `cargo test --test step2_bind`.

mod support;

use std::io::ErrorKind;
use std::net::{SocketAddr, TcpListener};

use pretty_assertions::assert_eq;
use socket_steps::step1_create::create_tcp_socket;
use socket_steps::step2_bind::{bind, local_addr, NOT_OUR_ADDRESS};

const STEP2: &str = env!("CARGO_BIN_EXE_step2_bind");

fn loopback_any_port() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

#[test]
fn ex2_1_bind_gives_the_socket_its_address() {
    let socket = create_tcp_socket(loopback_any_port()).unwrap();
    bind(&socket, loopback_any_port()).expect("bind 127.0.0.1:0");
    let bound = local_addr(&socket).unwrap();
    assert_eq!(
        bound.ip(),
        loopback_any_port().ip(),
        "the address the kernel says the socket has (getsockname) after bind(127.0.0.1:0)"
    );
    assert_ne!(bound.port(), 0, "port 0 asks the OS to choose a real port");
}

#[test]
fn ex2_1_a_taken_port_is_addr_in_use() {
    let first = create_tcp_socket(loopback_any_port()).unwrap();
    bind(&first, loopback_any_port()).unwrap();
    let taken = local_addr(&first).unwrap();
    let second = create_tcp_socket(taken).unwrap();
    let error = bind(&second, taken).expect_err("two sockets on one port");
    assert_eq!(
        error.kind(),
        ErrorKind::AddrInUse,
        "binding a port another socket holds: the kernel says EADDRINUSE"
    );
}

#[test]
fn ex2_1_an_address_of_another_machine_is_not_available() {
    let addr: SocketAddr = NOT_OUR_ADDRESS.parse().unwrap();
    let socket = create_tcp_socket(addr).unwrap();
    let error = bind(&socket, addr).expect_err("198.51.100.1 is not ours");
    assert_eq!(
        error.kind(),
        ErrorKind::AddrNotAvailable,
        "binding an address of another machine: the kernel says EADDRNOTAVAIL"
    );
}

#[test]
fn ex2_1_a_socket_binds_only_once() {
    let socket = create_tcp_socket(loopback_any_port()).unwrap();
    bind(&socket, loopback_any_port()).unwrap();
    let error = bind(&socket, loopback_any_port()).expect_err("second bind");
    assert_eq!(
        error.kind(),
        ErrorKind::InvalidInput,
        "binding a socket that is bound already: the kernel says EINVAL"
    );
}

#[test]
#[cfg(target_os = "linux")]
fn a_bound_socket_is_not_in_the_tcp_table_until_it_listens() {
    use socket_steps::proc_net::{find, snapshot, TcpState};
    let socket = create_tcp_socket(loopback_any_port()).unwrap();
    bind(&socket, loopback_any_port()).unwrap();
    let bound = local_addr(&socket).unwrap();
    // Every line of /proc/net/tcp with this local address, in any state: there is none.
    let states = |entries: Vec<_>| -> Vec<TcpState> {
        find(&entries, bound, None)
            .iter()
            .map(|e| e.state)
            .collect()
    };
    assert_eq!(states(snapshot().unwrap()), vec![]);
    socket.listen(1).unwrap();
    assert_eq!(states(snapshot().unwrap()), vec![TcpState::Listen]);
}

// ANCHOR: inet_diag
#[test]
#[cfg(target_os = "linux")]
fn the_kernel_lists_a_bound_only_socket_when_asked_through_inet_diag() {
    use socket_steps::experiments::bound_only_tcp_sockets;
    let socket = create_tcp_socket(loopback_any_port()).unwrap();
    bind(&socket, loopback_any_port()).unwrap();
    let bound = local_addr(&socket).unwrap();
    let found = bound_only_tcp_sockets().expect("an inet_diag dump");
    if found.is_empty() && !kernel_at_least(6, 8) {
        support::skip("this kernel dumps no bound-only sockets (older than 6.8)");
        return;
    }
    // Not in /proc/net/tcp (the test above), but the kernel knows it: state 7, CLOSE.
    assert!(found.contains(&(bound, 7)), "{bound} in {found:?}");
    socket.listen(1).unwrap();
    let found = bound_only_tcp_sockets().expect("an inet_diag dump");
    assert!(
        !found.iter().any(|(addr, _)| *addr == bound),
        "listening now"
    );
}
// ANCHOR_END: inet_diag

/// Whether the running kernel is at least `major.minor` (from `/proc/sys/kernel/osrelease`).
#[cfg(target_os = "linux")]
fn kernel_at_least(major: u32, minor: u32) -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut numbers = release
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse::<u32>().ok());
    (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0)) >= (major, minor)
}

#[test]
fn the_binary_shows_each_refusal() {
    let output = support::run(STEP2, &["127.0.0.1:0"]);
    support::assert_success(&output);
    let text = support::stdout(&output);
    support::assert_contains_all(
        &text,
        &[
            "bind(fd 3, 127.0.0.1:0) -> ok",
            "we asked for port 0, so the OS chose a free port",
            "EADDRINUSE",
            "EADDRNOTAVAIL",
            "EINVAL: this socket is already bound",
            "Next: make the socket accept connections: cargo run --bin step3_listen",
        ],
    );
}

#[test]
fn a_port_in_use_names_the_port_and_how_to_choose_another() {
    let holder = TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = holder.local_addr().unwrap();
    let output = support::run(STEP2, &[&taken.to_string()]);
    let error = support::assert_clean_failure(&output);
    assert!(
        error.contains(&format!("port {} is already in use", taken.port())),
        "{error}"
    );
    assert!(
        error.contains("cargo run --bin step2_bind -- 127.0.0.1:"),
        "{error}"
    );
    assert!(error.contains("port 0"), "{error}");
}

#[test]
fn bad_addresses_get_one_clear_message_each() {
    let cases = [
        ("127.0.0.1:70000", "from 0 to 65535"),
        ("127.0.0.1", "is not HOST:PORT"),
        ("198.51.100.1:50007", "is not an address of this machine"),
    ];
    for (input, expected) in cases {
        let output = support::run(STEP2, &[input]);
        let error = support::assert_clean_failure(&output);
        assert!(
            error.contains(expected),
            "{input}: expected {expected:?} in:\n{error}"
        );
        assert!(
            !error.contains("os error")
                || error.contains("caused by")
                || error.contains(" [os error "),
            "{error}"
        );
    }
}

/// A name that does not resolve, looked up in a network namespace of our own against a resolver
/// stub there: the program really asks, and no query leaves this machine.
#[test]
#[cfg(target_os = "linux")]
fn a_name_that_does_not_resolve_is_explained() {
    support::in_private_network(|| {
        let resolver = support::dns_stub();
        let output = support::run(STEP2, &["no-such-host.invalid:50007"]);
        let error = support::assert_clean_failure(&output);
        assert!(error.contains("could not resolve the host"), "{error}");
        assert!(
            !error.contains("os error")
                || error.contains("caused by")
                || error.contains(" [os error "),
            "{error}"
        );
        assert!(
            !resolver.asked().is_empty(),
            "step2_bind asked the resolver"
        );
        Ok(())
    });
}

/// Ports below 1024 need privilege. Tests run as root in CI, so the binary runs as `nobody`.
///
/// Where "below 1024" starts is `net.ipv4.ip_unprivileged_port_start`, a setting of each network
/// namespace (containers often lower it to 0). As root we run in a namespace of our own and set
/// it to its usual 1024 there; the host's setting is never touched. An ordinary user cannot
/// make a namespace without becoming its root (who may bind port 80 there), so takes the host's.
#[test]
#[cfg(target_os = "linux")]
fn a_privileged_port_without_privilege_is_explained() {
    let step2_as_nobody_on_port_80 = || {
        let child = support::unprivileged(STEP2).arg("127.0.0.1:80").spawn()?;
        let output = support::wait_with_limit(child, STEP2);
        let error = support::assert_clean_failure(&output);
        assert!(error.contains("privileged port"), "{error}");
        Ok(())
    };
    if support::is_root() {
        support::in_private_network(|| {
            std::fs::write("/proc/sys/net/ipv4/ip_unprivileged_port_start", "1024")?;
            step2_as_nobody_on_port_80()
        });
        return;
    }
    let start = std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
        .unwrap_or_default();
    match start.trim().parse::<u32>() {
        Ok(start) if start <= 80 => support::skip(&format!(
            "net.ipv4.ip_unprivileged_port_start is {start}, so port 80 is not privileged here"
        )),
        _ => step2_as_nobody_on_port_80().unwrap(),
    }
}
