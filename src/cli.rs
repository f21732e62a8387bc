//! Command-line conventions shared by every binary in `steps/`.
//!
//! Every server takes an optional first argument `HOST:PORT` (default `127.0.0.1:50007`), and every
//! client takes its server's `HOST:PORT` the same way. Step binaries that wait for a peer also
//! accept `--with-client`: they then drive their own client, so the whole step runs in one terminal
//! (the tests and the book's transcripts use it).
//!
//! We parse by hand instead of pulling in an argument-parsing crate: there are two arguments, and a
//! student can read all of this file in a minute.

use std::net::{SocketAddr, ToSocketAddrs};

use anyhow::{bail, Context};

/// The seed tutorial's port: `myPort = 50007`.
pub const DEFAULT_PORT: u16 = 50007;

/// Where our servers listen unless told otherwise: this machine only.
///
/// The seed binds `''` (INADDR_ANY, every interface): any computer on your network could connect.
/// We bind 127.0.0.1 (loopback) so that a lesson never opens a port to the world by accident;
/// pass `0.0.0.0:50007` to choose "every interface" explicitly.
pub const DEFAULT_ADDR: &str = "127.0.0.1:50007";

/// The flag that makes a step binary start its own client, so it completes in one terminal.
pub const WITH_CLIENT: &str = "--with-client";

/// What `--help` prints for `program`: its arguments, each explained in a line.
pub fn usage(program: &str) -> String {
    let (pattern, lines): (&str, &[&str]) = match program {
        "step3_listen" | "step4_accept" | "step5_process" | "step6_close" => (
            "[HOST:PORT] [--with-client] [--wire] [--pcap FILE]",
            &[HOST_PORT_SERVER, "--with-client: start our own client too, so the step runs in one terminal", WIRE, PCAP],
        ),
        "client" | "echo_client" => (
            "[HOST:PORT] [MESSAGE...] [--wire] [--pcap FILE]",
            &[HOST_PORT_CLIENT, "MESSAGE: what to send (default: Hello network world)", WIRE, PCAP],
        ),
        "udp_echo_client" => (
            "[HOST:PORT] [MESSAGE...]",
            &[HOST_PORT_CLIENT, "MESSAGE: what to send (default: Hello network world)"],
        ),
        "echo_server" => ("[HOST:PORT] [--wire] [--pcap FILE]", &[HOST_PORT_SERVER, WIRE, PCAP]),
        "unix_echo_server" => (
            "[PATH]",
            &["PATH: the socket file to create (default /tmp/socket-steps.sock); @NAME for Linux's abstract namespace"],
        ),
        "unix_echo_client" => (
            "[PATH] [MESSAGE...]",
            &["PATH: the server's socket file (default /tmp/socket-steps.sock), or @NAME", "MESSAGE: what to send (default: Hello network world)"],
        ),
        _ => ("[HOST:PORT]", &[HOST_PORT_SERVER]),
    };
    let mut text = format!("usage: cargo run --bin {program} -- {pattern}");
    for line in lines {
        text.push_str("\n  ");
        text.push_str(line);
    }
    text
}

const HOST_PORT_SERVER: &str =
    "HOST:PORT: where to listen (default 127.0.0.1:50007; port 0 lets the OS choose a free port)";
const WIRE: &str =
    "--wire: show the packets each call causes (Linux; needs CAP_NET_RAW, e.g. sudo)";
const PCAP: &str = "--pcap FILE: write those packets to FILE, for tcpdump -r FILE or Wireshark";
const HOST_PORT_CLIENT: &str = "HOST:PORT: the server to connect to (default 127.0.0.1:50007)";

/// What a step binary was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    /// The `HOST:PORT` to bind (servers) or connect to (clients), exactly as typed.
    pub host_port: String,
    /// `--with-client` was given: drive our own client instead of waiting for one.
    pub with_client: bool,
    /// Any other arguments, in order (e.g. a message for a client).
    pub rest: Vec<String>,
    /// `--wire` and `--pcap FILE`: show the packets (see [`crate::wire`]).
    pub wire: crate::wire::WireOptions,
}

impl Args {
    /// Reads `std::env::args()`: `[HOST:PORT] [--with-client] [more...]`. With `-h` or `--help`
    /// it prints the usage and ends the program (status 0), as command-line tools do.
    pub fn from_env() -> anyhow::Result<Args> {
        let mut args = std::env::args();
        let program = args
            .next()
            .as_deref()
            .map(std::path::Path::new)
            .and_then(|path| path.file_stem())
            .map_or_else(
                || "PROGRAM".to_string(),
                |s| s.to_string_lossy().into_owned(),
            );
        let args: Vec<String> = args.collect();
        if args.iter().any(|arg| arg == "-h" || arg == "--help") {
            println!("{}", usage(&program));
            std::process::exit(0);
        }
        Args::parse(args)
    }

