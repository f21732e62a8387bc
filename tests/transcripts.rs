//! The book's transcripts are what the programs print today.
//!
//! Each file in `book/src/transcripts/` starts with the command (`$ cargo run --bin step4_accept
//! -- 127.0.0.1:0 --with-client`) and then holds the program's output. This test runs each
//! program the same way (port 0, `--with-client`, so it needs no second terminal), normalises
//! the parts that change from run to run, and compares with the file: a stale transcript fails
//! with a readable diff.
//!
//! To rewrite the transcripts after changing what a program prints:
//!
//! ```console
//! UPDATE_TRANSCRIPTS=1 cargo test --test transcripts
//! ```
//!
//! Normalisation (the book's introduction explains it to readers):
//! - ports: every `IP:PORT` with a port of 1024 or more names that port `PORT1`, `PORT2`... in
//!   order of first appearance, and the same number elsewhere (`port 41234`, Python's
//!   `('127.0.0.1', 41234)`) gets the same name. Port 0 and ports below 1024 stay.
//! - file descriptors: `fd N` numbers are shifted so that the lowest is 3, keeping their order
//!   and differences (normally the shift is 0: a program's first socket is fd 3).
//! - measurements: on a line that starts with `measured:` (a count of calls or bytes, CPU time),
//!   every number is written `N`: those vary from run to run, and the book gives real figures in
//!   its prose.
//! - the SYN schedule step 3 prints comes from the running kernel's settings; the book shows
//!   those of Linux 6.5 and later by default (`tcp_syn_retries = 6, tcp_syn_linear_timeouts =
//!   4`), so on a kernel set otherwise we write those instead ([`syn_schedule_as_in_the_book`]).
//! - socket paths: the Unix-domain pair runs on a socket in a fresh temporary directory, written
//!   as the programs' default path for user 1000, [`BOOK_PATH`].
//!
//! The servers that run forever (`echo_server`, `echo_server_async`, `udp_echo_server`, `unix_echo_server`) are run in a scripted session: start the server
//! on port 0, run the clients against it, wait for the server to log that they left, stop it.
//!
//! The `*_wire.txt` transcripts run the programs with `--wire` and need root (CI runs the tests
//! as root; elsewhere they are skipped, and strict mode fails). The sequence diagram
//! `book/src/echo-demo-wire.svg` is drawn from `echo_client_wire.txt` by
//! `socket_steps::wire::diagram`, and checked and rewritten with the transcripts.
//!
//! Linux only: the transcripts show `/proc/net/tcp`, which other systems do not have.
#![cfg(target_os = "linux")]

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Output};

use pretty_assertions::assert_eq;

/// Where a binary of this package was built.
fn exe(name: &str) -> &'static str {
    // Leaked: a few short strings per test run, so that every caller can keep a `&str`.
    Box::leak(
        support::program(name)
            .to_string_lossy()
            .into_owned()
            .into_boxed_str(),
    )
}

// ---- Normalisation --------------------------------------------------------------------------

/// Names for the run-varying numbers of one transcript (or of several transcripts of one
/// session, which share their names).
#[derive(Default)]
struct Names {
    ports: BTreeMap<u16, String>,
    /// Run-varying paths (a temporary directory) and what the transcripts write instead.
    paths: Vec<(String, String)>,
}

