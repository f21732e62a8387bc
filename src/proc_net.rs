//! What the kernel sees: reading Linux's table of TCP sockets, `/proc/net/tcp` (and `tcp6`).
//!
//! Every TCP socket the kernel knows has a line there: its local and remote address, its state
//! (LISTEN, ESTABLISHED, TIME_WAIT...) and its queues. `ss -tan` and `netstat` read the same data.
//! The step binaries print their own socket's line after each call, so the reader sees a `bind`
//! that is not listed yet, a `listen` that turns it into LISTEN, the accept queue growing, and the
//! TIME_WAIT that a `close` leaves behind.
//!
//! The parsing is pure text processing, unit-tested on sample lines; only [`snapshot`] reads the
//! real file, and only on Linux. Other systems have no such file: there [`snapshot`] returns
//! `None` and the binaries print `local_addr`/`peer_addr` instead.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// A TCP state, as numbered in the kernel's `include/net/tcp_states.h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpState {
    /// 01: connected; data can flow both ways.
    Established,
    /// 02: `connect` sent a SYN and waits for the SYN-ACK.
    SynSent,
    /// 03: a SYN arrived and we answered SYN-ACK.
    SynRecv,
    /// 04: we closed first and sent our FIN.
    FinWait1,
    /// 05: our FIN was acknowledged; waiting for the peer's FIN.
    FinWait2,
    /// 06: we closed first; the kernel keeps the connection's memory for 60 s on Linux.
    TimeWait,
    /// 07: closed.
    Close,
    /// 08: the peer closed first; we have not closed yet.
    CloseWait,
    /// 09: we closed after the peer and wait for the last ACK.
    LastAck,
    /// 0A: a listening socket; its receive queue is the accept queue.
    Listen,
    /// 0B: both sides closed at the same time.
    Closing,
    /// A state number this table does not know.
    Other(u8),
}

impl TcpState {
    /// The state from its hexadecimal code in the `st` column.
    pub fn from_code(code: u8) -> TcpState {
        match code {
            0x01 => TcpState::Established,
            0x02 => TcpState::SynSent,
            0x03 => TcpState::SynRecv,
            0x04 => TcpState::FinWait1,
            0x05 => TcpState::FinWait2,
            0x06 => TcpState::TimeWait,
            0x07 => TcpState::Close,
            0x08 => TcpState::CloseWait,
            0x09 => TcpState::LastAck,
            0x0A => TcpState::Listen,
            0x0B => TcpState::Closing,
            other => TcpState::Other(other),
        }
    }
}

impl fmt::Display for TcpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            TcpState::Established => "ESTABLISHED",
            TcpState::SynSent => "SYN_SENT",
            TcpState::SynRecv => "SYN_RECV",
            TcpState::FinWait1 => "FIN_WAIT1",
            TcpState::FinWait2 => "FIN_WAIT2",
            TcpState::TimeWait => "TIME_WAIT",
            TcpState::Close => "CLOSE",
            TcpState::CloseWait => "CLOSE_WAIT",
            TcpState::LastAck => "LAST_ACK",
            TcpState::Listen => "LISTEN",
            TcpState::Closing => "CLOSING",
            TcpState::Other(code) => return write!(f, "state {code:02X}"),
        };
        f.write_str(name)
    }
}

/// One line of `/proc/net/tcp` or `/proc/net/tcp6`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpEntry {
    /// `local_address`: the address the socket is bound to.
    pub local: SocketAddr,
    /// `rem_address`: the peer (`0.0.0.0:0` for a listening socket).
    pub remote: SocketAddr,
    /// `st`: the TCP state.
    pub state: TcpState,
    /// `tx_queue`: bytes the program has written that the peer has not acknowledged yet
    /// (`write_seq - snd_una` in the kernel). That counts bytes sent and waiting for their ACK
    /// *and* bytes not sent at all yet (what `ss -i` calls `notsent`): on loopback it grows as
    /// soon as the peer stops reading and its receive window closes.
    pub tx_queue: u32,
    /// `rx_queue`: bytes received but not yet read by the program; for a LISTEN socket, the number
    /// of connections in the accept queue (handshake done, `accept` not called yet).
    pub rx_queue: u32,
}

impl fmt::Display for TcpEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.state {
            TcpState::Listen => write!(f, "{} LISTEN, accept queue {}", self.local, self.rx_queue),
            state => write!(
                f,
                "{} -> {} {state}, unread {} B, unsent or unacked {} B",
                self.local, self.remote, self.rx_queue, self.tx_queue
            ),
        }
    }
}

