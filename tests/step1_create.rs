//! Step 1, create: `socket(2)` for each family and type the tutorial names.
//!
//! Grades exercise 1.1 (`ex1_1_*`). Run: `cargo test --test step1_create`.

mod support;

use std::net::SocketAddr;

use pretty_assertions::assert_eq;
use socket2::{Domain, Type};
use socket_steps::step1_create::{create_each_kind, create_tcp_socket, create_udp_socket};

const STEP1: &str = env!("CARGO_BIN_EXE_step1_create");

#[test]
fn ex1_1_creates_a_tcp_socket_for_ipv4() {
    let v4: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let socket = create_tcp_socket(v4).expect("socket(AF_INET, SOCK_STREAM)");
    assert_eq!(
        socket.r#type().unwrap(),
        Type::STREAM,
        "the socket's type, as the kernel reports it (SO_TYPE): TCP is a stream socket"
    );
    // An IPv4 socket takes an IPv4 address: binding proves the family.
    socket
        .bind(&v4.into())
        .expect("an AF_INET socket binds 127.0.0.1");
    assert_linux_family(&socket, Domain::IPV4);
}

#[test]
fn ex1_1_creates_a_tcp_socket_for_ipv6() {
    let v6: SocketAddr = "[::1]:0".parse().unwrap();
    let socket = create_tcp_socket(v6).expect("socket(AF_INET6, SOCK_STREAM)");
    assert_eq!(
        socket.r#type().unwrap(),
        Type::STREAM,
        "the socket's type, as the kernel reports it (SO_TYPE): TCP is a stream socket"
    );
    assert_linux_family(&socket, Domain::IPV6);
}

/// On Linux the kernel also tells a socket's family and protocol (`SO_DOMAIN`, `SO_PROTOCOL`).
fn assert_linux_family(socket: &socket2::Socket, family: Domain) {
    #[cfg(target_os = "linux")]
    {
        assert_eq!(socket.domain().unwrap(), family);
        assert_eq!(socket.protocol().unwrap(), Some(socket2::Protocol::TCP));
    }
    let _ = (socket, family);
}

#[test]
fn udp_is_a_datagram_socket() {
    let socket = create_udp_socket("127.0.0.1:0".parse().unwrap()).unwrap();
    assert_eq!(socket.r#type().unwrap(), Type::DGRAM);
}

#[test]
fn each_kind_gets_its_own_file_descriptor() {
    let attempts = create_each_kind();
    let calls: Vec<&str> = attempts.iter().map(|a| a.call).collect();
    assert!(calls.contains(&"socket(AF_INET, SOCK_STREAM, IPPROTO_TCP)"));
    assert!(calls.contains(&"socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)"));
    // Every kind but raw (which depends on privilege) must succeed...
    for attempt in attempts.iter().filter(|a| !a.call.contains("SOCK_RAW")) {
        assert!(
            attempt.result.is_ok(),
            "{} failed: {:?}",
            attempt.call,
            attempt.result.as_ref().err()
        );
    }
    // ...and each socket, open at the same time as the others, has a descriptor of its own.
    let mut descriptors: Vec<u64> = attempts
        .iter()
        .filter_map(|a| a.result.as_ref().ok())
        .map(descriptor)
        .collect();
    let created = descriptors.len();
    descriptors.sort_unstable();
    descriptors.dedup();
    assert_eq!(descriptors.len(), created, "two sockets share a descriptor");
}

/// The number the OS gave `socket`: a file descriptor on Unix, a handle on Windows.
fn descriptor(socket: &socket2::Socket) -> u64 {
    #[cfg(unix)]
    let number = std::os::unix::io::AsRawFd::as_raw_fd(socket) as u64;
    #[cfg(windows)]
    let number = std::os::windows::io::AsRawSocket::as_raw_socket(socket);
    number
}

#[test]
fn the_binary_narrates_each_call() {
    let output = support::run(STEP1, &[]);
    support::assert_success(&output);
    let text = support::stdout(&output);
    support::assert_contains_all(
        &text,
        &[
            "socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) -> fd ",
            "socket(AF_INET6, SOCK_STREAM, IPPROTO_TCP) -> fd ",
            "socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP) -> fd ",
            "socket(AF_INET, SOCK_RAW, IPPROTO_ICMP) -> ",
            "Next: give a socket an address: cargo run --bin step2_bind",
        ],
    );
}

/// Without privilege, a raw socket is refused with EPERM, and the program explains it instead of
/// failing. Tests run as root in CI, so we run the binary as the unprivileged user `nobody`.
#[test]
#[cfg(target_os = "linux")]
fn raw_socket_without_privilege_is_explained() {
    let child = support::unprivileged(STEP1)
        .spawn()
        .expect("run step1 unprivileged");
    let output = support::wait_with_limit(child, STEP1);
    support::assert_success(&output);
    let text = support::stdout(&output);
    if !support::is_root() && text.contains("allowed: this program runs as root") {
        support::skip("this user has CAP_NET_RAW, so a raw socket is allowed");
        return;
    }
    assert!(
        text.contains("socket(AF_INET, SOCK_RAW, IPPROTO_ICMP) -> error")
            && text.contains("refused (EPERM): raw sockets need root or CAP_NET_RAW"),
        "{text}"
    );
}

#[test]
fn windows_socket_handles_read_as_file_descriptors_in_tests() {
    // The tests' own helper: on Windows our programs print `socket 340`, on Unix `fd 3`.
    let mut names = support::HandleNames::default();
    assert_eq!(
        names.rename("accept(socket 340) -> new socket socket 356, socket(AF_INET..."),
        "accept(fd 3) -> new socket fd 4, socket(AF_INET..."
    );
    assert_eq!(names.rename("close(socket 356)"), "close(fd 4)");
    // A whole output is ranked by value: the client's socket (344), made before `accept`
    // returned the server's (356) but printed after it, is still fd 4, as it is on Unix.
    let text = "listen(socket 340)\naccept -> socket 356\nclient: socket 344";
    assert_eq!(
        support::HandleNames::ranked(text).rename(text),
        "listen(fd 3)\naccept -> fd 5\nclient: fd 4"
    );
}
