//! Reading a packet by hand: the IP header, then the TCP or UDP header behind it.
//!
//! A packet is a row of bytes. Each protocol puts a header in front of what it carries: IP's
//! header says where the packet goes, TCP's or UDP's header behind it says which ports and, for
//! TCP, where these bytes sit in the stream. We read each field at its fixed offset:
//!
//! ```text
//! IPv4 (20 bytes without options)            TCP (20 bytes without options)
//!  0  version (4 bits) | header length (4)    0  source port (2 bytes)
//!  2  total length (2 bytes)                  2  destination port (2)
//!  9  protocol: 6 TCP, 17 UDP, 1 ICMP         4  sequence number (4)
//! 12  source address (4)                      8  acknowledgement number (4)
//! 16  destination address (4)                12  data offset (4 bits): header length / 4
//!                                            13  flags: CWR ECE URG ACK PSH RST SYN FIN
//! IPv6 (40 bytes, fixed)                     14  window (2)
//!  0  version (4 bits) ...                   20  options (MSS, window scale...), then data
//!  4  payload length (2 bytes)
//!  6  next header: 6 TCP, 17 UDP, 58 ICMPv6  UDP (8 bytes)
//!  8  source address (16)                     0  source port, 2 destination port
//! 24  destination address (16)                4  length (header + data), 6 checksum
//! ```
//!
//! Every number of two or more bytes is in *network byte order*: big-endian, the most significant
//! byte first. Port 50007 is `0xC357` and travels as the bytes `C3 57`. We read them with
//! `u16::from_be_bytes` and `u32::from_be_bytes`; a little-endian machine that read them as they
//! lie in memory would see port 22467. (In C this is `ntohs` and `ntohl`.)
//!
//! One more kind of packet comes back to us: an ICMP error. When a UDP datagram reaches a port
//! where nothing is bound, the receiving kernel answers with ICMP "destination unreachable"
//! (ICMPv6 for IPv6), which quotes the start of the datagram it is about:
//!
//! ```text
//! ICMP (after the IP header)                 ICMPv6 (after the IPv6 header)
//!  0  type: 3 destination unreachable          0  type: 1 destination unreachable
//!  1  code: 3 port unreachable                 1  code: 4 port unreachable
//!  2  checksum (2), 4 unused (4)               2  checksum (2), 4 unused (4)
//!  8  the refused packet: its IP header,       8  the refused packet: its IPv6 header,
//!     then its UDP header and data                then its UDP header and data
//! ```
//!
//! We decode only what the course sends: IPv4 and IPv6 without extension headers, carrying TCP or
//! UDP, and those ICMP errors. Anything else is `None`, never a panic: the bytes come from the
//! network.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// IP's number for TCP (in IPv4's `protocol` field, IPv6's `next header`).
pub const TCP: u8 = 6;
/// IP's number for UDP.
pub const UDP: u8 = 17;
/// IPv4's number for ICMP, the Internet Control Message Protocol: errors and `ping`.
pub const ICMP: u8 = 1;
/// IPv6's number for ICMPv6.
pub const ICMPV6: u8 = 58;
/// ICMP's type "destination unreachable".
pub const ICMP_UNREACHABLE: u8 = 3;
/// ICMPv6's type "destination unreachable".
pub const ICMPV6_UNREACHABLE: u8 = 1;

/// The headers of one packet, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// Where it comes from: the IP header's source address and the TCP/UDP source port (port 0
    /// for ICMP, which has no ports).
    pub src: SocketAddr,
    /// Where it goes.
    pub dst: SocketAddr,
    /// TCP's header, or `None` for UDP and ICMP.
    pub tcp: Option<Tcp>,
    /// The ICMP error this packet is, or `None` for TCP and UDP.
    pub icmp: Option<Icmp>,
    /// How many bytes of data follow the headers (the "payload"): for UDP, the header's length
    /// field minus its 8 bytes; for ICMP, the bytes of the quoted packet.
    pub payload_len: usize,
}