    /// Parses arguments (without the program name). The first argument that is not a flag is
    /// `HOST:PORT`; without one we use [`DEFAULT_ADDR`].
    pub fn parse(args: impl IntoIterator<Item = String>) -> anyhow::Result<Args> {
        let mut host_port = None;
        let mut with_client = false;
        let mut rest = Vec::new();
        let mut wire = crate::wire::WireOptions::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            if arg == WITH_CLIENT {
                with_client = true;
            } else if arg == "--wire" {
                wire.print = true;
            } else if let Some(file) = arg.strip_prefix("--pcap=") {
                wire.pcap = Some(file.into());
            } else if arg == "--pcap" {
                let Some(file) = args.next() else {
                    bail!("`--pcap` needs a file name after it, e.g. `--pcap step4.pcap`");
                };
                wire.pcap = Some(file.into());
            } else if arg == "-h" || arg == "--help" {
                bail!(
                    "usage: [HOST:PORT] [{WITH_CLIENT}] [MORE...]\n  {HOST_PORT_SERVER}\n  \
                     {WITH_CLIENT}: a server step starts its own client, so it runs in one terminal"
                );
            } else if arg.starts_with("--") {
                bail!(
                    "unknown option `{arg}`: the options are `{WITH_CLIENT}`, `--wire`, \
                     `--pcap FILE` and `--help`"
                );
            } else if host_port.is_none() {
                host_port = Some(arg);
            } else {
                rest.push(arg);
            }
        }
        Ok(Args {
            host_port: host_port.unwrap_or_else(|| DEFAULT_ADDR.to_string()),
            with_client,
            rest,
            wire,
        })
    }

    /// The first address `HOST:PORT` resolves to (see [`resolve`]).
    pub fn addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(resolve(&self.host_port)?[0])
    }
}

/// Turns `HOST:PORT` into socket addresses, with an error a newcomer can act on.
///
/// `HOST` is an IPv4 address (`127.0.0.1`), an IPv6 address in brackets (`[::1]`) or a name
/// (`localhost`), which the system resolver looks up (`getaddrinfo(3)`) before any socket exists.
/// A name may resolve to several addresses (`localhost` is often both `::1` and `127.0.0.1`); we
/// return them all, in the resolver's order.
pub fn resolve(host_port: &str) -> anyhow::Result<Vec<SocketAddr>> {
    let Some((host, port)) = host_port.rsplit_once(':') else {
        bail!(
            "`{host_port}` is not HOST:PORT: write the host, a colon and the port, \
             e.g. `127.0.0.1:50007` (or `127.0.0.1:0` to let the OS choose the port)"
        );
    };
    if port.is_empty() || port.ends_with(']') {
        bail!(
            "`{host_port}` has no port: write it after the last colon, e.g. `127.0.0.1:50007` \
             or `[::1]:50007` (port 0 lets the OS choose)"
        );
    }
    if host.contains(':') && !host.starts_with('[') {
        bail!(
            "`{host_port}` is not HOST:PORT: an IPv6 address goes in brackets, then a colon \
             and the port, e.g. `[::1]:50007`"
        );
    }
    // Digits only: Rust would also read `+80` as 80.
    if !port.bytes().all(|b| b.is_ascii_digit()) {
        bail!(
            "`{port}` in `{host_port}` is not a port number: a port is a whole number from 0 to \
             65535"
        );
    }
    let Ok(port) = port.parse::<u16>() else {
        bail!(
            "port {port} in `{host_port}` is too large: ports are 16-bit numbers, from 0 to 65535 \
             (0 lets the OS choose a free one)"
        );
    };
    if host.is_empty() {
        bail!(
            "`{host_port}` has no host: the seed's `''` means every interface; write it out as \
             `0.0.0.0:{port}` if that is what you want, or `127.0.0.1:{port}` for this machine only"
        );
    }
    // `(host, port)` is the same pair the Python tutorial passes to `bind((host, port))`.
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .with_context(|| {
            format!(
                "could not resolve the host `{host}`: check its spelling, or use an IP address \
                 such as 127.0.0.1"
            )
        })?
        .collect();
    if addrs.is_empty() {
        bail!("the host `{host}` has no addresses: use an IP address such as 127.0.0.1");
    }
    Ok(addrs)
}

/// Reads a number of seconds for an option such as `--idle-timeout=SECS` (`30`, `0.5`; at least a
/// millisecond).
pub fn seconds(value: &str) -> anyhow::Result<std::time::Duration> {
    value
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.001)
        .map(std::time::Duration::from_secs_f64)
        .with_context(|| format!("`{value}` is not a number of seconds (e.g. 30 or 0.5)"))
}

