//! Non-blocking sockets: every call that used to wait answers "would block" instead.
//!
//! Run: `cargo run --bin nonblocking [HOST:PORT]`. It plays server and client in one program, one
//! call at a time: accept, connect, recv and send on non-blocking sockets, a connect that fails,
//! and what it costs to retry at once instead of waiting with `poll(2)`. The chapter "Non-blocking
//! sockets" explains the output. Unix only (`poll`).
// Elsewhere `run` only says so, and the lesson's imports go unused.
#![cfg_attr(not(unix), allow(unused_imports, dead_code))]

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use socket2::Socket;
use socket_steps::cli::{self, run_main};
use socket_steps::echo::python_repr;
use socket_steps::narrate::{self, explain, title};
use socket_steps::nonblocking::{
    in_progress_code, set_nonblocking, start_connect, try_accept, try_recv, try_send, Connecting,
};
use socket_steps::step1_create::describe;
use socket_steps::step5_process::RECV_SIZE;

/// How long we wait, twice, to compare retrying at once with `poll`.
const INTERVAL: Duration = Duration::from_millis(200);

/// The longest any wait here may take.
const LIMIT: Duration = Duration::from_secs(5);

/// Non-blocking sockets: accept, connect, recv and send that never wait, and the CPU a
/// retry-at-once loop burns. Plays server and client in one program (Unix only).
#[derive(clap::Parser)]
#[command(verbatim_doc_comment)]
struct Args {
    #[command(flatten)]
    common: cli::Common,
    #[command(flatten)]
    listen: cli::Listen,
}

fn main() {
    run_main(|| {
        let args: Args = cli::parse()?;
        title("Non-blocking sockets");
        run(args.listen.addr()?)
    })
}

#[cfg(not(unix))]
fn run(_addr: SocketAddr) -> anyhow::Result<()> {
    anyhow::bail!(
        "this step waits with poll(2), which our crate wraps on Unix only (Linux, macOS, the BSDs)"
    )
}

#[cfg(unix)]
fn run(addr: SocketAddr) -> anyhow::Result<()> {
    let (listener, bound) = narrate::listening_socket(addr, 5)?;
    let target = narrate::reachable(bound);
    let l = describe(&listener);

    println!();
    // ANCHOR: accept
    set_nonblocking(&listener, true)?;
    println!("fcntl({l}, F_SETFL, O_NONBLOCK) -> ok");
    explain("from now on a call on this socket that would wait fails at once with EAGAIN");
    match try_accept(&listener)? {
        None => println!("accept({l}) -> EAGAIN (Rust: ErrorKind::WouldBlock)"),
        Some((_, peer)) => println!("accept({l}) -> a client already: {peer}?"),
    }
    explain("the accept queue is empty: a blocking accept would wait here; this one returns");
    // ANCHOR_END: accept

    println!();
    let (client, connection) = connect_without_waiting(&listener, target)?;
    println!();
    recv_and_send_without_waiting(&client, &connection)?;
    println!();
    a_connect_that_fails()?;
    println!();
    why_not_retry_at_once(&connection)?;

    println!();
    println!("Next: wait for many sockets at once with poll and epoll: cargo run --bin event_loop");
    Ok(())
}

// ANCHOR: connect
/// A non-blocking connect: `EINPROGRESS` now, writable when the handshake is over, `SO_ERROR` to
/// learn how it went.
#[cfg(unix)]
fn connect_without_waiting(
    listener: &Socket,
    target: SocketAddr,
) -> anyhow::Result<(Socket, Socket)> {
    use socket_steps::readiness::{poll_one, Interest};
    let (client, how) = start_connect(target)?;
    let c = describe(&client);
    println!("client: socket() -> {c}; fcntl({c}, F_SETFL, O_NONBLOCK) -> ok");
    match how {
        Connecting::InProgress => {
            println!(
                "client: connect({c}, {target}) -> EINPROGRESS (os error {})",
                in_progress_code()
            );
            explain("the SYN is sent, the handshake is not over, and connect has returned.");
            explain("std has no stable ErrorKind for EINPROGRESS: we compare raw_os_error().");
        }
        Connecting::Done => println!("client: connect({c}, {target}) -> ok at once"),
    }
    let ready = poll_one(&client, Interest::Write, Some(LIMIT))?;
    println!("client: poll([{c} POLLOUT], {LIMIT:?}) -> {}", flags(ready));
    let error = client.take_error()?;
    println!(
        "client: getsockopt({c}, SO_ERROR) -> {}",
        error.map_or_else(|| "0: connected".to_string(), |e| e.to_string())
    );
    // The server side: the client is in the accept queue now.
    poll_one(listener, Interest::Read, Some(LIMIT))?;
    let (connection, peer) = try_accept(listener)?.context("no client in the accept queue")?;
    set_nonblocking(&connection, true)?;
    println!(
        "accept({}) -> new socket {}, peer {peer}; fcntl(O_NONBLOCK) on it too",
        describe(listener),
        describe(&connection)
    );
    explain("an accepted socket does not inherit O_NONBLOCK from the listener on Linux: set it");
    Ok((client, connection))
}
// ANCHOR_END: connect