/// An ICMP (or ICMPv6) "destination unreachable": the kernel at `dst` of the packet it quotes
/// says that packet could not be delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Icmp {
    /// ICMPv6 rather than ICMP (IPv4).
    pub v6: bool,
    /// Why, as the code says: 3 (ICMP) or 4 (ICMPv6) is "port unreachable", nothing bound there.
    pub code: u8,
    /// The headers of the refused packet, as the error quotes them.
    pub about: Box<Packet>,
}

impl Icmp {
    /// The error in words: `port unreachable`, or the code's number for the others.
    pub fn words(&self) -> String {
        match (self.v6, self.code) {
            (false, 3) | (true, 4) => "port unreachable".to_string(),
            (_, code) => format!("destination unreachable, code {code}"),
        }
    }
}

/// The fields of a TCP header that a lesson looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tcp {
    /// The stream position of this segment's first byte (a SYN or FIN counts as one byte).
    pub seq: u32,
    /// With the ACK flag: the next byte the sender expects from the other side.
    pub ack: u32,
    /// The flag bits, e.g. [`Flags::SYN`].
    pub flags: Flags,
    /// The window field as sent: how many more bytes the sender can take, shifted right by the
    /// window scale it announced in its SYN (a SYN's own window is never scaled).
    pub window: u16,
    /// Maximum segment size: the largest payload the sender will accept (SYN only).
    pub mss: Option<u16>,
    /// Window scale: "multiply my window field by 2 to this power" (SYN only).
    pub window_scale: Option<u8>,
}

/// TCP's flag bits, the 14th byte of its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flags(pub u8);

impl Flags {
    /// No more data from the sender: it has closed its side.
    pub const FIN: u8 = 0x01;
    /// Synchronise: the first segment from each side; its `seq` is the side's starting number.
    pub const SYN: u8 = 0x02;
    /// Reset: abort the connection (or "nobody listens on this port").
    pub const RST: u8 = 0x04;
    /// Push: hand the data to the application now.
    pub const PSH: u8 = 0x08;
    /// The acknowledgement number is valid: set on every segment after the first SYN.
    pub const ACK: u8 = 0x10;
    /// Urgent data (almost never used).
    pub const URG: u8 = 0x20;

    /// Whether `flag` (e.g. [`Flags::SYN`]) is set.
    pub fn has(self, flag: u8) -> bool {
        self.0 & flag != 0
    }

    /// The flags in words, joined by `-`: `SYN`, `SYN-ACK`, `PSH-ACK`, `FIN-ACK`, `RST`...
    pub fn words(self) -> String {
        let names = [
            (Flags::SYN, "SYN"),
            (Flags::RST, "RST"),
            (Flags::FIN, "FIN"),
            (Flags::PSH, "PSH"),
            (Flags::URG, "URG"),
            (Flags::ACK, "ACK"),
        ];
        let set: Vec<&str> = names
            .iter()
            .filter(|(bit, _)| self.has(*bit))
            .map(|(_, name)| *name)
            .collect();
        if set.is_empty() {
            "none".to_string()
        } else {
            set.join("-")
        }
    }
}

// ANCHOR: decode
/// Decodes an IP packet (IPv4 or IPv6, as the first 4 bits say) carrying TCP or UDP, or an ICMP
/// error about one.
pub fn decode(packet: &[u8]) -> Option<Packet> {
    decode_ip(packet, false)
}

/// [`decode`], for a whole packet or (`quoted`) the start of one that an ICMP error quotes.
fn decode_ip(packet: &[u8], quoted: bool) -> Option<Packet> {
    match packet.first()? >> 4 {
        4 => decode_ipv4(packet, quoted),
        6 => decode_ipv6(packet, quoted),
        _ => None,
    }
}

/// The bytes of `packet` from `start` to `end`; a `quoted` packet may have lost its tail.
fn part(packet: &[u8], start: usize, end: usize, quoted: bool) -> Option<&[u8]> {
    match quoted {
        true => packet.get(start..end.min(packet.len())),
        false => packet.get(start..end),
    }
}

