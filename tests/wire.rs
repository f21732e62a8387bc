//! The wire view: the capture sees a step's own packets (and only those), the pcap file it writes
//! is one `tcpdump` reads, and without the privilege a program runs on without it.
//!
//! Capturing needs root or `CAP_NET_RAW`, as CI has. Other tests run on the same loopback at the
//! same time: every capture here watches only the ports of its own sockets, and every wait has a
//! deadline.
#![cfg(target_os = "linux")]

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::Command;

use socket_steps::wire::{capture::Capture, Shown, Wire, WireOptions};

/// A wire that prints its lines, or `None` (after saying why) without the privilege.
fn wire(pcap: Option<std::path::PathBuf>) -> Option<Wire> {
    if !support::is_root() {
        support::skip("capturing packets needs root or CAP_NET_RAW");
        return None;
    }
    let wire = Wire::start(&WireOptions { print: true, pcap }).expect("the wire starts");
    if !wire.is_on() {
        support::skip("root here cannot open a packet socket (no CAP_NET_RAW in this container?)");
        return None;
    }
    Some(wire)
}

/// A listener on a free loopback port, with its address.
fn listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// The flags of each shown packet, in words.
fn flags(shown: &[Shown]) -> Vec<String> {
    shown
        .iter()
        .map(|s| {
            s.packet
                .tcp
                .as_ref()
                .map_or("UDP".into(), |t| t.flags.words())
        })
        .collect()
}

#[test]
fn the_capture_shows_each_packet_of_our_port_once_and_nobody_else_s() {
    let Some(mut wire) = wire(None) else { return };
    let (ours, addr) = listener();
    let (theirs, other) = listener();
    wire.watch(&[addr.port()]);
    // Traffic on another port, as another test beside us would make: it must not show.
    let _stranger = support::connect(other);
    let client = support::connect(addr);
    wire.show("connect", 3);
    let (mut server, _) = ours.accept().unwrap();
    (&client).write_all(b"Hello network world").unwrap();
    let mut buffer = [0; 64];
    assert_eq!(server.read(&mut buffer).unwrap(), 19);
    wire.show("send", 2);
    drop(theirs);

    let shown = wire.shown();
    assert_eq!(flags(shown), ["SYN", "SYN-ACK", "ACK", "PSH-ACK", "ACK"]);
    let from = client.local_addr().unwrap();
    for (number, packet) in shown.iter().enumerate() {
        let ends = [packet.packet.src, packet.packet.dst];
        assert!(
            ends.contains(&addr) && ends.contains(&from),
            "packet {number}: {packet:?}"
        );
    }
    assert_eq!(shown[3].packet.payload_len, 19);
}

#[test]
fn tcpdump_reads_the_pcap_file() {
    let dir = tempfile::tempdir().expect("a temporary directory"); // removed when dropped
    let file = dir.path().join("capture.pcap");
    let Some(mut wire) = wire(Some(file.clone())) else {
        return;
    };
    let (listener, addr) = listener();
    wire.watch(&[addr.port()]);
    let client = support::connect(addr);
    wire.show("connect", 3);
    let (server, _) = listener.accept().unwrap();
    drop(server);
    wire.show("close", 2);
    drop(client);
    wire.show("close", 2);
    drop(wire);

    let output = match Command::new("tcpdump")
        .args(["-n", "-r"])
        .arg(&file)
        .output()
    {
        Ok(output) => output,
        Err(error) => {
            return support::skip(&format!(
                "no tcpdump here ({error}): apt-get install tcpdump"
            ));
        }
    };
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.len(),
        7,
        "3 for the handshake, 2 + 2 to close:\n{text}"
    );
    let port = addr.port();
    assert!(
        lines[0].contains(&format!("> 127.0.0.1.{port}: Flags [S],")),
        "{text}"
    );
    assert!(lines[1].contains("Flags [S.]"), "{text}");
    assert!(lines[3].contains("Flags [F.]"), "{text}");
}

#[test]
fn without_the_privilege_there_is_no_capture_and_no_error() {
    // As root (CI), the probe runs in a child that is user `nobody`.
    support::as_nobody(|| {
        let error = Capture::open()
            .err()
            .expect("no packet socket without CAP_NET_RAW");
        assert_eq!(
            error.kind(),
            std::io::ErrorKind::PermissionDenied,
            "{error}"
        );
        let mut wire = Wire::start(&WireOptions {
            print: true,
            pcap: None,
        })
        .expect("not an error");
        assert!(!wire.is_on());
        // Every call on a wire that is off does nothing, at once.
        let started = std::time::Instant::now();
        wire.watch(&[50007]);
        wire.show("connect", 3);
        assert!(started.elapsed() < std::time::Duration::from_millis(100));
        Ok(())
    });
}

