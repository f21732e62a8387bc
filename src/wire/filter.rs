//! The kernel-side filter of our capture: a classic BPF program that keeps only this step's
//! packets on loopback.
//!
//! A packet socket (`AF_PACKET`) receives a copy of every packet of every interface. Instead of
//! copying all of them to us and throwing most away, we hand the kernel a tiny program (classic
//! BPF, the language `tcpdump` compiles its expressions to, `tcpdump -d 'tcp port 50007'` prints
//! one). The kernel runs it on each packet; it answers 0 ("drop") or how many bytes to keep.
//!
//! Ours asks, in order:
//! 1. Is this the *outgoing* copy? On loopback each packet passes twice, once leaving and once
//!    arriving: we keep only the arriving one, so each packet appears once. The kernel tells the
//!    program through "ancillary" loads at the magic offset `SKF_AD_OFF` (`SKF_AD_PKTTYPE`).
//! 2. Is it on the loopback interface (`SKF_AD_IFINDEX`)?
//! 3. Is it IPv4 or IPv6 (`SKF_AD_PROTOCOL`, the link layer's EtherType) carrying TCP or UDP,
//!    or an ICMP "destination unreachable", which quotes the packet it refuses?
//! 4. Is one of its two ports one of ours (for an ICMP error: of the packet it quotes)? Other
//!    programs, and other tests running beside us, use loopback too: we show only the step's
//!    own ports.
//!
//! The socket is a `SOCK_DGRAM` packet socket, so the data starts at the IP header (the link
//! header is removed): offset 0 is the IP version.

use super::headers::{ICMP, ICMPV6, ICMPV6_UNREACHABLE, ICMP_UNREACHABLE, TCP, UDP};

// Classic BPF instruction codes (from `linux/bpf_common.h`): class | size | mode.
const LD_W_ABS: u16 = 0x20; // A = 32-bit word at k
const LD_H_ABS: u16 = 0x28; // A = 16-bit half-word at k
const LD_B_ABS: u16 = 0x30; // A = byte at k
const LD_H_IND: u16 = 0x48; // A = 16-bit half-word at X + k
const LD_B_IND: u16 = 0x50; // A = byte at X + k
const LDX_IMM: u16 = 0x01; // X = k
const LDX_B_MSH: u16 = 0xb1; // X = 4 * (byte at k & 0x0f): an IPv4 header's length
const AND: u16 = 0x54; // A = A & k
const LSH: u16 = 0x64; // A = A << k
const ADD: u16 = 0x04; // A = A + k
const ADD_X: u16 = 0x0c; // A = A + X
const TAX: u16 = 0x07; // X = A
const JEQ: u16 = 0x15; // if A == k goto jt else goto jf
const JSET: u16 = 0x45; // if A & k != 0 goto jt else goto jf
const JA: u16 = 0x05; // goto k
const RET: u16 = 0x06; // return k: keep k bytes (0: drop)

/// Where the kernel's "ancillary data" loads start: offsets that read facts about the packet
/// rather than its bytes (`SKF_AD_OFF` is -4096).
const SKF_AD_OFF: u32 = (-4096i32) as u32;
const SKF_AD_PROTOCOL: u32 = 0;
const SKF_AD_PKTTYPE: u32 = 4;
const SKF_AD_IFINDEX: u32 = 8;
/// `PACKET_OUTGOING`: the copy of a packet this machine sends.
const PACKET_OUTGOING: u32 = 4;
const ETH_P_IP: u32 = 0x0800;
const ETH_P_IPV6: u32 = 0x86dd;

/// How many bytes of each packet we keep: all of them (an IPv4 packet is at most 65,535 bytes).
pub const SNAPLEN: u32 = 0xffff;

/// One classic BPF instruction, as the kernel's `struct sock_filter` holds it: what to do
/// (`code`), how many instructions to skip if a test is true (`jt`) or false (`jf`), and a number
/// (`k`: an offset, a value to compare, a count).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    /// The operation: class, size and mode bits, e.g. `0x28` "load a half-word at k".
    pub code: u16,
    /// Instructions to skip when a test is true.
    pub jt: u8,
    /// Instructions to skip when a test is false.
    pub jf: u8,
    /// The operand.
    pub k: u32,
}

/// A program that drops everything: attached first, so that nothing is queued until we know our
/// ports.
pub fn drop_all() -> Vec<Insn> {
    vec![Insn {
        code: RET,
        jt: 0,
        jf: 0,
        k: 0,
    }]
}

/// Where a jump goes: the next instruction, or one of the labels.
#[derive(Clone, Copy)]
enum To {
    Next,
    V4,
    V6,
    Ports,
    Keep,
    Drop,
}

/// One instruction, with its jumps still written as labels: code, if-true, if-false, k.
struct Op(u16, To, To, u32);

