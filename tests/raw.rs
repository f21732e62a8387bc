//! Raw sockets: root may create one and speak ICMP by hand; anybody else gets `PermissionDenied`.
//! Tests run as root in CI, so the unprivileged case runs in a child process that drops its
//! privileges (`Command::uid`) and runs one test of this very file.

mod support;

use socket_steps::raw::{checksum, echo_request, parse_ipv4_icmp};

// The tests that open raw sockets are Linux-only (they need `support::is_root`).
#[cfg(target_os = "linux")]
use {
    socket_steps::raw::{ping, ECHO_REPLY},
    socket_steps::step1_create::{create_raw_socket, explain_raw_error},
    std::io,
    std::net::Ipv4Addr,
    std::time::Duration,
};

#[test]
fn an_echo_request_checksums_to_zero() {
    // Summing a packet that includes its own checksum gives 0: how a receiver checks it.
    let packet = echo_request(0x1234, 1, b"socket-steps");
    assert_eq!(packet[0], 8, "type 8: echo request");
    assert_eq!(checksum(&packet), 0);
    // In an IPv4 packet (a 20-byte header in front), the parser finds it again.
    let mut ip = vec![0x45];
    ip.resize(20, 0);
    ip.extend_from_slice(&packet);
    let icmp = parse_ipv4_icmp(&ip).unwrap();
    assert_eq!(
        (icmp.ip_header_len, icmp.identifier, icmp.sequence),
        (20, 0x1234, 1)
    );
    assert_eq!(icmp.payload, b"socket-steps");
}

// ANCHOR: ping
#[test]
#[cfg(target_os = "linux")]
fn root_can_ping_loopback_with_a_raw_socket() -> io::Result<()> {
    if !support::is_root() {
        println!("SKIPPED: not root; a raw socket needs root or CAP_NET_RAW");
        return Ok(());
    }
    let reply = match ping(Ipv4Addr::LOCALHOST, 0x5353, Duration::from_secs(10)) {
        Err(error) if error.kind() == io::ErrorKind::PermissionDenied => {
            // Root without CAP_NET_RAW: some containers drop it.
            println!("SKIPPED: root here lacks CAP_NET_RAW: {error}");
            return Ok(());
        }
        other => other?,
    };
    assert_eq!(reply.kind, ECHO_REPLY);
    assert_eq!(
        reply.ip_header_len, 20,
        "a raw socket hands us the IP header too"
    );
    assert_eq!(
        reply.payload, b"socket-steps",
        "our payload, echoed by the kernel"
    );
    Ok(())
}
// ANCHOR_END: ping

// ANCHOR: unprivileged
/// The environment variable that tells [`raw_socket_as_nobody`] it runs in the child.
#[cfg(target_os = "linux")]
const CHILD: &str = "SOCKET_STEPS_RAW_CHILD";

#[test]
#[cfg(target_os = "linux")]
fn without_privilege_a_raw_socket_is_permission_denied() {
    if !support::is_root() {
        // We are unprivileged already: try it here.
        let error = create_raw_socket().expect_err("an ordinary user cannot create a raw socket");
        assert_eq!(error.kind(), io::ErrorKind::PermissionDenied);
        return;
    }
    // As root, run the one test below in a child that becomes `nobody` (uid and gid 65534)
    // before it starts: setuid drops root's capabilities. `support::unprivileged` runs a copy of
    // this test program that `nobody` can reach, wherever the checkout lives.
    let exe = std::env::current_exe().unwrap();
    let exe = exe.to_str().expect("a UTF-8 path to the test program");
    let child = support::unprivileged(exe)
        .args([
            "--exact",
            "raw_socket_as_nobody",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {exe} as uid 65534: {error}"));
    let output = support::wait_with_limit(child, exe);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("1 passed"),
        "the child ran the test:\n{stdout}"
    );
    assert!(stdout.contains("refused (EPERM)"), "{stdout}");
}

#[test]
#[cfg(target_os = "linux")]
#[ignore = "runs in the child started by without_privilege_a_raw_socket_is_permission_denied"]
fn raw_socket_as_nobody() {
    assert_eq!(
        std::env::var(CHILD).as_deref(),
        Ok("1"),
        "run only as the child"
    );
    let error = create_raw_socket().expect_err("nobody cannot create a raw socket");
    assert_eq!(error.kind(), io::ErrorKind::PermissionDenied, "{error}");
    println!(
        "uid 65534: socket(AF_INET, SOCK_RAW, IPPROTO_ICMP) {}",
        explain_raw_error(&error)
    );
}
// ANCHOR_END: unprivileged