/// Parses a whole table (the header line is skipped; lines that do not parse are ignored).
pub fn parse_table(text: &str) -> Vec<TcpEntry> {
    text.lines().filter_map(parse_line).collect()
}

/// Parses one line such as
/// `0: 0100007F:C357 00000000:0000 0A 00000000:00000002 00:00000000 00000000 0 0 4242 ...`.
pub fn parse_line(line: &str) -> Option<TcpEntry> {
    let mut columns = line.split_whitespace();
    let _slot = columns.next()?.strip_suffix(':')?;
    let local = parse_address(columns.next()?)?;
    let remote = parse_address(columns.next()?)?;
    let state = TcpState::from_code(u8::from_str_radix(columns.next()?, 16).ok()?);
    let (tx, rx) = columns.next()?.split_once(':')?;
    Some(TcpEntry {
        local,
        remote,
        state,
        tx_queue: u32::from_str_radix(tx, 16).ok()?,
        rx_queue: u32::from_str_radix(rx, 16).ok()?,
    })
}

/// Parses `0100007F:C357`: the IP as the kernel's in-memory words in hex, then the port in hex.
///
/// The kernel prints each 32-bit word of the address as a number in the machine's byte order, so
/// on x86 127.0.0.1 reads backwards as `0100007F`; `to_ne_bytes` undoes exactly that.
fn parse_address(text: &str) -> Option<SocketAddr> {
    let (ip_hex, port_hex) = text.split_once(':')?;
    let port = u16::from_str_radix(port_hex, 16).ok()?;
    let mut bytes = Vec::with_capacity(16);
    for word in ip_hex.as_bytes().chunks(8) {
        let word = u32::from_str_radix(std::str::from_utf8(word).ok()?, 16).ok()?;
        bytes.extend_from_slice(&word.to_ne_bytes());
    }
    let ip = match bytes.len() {
        4 => IpAddr::V4(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3])),
        16 => IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(bytes).ok()?)),
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

/// Reads the kernel's TCP tables (IPv4 and IPv6) now. `None` where there are no such tables
/// (every system but Linux).
pub fn snapshot() -> Option<Vec<TcpEntry>> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let mut entries = Vec::new();
    for path in ["/proc/net/tcp", "/proc/net/tcp6"] {
        // A kernel without IPv6 has no tcp6 file: that is not an error for us.
        if let Ok(text) = std::fs::read_to_string(path) {
            entries.extend(parse_table(&text));
        }
    }
    Some(entries)
}

/// A [`snapshot`] in which `local` → `remote` appears, if it appears in one of a few reads.
///
/// The kernel prints its table a page at a time and does not stop the world meanwhile: when many
/// sockets come and go (thousands of TIME_WAIT entries from a benchmark, say), a read may skip a
/// line. So when the socket we look for is missing, we read again, a few times, before we say
/// it is not there.
fn snapshot_finding(local: SocketAddr, remote: Option<SocketAddr>) -> Option<Vec<TcpEntry>> {
    let mut entries = snapshot()?;
    for _ in 0..3 {
        if !find(&entries, local, remote).is_empty() {
            break;
        }
        entries = snapshot()?;
    }
    Some(entries)
}

/// The entries whose local address is `local` and, if given, whose remote address is `remote`.
///
/// A connection accepted by a listener bound to every interface (`0.0.0.0` or `::`) has the
/// interface's own address as its local address, e.g. 127.0.0.1: with a `remote`, an
/// unspecified `local` IP matches any local IP on that port.
pub fn find(entries: &[TcpEntry], local: SocketAddr, remote: Option<SocketAddr>) -> Vec<TcpEntry> {
    let local_matches = |e: &TcpEntry| {
        same_addr(e.local, local)
            || (remote.is_some() && local.ip().is_unspecified() && e.local.port() == local.port())
    };
    entries
        .iter()
        .filter(|e| local_matches(e) && remote.map_or(true, |r| same_addr(e.remote, r)))
        .cloned()
        .collect()
}

/// Compares addresses, treating the IPv4 address in an IPv6 table entry (`::ffff:127.0.0.1`)
/// as the IPv4 address it is.
fn same_addr(a: SocketAddr, b: SocketAddr) -> bool {
    let canonical = |ip: IpAddr| match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    a.port() == b.port() && canonical(a.ip()) == canonical(b.ip())
}

