//! Raw sockets: `SOCK_RAW`, the third type the tutorial names.
//!
//! A raw socket skips TCP and UDP: the program writes the header of the protocol above IP itself,
//! and an IPv4 raw socket reads whole IP packets, headers included (an IPv6 one starts after the
//! IPv6 header). It is how `ping` sends ICMP echo requests and how
//! `tcpdump`-like tools and routing daemons see traffic. Because it can read and forge any packet,
//! the kernel gives one only to root or to a program with the capability `CAP_NET_RAW`; anybody
//! else gets `EPERM` (`ErrorKind::PermissionDenied`). On Linux an unprivileged `ping` uses an
//! "ICMP datagram socket" instead (`SOCK_DGRAM` + `IPPROTO_ICMP`), allowed to the groups in
//! `net.ipv4.ping_group_range`.
//!
//! [`ping`] is the classic use: build an ICMP echo request by hand, send it with `sendto(2)`, and
//! read packets until the matching echo reply comes back, its IPv4 header in front. [`ping6`] does
//! the same over IPv6, where the raw socket hands over no IP header: only the ICMPv6 message.

use std::io::{self, Read};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::step1_create::create_raw_socket;

/// ICMP type of an echo request (what `ping` sends).
pub const ECHO_REQUEST: u8 = 8;
/// ICMP type of an echo reply.
pub const ECHO_REPLY: u8 = 0;

// ANCHOR: icmp_echo
/// An ICMP echo request, built by hand: type 8, code 0, checksum, identifier, sequence number,
/// then the payload. With a raw socket this is our job; TCP and UDP sockets do it for us.
pub fn echo_request(identifier: u16, sequence: u16, payload: &[u8]) -> Vec<u8> {
    let mut packet = vec![ECHO_REQUEST, 0, 0, 0];
    packet.extend_from_slice(&identifier.to_be_bytes());
    packet.extend_from_slice(&sequence.to_be_bytes());
    packet.extend_from_slice(payload);
    let sum = checksum(&packet);
    packet[2..4].copy_from_slice(&sum.to_be_bytes());
    packet
}

/// The Internet checksum (RFC 1071): the ones' complement of the ones' complement sum of the
/// 16-bit words.
pub fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|pair| u32::from(u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}
// ANCHOR_END: icmp_echo

/// An ICMP message found in an IPv4 packet read from a raw socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Icmp {
    /// The IPv4 header's length in bytes (the kernel hands it to us; 20 without options).
    pub ip_header_len: usize,
    /// ICMP type: 0 echo reply, 8 echo request, 3 destination unreachable...
    pub kind: u8,
    /// The identifier of an echo request or reply.
    pub identifier: u16,
    /// Its sequence number.
    pub sequence: u16,
    /// What follows the 8-byte ICMP header.
    pub payload: Vec<u8>,
}

/// Parses an IPv4 packet carrying ICMP, as a raw `AF_INET` socket returns it.
pub fn parse_ipv4_icmp(packet: &[u8]) -> Option<Icmp> {
    let ip_header_len = usize::from(packet.first()? & 0x0f) * 4;
    let icmp = packet.get(ip_header_len..)?;
    if icmp.len() < 8 {
        return None;
    }
    Some(Icmp {
        ip_header_len,
        kind: icmp[0],
        identifier: u16::from_be_bytes([icmp[4], icmp[5]]),
        sequence: u16::from_be_bytes([icmp[6], icmp[7]]),
        payload: icmp[8..].to_vec(),
    })
}

// ANCHOR: ping
/// Sends one ICMP echo request to `to` through a raw socket and waits at most `timeout` for the
/// matching reply. Needs root or `CAP_NET_RAW`: without it, the `socket(2)` call itself fails
/// with `PermissionDenied`.
///
/// A raw ICMP socket receives a copy of *every* ICMP packet the machine gets (on loopback that
/// includes our own request), so we read until the reply with our identifier arrives.
///
/// This function corresponds to `socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)`, `sendto(2)` and
/// `recv(2)`.
pub fn ping(to: Ipv4Addr, identifier: u16, timeout: Duration) -> io::Result<Icmp> {
    let socket = create_raw_socket()?;
    let request = echo_request(identifier, 1, b"socket-steps");
    // A raw socket has no ports: the port of the address is ignored.
    socket.send_to(&request, &SockAddr::from(SocketAddr::from((to, 0))))?;
    recv_matching(&socket, timeout, |packet| {
        parse_ipv4_icmp(packet)
            .filter(|icmp| icmp.kind == ECHO_REPLY && icmp.identifier == identifier)
    })
}
// ANCHOR_END: ping

// ANCHOR: recv_matching
/// Receives packets on a raw `socket` until `matching` accepts one, for at most `timeout` in all,
/// and returns what `matching` made of it. A raw socket gets a copy of every packet of its
/// protocol, ours or not, so a ping reads until its own reply comes.
///
/// This function corresponds to `recv(2)`, called again with the time that is left.
pub fn recv_matching<T>(
    socket: &Socket,
    timeout: Duration,
    mut matching: impl FnMut(&[u8]) -> Option<T>,
) -> io::Result<T> {
    let deadline = Instant::now() + timeout;
    let mut buffer = [0; 1500];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        socket.set_read_timeout(Some(left))?;
        let received = (&*socket).read(&mut buffer)?;
        if let Some(found) = matching(&buffer[..received]) {
            return Ok(found);
        }
    }
}
// ANCHOR_END: recv_matching

/// ICMPv6 type of an echo request (RFC 4443).
pub const ECHO_REQUEST_V6: u8 = 128;
/// ICMPv6 type of an echo reply.
pub const ECHO_REPLY_V6: u8 = 129;