/// `recv` with nothing there, `recv` with data, and `send` until the buffers are full.
#[cfg(unix)]
fn recv_and_send_without_waiting(client: &Socket, connection: &Socket) -> anyhow::Result<()> {
    use socket_steps::readiness::{poll_one, Interest};
    let (c, s) = (describe(client), describe(connection));
    // ANCHOR: recv
    match try_recv(connection, RECV_SIZE)? {
        None => println!("recv({s}, {RECV_SIZE}) -> EAGAIN: nothing has arrived yet"),
        Some(piece) => println!("recv({s}, {RECV_SIZE}) -> {} bytes already?", piece.len()),
    }
    let message = b"Hello network world";
    let sent = try_send(client, message)?.context("a new connection's send buffer is empty")?;
    println!("client: send({c}, {} bytes) -> {sent}", message.len());
    let ready = poll_one(connection, Interest::Read, Some(LIMIT))?;
    println!("poll([{s} POLLIN], {LIMIT:?}) -> {}", flags(ready));
    let piece = try_recv(connection, RECV_SIZE)?.context("readable, yet nothing to recv")?;
    println!(
        "recv({s}, {RECV_SIZE}) -> {} bytes: {}",
        piece.len(),
        python_repr(&piece)
    );
    // ANCHOR_END: recv

    // ANCHOR: send
    // The client reads nothing: our sends fill its receive buffer, then our send buffer.
    let chunk = vec![b'x'; 64 * 1024];
    let (mut calls, mut taken) = (0, 0);
    while let Some(n) = try_send(connection, &chunk)? {
        calls += 1;
        taken += n;
    }
    println!(
        "send({s}, {} bytes), again and again while the client reads nothing -> EAGAIN",
        chunk.len()
    );
    println!("measured: the kernel took {taken} bytes in {calls} calls before EAGAIN");
    explain("both buffers are full: a blocking send would wait here until the client reads");
    // ANCHOR_END: send
    Ok(())
}

/// A non-blocking connect to a port where nobody listens: the refusal comes later, by SO_ERROR.
#[cfg(unix)]
fn a_connect_that_fails() -> anyhow::Result<()> {
    use socket_steps::readiness::{poll_one, Interest};
    // A port that is surely closed: one we bind ourselves and never listen on.
    let closed = socket_steps::step2_bind::create_and_bind("127.0.0.1:0".parse()?)?;
    let target = socket_steps::step2_bind::local_addr(&closed)?;
    let (client, how) = start_connect(target)?;
    let c = describe(&client);
    let returned = match how {
        Connecting::InProgress => format!("EINPROGRESS (os error {})", in_progress_code()),
        Connecting::Done => "ok at once".to_string(),
    };
    println!("client: connect({c}, {target}) -> {returned}, although nobody listens there");
    let ready = poll_one(&client, Interest::Write, Some(LIMIT))?;
    println!("client: poll([{c} POLLOUT], {LIMIT:?}) -> {}", flags(ready));
    let error = client.take_error()?;
    println!(
        "client: getsockopt({c}, SO_ERROR) -> {}",
        error
            .as_ref()
            .map_or_else(|| "0".to_string(), io::Error::to_string)
    );
    explain("the kernel answered the SYN with RST: connect's failure is reported afterwards,");
    explain("by SO_ERROR (socket2: take_error). Reading it also clears it.");
    Ok(())
}

// ANCHOR: measure
/// Waiting for data that does not come, twice: by calling `recv` again at once, and with `poll`.
#[cfg(unix)]
fn why_not_retry_at_once(connection: &Socket) -> anyhow::Result<()> {
    use socket_steps::nonblocking::{poll_for_recv, spin_on_recv, WaitCost};
    let s = describe(connection);
    println!("Waiting {INTERVAL:?} for data that does not come on {s}, two ways:");
    let show = |how: &str, cost: &WaitCost| {
        println!(
            "measured: {how}: {} call{} in {} ms",
            cost.calls,
            if cost.calls == 1 { "" } else { "s" },
            cost.waited.as_millis()
        );
        match (cost.cpu, cost.percent_wanting_a_core()) {
            (Some(cpu), Some(percent)) => println!(
                "measured:   on a CPU {} ms, waiting for a free CPU {} ms: wanted a core {percent:.0} % of the time",
                cpu.running.as_millis(),
                cpu.runnable.unwrap_or_default().as_millis()
            ),
            _ => println!("measured:   (CPU time: we read it from /proc, which is Linux's)"),
        }
    };
    show("recv again at once", &spin_on_recv(connection, INTERVAL)?);
    show("one poll", &poll_for_recv(connection, INTERVAL)?);
    explain("retrying at once keeps a core busy doing nothing; poll sleeps in the kernel until");
    explain("the socket is ready. An event loop waits with poll or epoll for all its sockets.");
    Ok(())
}
// ANCHOR_END: measure

/// What `poll` reported, in its own words.
#[cfg(unix)]
fn flags(ready: socket_steps::readiness::Ready) -> String {
    let mut names = Vec::new();
    for (set, name) in [
        (ready.readable, "POLLIN"),
        (ready.writable, "POLLOUT"),
        (ready.error, "POLLERR"),
        (ready.hung_up, "POLLHUP"),
    ] {
        if set {
            names.push(name);
        }
    }
    if names.is_empty() {
        "0: timed out".to_string()
    } else {
        names.join("|")
    }
}
