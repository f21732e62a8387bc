//! The narrated versions of each call, shared by the step binaries.
//!
//! Each function here makes one system call through the step modules and prints, in plain words,
//! what was called, what the kernel answered and what it now knows. Step 4's program calls
//! `create`, `bind` and `listen` from here before its own `accept`, so every step binary is a
//! complete program without repeating the earlier steps' printing code.
//!
//! Lines that explain start with four spaces; lines that show the kernel's TCP table start with
//! `kernel:`.

use std::net::SocketAddr;

use anyhow::Context;
use socket2::Socket;

use crate::echo::python_repr;
use crate::{advice, proc_net, step1_create, step2_bind, step3_listen, step4_accept};

/// Prints a section title, e.g. `== Step 4: accept ==`.
pub fn title(text: &str) {
    println!("== {text} ==");
}

/// Prints an explanation, indented under the call it explains.
pub fn explain(text: impl AsRef<str>) {
    for line in text.as_ref().lines() {
        println!("    {line}");
    }
}

/// Prints what the kernel's TCP table says about `local` (→ `remote`), indented.
pub fn kernel(local: SocketAddr, remote: Option<SocketAddr>) {
    explain(proc_net::describe(local, remote));
}

/// Like [`kernel`], but first gives the kernel a moment (at most two seconds) to reach the state
/// `ready` describes (and returns the entry it saw): a peer's packet may still be in flight when our call returns, and we want to
/// print the settled state, the same on every run.
pub fn kernel_when(
    local: SocketAddr,
    remote: Option<SocketAddr>,
    ready: impl Fn(&proc_net::TcpEntry) -> bool,
) -> Option<proc_net::TcpEntry> {
    let settled = proc_net::wait_for(local, remote, std::time::Duration::from_secs(2), ready);
    kernel(local, remote);
    settled
}

/// `1 byte`, `2 bytes`: a count of bytes in words.
pub fn bytes(count: usize) -> String {
    counted(count as u64, "byte")
}

/// `1 client`, `3 clients`: `count` and `noun`, in the singular for one.
pub fn counted(count: u64, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// Explains what the client's kernel does with a SYN that gets no answer, with this kernel's own
/// numbers ([`syn_retries`](crate::syn_retries)), e.g. `this kernel (tcp_syn_retries = 6,
/// tcp_syn_linear_timeouts = 4) would send the SYN again after 1, 2, 3 ... s`.
pub fn unanswered_syn() {
    match crate::syn_retries::SynRetries::of_this_kernel() {
        Some(settings) => {
            explain(format!(
                "without our time limit, this kernel ({settings}) would go on:"
            ));
            explain(format!("{}.", settings.schedule()));
        }
        None => {
            explain("without our time limit, the client's kernel would send it again a few times")
        }
    }
}

/// The C name of the address family of `addr`.
pub fn family(addr: SocketAddr) -> &'static str {
    if addr.is_ipv4() {
        "AF_INET"
    } else {
        "AF_INET6"
    }
}

/// The binary's own name, for commands we suggest (`cargo run --bin NAME -- ...`).
pub fn program_name() -> String {
    std::env::args_os()
        .next()
        .as_deref()
        .map(std::path::Path::new)
        .and_then(|path| path.file_stem())
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_else(|| "step2_bind".to_string())
}

/// Step 1, narrated: `socket(2)` for a TCP socket of `addr`'s family.
pub fn create(addr: SocketAddr) -> anyhow::Result<Socket> {
    let socket = step1_create::create_tcp_socket(addr)
        .with_context(|| format!("socket({}, SOCK_STREAM) failed", family(addr)))?;
    println!(
        "socket({}, SOCK_STREAM, IPPROTO_TCP) -> {}",
        family(addr),
        step1_create::describe(&socket)
    );
    Ok(socket)
}

/// Step 2, narrated: `SO_REUSEADDR` (for quick restarts, as std does) and `bind(2)`; returns the
/// bound address, with the port the OS chose if `addr` asked for port 0.
pub fn bind(socket: &Socket, addr: SocketAddr) -> anyhow::Result<SocketAddr> {
    let fd = step1_create::describe(socket);
    step2_bind::allow_quick_restart(socket)?;
    if cfg!(not(windows)) {
        println!("setsockopt({fd}, SO_REUSEADDR, 1) -> ok");
        explain("so that a restart can bind this port while old connections sit in TIME_WAIT");
    }
    step2_bind::bind(socket, addr)
        .map_err(|error| advice::bind_failed(addr, &program_name(), error))?;
    let bound = step2_bind::local_addr(socket)?;
    if addr.port() == 0 {
        println!(
            "bind({fd}, {addr}) -> ok; port 0 let the OS choose port {}",
            bound.port()
        );
    } else {
        println!("bind({fd}, {addr}) -> ok");
    }
    if let Some(warning) = every_network(bound) {
        explain(warning);
    }
    Ok(bound)
}