/// One line for the reader: what the kernel's table says about the socket at `local` (and
/// `remote`; without it, the listener at `local` if there is one), or why we cannot show it.
pub fn describe(local: SocketAddr, remote: Option<SocketAddr>) -> String {
    match snapshot_finding(local, remote) {
        None => format!(
            "kernel: (the TCP table /proc/net/tcp is Linux-only) local_addr = {local}{}",
            remote
                .map(|r| format!(", peer_addr = {r}"))
                .unwrap_or_default()
        ),
        Some(entries) => {
            let mut found = find(&entries, local, remote);
            if remote.is_none() && found.iter().any(|e| e.state == TcpState::Listen) {
                // Connections accepted from a listener share its local address: without a
                // remote address we were asked about the listener itself.
                found.retain(|e| e.state == TcpState::Listen);
            }
            match found.as_slice() {
                [] => format!("kernel: /proc/net/tcp has no entry for {local}"),
                [entry] => format!("kernel: /proc/net/tcp: {entry}"),
                many => {
                    let list: Vec<String> = many.iter().map(ToString::to_string).collect();
                    format!("kernel: /proc/net/tcp: {}", list.join("; "))
                }
            }
        }
    }
}

/// The state of the socket at `local` → `remote` (or of the listener at `local` when `remote` is
/// `None`), if the kernel lists it. Always `None` off Linux.
pub fn state_of(local: SocketAddr, remote: Option<SocketAddr>) -> Option<TcpEntry> {
    let entries = snapshot_finding(local, remote)?;
    let listener_only = remote.is_none();
    find(&entries, local, remote)
        .into_iter()
        .find(|e| !listener_only || e.state == TcpState::Listen)
}

/// Waits until the kernel's entry for `local` → `remote` (the listener when `remote` is `None`)
/// satisfies `ready`, checking every few milliseconds for at most `limit`, and returns the last
/// entry seen. Off Linux, returns `None` at once.
///
/// We use this where the kernel finishes something just after our call returns (a peer's FIN
/// being processed, a handshake landing in the accept queue), so that what we print is the
/// settled state, not a race.
pub fn wait_for(
    local: SocketAddr,
    remote: Option<SocketAddr>,
    limit: std::time::Duration,
    ready: impl Fn(&TcpEntry) -> bool,
) -> Option<TcpEntry> {
    wait_until(local, remote, limit, |entry| entry.is_some_and(&ready))
}

/// Like [`wait_for`], but `ready` also sees a missing entry (`None`), so one can wait for a
/// socket to be *gone* from the table, e.g. the side that closed second once its last ACK is in.
pub fn wait_until(
    local: SocketAddr,
    remote: Option<SocketAddr>,
    limit: std::time::Duration,
    ready: impl Fn(Option<&TcpEntry>) -> bool,
) -> Option<TcpEntry> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    crate::experiments::poll_until(limit, || {
        let entry = state_of(local, remote);
        ready(entry.as_ref()).then_some(entry)
    })
    .unwrap_or_else(|| state_of(local, remote))
}

// ANCHOR: counters
/// A counter of the kernel's network statistics, e.g. `("TcpExt", "ListenOverflows")` or
/// `("Udp", "RcvbufErrors")`, read from `/proc/net/netstat` and `/proc/net/snmp` (what `nstat`
/// and `netstat -s` print). `None` off Linux or for a name this kernel does not count.
///
/// The counters belong to the reader's network namespace: on a host they add up every program's
/// traffic since boot, so an experiment that wants exact numbers reads them inside a namespace
/// of its own.
pub fn counter(group: &str, name: &str) -> Option<u64> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    ["/proc/net/netstat", "/proc/net/snmp"]
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .find_map(|text| parse_counter(&text, group, name))
}

/// Finds `name` of `group` in the text of `/proc/net/netstat` or `/proc/net/snmp`: each group is
/// two lines, `TcpExt: SyncookiesSent ListenOverflows ...` and `TcpExt: 0 17 ...`.
pub fn parse_counter(text: &str, group: &str, name: &str) -> Option<u64> {
    let prefix = format!("{group}:");
    let mut lines = text.lines().filter(|line| line.starts_with(&prefix));
    while let (Some(names), Some(values)) = (lines.next(), lines.next()) {
        let at = names.split_whitespace().position(|n| n == name);
        if let Some(at) = at {
            return values.split_whitespace().nth(at)?.parse().ok();
        }
    }
    None
}
// ANCHOR_END: counters

#[cfg(test)]
mod tests {
    use super::*;

    // Lines as an x86 Linux 6.x kernel prints them (little-endian words).
    const SAMPLE_V4: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:C357 00000000:0000 0A 00000000:00000003 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0
   1: 0100007F:C357 0100007F:D431 01 00000000:00000013 00:00000000 00000000     0        0 4243 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:D431 0100007F:C357 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000
";
    const SAMPLE_V6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:C357 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 777 1 0000000000000000 100 0 0 10 0
   1: 0000000000000000FFFF00000100007F:C357 0000000000000000FFFF00000100007F:D432 01 00000000:00000000 00:00000000 00000000     0        0 778 1 0000000000000000 20 4 30 10 -1
";

