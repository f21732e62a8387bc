//! The wire view: the packets a step's own calls cause, printed under the calls.
//!
//! `--wire` on a step binary captures the packets on loopback that carry the step's ports, and
//! prints each one after the call that caused it:
//!
//! ```text
//! client: connect(127.0.0.1:50007) -> ok, from 127.0.0.1:41234
//!     wire: 127.0.0.1:41234 > 127.0.0.1:50007 SYN     seq 0             win 65495          connect
//!     wire: 127.0.0.1:50007 > 127.0.0.1:41234 SYN-ACK seq 0    ack 1    win 65483          connect
//!     wire: 127.0.0.1:41234 > 127.0.0.1:50007 ACK     seq 1    ack 1    win 65536          connect
//! ```
//!
//! `--pcap FILE` writes the same packets to a file that `tcpdump -r FILE` and Wireshark open.
//!
//! The pieces, each a short lesson of its own:
//! - [`capture`]: a packet socket (`AF_PACKET`) and a thread that reads it (Linux only),
//! - [`filter`]: the classic BPF program that keeps only our packets, run by the kernel,
//! - [`headers`]: reading the IP, TCP and UDP headers out of the bytes (and ICMP errors),
//! - [`lines`]: relative sequence numbers and the one-line summary,
//! - [`pcap`]: the file format,
//! - [`diagram`]: a sequence diagram (SVG) drawn from the lines,
//! - [`predict`]: the chapter's exercises, predictions compared with a capture.
//!
//! Capturing needs the capability `CAP_NET_RAW` (root has it). Without it [`Wire::start`] prints
//! one line saying how to get it, and the step runs as usual, without the wire.

#[cfg(target_os = "linux")]
pub mod capture;
pub mod diagram;
pub mod filter;
pub mod headers;
pub mod lines;
pub mod pcap;
pub mod predict;

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;

use self::headers::Packet;
use self::lines::Numbering;
use self::pcap::PcapWriter;

/// How long [`Wire::show`] waits for the packets a call is expected to cause. A packet's copy
/// can reach our capture after the call returns; it is there within microseconds, unless the
/// kernel holds an ACK back on purpose (a delayed ACK waits 40 to 200 ms).
pub const SETTLE: Duration = Duration::from_secs(1);

/// How long [`Wire::show_timed`] waits after the last packet for another one.
pub const QUIET: Duration = Duration::from_millis(200);

/// The shortest wait [`Wire::show_timed_ms`] prints: the kernel's own waits (a delayed ACK, 40 ms
/// or more) are longer; the few milliseconds a busy machine takes to run a program are shorter.
pub const NOTICED: Duration = Duration::from_millis(20);

/// How [`Wire`] prints the time of a packet after the first of its call.
#[derive(Debug, Clone, Copy)]
enum Clock {
    Seconds,
    Milliseconds,
}

impl Clock {
    /// `call` with the time `after`, rounded; nothing for less than a second, or less than
    /// [`NOTICED`] in milliseconds: what a busy machine's scheduling adds, not a kernel's timer.
    fn label(self, call: &str, after: Duration) -> String {
        let (value, unit) = match self {
            Clock::Seconds => (after.as_secs_f64().round(), "s"),
            Clock::Milliseconds if after < NOTICED => (0.0, "ms"),
            Clock::Milliseconds => ((after.as_secs_f64() * 1000.0).round(), "ms"),
        };
        match value > 0.0 {
            true => format!("{call} +{value} {unit}"),
            false => call.to_string(),
        }
    }
}

/// What the reader asked for on the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WireOptions {
    /// `--wire`: print each packet under the call that caused it.
    pub print: bool,
    /// `--pcap FILE`: write the packets to FILE in the pcap format.
    pub pcap: Option<PathBuf>,
}

/// One packet shown by a step: when it was captured, the call that caused it, its bytes.
#[derive(Debug, Clone)]
pub struct Shown {
    /// When the capture read it.
    pub at: SystemTime,
    /// The call it is printed under, e.g. `connect`.
    pub call: String,
    /// Its headers.
    pub packet: Packet,
}

/// The wire view of one program: off, or a running capture.
pub struct Wire {
    live: Option<Live>,
}

/// A running capture and what it has shown so far. (Off Linux there is never one.)
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
struct Live {
    #[cfg(target_os = "linux")]
    capture: capture::Capture,
    print: bool,
    pcap: Option<PcapWriter<BufWriter<File>>>,
    /// Packets captured but not yet shown: when, the bytes, the headers.
    pending: std::collections::VecDeque<(SystemTime, Vec<u8>, Packet)>,
    numbering: Numbering,
    shown: Vec<Shown>,
}

impl Wire {
    /// No capture: every method does nothing.
    pub fn off() -> Wire {
        Wire { live: None }
    }

    /// Whether packets are being captured.
    pub fn is_on(&self) -> bool {
        self.live.is_some()
    }

