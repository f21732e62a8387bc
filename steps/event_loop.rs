//! Event loops: `poll(2)`, then `epoll(7)`, one call at a time.
//!
//! Run: `cargo run --bin event_loop [HOST:PORT]`. It plays a server and two clients in one
//! program: the server waits for both clients at once, first with `poll`, then with `epoll`
//! (Linux only), and serves whichever is ready. The chapter "Event loops" explains the output.

use std::io::Read;
#[cfg(unix)]
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use socket_steps::cli::{self, run_main};
#[cfg(unix)]
use socket_steps::narrate;
use socket_steps::narrate::title;

/// The longest any wait here may take.
#[cfg_attr(not(unix), allow(dead_code))]
const LIMIT: Duration = Duration::from_secs(5);

/// Event loops: one server waits for two clients at once with poll(2), then epoll(7)
/// (Linux), and serves whichever is ready. Plays every side in one program.
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
        title("Event loops: poll, then epoll");
        run(args.listen.addr()?)
    })
}

#[cfg(not(unix))]
fn run(_addr: SocketAddr) -> anyhow::Result<()> {
    anyhow::bail!(
        "this step calls poll(2) and epoll(7), which our crate wraps on Unix and Linux only; \
         on Windows the event-loop layer is IOCP, reached through the mio or polling crates"
    )
}

#[cfg(unix)]
fn run(addr: SocketAddr) -> anyhow::Result<()> {
    use socket_steps::nonblocking::{set_nonblocking, try_accept};
    use socket_steps::step1_create::describe;

    let (listener, bound) = narrate::listening_socket(addr, 5)?;
    set_nonblocking(&listener, true)?;
    println!("fcntl({}, F_SETFL, O_NONBLOCK) -> ok", describe(&listener));
    let target = narrate::reachable(bound);
    let mut a = TcpStream::connect_timeout(&target, LIMIT)?;
    println!("client A: connect({target}) -> ok");
    let mut b = TcpStream::connect_timeout(&target, LIMIT)?;
    println!("client B: connect({target}) -> ok");

    println!();
    println!("-- poll(2): the whole list, every call --");
    let ready = show_poll(&[(&listener, "listener")])?;
    anyhow::ensure!(ready[0].readable, "the listener is not readable");
    let mut connections = Vec::new();
    while connections.len() < 2 {
        let Some((connection, peer)) = try_accept(&listener)? else {
            // Not queued yet (the kernel is still finishing a handshake): wait for it.
            socket_steps::readiness::poll_one(
                &listener,
                socket_steps::readiness::Interest::Read,
                Some(LIMIT),
            )?;
            continue;
        };
        set_nonblocking(&connection, true)?;
        println!(
            "accept({}) -> {} from {peer}",
            describe(&listener),
            describe(&connection)
        );
        connections.push(connection);
    }
    let [conn_a, conn_b] = [&connections[0], &connections[1]];
    b.write_all(b"from B")?;
    println!("client B: send(\"from B\")");
    let ready = show_poll(&[(&listener, "listener"), (conn_a, "A"), (conn_b, "B")])?;
    narrate::explain(
        "poll filled in each entry: only B's is readable. We serve B and nobody waits",
    );
    narrate::explain("for A. Every call hands the kernel the whole list again: O(n) per call.");
    if ready[2].readable {
        echo_once(conn_b)?;
    }
    read_reply(&mut b, "B")?;

    #[cfg(target_os = "linux")]
    {
        println!();
        println!("-- epoll(7): the list lives in the kernel --");
        anyhow::Context::context(with_epoll(conn_a, conn_b, &mut a, &mut b), "the epoll part")?;
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = &mut a;
        println!();
        println!("epoll is Linux's: {}", socket_steps::readiness::KQUEUE);
    }
    println!();
    println!("Next: the tutorial's server as an epoll loop: cargo run --bin echo_server_events");
    Ok(())
}

// ANCHOR: poll
/// One `poll` for read readiness on each socket, narrated.
#[cfg(unix)]
fn show_poll(
    sockets: &[(&socket2::Socket, &str)],
) -> anyhow::Result<Vec<socket_steps::readiness::Ready>> {
    use socket_steps::readiness::{poll, Interest};
    use socket_steps::step1_create::describe;
    let list: Vec<(&socket2::Socket, Interest)> =
        sockets.iter().map(|(s, _)| (*s, Interest::Read)).collect();
    let ready = poll(&list, Some(LIMIT))?;
    let asked: Vec<String> = sockets
        .iter()
        .map(|(s, _)| format!("{} POLLIN", describe(s)))
        .collect();
    let answered: Vec<String> = sockets
        .iter()
        .zip(&ready)
        .filter(|(_, r)| r.readable)
        .map(|((s, name), _)| format!("{} ({name}) POLLIN", describe(s)))
        .collect();
    println!(
        "poll([{}], {LIMIT:?}) -> {} ready: {}",
        asked.join(", "),
        answered.len(),
        answered.join(", ")
    );
    Ok(ready)
}
// ANCHOR_END: poll