/// IPv4: a header of `4 × (low 4 bits of byte 0)` bytes; the total length counts it too.
fn decode_ipv4(packet: &[u8], quoted: bool) -> Option<Packet> {
    let header_len = usize::from(packet.first()? & 0x0f) * 4;
    let total_len = usize::from(be16(packet, 2)?);
    let protocol = *packet.get(9)?;
    let src = Ipv4Addr::from(be32(packet, 12)?);
    let dst = Ipv4Addr::from(be32(packet, 16)?);
    // A frame may carry padding after the packet: the total length says where it ends.
    let transport = part(packet, header_len, total_len, quoted)?;
    decode_transport(protocol, src.into(), dst.into(), transport, quoted)
}

/// IPv6: a fixed 40-byte header; the payload length counts only what follows it.
fn decode_ipv6(packet: &[u8], quoted: bool) -> Option<Packet> {
    let payload_len = usize::from(be16(packet, 4)?);
    let next_header = *packet.get(6)?;
    let src: [u8; 16] = packet.get(8..24)?.try_into().ok()?;
    let dst: [u8; 16] = packet.get(24..40)?.try_into().ok()?;
    let transport = part(packet, 40, 40 + payload_len, quoted)?;
    let (src, dst) = (Ipv6Addr::from(src), Ipv6Addr::from(dst));
    decode_transport(next_header, src.into(), dst.into(), transport, quoted)
}

/// TCP or UDP, which both start with the two ports; or an ICMP error, which quotes a packet of
/// ours behind its 8 bytes (a quoted packet is never itself an ICMP error).
fn decode_transport(
    protocol: u8,
    src: IpAddr,
    dst: IpAddr,
    segment: &[u8],
    quoted: bool,
) -> Option<Packet> {
    let unreachable = match protocol {
        ICMP => ICMP_UNREACHABLE,
        ICMPV6 => ICMPV6_UNREACHABLE,
        _ => 0,
    };
    if unreachable != 0 && !quoted {
        if *segment.first()? != unreachable {
            return None;
        }
        let about = decode_ip(segment.get(8..)?, true)?;
        return Some(Packet {
            src: SocketAddr::new(src, 0),
            dst: SocketAddr::new(dst, 0),
            tcp: None,
            icmp: Some(Icmp {
                v6: protocol == ICMPV6,
                code: *segment.get(1)?,
                about: Box::new(about),
            }),
            payload_len: segment.len() - 8,
        });
    }
    let src = SocketAddr::new(src, be16(segment, 0)?);
    let dst = SocketAddr::new(dst, be16(segment, 2)?);
    let (tcp, payload_len) = match protocol {
        TCP => {
            // The data offset counts 32-bit words, like IPv4's header length.
            let header_len = usize::from(segment.get(12)? >> 4) * 4;
            let options = segment.get(20..header_len)?;
            let (mss, window_scale) = syn_options(options);
            let tcp = Tcp {
                seq: be32(segment, 4)?,
                ack: be32(segment, 8)?,
                flags: Flags(*segment.get(13)?),
                window: be16(segment, 14)?,
                mss,
                window_scale,
            };
            (Some(tcp), segment.len().checked_sub(header_len)?)
        }
        // The length field counts the 8-byte header and the data (even where a quote was cut).
        UDP => (None, usize::from(be16(segment, 4)?).checked_sub(8)?),
        _ => return None,
    };
    Some(Packet {
        src,
        dst,
        tcp,
        icmp: None,
        payload_len,
    })
}
// ANCHOR_END: decode

/// The two options of a SYN that the course looks at: maximum segment size (kind 2) and window
/// scale (kind 3). Options are `kind, length, value...`, except kind 0 (end) and 1 (padding),
/// which are a single byte.
fn syn_options(mut options: &[u8]) -> (Option<u16>, Option<u8>) {
    let (mut mss, mut scale) = (None, None);
    while let Some(&kind) = options.first() {
        match kind {
            0 => break,
            1 => options = &options[1..],
            _ => {
                let Some(&len) = options.get(1) else { break };
                let Some(value) = options.get(2..usize::from(len).max(2)) else {
                    break;
                };
                match (kind, value) {
                    (2, &[hi, lo]) => mss = Some(u16::from_be_bytes([hi, lo])),
                    (3, &[shift]) => scale = Some(shift),
                    _ => {}
                }
                options = &options[usize::from(len).max(2)..];
            }
        }
    }
    (mss, scale)
}

/// The big-endian ("network order") 16-bit number at `at`.
fn be16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