    /// Starts capturing if `options` ask for it. Without the privilege (or off Linux) it prints
    /// one line saying why and how to get it, and returns a wire that is off: the step runs as
    /// usual. A `--pcap` file that cannot be created is an error.
    pub fn start(options: &WireOptions) -> anyhow::Result<Wire> {
        if !options.print && options.pcap.is_none() {
            return Ok(Wire::off());
        }
        let pcap = match &options.pcap {
            None => None,
            Some(path) => Some(create_pcap(path)?),
        };
        let wire = Wire {
            live: open(options.print, pcap),
        };
        #[cfg(target_os = "linux")]
        if let Some(live) = &wire.live {
            let fd = crate::step1_create::describe(live.capture.socket());
            println!("socket(AF_PACKET, SOCK_DGRAM, ETH_P_ALL) -> {fd}");
            let into = options.pcap.as_ref().map_or(String::new(), |path| {
                format!(" (and writes them into {})", path.display())
            });
            println!(
                "    wire: this packet socket captures the program's packets on loopback{into}"
            );
        }
        Ok(wire)
    }

    /// From now on, capture the packets to and from `ports` (e.g. the port the server bound).
    pub fn watch(&mut self, ports: &[u16]) {
        #[cfg(target_os = "linux")]
        if let Some(live) = &self.live {
            if let Err(error) = live.capture.watch(ports) {
                eprintln!("wire: could not attach the capture filter ({error}); going on without the wire");
                self.live = None;
            }
        }
        let _ = ports;
    }

    /// Prints the packets `call` caused: waits (at most [`SETTLE`]) until `expected` packets
    /// have come, and prints those, so that the lines come out in the same order on every run.
    /// Packets beyond `expected` wait for the next call's turn.
    pub fn show(&mut self, call: &str, expected: usize) {
        self.show_until(call, |packets| packets.len() >= expected);
    }

    /// Like [`show`](Self::show), for calls whose packets are known by their content: waits
    /// (at most [`SETTLE`]) until `done` holds for the packets so far, then prints exactly those.
    pub fn show_until(&mut self, call: &str, done: impl Fn(&[Packet]) -> bool) {
        let Some(live) = &mut self.live else { return };
        let deadline = Instant::now() + SETTLE;
        let taken = loop {
            // The first `taken` pending packets are the shortest prefix that satisfies `done`.
            let decoded: Vec<Packet> = live.pending.iter().map(|(_, _, p)| p.clone()).collect();
            if let Some(count) = (0..=decoded.len()).find(|&n| done(&decoded[..n])) {
                break count;
            }
            if !live.receive_until(deadline) {
                break decoded.len();
            }
        };
        live.print(call, taken, None);
    }

    /// Prints every packet that has come, and any that follow within [`QUIET`] of the last, under
    /// `call`, each with its time after the first (`connect +1 s`): for a call whose packets were
    /// all sent before it returned, however many, like the SYNs of a `connect` that timed out.
    pub fn show_timed(&mut self, call: &str) {
        self.show_quiet(call, Clock::Seconds);
    }

    /// Like [`show_timed`](Self::show_timed), with times in milliseconds (`write +41 ms`) from
    /// [`NOTICED`] on, for what the kernel holds back for tens of milliseconds: Nagle's
    /// algorithm, delayed ACKs.
    pub fn show_timed_ms(&mut self, call: &str) {
        self.show_quiet(call, Clock::Milliseconds);
    }

    /// Prints every packet until none has come for [`QUIET`], under `call`, timed by `clock`.
    fn show_quiet(&mut self, call: &str, clock: Clock) {
        let Some(live) = &mut self.live else { return };
        while live.receive_until(Instant::now() + QUIET) {}
        let all = live.pending.len();
        live.print(call, all, Some(clock));
    }

    /// Every packet shown so far, in order (for a sequence diagram).
    pub fn shown(&self) -> &[Shown] {
        self.live.as_ref().map_or(&[], |live| &live.shown)
    }
}