/// The ports of `IP:PORT` addresses in `text` (IPv4 `127.0.0.1:41234`, IPv6 `[::1]:41234`),
/// in order of appearance.
fn address_ports(text: &str) -> Vec<u16> {
    let bytes = text.as_bytes();
    let mut ports = Vec::new();
    for (colon, _) in text.match_indices(':') {
        let digits = text[colon + 1..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        if digits == 0 || digits > 5 {
            continue;
        }
        let after = bytes.get(colon + 1 + digits);
        if after.is_some_and(|b| b.is_ascii_alphanumeric()) {
            continue;
        }
        let before = &text[..colon];
        let is_ipv6 = before.ends_with(']');
        let ipv4: String = before
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let is_ipv4 = ipv4.split('.').filter(|p| !p.is_empty()).count() == 4;
        if !(is_ipv4 || is_ipv6) {
            continue;
        }
        if let Ok(port) = text[colon + 1..colon + 1 + digits].parse::<u16>() {
            ports.push(port);
        }
    }
    ports
}

/// Replaces each whole number in `text` for which `replace` gives a replacement, leaving
/// numbers that are part of longer words (`0x1F`, `fd3`) alone.
fn replace_numbers(text: &str, mut replace: impl FnMut(&str, &str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        let len = rest[start..]
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len() - start);
        let before = &rest[..start];
        let number = &rest[start..start + len];
        let glued = before
            .chars()
            .last()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            || rest[start + len..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        out.push_str(before);
        match replace(before, number).filter(|_| !glued) {
            Some(name) => out.push_str(&name),
            None => out.push_str(number),
        }
        rest = &rest[start + len..];
    }
    out.push_str(rest);
    out
}

/// `text` with every number on a `measured:` line written `N`.
fn measurements(text: &str) -> String {
    text.split_inclusive('\n')
        .map(|line| {
            if line.trim_start().starts_with("measured:") {
                replace_numbers(line, |_, _| Some("N".to_string()))
            } else {
                line.to_string()
            }
        })
        .collect()
}

impl Names {
    /// Normalises ports (with the names this session has given so far) and file descriptors
    /// (as every test does, [`support::fds_from_three`]).
    fn normalise(&mut self, text: &str) -> String {
        let mut text = syn_schedule_as_in_the_book(text);
        for (path, shown) in &self.paths {
            text = text.replace(path.as_str(), shown);
        }
        let text = measurements(&text);
        let text = text.as_str();
        for port in address_ports(text) {
            if port >= 1024 && !self.ports.contains_key(&port) {
                let name = format!("PORT{}", self.ports.len() + 1);
                self.ports.insert(port, name);
            }
        }
        let ports = &self.ports;
        let text = replace_numbers(text, |_, number| {
            number
                .parse::<u16>()
                .ok()
                .and_then(|n| ports.get(&n).cloned())
        });
        support::fds_from_three(&text)
    }
}

/// `text` with this kernel's SYN retry settings and schedule written as the defaults of Linux 6.5
/// and later, which the book's transcript shows.
fn syn_schedule_as_in_the_book(text: &str) -> String {
    use socket_steps::syn_retries::{SynRetries, DEFAULT_MAX_TIMEOUT};
    let book = SynRetries {
        retries: 6,
        linear_timeouts: Some(4),
        max_timeout: DEFAULT_MAX_TIMEOUT,
    };
    match SynRetries::of_this_kernel() {
        Some(here) if here != book => text
            .replace(&here.schedule().to_string(), &book.schedule().to_string())
            .replace(&here.to_string(), &book.to_string()),
        _ => text.to_string(),
    }
}

// ---- Running the programs ---------------------------------------------------------------------

/// A transcript: the command a reader types, and what the program printed.
struct Transcript {
    /// The file name in `book/src/transcripts/`, without `.txt`.
    name: &'static str,
    /// `cargo run --bin NAME -- ARGS`, as the reader would type it.
    command: String,
    /// Standard output (and standard error, if the program wrote any).
    output: String,
}

impl Transcript {
    fn new(name: &'static str, bin: &str, args: &[&str], output: &Output) -> Transcript {
        support::assert_success(output);
        let mut text = support::stdout(output);
        let err = support::stderr(output);
        if !err.is_empty() {
            text.push_str("[stderr]\n");
            text.push_str(&err);
        }
        Transcript {
            name,
            command: command_line(bin, args),
            output: text,
        }
    }

    /// The file's text: the command line, then the output, normalised with `names`.
    fn render(&self, names: &mut Names) -> String {
        names.normalise(&format!("$ {}\n{}", self.command, self.output))
    }
}

/// The command a reader types; an argument with a space in it is quoted, as in a shell.
fn command_line(bin: &str, args: &[&str]) -> String {
    let args: Vec<String> = args
        .iter()
        .map(|arg| {
            if arg.contains(' ') {
                format!("\"{arg}\"")
            } else {
                arg.to_string()
            }
        })
        .collect();
    if args.is_empty() {
        format!("cargo run --bin {bin}")
    } else {
        format!("cargo run --bin {bin} -- {}", args.join(" "))
    }
}

/// Runs a step binary in its self-driving mode: its own free port, its own client.
fn self_driving(name: &'static str, bin: &str) -> Transcript {
    let args = ["127.0.0.1:0", "--with-client"];
    Transcript::new(name, bin, &args, &support::run(exe(bin), &args))
}

/// The same, with `--wire`: the packets under the calls.
fn self_driving_wire(name: &'static str, bin: &str) -> Transcript {
    let args = ["127.0.0.1:0", "--with-client", "--wire"];
    Transcript::new(name, bin, &args, &support::run(exe(bin), &args))
}

/// Checks the session `make` runs, for the wire transcripts: up to three runs, the first that
/// matches the book passes, and the third is checked (and fails with its diff) otherwise.
///
/// Some packets depend on timing, not only on the calls: a kernel delays its ACK for 40 ms or
/// more, unless the program answers or closes first (then the ACK rides along), and whether it
/// delays at all depends on how soon the last answer came. On a machine busy with other work a
/// program can run late, and one run in many shows other packets than the book. We accept the
/// first of three runs that matches; three runs that all differ are a failure.
fn check_wire(make: impl Fn() -> Vec<Transcript>) {
    if std::env::var_os("UPDATE_TRANSCRIPTS").is_none() {
        for _ in 1..3 {
            let session = make();
            let mut names = Names::default();
            let matches = session.iter().all(|transcript| {
                let path = transcripts_dir().join(format!("{}.txt", transcript.name));
                std::fs::read_to_string(path).ok() == Some(transcript.render(&mut names))
            });
            if matches {
                return;
            }
        }
    }
    check(&make());
}

/// Whether this test run may capture packets (root or `CAP_NET_RAW`, as in CI); if not, the wire
/// transcripts are skipped (a failure in strict mode).
fn can_capture() -> bool {
    match socket_steps::wire::capture::Capture::open() {
        Ok(_) => true,
        Err(error) => {
            support::skip(&format!(
                "the wire transcripts need CAP_NET_RAW (run the tests as root): {error}"
            ));
            false
        }
    }
}

/// Compares the rendered transcripts with their files, or rewrites the files when
/// `UPDATE_TRANSCRIPTS` is set. Transcripts of one session share their port names.
fn check(session: &[Transcript]) {
    check_with(Names::default(), session);
}

/// [`check`], with `names` that already know some run-varying values (a temporary path).
fn check_with(mut names: Names, session: &[Transcript]) {
    check_with_names(&mut names, session);
}

/// Where the transcripts live.
fn transcripts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("book/src/transcripts")
}