/// The big-endian 32-bit number at `at`.
fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// Bytes written as hex pairs (`"45 00 00 3c"`), spaces and line breaks ignored: how the tests
/// and the book write captured packets.
pub fn from_hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text
        .bytes()
        .filter(u8::is_ascii_hexdigit)
        .map(|digit| (digit as char).to_digit(16).unwrap_or(0) as u8)
        .collect();
    digits
        .chunks(2)
        .map(|pair| pair[0] << 4 | pair.get(1).unwrap_or(&0))
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A SYN from 127.0.0.1:36982 to 127.0.0.1:36321, captured on loopback (`tcpdump -xx`).
    pub const SYN_V4: &str = "4500 003c f8b7 4000 4006 4402 7f00 0001 7f00 0001 9076 8de1 \
        0f5d abb7 0000 0000 a002 ffd7 fe30 0000 0204 ffd7 0402 080a 1dda d3ea 0000 0000 0103 030a";
    /// The server's SYN-ACK.
    pub const SYN_ACK_V4: &str = "4500 003c 0000 4000 4006 3cba 7f00 0001 7f00 0001 8de1 9076 \
        f5a3 8f2b 0f5d abb8 a012 ffcb fe30 0000 0204 ffd7 0402 080a 0643 daa7 1dda d3ea 0103 030a";
    /// The client's ACK, the handshake's last packet.
    pub const ACK_V4: &str = "4500 0034 f8b8 4000 4006 4409 7f00 0001 7f00 0001 9076 8de1 \
        0f5d abb8 f5a3 8f2c 8010 0040 fe28 0000 0101 080a 1dda d3ea 0643 daa7";
    /// The client's `Hello network world` (19 bytes) on the same connection.
    pub const HELLO_V4: &str = "4500 0047 f8b9 4000 4006 43f5 7f00 0001 7f00 0001 9076 8de1 \
        0f5d abb8 f5a3 8f2c 8018 0040 fe3b 0000 0101 080a 1dda d3ea 0643 daa7 4865 6c6c 6f20 \
        6e65 7477 6f72 6b20 776f 726c 64";
    /// A SYN from [::1]:51336 to [::1]:33063.
    const SYN_V6: &str = "6004 e03d 0028 0640 0000 0000 0000 0000 0000 0000 0000 0001 \
        0000 0000 0000 0000 0000 0000 0000 0001 c888 8127 dfa3 0624 0000 0000 a002 ffc4 0030 0000 \
        0204 ffc4 0402 080a b674 3f83 0000 0000 0103 030a";
    /// A UDP datagram `Hello` from 127.0.0.1:39857 to 127.0.0.1:57681.
    const UDP_V4: &str = "4500 0021 6371 4000 4011 d958 7f00 0001 7f00 0001 9bb1 e151 \
        000d fe20 4865 6c6c 6f";

    #[test]
    fn an_ipv4_syn_field_by_field() {
        let packet = decode(&from_hex(SYN_V4)).unwrap();
        assert_eq!(packet.src, "127.0.0.1:36982".parse().unwrap());
        assert_eq!(packet.dst, "127.0.0.1:36321".parse().unwrap());
        let tcp = packet.tcp.unwrap();
        // 0f5d abb7 in network order is 257797047, what tcpdump printed as `seq 257797047`.
        assert_eq!(tcp.seq, 257_797_047);
        assert_eq!(tcp.flags.words(), "SYN");
        assert_eq!(tcp.window, 65495);
        assert_eq!((tcp.mss, tcp.window_scale), (Some(65495), Some(10)));
        assert_eq!(packet.payload_len, 0);
    }

    #[test]
    fn byte_order_matters() {
        // The destination port 36321 travels as the bytes 8d e1.
        let bytes = from_hex(SYN_V4);
        assert_eq!(&bytes[22..24], &[0x8d, 0xe1]);
        assert_eq!(u16::from_be_bytes([0x8d, 0xe1]), 36321);
        assert_eq!(
            u16::from_le_bytes([0x8d, 0xe1]),
            57741,
            "read the wrong way round"
        );
    }

    #[test]
    fn data_follows_the_headers() {
        let bytes = from_hex(HELLO_V4);
        let packet = decode(&bytes).unwrap();
        assert_eq!(packet.payload_len, 19);
        assert_eq!(&bytes[bytes.len() - 19..], b"Hello network world");
        assert_eq!(packet.tcp.unwrap().flags.words(), "PSH-ACK");
    }

    #[test]
    fn ipv6_and_udp() {
        let v6 = decode(&from_hex(SYN_V6)).unwrap();
        assert_eq!(v6.src, "[::1]:51336".parse().unwrap());
        assert_eq!(
            v6.tcp.unwrap().mss,
            Some(65476),
            "IPv6's header is 20 bytes longer"
        );
        let udp = decode(&from_hex(UDP_V4)).unwrap();
        assert_eq!(udp.dst, "127.0.0.1:57681".parse().unwrap());
        assert_eq!((udp.tcp, udp.payload_len), (None, 5));
    }

    /// The ICMP "port unreachable" that came back when `UDP_V4`'s twin (from 127.0.0.1:39857
    /// to 127.0.0.1:45999, where nothing was bound) was sent: type 3, code 3, then the datagram.
    pub const UNREACHABLE_V4: &str = "45c0 003d f5e4 0000 4001 8619 7f00 0001 7f00 0001 0303 8b9b \
        0000 0000 4500 0021 90dd 4000 4011 abec 7f00 0001 7f00 0001 9bb1 b3af 000d fe20 4865 \
        6c6c 6f";
    /// The same over IPv6, from [::1]:39858: ICMPv6 type 1, code 4.
    const UNREACHABLE_V6: &str = "600f 4f38 003d 3a40 0000 0000 0000 0000 0000 0000 0000 0001 \
        0000 0000 0000 0000 0000 0000 0000 0001 0104 f48d 0000 0000 6001 2543 000d 1140 0000 0000 \
        0000 0000 0000 0000 0000 0001 0000 0000 0000 0000 0000 0000 0000 0001 9bb2 b3af 000d 0020 \
        4865 6c6c 6f";

    #[test]
    fn an_icmp_error_quotes_the_refused_datagram() {
        for (hex, v6, from) in [
            (UNREACHABLE_V4, false, "127.0.0.1:39857"),
            (UNREACHABLE_V6, true, "[::1]:39858"),
        ] {
            let packet = decode(&from_hex(hex)).unwrap();
            let icmp = packet.icmp.expect("an ICMP error");
            assert_eq!((icmp.v6, icmp.words()), (v6, "port unreachable".into()));
            assert_eq!(icmp.about.src, from.parse().unwrap());
            assert_eq!(icmp.about.dst.port(), 45999);
            assert_eq!((icmp.about.payload_len, icmp.about.icmp), (5, None));
        }
        // A quote cut after the UDP header (a long datagram's is) still gives its length.
        let mut cut = from_hex(UNREACHABLE_V4);
        cut.truncate(cut.len() - 5);
        cut[3] -= 5; // the ICMP packet's own total length: 61 bytes, now 56
        assert_eq!(decode(&cut).unwrap().icmp.unwrap().about.payload_len, 5);
    }

    #[test]
    fn short_or_strange_bytes_are_none_never_a_panic() {
        let syn = from_hex(SYN_V4);
        for len in 0..syn.len() {
            assert_eq!(decode(&syn[..len]), None, "cut at {len}");
        }
        assert_eq!(decode(&[0x55; 40]), None, "IP version 5");
        let mut icmp = from_hex(UDP_V4);
        icmp[9] = ICMP;
        assert_eq!(
            decode(&icmp),
            None,
            "ICMP that is not an error about a packet"
        );
        let quote = from_hex(UNREACHABLE_V4);
        for len in 0..quote.len() {
            assert_eq!(decode(&quote[..len]), None, "ICMP cut at {len}");
        }
    }

    #[test]
    fn flags_in_words() {
        assert_eq!(Flags(Flags::SYN | Flags::ACK).words(), "SYN-ACK");
        assert_eq!(
            Flags(Flags::FIN | Flags::PSH | Flags::ACK).words(),
            "FIN-PSH-ACK"
        );
        assert_eq!(Flags(Flags::RST).words(), "RST");
    }
}