#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
impl Live {
    /// Waits until one more packet arrives (returns true) or `deadline` passes (false).
    #[cfg(target_os = "linux")]
    fn receive_until(&mut self, deadline: Instant) -> bool {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.capture.packets.recv_timeout(left) {
            Ok(packet) => {
                // The filter let through only TCP, UDP and ICMP errors over IP: every packet
                // decodes.
                if let Some(headers) = headers::decode(&packet.bytes) {
                    self.pending.push_back((packet.at, packet.bytes, headers));
                }
                true
            }
            Err(_) => false,
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn receive_until(&mut self, _deadline: Instant) -> bool {
        false
    }

    /// Prints (and writes to the pcap file) the first `count` pending packets, under `call`;
    /// with a `clock`, each after the first with its time since the first.
    fn print(&mut self, call: &str, count: usize, clock: Option<Clock>) {
        let first = self.pending.front().map(|(at, _, _)| *at);
        for (at, bytes, packet) in self.pending.drain(..count.min(self.pending.len())) {
            let after = first.and_then(|first| at.duration_since(first).ok());
            let call = match (clock, after) {
                (Some(clock), Some(after)) => clock.label(call, after),
                _ => call.to_string(),
            };
            if let Some(pcap) = &mut self.pcap {
                if let Err(error) = pcap.packet(at, &bytes) {
                    eprintln!("wire: could not write the pcap file: {error}");
                    self.pcap = None;
                }
            }
            if self.print {
                println!("    {}", self.numbering.line(&packet, &call));
            } else {
                self.numbering.relative(&packet);
            }
            self.shown.push(Shown { at, call, packet });
        }
    }
}

/// Whether `packets` hold the end of a connection: a FIN from each side, and an ACK of the
/// second FIN. (The ACK of the first FIN may travel alone or ride on the second FIN: the kernel
/// holds it back a moment, and a program that closes at once sends both in one packet.) For
/// [`Wire::show_until`].
pub fn closed(packets: &[Packet]) -> bool {
    let has = |packet: &Packet, flag| packet.tcp.as_ref().is_some_and(|t| t.flags.has(flag));
    let fins: Vec<usize> = (0..packets.len())
        .filter(|&i| has(&packets[i], headers::Flags::FIN))
        .collect();
    let [first, second, ..] = fins[..] else {
        return false;
    };
    let closer = packets[second].src;
    packets[first].src != closer
        && packets[second + 1..]
            .iter()
            .any(|p| p.dst == closer && has(p, headers::Flags::ACK))
}

/// A predicate for [`Wire::show_until`]: whether `packets` hold a UDP datagram to `port` (the
/// one a `recvfrom(2)` on that port returned). An ICMP error that came before it is shown with it.
pub fn datagram_to(port: u16) -> impl Fn(&[Packet]) -> bool {
    move |packets| {
        packets
            .iter()
            .any(|p| p.tcp.is_none() && p.icmp.is_none() && p.dst.port() == port)
    }
}

/// Whether `packets` hold an ICMP error (a datagram of ours was refused). For
/// [`Wire::show_until`].
pub fn refused(packets: &[Packet]) -> bool {
    packets.iter().any(|p| p.icmp.is_some())
}

/// Creates the `--pcap` file and writes its header.
fn create_pcap(path: &Path) -> anyhow::Result<PcapWriter<BufWriter<File>>> {
    let file = File::create(path).with_context(|| {
        format!(
            "could not create the pcap file `{}`: check that its folder exists and that you may \
             write there",
            path.display()
        )
    })?;
    PcapWriter::new(BufWriter::new(file))
        .with_context(|| format!("could not write to `{}`", path.display()))
}

/// Opens the capture, or says in one line why there is none.
#[cfg(target_os = "linux")]
fn open(print: bool, pcap: Option<PcapWriter<BufWriter<File>>>) -> Option<Live> {
    match capture::Capture::open() {
        Ok(capture) => Some(Live {
            capture,
            print,
            pcap,
            pending: Default::default(),
            numbering: Numbering::default(),
            shown: Vec::new(),
        }),
        Err(error) if error.kind() == std::io::ErrorKind::PermissionDenied => {
            eprintln!("{}", no_privilege_advice(&crate::narrate::program_name()));
            None
        }
        Err(error) => {
            eprintln!("wire: could not open a packet socket ({error}); going on without the wire");
            None
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn open(_print: bool, _pcap: Option<PcapWriter<BufWriter<File>>>) -> Option<Live> {
    eprintln!("{}", NOT_LINUX);
    None
}

/// What `--wire` says off Linux.
pub const NOT_LINUX: &str = "wire: the wire view is Linux only (it uses a Linux packet socket, \
    AF_PACKET); on this system the step runs without it. Wireshark shows the same packets here.";

// ANCHOR: advice
/// The one line `--wire` prints without `CAP_NET_RAW`: what is missing and the ways to get it.
pub fn no_privilege_advice(program: &str) -> String {
    let path = format!("target/debug/{program}");
    let args: Vec<String> = std::env::args()
        .skip(1)
        .map(|arg| shell_word(&arg))
        .collect();
    let command = [path.clone()]
        .into_iter()
        .chain(args)
        .collect::<Vec<_>>()
        .join(" ");
    let in_namespace = shell_word(&format!("ip link set lo up && {command}"));
    format!(
        "wire: not shown: capturing packets needs CAP_NET_RAW, which this program lacks; it runs \
         without the wire. To see it: `cargo build`, then `sudo {command}` (`sudo cargo run` \
         usually fails: root's PATH has no cargo); or give the binary the capability, once per \
         build: `sudo setcap cap_net_raw+ep {path}`; or, where unprivileged user namespaces are \
         allowed (Ubuntu 24.04 blocks them), a private network: `unshare --user \
         --map-root-user --net sh -c {in_namespace}`."
    )
}
// ANCHOR_END: advice

/// `word` as a shell would need it: quoted if it holds anything but plain characters.
fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:=@[]".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}