/// Compares `actual` with the file at `path` (a generated picture), or rewrites it when
/// `UPDATE_TRANSCRIPTS` is set.
fn check_file(path: &std::path::Path, actual: &str) {
    if std::env::var_os("UPDATE_TRANSCRIPTS").is_some() {
        std::fs::write(path, actual).unwrap();
        println!("wrote {}", path.display());
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        expected == actual,
        "{} is stale: it is drawn from the transcripts, which changed. Draw it again with:\n  \
         UPDATE_TRANSCRIPTS=1 cargo test --test transcripts",
        path.display()
    );
}

/// [`check_with`], leaving in `names` the port names the session gave.
fn check_with_names(names: &mut Names, session: &[Transcript]) {
    let dir = transcripts_dir();
    for transcript in session {
        assert!(
            CHECKED.contains(&transcript.name),
            "add {:?} to CHECKED",
            transcript.name
        );
        let actual = transcript.render(names);
        let path = dir.join(format!("{}.txt", transcript.name));
        if std::env::var_os("UPDATE_TRANSCRIPTS").is_some() {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &actual).unwrap();
            println!("wrote {}", path.display());
            continue;
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
            panic!(
                "{} is missing. Create it with:\n  UPDATE_TRANSCRIPTS=1 cargo test --test transcripts\n\
                 The program printed:\n{actual}",
                path.display()
            )
        });
        assert_eq!(
            expected,
            actual,
            "\n{} is stale: the program now prints something else (diff below: left = the book, \
             right = the program). If the change is intended, update the book with:\n  \
             UPDATE_TRANSCRIPTS=1 cargo test --test transcripts\nand reread the chapter that \
             includes it.",
            path.display()
        );
    }
}

