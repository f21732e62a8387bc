//! A sequence diagram drawn from a capture: the packets between the two kernels, and beside each
//! one the call on each side that sent or received it.
//!
//! The book's diagram of the echo demo is made by this module from the `wire:` lines of a real
//! run (`tests/transcripts.rs` draws it again whenever the transcripts are checked, so it cannot
//! drift from what the programs do). Its input is those lines, with the ports already
//! normalised, so the picture is the same on every run.
//!
//! Which call goes with which packet follows from the packet: on the sending side, a SYN comes
//! from `connect`, data from `send`, a FIN from `close`; on the receiving side data is taken by
//! `recv`, and a FIN makes `recv` return 0. The server's `accept` returns once the handshake is
//! over. Pure ACKs come from the kernels alone.

use std::fmt::Write;

/// One `wire:` line, split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The sender, e.g. `127.0.0.1:PORT2`.
    pub src: String,
    /// The receiver.
    pub dst: String,
    /// The flags in words, e.g. `PSH-ACK`.
    pub flags: String,
    /// The numbers as printed: `seq 1 ack 1 win 65536 len 19`.
    pub numbers: String,
    /// The payload length (0 without `len`).
    pub len: usize,
}

/// The `wire:` lines of a program's output, in order.
pub fn parse(output: &str) -> Vec<Line> {
    output
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("wire: "))
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let [src, ">", dst, flags, rest @ ..] = words.as_slice() else {
                return None;
            };
            // The numbers come in pairs (`seq 1`); the words after them are the call.
            let pairs: Vec<&[&str]> = rest
                .chunks(2)
                .take_while(|pair| pair.len() == 2 && pair[1].parse::<u64>().is_ok())
                .collect();
            let len = pairs
                .iter()
                .find(|pair| pair[0] == "len")
                .and_then(|pair| pair[1].parse().ok())
                .unwrap_or(0);
            Some(Line {
                src: src.to_string(),
                dst: dst.to_string(),
                flags: flags.to_string(),
                numbers: pairs
                    .iter()
                    .map(|pair| pair.join(" "))
                    .collect::<Vec<_>>()
                    .join(" "),
                len,
            })
        })
        .collect()
}

/// The calls beside `line` on the server's side and on the client's (empty: the kernel alone).
/// `handshake_done`: the line is the handshake's last packet; `receiver_closed`: the receiving
/// side has sent its FIN already, so no `recv` of it waits for this one.
fn calls(
    line: &Line,
    server: &str,
    handshake_done: bool,
    receiver_closed: bool,
) -> (String, String) {
    let from_server = line.src == server;
    let has = |flag: &str| line.flags.split('-').any(|f| f == flag);
    let sent = if has("SYN") && !has("ACK") {
        "connect"
    } else if has("RST") {
        "close (unread data)"
    } else if has("FIN") {
        "close"
    } else if line.len > 0 {
        "send"
    } else {
        ""
    };
    let received = if receiver_closed {
        ""
    } else if line.len > 0 {
        "recv"
    } else if has("FIN") {
        "recv -> 0 (end of file)"
    } else if handshake_done && !from_server {
        "accept returns"
    } else {
        ""
    };
    let (sent, received) = (sent.to_string(), received.to_string());
    if handshake_done && !from_server {
        return (received, "connect returns".to_string());
    }
    if from_server {
        (sent, received)
    } else {
        (received, sent)
    }
}