/// Runs a binary's real `main` and turns an error into one clear message and exit status 1.
///
/// We never let an error escape as a panic or as Rust's default `Error: Os { code: 98, .. }`
/// debug print: the reader sees what happened, why, and what to do next. A `todo!()` left in a
/// classroom exercise is reported as "exercise N.M is not done yet" instead of a panic trace.
pub fn run_main(try_main: impl FnOnce() -> anyhow::Result<()>) {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        let todo = message.strip_prefix("not yet implemented: ");
        let place = info
            .location()
            .map_or_else(String::new, |l| format!(" at {}:{}", l.file(), l.line()));
        if message.starts_with("failed printing to stdout") {
            // The reader closed our output early (e.g. `| head`): stop quietly, as `cat` does.
        } else if let Some((id, task)) =
            todo.and_then(crate::classroom::regions::parse_todo_message)
        {
            let chapter = id.split('.').next().unwrap_or(id);
            eprintln!("exercise {id} is not done yet: {task}");
            eprintln!("  write its code in place of the todo!(){place} (chapter {chapter} explains the call);");
            eprintln!("  stuck? `cargo run --bin classroom -- hint {id}`; done? `cargo run --bin classroom -- check`");
        } else if let Some(what) = todo {
            eprintln!("not written yet{place}: {what}");
        } else {
            eprintln!("bug: this program panicked: {info}");
        }
    }));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(try_main));
    match result {
        Ok(Ok(())) => {}
        Ok(Err(error)) => {
            eprintln!("error: {error}");
            for cause in error.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            std::process::exit(1);
        }
        Err(_) => std::process::exit(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> anyhow::Result<Args> {
        Args::parse(list.iter().map(|s| s.to_string()))
    }

    #[test]
    fn defaults_to_loopback_on_the_seed_port() {
        let parsed = args(&[]).unwrap();
        assert_eq!(parsed.host_port, "127.0.0.1:50007");
        assert!(!parsed.with_client);
        assert_eq!(parsed.addr().unwrap(), "127.0.0.1:50007".parse().unwrap());
    }

    #[test]
    fn reads_host_port_and_flag_in_any_order() {
        let parsed = args(&["--with-client", "127.0.0.1:0", "hello"]).unwrap();
        assert_eq!(parsed.host_port, "127.0.0.1:0");
        assert!(parsed.with_client);
        assert_eq!(parsed.rest, vec!["hello".to_string()]);
    }

    #[test]
    fn ipv6_in_brackets() {
        assert_eq!(resolve("[::1]:80").unwrap()[0], "[::1]:80".parse().unwrap());
    }

    #[test]
    fn bad_input_says_what_to_do() {
        let no_colon = resolve("localhost").unwrap_err().to_string();
        assert!(no_colon.contains("is not HOST:PORT"), "{no_colon}");
        let too_big = resolve("127.0.0.1:70000").unwrap_err().to_string();
        assert!(too_big.contains("from 0 to 65535"), "{too_big}");
        let not_number = resolve("127.0.0.1:http").unwrap_err().to_string();
        assert!(not_number.contains("not a port number"), "{not_number}");
        let unknown = args(&["--nope"]).unwrap_err().to_string();
        assert!(unknown.contains("unknown option"), "{unknown}");
        let empty_host = resolve(":50007").unwrap_err().to_string();
        assert!(empty_host.contains("0.0.0.0:50007"), "{empty_host}");
        let no_port = resolve("127.0.0.1:").unwrap_err().to_string();
        assert!(no_port.contains("has no port"), "{no_port}");
        let v6_no_port = resolve("[::1]").unwrap_err().to_string();
        assert!(v6_no_port.contains("has no port"), "{v6_no_port}");
        let v6_no_brackets = resolve("::1:50007").unwrap_err().to_string();
        assert!(v6_no_brackets.contains("`[::1]:50007`"), "{v6_no_brackets}");
        let signed = resolve("127.0.0.1:+80").unwrap_err().to_string();
        assert!(signed.contains("not a port number"), "{signed}");
    }

    #[test]
    fn help_names_each_programs_own_arguments() {
        assert!(usage("step4_accept").contains("[HOST:PORT] [--with-client]"));
        assert!(usage("client").contains("[HOST:PORT] [MESSAGE...]"));
        assert!(usage("unix_echo_server").contains("-- [PATH]"));
        assert!(!usage("echo_server").contains("--with-client"));
    }

    // A name that does not resolve is tested in tests/experiments.rs
    // (`a_name_that_does_not_resolve_fails_before_any_socket`): in a network namespace of its
    // own, against a resolver stub, so that no lookup leaves the machine.
}