/// Starts `echo_server` on a free port.
fn echo_server() -> support::Server {
    start_server("echo_server", &["127.0.0.1:0"])
}

/// Starts the server binary `bin` with `args`, with the tests' one harness for servers: what
/// [`support::Server::stop`] returns is the server's whole log, for the transcript.
fn start_server(bin: &str, args: &[&str]) -> support::Server {
    support::start_server(exe(bin), args)
}

// ---- The transcripts ---------------------------------------------------------------------------

#[test]
fn step1_create() {
    // Whether a raw socket may be opened depends on who runs the program. The book shows what a
    // reader sees as an ordinary user (the raw socket is refused), so when this test runs as
    // root we run the program as user `nobody`.
    let bin = exe("step1_create");
    let child = support::unprivileged(bin)
        .spawn()
        .unwrap_or_else(|e| panic!("could not start {bin} (as nobody if root): {e}"));
    let output = support::wait_with_limit(child, bin);
    if !support::is_root() && support::stdout(&output).contains("allowed: this program runs as") {
        support::skip(
            "this user has CAP_NET_RAW, so the raw socket is allowed, unlike in the book",
        );
        return;
    }
    check(&[Transcript::new(
        "step1_create",
        "step1_create",
        &[],
        &output,
    )]);
}

#[test]
fn step2_bind() {
    let args = ["127.0.0.1:0"];
    let output = support::run(exe("step2_bind"), &args);
    check(&[Transcript::new("step2_bind", "step2_bind", &args, &output)]);
}

#[test]
fn step3_listen() {
    check(&[self_driving("step3_listen", "step3_listen")]);
}

#[test]
fn step4_accept() {
    check(&[self_driving("step4_accept", "step4_accept")]);
}

#[test]
fn step5_process() {
    check(&[self_driving("step5_process", "step5_process")]);
}

#[test]
fn step6_close() {
    check(&[self_driving("step6_close", "step6_close")]);
}

#[test]
fn step3_listen_on_the_wire() {
    if can_capture() {
        check_wire(|| vec![self_driving_wire("step3_listen_wire", "step3_listen")]);
    }
}

#[test]
fn step4_accept_on_the_wire() {
    if can_capture() {
        check_wire(|| vec![self_driving_wire("step4_accept_wire", "step4_accept")]);
    }
}

#[test]
fn step5_process_on_the_wire() {
    if can_capture() {
        check_wire(|| vec![self_driving_wire("step5_process_wire", "step5_process")]);
    }
}

#[test]
fn step6_close_on_the_wire() {
    if can_capture() {
        check_wire(|| vec![self_driving_wire("step6_close_wire", "step6_close")]);
    }
}

#[test]
fn client_against_the_echo_server() {
    let server = echo_server();
    let addr = server.addr.to_string();
    let args = [addr.as_str()];
    let output = support::run(exe("client"), &args);
    server.wait_for("closed after");
    server.stop();
    check(&[Transcript::new("client", "client", &args, &output)]);
}

#[test]
fn echo_demo_server_and_client() {
    let server = echo_server();
    let addr = server.addr.to_string();
    let args = [addr.as_str()];
    let client = support::run(exe("echo_client"), &args);
    server.wait_for("closed after");
    let server_output = server.stop();
    let server = Transcript {
        name: "echo_server",
        command: command_line("echo_server", &["127.0.0.1:0"]),
        output: server_output,
    };
    check(&[
        server,
        Transcript::new("echo_client", "echo_client", &args, &client),
    ]);
}

#[test]
fn async_echo_server_with_two_clients() {
    let server_args = ["127.0.0.1:0"];
    let server = start_server("echo_server_async", &server_args);
    let addr = server.addr.to_string();
    // One client after the other, so that the log's order is always the same.
    for _ in 0..2 {
        let client = support::run(exe("echo_client"), &[addr.as_str()]);
        support::assert_success(&client);
        server.wait_for("closed its side");
    }
    let server = Transcript {
        name: "echo_server_async",
        command: command_line("echo_server_async", &server_args),
        output: server.stop(),
    };
    check(&[server]);
}