#[test]
fn the_advice_names_the_ways_to_get_the_privilege() {
    let advice = socket_steps::wire::no_privilege_advice("step4_accept");
    assert_eq!(advice.lines().count(), 1, "one line: {advice}");
    support::assert_contains_all(
        &advice,
        &[
            "CAP_NET_RAW",
            "`cargo build`, then `sudo target/debug/step4_accept",
            "`sudo cargo run` usually fails",
            "sudo setcap cap_net_raw+ep target/debug/step4_accept",
            "unshare --user --map-root-user --net",
            "Ubuntu 24.04",
        ],
    );
}

// ---- The step binaries ---------------------------------------------------------------------

const STEP4: &str = env!("CARGO_BIN_EXE_step4_accept");
const STEP6: &str = env!("CARGO_BIN_EXE_step6_close");

/// The line numbers of the first lines of `text` containing each of `needles`, in order.
fn positions(text: &str, needles: &[&str]) -> Vec<usize> {
    needles
        .iter()
        .map(|needle| {
            text.lines()
                .position(|line| line.contains(needle))
                .unwrap_or_else(|| panic!("no line with {needle:?} in:\n{text}"))
        })
        .collect()
}

#[test]
fn step4_shows_the_handshake_before_accept_returns() {
    if wire(None).is_none() {
        return;
    }
    let output = support::run(STEP4, &["127.0.0.1:0", "--with-client", "--wire"]);
    support::assert_success(&output);
    let text = support::stdout(&output);
    let at = positions(&text, &[" SYN ", " SYN-ACK ", " ACK ", "accept(fd"]);
    assert!(
        at.windows(2).all(|pair| pair[0] < pair[1]),
        "{at:?} in:\n{text}"
    );
}

#[test]
fn step6_shows_fin_ack_and_in_its_reset_case_rst() {
    if wire(None).is_none() {
        return;
    }
    let output = support::run(STEP6, &["127.0.0.1:0", "--with-client", "--wire"]);
    support::assert_success(&output);
    let text = support::stdout(&output);
    let at = positions(
        &text,
        &[
            "kernel sends a FIN",
            " FIN-ACK ",
            "without reading",
            " RST-ACK ",
        ],
    );
    assert!(
        at.windows(2).all(|pair| pair[0] < pair[1]),
        "{at:?} in:\n{text}"
    );
}

#[test]
fn a_step_s_pcap_file_is_one_tcpdump_reads() {
    if wire(None).is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory"); // removed when dropped
    let file = dir.path().join("step6.pcap");
    let output = support::run(
        STEP6,
        &[
            "127.0.0.1:0",
            "--with-client",
            "--pcap",
            file.to_str().unwrap(),
        ],
    );
    support::assert_success(&output);
    assert!(
        !support::stdout(&output).contains("    wire: 127"),
        "--pcap alone prints no packets"
    );
    let tcpdump = Command::new("tcpdump")
        .args(["-n", "-r"])
        .arg(&file)
        .output();
    let tcpdump = match tcpdump {
        Ok(output) => output,
        Err(error) => return support::skip(&format!("no tcpdump here ({error})")),
    };
    let text = String::from_utf8_lossy(&tcpdump.stdout);
    assert!(
        tcpdump.status.success(),
        "{}",
        String::from_utf8_lossy(&tcpdump.stderr)
    );
    assert!(
        text.contains("Flags [S]") && text.contains("Flags [R.]"),
        "{text}"
    );
}

/// Runs `program ARGS` as a user who may not capture (`support::unprivileged`: `nobody` when we
/// are root, as in CI) and checks that it prints one line of advice on stderr, still does its
/// work (stdout has every `expected`) and shows no packet.
fn advice_without_the_privilege(program: &str, args: &[&str], expected: &[&str]) {
    let name = std::path::Path::new(program)
        .file_name()
        .and_then(|name| name.to_str())
        .expect("a program's name");
    let child = support::unprivileged(program)
        .args(args)
        .spawn()
        .unwrap_or_else(|e| panic!("start {name}: {e}"));
    let output = support::wait_with_limit(child, program);
    support::assert_success(&output);
    let stderr = support::stderr(&output);
    if !support::is_root() && !stderr.contains("CAP_NET_RAW") {
        return support::skip("this user may capture packets, so there is no advice to see");
    }
    assert_eq!(stderr.lines().count(), 1, "one line of advice:\n{stderr}");
    let sudo = format!("sudo target/debug/{name}");
    support::assert_contains_all(&stderr, &["needs CAP_NET_RAW", &sudo]);
    let stdout = support::stdout(&output);
    support::assert_contains_all(&stdout, expected);
    assert!(
        !stdout.contains("wire:"),
        "no packets without the privilege:\n{stdout}"
    );
}