// ANCHOR: epoll
/// The same two connections, watched by an epoll instance.
#[cfg(target_os = "linux")]
fn with_epoll(
    conn_a: &socket2::Socket,
    conn_b: &socket2::Socket,
    a: &mut TcpStream,
    b: &mut TcpStream,
) -> anyhow::Result<()> {
    use socket_steps::readiness::{Epoll, Interest};
    use socket_steps::step1_create::describe;
    let mut epoll = Epoll::new(16)?;
    println!("epoll_create1(EPOLL_CLOEXEC) -> a new epoll instance, itself a descriptor");
    for (connection, token) in [(conn_a, 1), (conn_b, 2)] {
        epoll.add(connection, token, Interest::Read)?;
        println!(
            "epoll_ctl(EPOLL_CTL_ADD, {}, EPOLLIN, token {token}) -> ok",
            describe(connection)
        );
    }
    a.write_all(b"from A")?;
    println!("client A: send(\"from A\")");
    let show = |events: &[(u64, socket_steps::readiness::Ready)], timeout: Duration| {
        let list: Vec<String> = events
            .iter()
            .map(|(token, ready)| {
                let mut flags = vec![];
                if ready.readable {
                    flags.push("EPOLLIN");
                }
                if ready.writable {
                    flags.push("EPOLLOUT");
                }
                if ready.hung_up {
                    flags.push("EPOLLHUP");
                }
                format!("token {token} {}", flags.join("|"))
            })
            .collect();
        println!(
            "epoll_wait({timeout:?}) -> {} event(s){}{}",
            events.len(),
            if list.is_empty() { "" } else { ": " },
            list.join(", ")
        );
    };
    let events = epoll.wait(Some(LIMIT))?;
    show(&events, LIMIT);
    narrate::explain(
        "only the ready socket comes back, with the token we gave it: O(ready) per call",
    );
    if events.iter().any(|(token, _)| *token == 1) {
        echo_once(conn_a)?;
    }
    read_reply(a, "A")?;
    let quiet = Duration::from_millis(50);
    let events = epoll.wait(Some(quiet))?;
    show(&events, quiet);
    narrate::explain("we read everything A sent, so A is not readable any more: nothing to report");
    // B closes: its connection becomes readable, and recv says end of file.
    b.shutdown(std::net::Shutdown::Write)?;
    println!("client B: shutdown(SHUT_WR): sends FIN");
    let events = epoll.wait(Some(LIMIT))?;
    show(&events, LIMIT);
    let piece = socket_steps::step5_process::recv(conn_b, 1024)?;
    println!(
        "recv({}, 1024) -> {} bytes: end of file",
        describe(conn_b),
        piece.len()
    );
    epoll.delete(conn_b)?;
    println!(
        "epoll_ctl(EPOLL_CTL_DEL, {}) -> ok; then close it",
        describe(conn_b)
    );
    Ok(())
}
// ANCHOR_END: epoll

/// The server's side of one exchange: `recv`, then the seed's reply.
#[cfg(unix)]
fn echo_once(connection: &socket2::Socket) -> anyhow::Result<()> {
    use socket_steps::step1_create::describe;
    let piece = socket_steps::step5_process::recv(connection, 1024)?;
    let reply = socket_steps::echo::reply_to(&piece);
    socket_steps::step5_process::send_all(connection, &reply)?;
    println!(
        "recv({0}, 1024) -> {1}; send({0}) -> {2} bytes",
        describe(connection),
        socket_steps::echo::python_repr(&piece),
        reply.len()
    );
    Ok(())
}

/// A client reads the reply to what it sent.
#[cfg_attr(not(unix), allow(dead_code))]
fn read_reply(stream: &mut TcpStream, name: &str) -> anyhow::Result<()> {
    stream.set_read_timeout(Some(LIMIT))?;
    let mut buffer = [0; 1024];
    let n = stream.read(&mut buffer)?;
    println!(
        "client {name}: recv -> {}",
        socket_steps::echo::python_repr(&buffer[..n])
    );
    Ok(())
}