#[test]
fn echo_demo_on_the_wire() {
    if !can_capture() {
        return;
    }
    check_wire(|| {
        let server_args = ["127.0.0.1:0", "--wire"];
        let server = start_server("echo_server", &server_args);
        let addr = server.addr.to_string();
        let args = [addr.as_str(), "--wire"];
        let client = support::run(exe("echo_client"), &args);
        server.wait_for("closed after");
        let server = Transcript {
            name: "echo_server_wire",
            command: command_line("echo_server", &server_args),
            output: server.stop(),
        };
        let client = Transcript::new("echo_client_wire", "echo_client", &args, &client);
        vec![server, client]
    });
    // The sequence diagram, drawn from the client's lines with the same port names.
    let client_text = std::fs::read_to_string(transcripts_dir().join("echo_client_wire.txt"))
        .expect("echo_client_wire.txt, just checked");
    let lines = socket_steps::wire::diagram::parse(&client_text);
    let svg = socket_steps::wire::diagram::svg(
        "The echo demo on the wire, drawn from a real capture: the handshake, the message \
         and its echo, each acknowledged, and the close, with the calls of each program",
        &lines,
    );
    check_file(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(ECHO_DIAGRAM),
        &svg,
    );
}

/// The sequence diagram of the echo demo, drawn from `echo_client_wire.txt`.
const ECHO_DIAGRAM: &str = "book/src/echo-demo-wire.svg";

#[test]
fn nagle_on_the_wire() {
    if !can_capture() {
        return;
    }
    check_wire(|| {
        let args = ["--wire"];
        let output = support::run(exe("bench_echo"), &args);
        let mut transcript = Transcript::new("bench_echo_wire", "bench_echo", &args, &output);
        // A delayed ACK comes after 40 ms or a few more: the milliseconds vary from run to run.
        transcript.output = milliseconds_as_nn(&transcript.output);
        vec![transcript]
    });
}