// ANCHOR: svg
/// The diagram of `lines` (one connection, the client's SYN first) as SVG, with `title` for
/// screen readers.
pub fn svg(title: &str, lines: &[Line]) -> String {
    let (row, top, width) = (46, 70, 1000);
    let height = top + row * lines.len() + 30;
    let (server_kernel, client_kernel) = (340, 660);
    let server = lines.first().map_or("", |first| first.dst.as_str());
    let client = lines.first().map_or("", |first| first.src.as_str());
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" \
         width=\"{width}\" height=\"{height}\" font-family=\"Helvetica, Arial, sans-serif\" \
         font-size=\"14\">"
    );
    let _ = writeln!(out, "  <title>{}</title>", escape(title));
    out.push_str(
        "  <defs>\n    <marker id=\"packet\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" \
         markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">\n      \
         <path d=\"M0,0 L10,5 L0,10 z\" fill=\"#c15c00\"/>\n    </marker>\n  </defs>\n",
    );
    let _ = writeln!(
        out,
        "  <rect x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>"
    );
    let headings = [
        (120, "#1f5f99", "server program".to_string()),
        (
            server_kernel,
            "#555",
            format!("server kernel {}", escape(server)),
        ),
        (
            client_kernel,
            "#555",
            format!("client kernel {}", escape(client)),
        ),
        (880, "#2f7d32", "client program".to_string()),
    ];
    out.push_str("  <g font-weight=\"bold\" font-size=\"15\" text-anchor=\"middle\">\n");
    for (x, colour, text) in headings {
        let _ = writeln!(
            out,
            "    <text x=\"{x}\" y=\"28\" fill=\"{colour}\">{text}</text>"
        );
    }
    out.push_str("  </g>\n");
    for x in [server_kernel, client_kernel] {
        let _ = writeln!(
            out,
            "  <line x1=\"{x}\" y1=\"40\" x2=\"{x}\" y2=\"{}\" stroke=\"#999\" stroke-width=\"2\"/>",
            height - 15
        );
    }
    let mut closed: Vec<&str> = Vec::new(); // the sides that have sent their FIN
    for (n, line) in lines.iter().enumerate() {
        let y = top + row * n;
        let from_server = line.src == server;
        let (x1, x2) = match from_server {
            true => (server_kernel, client_kernel),
            false => (client_kernel, server_kernel),
        };
        // The handshake is over with the third packet: the client's ACK of the SYN-ACK.
        let receiver_closed = closed.contains(&line.dst.as_str());
        let (server_call, client_call) = calls(line, server, n == 2, receiver_closed);
        if line.flags.split('-').any(|flag| flag == "FIN") {
            closed.push(&line.src);
        }
        let _ = writeln!(
            out,
            "  <line x1=\"{x1}\" y1=\"{y}\" x2=\"{x2}\" y2=\"{}\" stroke=\"#c15c00\" \
             stroke-width=\"2\" marker-end=\"url(#packet)\"/>",
            y + 14
        );
        let _ = writeln!(
            out,
            "  <text x=\"500\" y=\"{}\" text-anchor=\"middle\" font-family=\"monospace\" \
             font-size=\"13\"><tspan font-weight=\"bold\">{}</tspan> {}</text>",
            y - 5,
            escape(&line.flags),
            escape(&line.numbers)
        );
        for (x, colour, call) in [(120, "#1f5f99", server_call), (880, "#2f7d32", client_call)] {
            if !call.is_empty() {
                let _ = writeln!(
                    out,
                    "  <text x=\"{x}\" y=\"{}\" text-anchor=\"middle\" fill=\"{colour}\" \
                     font-family=\"monospace\">{}</text>",
                    y + 12,
                    escape(&call)
                );
            }
        }
    }
    out.push_str("</svg>\n");
    out
}
// ANCHOR_END: svg

/// `text` with the characters XML gives a meaning escaped.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTPUT: &str = "Client received: 'x'
    wire: 127.0.0.1:PORT2 > 127.0.0.1:PORT1 SYN     seq 0             win 65495          connect
    wire: 127.0.0.1:PORT1 > 127.0.0.1:PORT2 SYN-ACK seq 0    ack 1    win 65483          connect
    wire: 127.0.0.1:PORT2 > 127.0.0.1:PORT1 ACK     seq 1    ack 1    win 65536          connect
    wire: 127.0.0.1:PORT2 > 127.0.0.1:PORT1 PSH-ACK seq 1    ack 1    win 65536 len 19   send+recv
    wire: 127.0.0.1:PORT2 > 127.0.0.1:PORT1 FIN-ACK seq 20   ack 34   win 65536          close
";

    #[test]
    fn the_lines_are_read_back_with_their_numbers() {
        let lines = parse(OUTPUT);
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[1].flags, "SYN-ACK");
        assert_eq!(lines[3].numbers, "seq 1 ack 1 win 65536 len 19");
        assert_eq!(lines[3].len, 19);
        assert_eq!(lines[0].numbers, "seq 0 win 65495");
    }

    #[test]
    fn each_packet_is_an_arrow_with_the_calls_beside_it() {
        let svg = svg("the echo demo", &parse(OUTPUT));
        assert_eq!(svg.matches("marker-end=").count(), 5);
        for call in [
            "connect",
            "accept returns",
            "send",
            "recv",
            "close",
            "recv -&gt; 0",
        ] {
            assert!(svg.contains(&format!(">{call}")), "{call} in:\n{svg}");
        }
        assert!(svg.contains("server kernel 127.0.0.1:PORT1"));
    }
}