// ANCHOR: ping6
/// The same ping over IPv6: `socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6)`, an echo request to
/// `to`, and the bytes of the matching echo reply exactly as `recv(2)` returned them.
///
/// Two things differ from IPv4. We leave the checksum 0: for ICMPv6 the kernel always computes
/// it (it covers the IPv6 addresses, which the kernel chooses). And what we read starts with the
/// ICMPv6 header, type 129 at byte 0: an IPv6 raw socket never hands over the IPv6 header
/// (RFC 3542, section 3); the addresses come from `recvfrom`, the rest from ancillary data.
pub fn ping6(to: Ipv6Addr, identifier: u16, timeout: Duration) -> io::Result<Vec<u8>> {
    let socket = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::ICMPV6))?;
    let mut request = vec![ECHO_REQUEST_V6, 0, 0, 0];
    request.extend_from_slice(&identifier.to_be_bytes());
    request.extend_from_slice(&1u16.to_be_bytes());
    request.extend_from_slice(b"socket-steps");
    socket.send_to(&request, &SockAddr::from(SocketAddr::from((to, 0))))?;
    recv_matching(&socket, timeout, |packet| {
        let ours = packet.len() >= 8 && packet[4..6] == identifier.to_be_bytes();
        (ours && packet[0] == ECHO_REPLY_V6).then(|| packet.to_vec())
    })
}
// ANCHOR_END: ping6

// ANCHOR: syn
/// A whole IPv4 packet carrying one TCP SYN from `from` to `to`, built by hand: the first
/// segment of a handshake, as `connect(2)` would send it, but from any address we like.
///
/// With it a test can play a client that never answers the server's SYN-ACK, so that the
/// half-open connection stays in the server's SYN queue (see the Listen chapter). The IPv4
/// header is 20 bytes (no options), the TCP header 20 bytes (no options: the server assumes the
/// smallest segment size, 536 bytes).
pub fn tcp_syn(from: SocketAddrV4, to: SocketAddrV4, sequence: u32) -> Vec<u8> {
    let mut tcp = Vec::with_capacity(20);
    tcp.extend_from_slice(&from.port().to_be_bytes());
    tcp.extend_from_slice(&to.port().to_be_bytes());
    tcp.extend_from_slice(&sequence.to_be_bytes());
    tcp.extend_from_slice(&0u32.to_be_bytes()); // acknowledgment number: none yet
    tcp.push(5 << 4); // data offset: 5 words of header
    tcp.push(TCP_SYN);
    tcp.extend_from_slice(&u16::MAX.to_be_bytes()); // window
    tcp.extend_from_slice(&[0, 0, 0, 0]); // checksum (below), urgent pointer

    // The TCP checksum covers a "pseudo-header" of the IP addresses, protocol and length too.
    let mut covered = Vec::with_capacity(12 + tcp.len());
    covered.extend_from_slice(&from.ip().octets());
    covered.extend_from_slice(&to.ip().octets());
    covered.extend_from_slice(&[0, IPPROTO_TCP, 0, tcp.len() as u8]);
    covered.extend_from_slice(&tcp);
    let sum = checksum(&covered);
    tcp[16..18].copy_from_slice(&sum.to_be_bytes());

    let mut ip = vec![0x45, 0]; // version 4, header 5 words; type of service
    ip.extend_from_slice(&((20 + tcp.len()) as u16).to_be_bytes()); // total length
    ip.extend_from_slice(&[0, 0, 0x40, 0]); // identification (the kernel fills it), don't fragment
    ip.extend_from_slice(&[64, IPPROTO_TCP, 0, 0]); // time to live, protocol, checksum (below)
    ip.extend_from_slice(&from.ip().octets());
    ip.extend_from_slice(&to.ip().octets());
    let sum = checksum(&ip);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    ip.extend_from_slice(&tcp);
    ip
}

/// Sends a [`tcp_syn`] from `from` to `to` through a raw socket that writes whole IP packets
/// (`socket(AF_INET, SOCK_RAW, IPPROTO_RAW)`: the kernel takes our IP header as it is, source
/// address included). Needs root or `CAP_NET_RAW`.
pub fn send_syn(from: SocketAddrV4, to: SocketAddrV4, sequence: u32) -> io::Result<()> {
    let socket = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(IPPROTO_RAW)))?;
    let packet = tcp_syn(from, to, sequence);
    socket.send_to(&packet, &SockAddr::from(SocketAddr::V4(to)))?;
    Ok(())
}
// ANCHOR_END: syn

/// The SYN bit of a TCP header's flags byte.
pub const TCP_SYN: u8 = 0x02;
/// IP protocol number of TCP.
const IPPROTO_TCP: u8 = 6;
/// `IPPROTO_RAW` (255): a raw socket for which we write the IP header ourselves.
const IPPROTO_RAW: i32 = 255;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hand_made_syn_checksums_to_zero_in_both_headers() {
        let from = SocketAddrV4::new(Ipv4Addr::new(10, 9, 9, 1), 40000);
        let to = SocketAddrV4::new(Ipv4Addr::new(10, 9, 9, 254), 50007);
        let packet = tcp_syn(from, to, 1);
        assert_eq!(packet.len(), 40);
        assert_eq!(checksum(&packet[..20]), 0, "the IPv4 header");
        let mut covered = [&from.ip().octets()[..], &to.ip().octets(), &[0, 6, 0, 20]].concat();
        covered.extend_from_slice(&packet[20..]);
        assert_eq!(
            checksum(&covered),
            0,
            "the TCP segment and its pseudo-header"
        );
        assert_eq!(packet[33], TCP_SYN);
    }
}