/// `text` with each `+41 ms` written `+NN ms`.
fn milliseconds_as_nn(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(plus) = rest.find('+') {
        let digits = rest[plus + 1..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        let unit = &rest[plus + 1 + digits..];
        if digits > 0 && unit.starts_with(" ms") {
            out.push_str(&rest[..plus]);
            out.push_str("+NN");
        } else {
            out.push_str(&rest[..plus + 1 + digits]);
        }
        rest = &rest[plus + 1 + digits..];
    }
    out.push_str(rest);
    out
}

#[test]
fn milliseconds_are_normalised_and_seconds_kept() {
    assert_eq!(
        milliseconds_as_nn("round +41 ms, connect +1 s, 2+2"),
        "round +NN ms, connect +1 s, 2+2"
    );
}

#[test]
fn udp_echo_server_and_client() {
    let server_args = ["127.0.0.1:0"];
    let server = start_server("udp_echo_server", &server_args);
    let addr = server.addr.to_string();
    // Two messages, two datagrams: the chapter's point about message boundaries.
    let args = [addr.as_str(), "Hello", "network world"];
    let client = support::run(exe("udp_echo_client"), &args);
    support::assert_success(&client);
    // The server logs each answer after sending it: wait for both.
    server.wait_for("send_to(");
    server.wait_for("send_to(");
    let server = Transcript {
        name: "udp_echo_server",
        command: command_line("udp_echo_server", &server_args),
        output: server.stop(),
    };
    check(&[
        server,
        Transcript::new("udp_echo_client", "udp_echo_client", &args, &client),
    ]);
}

/// The UDP pair on the wire: the client's datagrams and the answers, then the client again, sent
/// to a port where nothing is bound, and the ICMP error that refuses it.
#[test]
fn udp_echo_on_the_wire() {
    if !can_capture() {
        return;
    }
    check_wire(|| {
        let server = start_server("udp_echo_server", &["127.0.0.1:0"]);
        let addr = server.addr.to_string();
        let args = [addr.as_str(), "Hello", "network world", "--wire"];
        let client = support::run(exe("udp_echo_client"), &args);
        vec![Transcript::new(
            "udp_echo_client_wire",
            "udp_echo_client",
            &args,
            &client,
        )]
    });
    check_wire(|| {
        // Bound, then closed at once: a port where nothing is bound.
        let nobody = std::net::UdpSocket::bind("127.0.0.1:0")
            .and_then(|socket| socket.local_addr())
            .expect("a free UDP port")
            .to_string();
        let args = [nobody.as_str(), "--wire"];
        let refused = support::run(exe("udp_echo_client"), &args);
        assert_eq!(refused.status.code(), Some(1), "refused: exit status 1");
        vec![Transcript {
            name: "udp_echo_client_refused_wire",
            command: command_line("udp_echo_client", &args),
            output: format!(
                "{}[stderr]\n{}",
                support::stdout(&refused),
                support::stderr(&refused)
            ),
        }]
    });
}

/// Where the book shows the Unix-domain pair's socket: the programs' default for user 1000 in a
/// login session (`$XDG_RUNTIME_DIR/socket-steps.sock`).
#[cfg(unix)]
const BOOK_PATH: &str = "/run/user/1000/socket-steps.sock";

#[test]
#[cfg(unix)]
fn unix_echo_server_and_client() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("socket-steps.sock");
    let path = path.to_str().expect("a UTF-8 temporary path");
    let server_args = [path];
    let mut command = Command::new(exe("unix_echo_server"));
    command.args(server_args);
    let server: support::Server<PathBuf> = support::start_server_with(command);
    assert_eq!(
        server.addr,
        std::path::Path::new(path),
        "the server listens on the path we gave"
    );
    let args = [path];
    let client = support::run(exe("unix_echo_client"), &args);
    support::assert_success(&client);
    // The server closes the connection once the client has closed its side.
    server.wait_for("close(");
    let server = Transcript {
        name: "unix_echo_server",
        command: command_line("unix_echo_server", &server_args),
        output: server.stop(),
    };
    let names = Names {
        paths: vec![(path.to_string(), BOOK_PATH.to_string())],
        ..Names::default()
    };
    check_with(
        names,
        &[
            server,
            Transcript::new("unix_echo_client", "unix_echo_client", &args, &client),
        ],
    );
}

#[test]
fn nonblocking() {
    let args = ["127.0.0.1:0"];
    let output = support::run(exe("nonblocking"), &args);
    check(&[Transcript::new(
        "nonblocking",
        "nonblocking",
        &args,
        &output,
    )]);
}

#[test]
fn event_loop() {
    let args = ["127.0.0.1:0"];
    let output = support::run(exe("event_loop"), &args);
    check(&[Transcript::new("event_loop", "event_loop", &args, &output)]);
}

#[test]
fn echo_server_events_and_two_clients() {
    let server_args = ["127.0.0.1:0"];
    let server = start_server("echo_server_events", &server_args);
    let addr = server.addr.to_string();
    let args = [addr.as_str()];
    let first = support::run(exe("echo_client"), &args);
    support::assert_success(&first);
    server.wait_for("closed its side");
    let second = support::run(exe("echo_client"), &[addr.as_str(), "Hello", "again"]);
    support::assert_success(&second);
    server.wait_for("closed its side");
    let server = Transcript {
        name: "echo_server_events",
        command: command_line("echo_server_events", &server_args),
        output: server.stop(),
    };
    check(&[server]);
}

/// Every transcript this file checks. A file in `book/src/transcripts/` that is not here would
/// never be checked again, and would silently go stale.
const CHECKED: &[&str] = &[
    "step1_create",
    "step2_bind",
    "step3_listen",
    "step4_accept",
    "step5_process",
    "step6_close",
    "client",
    "echo_server",
    "echo_client",
    "echo_server_async",
    "udp_echo_server",
    "udp_echo_client",
    "unix_echo_server",
    "unix_echo_client",
    "step3_listen_wire",
    "step4_accept_wire",
    "step5_process_wire",
    "step6_close_wire",
    "echo_server_wire",
    "echo_client_wire",
    "bench_echo_wire",
    "udp_echo_client_wire",
    "udp_echo_client_refused_wire",
    "nonblocking",
    "event_loop",
    "echo_server_events",
];