#[test]
fn without_the_privilege_a_step_prints_the_advice_and_runs_as_usual() {
    let args = ["127.0.0.1:0", "--with-client", "--wire"];
    advice_without_the_privilege(STEP4, &args, &["accept(fd 3)", "Next: "]);
}

#[test]
fn bind_alone_puts_nothing_on_the_wire() {
    if wire(None).is_none() {
        return;
    }
    let output = support::run(env!("CARGO_BIN_EXE_step2_bind"), &["127.0.0.1:0", "--wire"]);
    support::assert_success(&output);
    let text = support::stdout(&output);
    support::assert_contains_all(
        &text,
        &["socket(AF_PACKET", "wire: no packet for this port"],
    );
}

// ---- Exercises 20.1 to 20.4: a prediction, compared with a capture ---------------------------

use socket_steps::wire::{diagram, lines::Numbering, predict};

/// One packet as the exercises compare it: its flags in words, its payload length and its
/// relative acknowledgement number.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    flags: String,
    len: usize,
    ack: Option<u32>,
}

/// The packets of the exercises' three moments: a client's `connect`, its `send` of
/// `Hello network world`, and the server's `close` with those 19 bytes unread.
struct Observed {
    connect: Vec<Seen>,
    send: Vec<Seen>,
    close_unread: Vec<Seen>,
    /// Where they come from, for the messages.
    source: &'static str,
}

/// Captures the three moments now, or, without the privilege, reads them from the book's
/// capture of step 6 (`book/src/transcripts/step6_close_wire.txt`, checked against real runs).
fn observe() -> Observed {
    let capture = Wire::start(&WireOptions {
        print: false,
        pcap: None,
    })
    .expect("the wire starts");
    if capture.is_on() {
        return observe_live(capture);
    }
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/book/src/transcripts/step6_close_wire.txt"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|error| {
        panic!("without root these tests read {path} ({error}); or run them with sudo")
    });
    let seen: Vec<Seen> = diagram::parse(&text)
        .into_iter()
        .map(|line| {
            let ack = line
                .numbers
                .split("ack ")
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next().and_then(|n| n.parse().ok()));
            Seen {
                flags: line.flags,
                len: line.len,
                ack,
            }
        })
        .collect();
    let reset = seen
        .iter()
        .position(|s| s.flags.contains("RST"))
        .expect("a RST in step 6");
    Observed {
        connect: seen[..3].to_vec(),
        send: seen[3..5].to_vec(),
        close_unread: seen[reset..=reset].to_vec(),
        source: "the book's capture of step 6 (run the tests as root to capture your own)",
    }
}

/// The three moments, captured on a port of our own.
fn observe_live(mut wire: Wire) -> Observed {
    let (listener, addr) = listener();
    wire.watch(&[addr.port()]);
    let client = support::connect(addr);
    wire.show("connect", 3);
    let (server, _) = listener.accept().unwrap();
    (&client).write_all(b"Hello network world").unwrap();
    wire.show("send", 2);
    drop(server); // 19 bytes unread
    wire.show("close", 1);
    let mut numbering = Numbering::default();
    let mut moments: Vec<(String, Seen)> = Vec::new();
    for shown in wire.shown() {
        let ack = numbering
            .relative(&shown.packet)
            .and_then(|numbers| numbers.ack);
        let tcp = shown.packet.tcp.as_ref().expect("TCP");
        let flags = tcp.flags.words();
        let seen = Seen {
            flags,
            len: shown.packet.payload_len,
            ack,
        };
        moments.push((shown.call.clone(), seen));
    }
    let of = |call: &str| -> Vec<Seen> {
        moments
            .iter()
            .filter(|(c, _)| c == call)
            .map(|(_, s)| s.clone())
            .collect()
    };
    Observed {
        connect: of("connect"),
        send: of("send"),
        close_unread: of("close"),
        source: "a capture made by this test, on loopback",
    }
}

#[test]
fn ex20_1_the_packets_of_a_connect() {
    let predicted = predict::packets_of_connect();
    let observed = observe();
    let captured: Vec<&str> = observed.connect.iter().map(|s| s.flags.as_str()).collect();
    assert_eq!(
        captured, predicted,
        "the flags of a connect's packets in {} (left), and your prediction (right)",
        observed.source
    );
}

#[test]
fn ex20_2_the_packets_of_a_send() {
    let predicted = predict::packets_of_a_send();
    let observed = observe();
    let captured: Vec<(&str, usize)> = observed
        .send
        .iter()
        .map(|s| (s.flags.as_str(), s.len))
        .collect();
    assert_eq!(
        captured, predicted,
        "(flags, len) of the packets of a 19-byte send in {} (left), and your prediction (right)",
        observed.source
    );
}