/// Step 3, narrated: `listen(2)`; prints the `listening on ADDR` line and the kernel's view.
pub fn listen(socket: &Socket, bound: SocketAddr, backlog: i32) -> anyhow::Result<()> {
    step3_listen::listen(socket, backlog).context("listen failed")?;
    println!(
        "listen({}, {backlog}) -> ok: listening on {bound}",
        step1_create::describe(socket)
    );
    kernel(bound, None);
    Ok(())
}

/// Steps 1 to 3, narrated: a listening socket on `addr`, and the address it is bound to.
pub fn listening_socket(addr: SocketAddr, backlog: i32) -> anyhow::Result<(Socket, SocketAddr)> {
    let socket = create(addr)?;
    let bound = bind(&socket, addr)?;
    listen(&socket, bound, backlog)?;
    Ok((socket, bound))
}

/// Step 4, narrated: `accept(2)`; returns the new connection and the peer's address.
pub fn accept(listener: &Socket) -> anyhow::Result<(Socket, SocketAddr)> {
    let (connection, peer) = step4_accept::accept(listener).context("accept failed")?;
    println!(
        "accept({}) -> new socket {}, peer {peer}",
        step1_create::describe(listener),
        step1_create::describe(&connection)
    );
    Ok((connection, peer))
}

/// The warning every server prints when it is bound to "every interface" (`0.0.0.0` or `[::]`),
/// or `None` for a narrower address.
pub fn every_network(bound: SocketAddr) -> Option<String> {
    let shown = match bound {
        SocketAddr::V4(v4) => v4.ip().to_string(),
        SocketAddr::V6(v6) => format!("[{}]", v6.ip()),
    };
    bound.ip().is_unspecified().then(|| {
        format!(
            "{shown} means every interface: other machines on your network can connect too \
             (127.0.0.1 is this machine only)"
        )
    })
}

/// The commands a reader types in a second terminal to connect a client to `addr`: our client
/// (with `options`, e.g. `--long`), or netcat. We suggest `nc -N`: Debian's netcat-openbsd ends
/// a conversation on Ctrl-D only with `-N` (it then sends its FIN with `shutdown(SHUT_WR)`);
/// without it, only Ctrl-C ends it. Two lines, each indented for a listing.
pub fn client_command(addr: SocketAddr, options: &str) -> String {
    let addr = reachable(addr);
    let options = if options.is_empty() {
        String::new()
    } else {
        format!(" {options}")
    };
    format!(
        "  cargo run --bin client -- {addr}{options}\n  or: {}   (type a line, Ctrl-D to end; Ctrl-C stops either one)",
        nc_command(addr)
    )
}

/// The netcat command that talks to a server at `addr` and ends when its input does:
/// `nc -N 127.0.0.1 50007`.
pub fn nc_command(addr: SocketAddr) -> String {
    let addr = reachable(addr);
    format!("nc -N {} {}", addr.ip(), addr.port())
}

/// How many bytes of a piece [`shortened`] shows.
const SHOWN: usize = 40;

/// [`python_repr`] of `bytes`, cut after the first 40 bytes with `...`, so that a piece of a long
/// message stays on one line: `'xxxx'...`.
pub fn shortened(bytes: &[u8]) -> String {
    if bytes.len() <= SHOWN {
        python_repr(bytes)
    } else {
        format!(
            "{}... ({})",
            python_repr(&bytes[..SHOWN]),
            self::bytes(bytes.len())
        )
    }
}

/// The address a client on this machine connects to for a server bound to `addr`: the same,
/// except that "every interface" (0.0.0.0 or ::) becomes loopback, which every system accepts
/// as a destination (Windows refuses to connect to 0.0.0.0).
pub fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => {
            (std::net::Ipv4Addr::LOCALHOST, addr.port()).into()
        }
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => {
            (std::net::Ipv6Addr::LOCALHOST, addr.port()).into()
        }
        _ => addr,
    }
}