// ANCHOR: program
/// The filter for the loopback interface (its index `ifindex`) and `ports`.
pub fn program(ifindex: u32, ports: &[u16]) -> Vec<Insn> {
    use To::*;
    let mut ops = vec![
        Op(LD_W_ABS, Next, Next, SKF_AD_OFF + SKF_AD_PKTTYPE),
        Op(JEQ, Drop, Next, PACKET_OUTGOING),
        Op(LD_W_ABS, Next, Next, SKF_AD_OFF + SKF_AD_IFINDEX),
        Op(JEQ, Next, Drop, ifindex),
        Op(LD_W_ABS, Next, Next, SKF_AD_OFF + SKF_AD_PROTOCOL),
        Op(JEQ, V4, Next, ETH_P_IP),
        Op(JEQ, V6, Drop, ETH_P_IPV6),
    ];
    // IPv4: a fragment after the first has no ports (the fragment offset is the low 13 bits of
    // bytes 6-7); what follows the IP header starts at X, taken from the low 4 bits of byte 0.
    // For TCP or UDP (the protocol at byte 9), the ports are there.
    let v4 = ops.len();
    ops.extend([
        Op(LD_H_ABS, Next, Next, 6),
        Op(JSET, Drop, Next, 0x1fff),
        Op(LDX_B_MSH, Next, Next, 0),
        Op(LD_B_ABS, Next, Next, 9),
        Op(JEQ, Ports, Next, u32::from(TCP)),
        Op(JEQ, Ports, Next, u32::from(UDP)),
        Op(JEQ, Next, Drop, u32::from(ICMP)),
        // ICMP: its type (at X) is "destination unreachable", and 8 bytes later the packet it
        // refuses begins with an IPv4 header of its own, 4 × (its low 4 bits) long: its ports
        // are at X + 8 + that length.
        Op(LD_B_IND, Next, Next, 0),
        Op(JEQ, Next, Drop, u32::from(ICMP_UNREACHABLE)),
        Op(LD_B_IND, Next, Next, 8),
        Op(AND, Next, Next, 0x0f),
        Op(LSH, Next, Next, 2),
        Op(ADD_X, Next, Next, 0),
        Op(ADD, Next, Next, 8),
        Op(TAX, Next, Next, 0),
        Op(JA, Ports, Ports, 0),
    ]);
    // IPv6: for TCP or UDP (the next header at byte 6) the ports start at byte 40. ICMPv6's
    // "destination unreachable" (its type at byte 40) quotes a packet with a 40-byte IPv6
    // header of its own after its 8 bytes: the ports at 40 + 8 + 40.
    let v6 = ops.len();
    ops.extend([
        Op(LDX_IMM, Next, Next, 40),
        Op(LD_B_ABS, Next, Next, 6),
        Op(JEQ, Ports, Next, u32::from(TCP)),
        Op(JEQ, Ports, Next, u32::from(UDP)),
        Op(JEQ, Next, Drop, u32::from(ICMPV6)),
        Op(LD_B_ABS, Next, Next, 40),
        Op(JEQ, Next, Drop, u32::from(ICMPV6_UNREACHABLE)),
        Op(LDX_IMM, Next, Next, 88),
    ]);
    // The source port is at X + 0, the destination port at X + 2: keep the packet if either is
    // one of ours.
    let ports_at = ops.len();
    for offset in [0, 2] {
        ops.push(Op(LD_H_IND, Next, Next, offset));
        for &port in ports {
            ops.push(Op(JEQ, Keep, Next, u32::from(port)));
        }
    }
    ops.push(Op(RET, Next, Next, 0)); // Drop
    ops.push(Op(RET, Next, Next, SNAPLEN)); // Keep
    assemble(&ops, [v4, v6, ports_at])
}
// ANCHOR_END: program

/// Turns labels into classic BPF's relative jumps (`jt` and `jf` count the instructions to skip;
/// `ja` skips `k`). The last two instructions are Drop and Keep.
fn assemble(ops: &[Op], [v4, v6, ports]: [usize; 3]) -> Vec<Insn> {
    let (drop, keep) = (ops.len() - 2, ops.len() - 1);
    let target = |here: usize, to: To| match to {
        To::Next => here + 1,
        To::V4 => v4,
        To::V6 => v6,
        To::Ports => ports,
        To::Keep => keep,
        To::Drop => drop,
    };
    ops.iter()
        .enumerate()
        .map(|(here, &Op(code, jt, jf, k))| {
            let skip = |to: To| target(here, to) - here - 1;
            if code == JA {
                let k = skip(jt) as u32;
                Insn {
                    code,
                    jt: 0,
                    jf: 0,
                    k,
                }
            } else {
                // A conditional jump reaches at most 255 instructions ahead: our program is short.
                let (jt, jf) = (skip(jt) as u8, skip(jf) as u8);
                Insn { code, jt, jf, k }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_jump_lands_inside_the_program_and_it_ends_with_drop_and_keep() {
        let ports: Vec<u16> = (50000..50010).collect();
        let ops = program(1, &ports);
        for (at, op) in ops.iter().enumerate() {
            let reach = if op.code == JA {
                op.k as usize
            } else {
                op.jt.max(op.jf).into()
            };
            assert!(at + reach < ops.len(), "{at}: {op:?}");
        }
        let last = &ops[ops.len() - 2..];
        assert_eq!((last[0].code, last[0].k), (RET, 0));
        assert_eq!((last[1].code, last[1].k), (RET, SNAPLEN));
    }
}
