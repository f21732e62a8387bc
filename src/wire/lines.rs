//! One line per packet, as the steps print them:
//!
//! ```text
//! wire: 127.0.0.1:41234 > 127.0.0.1:50007 SYN     seq 0             win 65495          connect
//! wire: 127.0.0.1:50007 > 127.0.0.1:41234 SYN-ACK seq 0    ack 1    win 65483          connect
//! wire: 127.0.0.1:41234 > 127.0.0.1:50007 PSH-ACK seq 1    ack 1    win 65536 len 19   send
//! ```
//!
//! A UDP datagram has no numbers, only its length; an ICMP error has no ports, and names the
//! datagram it refuses:
//!
//! ```text
//! wire: 127.0.0.1:41234 > 127.0.0.1:50007 UDP     len 5                            send
//! wire: 127.0.0.1 > 127.0.0.1 ICMP    port unreachable for 127.0.0.1:41234 > 127.0.0.1:50007 UDP len 5 recv
//! ```
//!
//! Sequence numbers are *relative*, as `tcpdump` and Wireshark show them by default: each side
//! starts its stream at a random 32-bit number (its SYN's `seq`), and we subtract it, so the
//! first byte of data is byte 1 (the SYN itself counts as byte 0). An `ack` is the next byte the
//! sender expects from the other side, relative to that side's start.
//!
//! The window is in bytes: after the handshake, each side's window field is multiplied by
//! `2^scale`, the window scale it announced in its SYN (if both sides announced one).

use std::collections::HashMap;
use std::net::SocketAddr;

use super::headers::{Flags, Packet};

/// One direction of a connection: from `.0` to `.1`.
type Direction = (SocketAddr, SocketAddr);

/// What we remember of each direction's SYN.
#[derive(Clone, Copy)]
struct Start {
    /// The initial sequence number: the SYN's `seq`.
    isn: u32,
    /// The window scale the SYN announced.
    scale: Option<u8>,
}

/// Numbers the packets of each connection relative to its start, and writes their lines.
#[derive(Default)]
pub struct Numbering {
    starts: HashMap<Direction, Start>,
}

/// A packet's numbers as a lesson shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relative {
    /// The sequence number, counted from this side's SYN.
    pub seq: u32,
    /// The acknowledgement number counted from the other side's SYN (with the ACK flag).
    pub ack: Option<u32>,
    /// The window in bytes (the field, scaled as the handshake agreed).
    pub window: u32,
}

impl Numbering {
    /// The relative numbers of a TCP `packet` (`None` for UDP), remembering SYNs as they pass.
    pub fn relative(&mut self, packet: &Packet) -> Option<Relative> {
        let tcp = packet.tcp.as_ref()?;
        let here = (packet.src, packet.dst);
        let back = (packet.dst, packet.src);
        if tcp.flags.has(Flags::SYN) {
            let start = Start {
                isn: tcp.seq,
                scale: tcp.window_scale,
            };
            self.starts.insert(here, start);
        }
        // A capture that began mid-connection starts counting at the first packet it saw.
        let start = *self.starts.entry(here).or_insert(Start {
            isn: tcp.seq,
            scale: None,
        });
        let ack = tcp.flags.has(Flags::ACK).then(|| {
            let other = self.starts.get(&back).map_or(0, |s| s.isn);
            tcp.ack.wrapping_sub(other)
        });
        // A SYN's window is never scaled; later ones are, if both SYNs announced a scale.
        let scale = match (start.scale, self.starts.get(&back).and_then(|s| s.scale)) {
            (Some(scale), Some(_)) if !tcp.flags.has(Flags::SYN) => scale,
            _ => 0,
        };
        Some(Relative {
            seq: tcp.seq.wrapping_sub(start.isn),
            ack,
            window: u32::from(tcp.window) << scale.min(14),
        })
    }

    /// The line for `packet`, caused by `call` (e.g. `connect`), without the indentation.
    pub fn line(&mut self, packet: &Packet, call: &str) -> String {
        if let Some(icmp) = &packet.icmp {
            let about = &icmp.about;
            let protocol = if about.tcp.is_some() { "TCP" } else { "UDP" };
            return format!(
                "wire: {} > {} {:<7} {} for {} > {} {protocol} len {} {call}",
                packet.src.ip(),
                packet.dst.ip(),
                if icmp.v6 { "ICMPv6" } else { "ICMP" },
                icmp.words(),
                about.src,
                about.dst,
                about.payload_len
            );
        }
        let addresses = format!("{} > {}", packet.src, packet.dst);
        let len = match packet.payload_len {
            0 => String::new(),
            n => format!("len {n}"),
        };
        let middle = match (&packet.tcp, self.relative(packet)) {
            (Some(tcp), Some(numbers)) => {
                let ack = numbers
                    .ack
                    .map_or(String::new(), |ack| format!("ack {ack}"));
                format!(
                    "{:<7} seq {:<4} {ack:<8} win {:<5} {len:<8}",
                    tcp.flags.words(),
                    numbers.seq,
                    numbers.window
                )
            }
            _ => format!("{:<7} {len:<32}", "UDP"),
        };
        format!("wire: {addresses} {middle} {call}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::headers::tests::{ACK_V4, HELLO_V4, SYN_ACK_V4, SYN_V4, UNREACHABLE_V4};
    use crate::wire::headers::{decode, from_hex};

    #[test]
    fn the_handshake_then_data_numbered_from_each_side_s_syn() {
        let mut numbering = Numbering::default();
        let lines: Vec<String> = [SYN_V4, SYN_ACK_V4, ACK_V4, HELLO_V4]
            .iter()
            .map(|hex| numbering.line(&decode(&from_hex(hex)).unwrap(), "connect"))
            .collect();
        let a = "127.0.0.1:36982 > 127.0.0.1:36321";
        let b = "127.0.0.1:36321 > 127.0.0.1:36982";
        assert_eq!(
            lines,
            [
                format!("wire: {a} SYN     seq 0             win 65495          connect"),
                format!("wire: {b} SYN-ACK seq 0    ack 1    win 65483          connect"),
                // Both SYNs announced window scale 10: the field 64 means 64 × 1024 bytes.
                format!("wire: {a} ACK     seq 1    ack 1    win 65536          connect"),
                format!("wire: {a} PSH-ACK seq 1    ack 1    win 65536 len 19   connect"),
            ]
        );
    }

    #[test]
    fn without_the_syn_numbers_start_at_the_first_packet_seen() {
        let mut numbering = Numbering::default();
        let hello = decode(&from_hex(HELLO_V4)).unwrap();
        let numbers = numbering.relative(&hello).unwrap();
        assert_eq!(numbers.seq, 0);
        assert_eq!(numbers.window, 64, "no SYN seen: the field as it is");
    }

    #[test]
    fn an_icmp_error_names_the_datagram_it_refuses() {
        let packet = decode(&from_hex(UNREACHABLE_V4)).unwrap();
        assert_eq!(
            Numbering::default().line(&packet, "recv"),
            "wire: 127.0.0.1 > 127.0.0.1 ICMP    port unreachable for 127.0.0.1:39857 > \
             127.0.0.1:45999 UDP len 5 recv"
        );
    }
}