#[test]
fn every_transcript_file_is_checked_by_a_test() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("book/src/transcripts");
    for entry in std::fs::read_dir(&dir).expect("book/src/transcripts") {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        assert!(
            CHECKED.contains(&name.as_str()),
            "{} is not checked by tests/transcripts.rs: add a test that makes it, or delete it",
            path.display()
        );
    }
    for name in CHECKED {
        assert!(
            dir.join(format!("{name}.txt")).exists() || std::env::var_os("UPDATE_TRANSCRIPTS").is_some(),
            "the transcript {name}.txt is missing: UPDATE_TRANSCRIPTS=1 cargo test --test transcripts"
        );
    }
}

// ---- The normaliser's own tests -----------------------------------------------------------------

#[test]
fn ports_are_named_in_order_and_kept_distinct() {
    let mut names = Names::default();
    let text = "bind(fd 3, 127.0.0.1:0) -> ok; port 0 let the OS choose port 41234\n\
                listening on 127.0.0.1:41234\n\
                Server connected by ('127.0.0.1', 50008)\n\
                connect(127.0.0.1:41234) -> ok, from 127.0.0.1:50008\n\
                [::1]:39999 and [::ffff:127.0.0.1]:41234, try 127.0.0.1:80\n";
    assert_eq!(
        names.normalise(text),
        "bind(fd 3, 127.0.0.1:0) -> ok; port 0 let the OS choose port PORT1\n\
         listening on 127.0.0.1:PORT1\n\
         Server connected by ('127.0.0.1', PORT2)\n\
         connect(127.0.0.1:PORT1) -> ok, from 127.0.0.1:PORT2\n\
         [::1]:PORT3 and [::ffff:127.0.0.1]:PORT1, try 127.0.0.1:80\n"
    );
    // A second transcript of the same session keeps the names.
    assert_eq!(
        names.normalise("Client of 127.0.0.1:41234"),
        "Client of 127.0.0.1:PORT1"
    );
}

#[test]
fn numbers_that_are_not_ports_stay() {
    let mut names = Names::default();
    let text =
        "recv(fd 3, 1024) -> 2500 bytes; 127.0.0.1:41234; 0x41234 A41234 41234B; 192.0.2.1:0";
    assert_eq!(
        names.normalise(text),
        "recv(fd 3, 1024) -> 2500 bytes; 127.0.0.1:PORT1; 0x41234 A41234 41234B; 192.0.2.1:0"
    );
}

#[test]
fn paths_are_replaced_before_ports_are_named() {
    let mut names = Names {
        paths: vec![(
            "/tmp/socket-steps-transcript-4242/echo.sock".to_string(),
            "/tmp/socket-steps.sock".to_string(),
        )],
        ..Names::default()
    };
    assert_eq!(
        names.normalise("bind(fd 3, /tmp/socket-steps-transcript-4242/echo.sock) -> ok"),
        "bind(fd 3, /tmp/socket-steps.sock) -> ok"
    );
}

#[test]
fn measured_figures_are_hidden() {
    let mut names = Names::default();
    assert_eq!(
        names.normalise("measured: 150330 calls in 200 ms\nwaited 200ms\n"),
        "measured: N calls in N ms\nwaited 200ms\n"
    );
}

#[test]
fn arguments_with_spaces_are_quoted() {
    assert_eq!(
        command_line(
            "udp_echo_client",
            &["127.0.0.1:0", "Hello", "network world"]
        ),
        "cargo run --bin udp_echo_client -- 127.0.0.1:0 Hello \"network world\""
    );
}

#[test]
fn file_descriptors_shift_to_start_at_three_keeping_their_order() {
    let mut names = Names::default();
    assert_eq!(
        names.normalise("fd 7, fd 9, then fd 8; 7 stays"),
        "fd 3, fd 5, then fd 4; 7 stays"
    );
    assert_eq!(names.normalise("fd 3 and fd 5"), "fd 3 and fd 5");
}
