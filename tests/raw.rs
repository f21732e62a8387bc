//! Raw sockets: root may create one and speak ICMP by hand; anybody else gets `PermissionDenied`.
//! Tests run as root in CI, so the unprivileged case runs in a child process that drops its
//! privileges (`Command::uid`) and runs that same test of this very file (`support::as_nobody`).

mod support;

use socket_steps::raw::{checksum, echo_request, parse_ipv4_icmp};

// The tests that open raw sockets are Linux-only (they need `support::is_root`).
#[cfg(target_os = "linux")]
use {
    socket_steps::raw::{ping, ECHO_REPLY},
    socket_steps::step1_create::{create_raw_socket, explain_raw_error},
    std::io,
    std::net::{Ipv4Addr, Ipv6Addr},
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
        support::skip("not root; a raw socket needs root or CAP_NET_RAW");
        return Ok(());
    }
    let reply = match ping(Ipv4Addr::LOCALHOST, 0x5353, Duration::from_secs(10)) {
        Err(error) if error.kind() == io::ErrorKind::PermissionDenied => {
            // Root without CAP_NET_RAW: some containers drop it.
            support::skip(&format!("root here lacks CAP_NET_RAW: {error}"));
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

// ANCHOR: ping6
#[test]
#[cfg(target_os = "linux")]
fn an_ipv6_raw_socket_reads_no_ip_header() {
    // In a network namespace of our own (root there), whose loopback has ::1.
    support::in_private_network(|| {
        let reply = socket_steps::raw::ping6(Ipv6Addr::LOCALHOST, 0x5354, Duration::from_secs(10))?;
        // Byte 0 is the ICMPv6 type: no 40-byte IPv6 header in front, unlike IPv4's 20 bytes.
        assert_eq!(reply[0], socket_steps::raw::ECHO_REPLY_V6, "{reply:?}");
        assert_eq!(
            &reply[8..],
            b"socket-steps",
            "our payload, right after the ICMPv6 header"
        );
        Ok(())
    });
}
// ANCHOR_END: ping6

// ANCHOR: unprivileged
#[test]
#[cfg(target_os = "linux")]
fn without_privilege_a_raw_socket_is_permission_denied() {
    // As root (as in CI) the probe runs in a child process, this test program started again as
    // the user `nobody` (uid and gid 65534): setting the uid drops root's capabilities.
    support::as_nobody(|| {
        let error = create_raw_socket().expect_err("an ordinary user cannot create a raw socket");
        assert_eq!(error.kind(), io::ErrorKind::PermissionDenied, "{error}");
        let explained = explain_raw_error(&error);
        assert!(explained.starts_with("refused (EPERM)"), "{explained}");
        println!("socket(AF_INET, SOCK_RAW, IPPROTO_ICMP) {explained}");
        Ok(())
    });
}
// ANCHOR_END: unprivileged