#[test]
fn ex20_3_the_acknowledgement_of_19_bytes() {
    let predicted = predict::ack_of_hello();
    let observed = observe();
    let answer = observed.send.get(1).and_then(|s| s.ack);
    assert_eq!(
        answer,
        Some(predicted),
        "the relative ack of the server's answer to 19 bytes in {} (left), and your prediction \
         (right)",
        observed.source
    );
}

#[test]
fn ex20_4_the_packets_of_a_close_with_unread_data() {
    let predicted = predict::packets_of_close_with_unread_data();
    let observed = observe();
    let captured: Vec<&str> = observed
        .close_unread
        .iter()
        .map(|s| s.flags.as_str())
        .collect();
    assert_eq!(
        captured, predicted,
        "the flags of what a close with unread data sends in {} (left), and your prediction \
         (right)",
        observed.source
    );
}

// ---- The UDP programs ----------------------------------------------------------------------

const UDP_SERVER: &str = env!("CARGO_BIN_EXE_udp_echo_server");
const UDP_CLIENT: &str = env!("CARGO_BIN_EXE_udp_echo_client");

/// The `wire:` lines of `text` that are packets (not the capture's own remarks).
fn packet_lines(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|line| line.trim_start().starts_with("wire: ") && line.contains(" > "))
        .collect()
}

/// A UDP port on loopback where nothing is bound: bound, then closed at once.
fn closed_udp_port() -> SocketAddr {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.local_addr().unwrap()
}

#[test]
fn udp_shows_one_datagram_per_send_and_no_handshake() {
    if wire(None).is_none() {
        return;
    }
    let server = support::start_server(UDP_SERVER, &["127.0.0.1:0", "--wire"]);
    let addr = server.addr.to_string();
    let output = support::run(UDP_CLIENT, &[&addr, "Hello", "network world", "--wire"]);
    support::assert_success(&output);
    server.wait_for("send_to(");
    server.wait_for("send_to(");
    let text = support::stdout(&output);
    let packets = packet_lines(&text);
    let summary: Vec<String> = packets
        .iter()
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            words[4..].join(" ")
        })
        .collect();
    assert_eq!(
        summary,
        [
            "UDP len 5 send",
            "UDP len 19 recv",
            "UDP len 13 send",
            "UDP len 27 recv"
        ],
        "one datagram per send, one per answer, and nothing else:\n{text}"
    );
    let at = positions(
        &text,
        &["connect(fd", "wire: no packet", "send(fd", " UDP "],
    );
    assert!(
        at.windows(2).all(|pair| pair[0] < pair[1]),
        "{at:?} in:\n{text}"
    );
    let log = server.stop();
    let served: Vec<&str> = packet_lines(&log);
    assert_eq!(served.len(), 4, "the server sees the same four:\n{log}");
    assert!(
        served[0].ends_with("recv_from") && served[1].ends_with("send_to"),
        "{log}"
    );
}

#[test]
fn udp_to_a_closed_port_shows_the_icmp_error_and_tcpdump_reads_it() {
    if wire(None).is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory"); // removed when dropped
    let file = dir.path().join("refused.pcap");
    let nobody = closed_udp_port();
    let output = support::run(
        UDP_CLIENT,
        &[
            &nobody.to_string(),
            "--wire",
            "--pcap",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(output.status.code(), Some(1), "refused: exit status 1");
    support::assert_contains_all(&support::stderr(&output), &["no UDP server at"]);
    let text = support::stdout(&output);
    let packets = packet_lines(&text);
    assert_eq!(packets.len(), 2, "our datagram and the error:\n{text}");
    support::assert_contains_all(
        packets[1],
        &[
            "127.0.0.1 > 127.0.0.1 ICMP    port unreachable for 127.0.0.1:",
            &format!("> {nobody} UDP len 19 recv"),
        ],
    );
    let tcpdump = match Command::new("tcpdump")
        .args(["-n", "-r"])
        .arg(&file)
        .output()
    {
        Ok(output) => output,
        Err(error) => return support::skip(&format!("no tcpdump here ({error})")),
    };
    let dump = String::from_utf8_lossy(&tcpdump.stdout);
    assert!(
        tcpdump.status.success(),
        "{}",
        String::from_utf8_lossy(&tcpdump.stderr)
    );
    let lines: Vec<&str> = dump.lines().collect();
    assert_eq!(lines.len(), 2, "{dump}");
    assert!(lines[0].contains("UDP, length 19"), "{dump}");
    assert!(
        lines[1].contains(&format!("udp port {} unreachable", nobody.port())),
        "{dump}"
    );
}

#[test]
fn without_the_privilege_the_udp_client_prints_the_advice_and_runs_as_usual() {
    let server = support::start_server(UDP_SERVER, &["127.0.0.1:0"]);
    let args = [server.addr.to_string(), "--wire".to_string()];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let expected = ["Client received: '|From Server| Hello"];
    advice_without_the_privilege(UDP_CLIENT, &args, &expected);
}