    #[test]
    #[cfg(target_endian = "little")]
    fn parses_listen_established_and_time_wait() {
        let entries = parse_table(SAMPLE_V4);
        assert_eq!(entries.len(), 3, "the header line is skipped");
        assert_eq!(entries[0].local, "127.0.0.1:50007".parse().unwrap());
        assert_eq!(entries[0].state, TcpState::Listen);
        assert_eq!(
            entries[0].rx_queue, 3,
            "three connections wait in the accept queue"
        );
        assert_eq!(entries[1].remote, "127.0.0.1:54321".parse().unwrap());
        assert_eq!(entries[1].state, TcpState::Established);
        assert_eq!(entries[1].rx_queue, 0x13, "19 bytes received but not read");
        assert_eq!(entries[2].state, TcpState::TimeWait);
    }

    #[test]
    #[cfg(target_endian = "little")]
    fn parses_ipv6_and_mapped_ipv4() {
        let entries = parse_table(SAMPLE_V6);
        assert_eq!(entries[0].local, "[::1]:50007".parse().unwrap());
        assert_eq!(
            entries[1].remote,
            "[::ffff:127.0.0.1]:54322".parse().unwrap()
        );
        // An IPv4 client of a dual-stack listener is found by its IPv4 address.
        let v4_peer: SocketAddr = "127.0.0.1:54322".parse().unwrap();
        let found = find(&entries, "127.0.0.1:50007".parse().unwrap(), Some(v4_peer));
        assert_eq!(found.len(), 1);
    }

    #[test]
    #[cfg(target_endian = "little")]
    fn describes_entries_for_the_reader() {
        let entries = parse_table(SAMPLE_V4);
        assert_eq!(
            entries[0].to_string(),
            "127.0.0.1:50007 LISTEN, accept queue 3"
        );
        assert_eq!(
            entries[1].to_string(),
            "127.0.0.1:50007 -> 127.0.0.1:54321 ESTABLISHED, unread 19 B, unsent or unacked 0 B"
        );
    }

    #[test]
    #[cfg(target_endian = "little")]
    fn a_connection_of_an_every_interface_listener_is_found_by_its_port() {
        let entries = parse_table(SAMPLE_V4);
        let peer: SocketAddr = "127.0.0.1:54321".parse().unwrap();
        let any: SocketAddr = "0.0.0.0:50007".parse().unwrap();
        let found = find(&entries, any, Some(peer));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].state, TcpState::Established);
        assert!(
            find(&entries, any, None).is_empty(),
            "the listener is 127.0.0.1, not 0.0.0.0"
        );
    }

    #[test]
    fn ignores_garbage() {
        assert_eq!(parse_line("not a socket line"), None);
        assert_eq!(parse_line("0: ZZ:1 00000000:0000 0A 0:0"), None);
        assert_eq!(TcpState::from_code(0x42).to_string(), "state 42");
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn finds_a_real_listener() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let entry = state_of(addr, None).expect("a listening socket is in /proc/net/tcp");
        assert_eq!(entry.state, TcpState::Listen);
        assert!(describe(addr, None).contains("LISTEN"));
    }

    #[test]
    fn parses_a_counter_of_netstat_and_snmp() {
        let netstat = "TcpExt: SyncookiesSent ListenOverflows ListenDrops\nTcpExt: 0 17 18\n\
                       IpExt: InNoRoutes\nIpExt: 5\n";
        assert_eq!(
            parse_counter(netstat, "TcpExt", "ListenOverflows"),
            Some(17)
        );
        assert_eq!(parse_counter(netstat, "TcpExt", "ListenDrops"), Some(18));
        assert_eq!(parse_counter(netstat, "IpExt", "InNoRoutes"), Some(5));
        assert_eq!(parse_counter(netstat, "TcpExt", "NoSuchCounter"), None);
        let snmp = "Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors\nUdp: 92 0 9908 10000 9908\n";
        assert_eq!(parse_counter(snmp, "Udp", "RcvbufErrors"), Some(9908));
        assert_eq!(parse_counter(snmp, "UdpLite", "RcvbufErrors"), None);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn reads_a_real_counter() {
        assert!(counter("TcpExt", "ListenOverflows").is_some());
        assert!(counter("Udp", "RcvbufErrors").is_some());
    }
}
