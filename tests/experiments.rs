//! Experiments: each claim of the tutorial about TCP, checked against what the kernel does.
//!
//! The book's "Experiments" chapter includes these tests region by region (`ANCHOR` comments),
//! and the appendix "What the tutorial says, and what happens" links each claim to one of them.
//! Linux-only behaviour is behind `#[cfg(target_os = "linux")]`. No test sleeps to synchronise:
//! each waits for a kernel state with a deadline (`experiments::wait_for_bytes`,
//! `proc_net` polling) or uses a blocking call with a timeout.

// Many experiments are Linux-only, so elsewhere some of the imports below go unused.
#![cfg_attr(not(target_os = "linux"), allow(unused_imports))]

mod support;

use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream};

use socket_steps::client::connect;
use socket_steps::experiments::{loopback_pair, send_until_full, wait_for_bytes, PATIENCE};
use socket_steps::step2_bind::{create_and_bind, local_addr};
use socket_steps::step3_listen::listening_socket;
use socket_steps::step4_accept::accept;
use socket_steps::step5_process::{recv, send, send_all};
use socket_steps::step6_close::{close, finish_sending, recv_until_closed};

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

// ANCHOR: recv_does_not_wait_for_n
#[test]
fn recv_returns_what_is_there_without_waiting_for_n_bytes() -> io::Result<()> {
    let (client, server) = loopback_pair()?;
    send_all(&client, b"hello")?;
    // recv(1024) blocks only until *some* data is there, then returns it: 5 bytes, not 1024.
    assert_eq!(recv(&server, 1024)?, b"hello");
    Ok(())
}
// ANCHOR_END: recv_does_not_wait_for_n

// ANCHOR: bytes_not_characters
#[test]
fn send_counts_bytes_not_characters() -> io::Result<()> {
    let (client, server) = loopback_pair()?;
    let sent = send(&client, "你好".as_bytes())?;
    assert_eq!(sent, 6, "two characters, six bytes in UTF-8");
    wait_for_bytes(&server, 6)?;
    assert_eq!(String::from_utf8(recv(&server, 1024)?).unwrap(), "你好");
    Ok(())
}
// ANCHOR_END: bytes_not_characters

// ANCHOR: partial_send
#[test]
fn send_may_take_only_part_and_write_all_loops() -> io::Result<()> {
    let (client, server) = loopback_pair()?;
    // A small send buffer, and a server that does not read yet.
    client.set_send_buffer_size(4096)?;
    let data = vec![7u8; 1 << 20]; // 1 MiB
    let counts = send_until_full(&client, &data)?;
    assert!(!counts.is_empty(), "the first send takes something");
    assert!(
        counts[0] > 0 && counts[0] < data.len(),
        "send took {} of {} bytes: a partial send",
        counts[0],
        data.len()
    );
    let already: usize = counts.iter().sum();

    // write_all (like Python's sendall) calls send until every byte is out, while a reader drains.
    let reader = std::thread::spawn(move || recv_until_closed(&server).map(|all| all.len()));
    (&client).write_all(&data)?;
    finish_sending(&client)?;
    assert_eq!(
        reader.join().unwrap()?,
        already + data.len(),
        "every byte arrived, once"
    );
    Ok(())
}
// ANCHOR_END: partial_send

// ANCHOR: blocking_send
#[test]
#[cfg(target_os = "linux")]
fn a_blocking_send_waits_until_all_is_queued_and_a_send_timeout_cuts_it() -> io::Result<()> {
    let (client, server) = loopback_pair()?;
    client.set_send_buffer_size(4096)?;
    client.set_write_timeout(None)?; // blocking, no timeout: loopback_pair set one
    let data = vec![7u8; 1 << 20]; // 1 MiB, far more than the buffers hold
    let reader = std::thread::spawn(move || recv_until_closed(&server).map(|all| all.len()));
    // One send(2): Linux returns only when every byte is in the send buffer (not sent yet!).
    assert_eq!(
        send(&client, &data)?,
        data.len(),
        "one blocking send, all of it"
    );
    finish_sending(&client)?;
    assert_eq!(reader.join().unwrap()?, data.len());

    // With SO_SNDTIMEO, the same call returns what it queued when the time runs out.
    let (client, _server_not_reading) = loopback_pair()?;
    client.set_send_buffer_size(4096)?;
    client.set_write_timeout(Some(std::time::Duration::from_millis(200)))?;
    let sent = send(&client, &data)?;
    assert!(sent > 0 && sent < data.len(), "a partial count: {sent}");
    Ok(())
}
// ANCHOR_END: blocking_send

// ANCHOR: tx_queue
#[test]
#[cfg(target_os = "linux")]
fn tx_queue_counts_bytes_written_and_not_yet_sent() -> io::Result<()> {
    use socket_steps::proc_net::state_of;

    let (client, server) = loopback_pair()?;
    let (client_addr, server_addr) = (local_addr(&client)?, local_addr(&server)?);
    // The server does not read. The client writes until its kernel takes no more.
    let written: usize = send_until_full(&client, &vec![7u8; 1 << 16])?.iter().sum();
    // On loopback every byte that went out is acknowledged at once; the server's receive buffer
    // holds them (its rx_queue). The rest never left the client: its window is closed.
    wait_for_kernel(|| {
        let (Some(sender), Some(receiver)) = (
            state_of(client_addr, Some(server_addr)),
            state_of(server_addr, Some(client_addr)),
        ) else {
            return false;
        };
        sender.tx_queue > 0 && (sender.tx_queue + receiver.rx_queue) as usize == written
    });
    Ok(())
}
// ANCHOR_END: tx_queue

// ANCHOR: backlog_not_max_connections
#[test]
fn backlog_is_not_a_limit_on_connections() -> io::Result<()> {
    let listener = listening_socket(loopback(), 1)?;
    let addr = local_addr(&listener)?;
    let mut open = Vec::new();
    for _ in 0..5 {
        let client = connect(addr, PATIENCE)?;
        let (connection, _) = accept(&listener)?;
        open.push((client, connection));
    }
    // listen(1), and five connections are open at once: the backlog only bounds the queue of
    // connections that wait for accept.
    for (client, connection) in &open {
        send_all(client, b"ping")?;
        assert_eq!(recv(connection, 1024)?, b"ping");
    }
    Ok(())
}
// ANCHOR_END: backlog_not_max_connections

/// A `connect` with a short timeout: long enough for loopback (microseconds), short enough that
/// a dropped SYN makes the test wait only this long.
#[cfg(target_os = "linux")]
const SHORT: std::time::Duration = std::time::Duration::from_millis(1500);

// ANCHOR: backlog_full
#[test]
#[cfg(target_os = "linux")]
fn backlog_n_holds_n_plus_one_then_connect_times_out() -> io::Result<()> {
    use socket_steps::step3_listen::accept_queue_len;

    let backlog = 2;
    let listener = listening_socket(loopback(), backlog)?;
    let addr = local_addr(&listener)?;
    // Nobody calls accept. The kernel completes N + 1 handshakes by itself...
    let queued: Vec<_> = (0..=backlog)
        .map(|_| connect(addr, PATIENCE))
        .collect::<io::Result<_>>()?;
    assert_eq!(queued.len(), 3);
    // /proc/net/tcp shows them in the accept queue (we wait for the last handshake's final ACK).
    wait_for_kernel(|| accept_queue_len(addr) == Some(3));
    // ...and the next SYN meets a full queue: it is dropped, not refused. The client's kernel
    // sends it again (after 1 s...) until our timeout, or its own, gives up.
    let error = connect(addr, SHORT).expect_err("the accept queue is full");
    assert_eq!(
        error.kind(),
        io::ErrorKind::TimedOut,
        "not ConnectionRefused: {error}"
    );
    // Accepting one makes room, and a new client gets in.
    let _first = accept(&listener)?;
    connect(addr, PATIENCE)?;
    Ok(())
}
// ANCHOR_END: backlog_full

// ANCHOR: backlog_zero
#[test]
#[cfg(target_os = "linux")]
fn listen_zero_still_queues_one() -> io::Result<()> {
    let listener = listening_socket(loopback(), 0)?;
    let addr = local_addr(&listener)?;
    let _one = connect(addr, PATIENCE)?;
    wait_for_kernel(|| socket_steps::step3_listen::accept_queue_len(addr) == Some(1));
    let error = connect(addr, SHORT).expect_err("listen(0) holds exactly one");
    assert_eq!(error.kind(), io::ErrorKind::TimedOut);
    Ok(())
}
// ANCHOR_END: backlog_zero

/// A counter of `/proc/net/netstat`'s `TcpExt` group; in a namespace of our own it starts at 0.
#[cfg(target_os = "linux")]
fn tcp_counter(name: &str) -> u64 {
    socket_steps::proc_net::counter("TcpExt", name)
        .unwrap_or_else(|| panic!("this kernel does not count TcpExt {name}"))
}

// ANCHOR: syn_meets_full_queue
#[test]
#[cfg(target_os = "linux")]
fn a_syn_that_meets_a_full_queue_is_dropped_even_with_abort_on_overflow() {
    support::in_private_network(|| {
        // Our own namespace: this setting is ours alone, and the counters start at 0.
        support::sysctl("net.ipv4.tcp_abort_on_overflow", "1");
        let listener = listening_socket(loopback(), 0)?; // room for one
        let addr = local_addr(&listener)?;
        let _queued = connect(addr, PATIENCE)?;
        wait_for_kernel(|| socket_steps::step3_listen::accept_queue_len(addr) == Some(1));
        // The queue is full when the SYN arrives: dropped, without a reset, whatever the setting.
        let error = connect(addr, SHORT).expect_err("the accept queue is full");
        assert_eq!(error.kind(), io::ErrorKind::TimedOut, "not reset: {error}");
        // The server's kernel counted each SYN it dropped (the first, and the retry after 1 s).
        let overflows = tcp_counter("ListenOverflows");
        assert!(overflows >= 1, "ListenOverflows {overflows}");
        assert_eq!(tcp_counter("ListenDrops"), overflows);
        println!("ListenOverflows {overflows}, ListenDrops {overflows}");
        Ok(())
    });
}
// ANCHOR_END: syn_meets_full_queue

// ANCHOR: final_ack_meets_full_queue
/// A listener with `TCP_DEFER_ACCEPT`, which neither socket2 nor std (before Rust 1.89) can set,
/// so it is a few lines of Python, as in the tutorial. The option makes the kernel hold back a
/// handshake's final ACK that carries no data: the connection joins the accept queue only when
/// its first data arrives. That lets a test put a finished handshake and a full queue together.
#[cfg(target_os = "linux")]
const DEFERRING_LISTENER: &str = r#"
import socket, sys
s = socket.socket()
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, 30)
s.bind(("127.0.0.1", 0))
s.listen(1)  # room for two on Linux
print(s.getsockname()[1], flush=True)
sys.stdin.read()  # never accept; hold the listener until the test closes our stdin
"#;

/// Three clients connect while the queue has room; the first two send and so fill it; the third
/// sends too. Its `connect` and `send` succeed; its data, which carries the handshake's final
/// ACK, meets the full queue. Returns what the third client's `recv` got, and the state the
/// server's kernel shows for it.
#[cfg(target_os = "linux")]
fn third_client_meets_a_full_queue(
    python: &str,
) -> io::Result<(
    io::Result<Vec<u8>>,
    Option<socket_steps::proc_net::TcpState>,
)> {
    use socket_steps::step3_listen::accept_queue_len;
    use std::io::BufRead;
    use std::process::{Command, Stdio};

    let mut listener = Command::new(python)
        .args(["-c", DEFERRING_LISTENER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut port = String::new();
    io::BufReader::new(listener.stdout.take().unwrap()).read_line(&mut port)?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port.trim().parse::<u16>().unwrap()));

    let first = connect(addr, PATIENCE)?;
    send_all(&first, b"one")?; // data: now the connection joins the accept queue
    wait_for_kernel(|| accept_queue_len(addr) == Some(1));
    let second = connect(addr, PATIENCE)?; // room in the queue: SYN answered, connect returns
    let third = connect(addr, PATIENCE)?;
    send_all(&second, b"two")?;
    wait_for_kernel(|| accept_queue_len(addr) == Some(2)); // full
    let before = tcp_counter("ListenOverflows");
    assert_eq!(
        send(&third, b"three")?,
        5,
        "the third client's send succeeds"
    );
    wait_for_kernel(|| tcp_counter("ListenOverflows") > before);
    third.set_read_timeout(Some(SHORT))?;
    let answer = recv(&third, 16);
    let server_side = socket_steps::proc_net::state_of(addr, Some(local_addr(&third)?));
    drop(listener.stdin.take()); // the Python listener exits
    support::wait_with_limit(listener, python);
    Ok((answer, server_side.map(|entry| entry.state)))
}

#[test]
#[cfg(target_os = "linux")]
fn a_final_ack_that_meets_a_full_queue_leaves_the_client_waiting() {
    let Some(python) = support::python3() else {
        return; // skipped, with the reason (a failure under SOCKET_STEPS_STRICT=1)
    };
    support::in_private_network(|| {
        support::sysctl("net.ipv4.tcp_abort_on_overflow", "0"); // the default
        let (answer, server_side) = third_client_meets_a_full_queue(python)?;
        let error = answer.expect_err("nobody answers the third client");
        assert!(
            matches!(
                error.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ),
            "recv timed out: {error}"
        );
        // The server's kernel still has only the half-open handshake, and will retry it.
        assert_eq!(server_side, Some(socket_steps::proc_net::TcpState::SynRecv));
        Ok(())
    });
}

#[test]
#[cfg(target_os = "linux")]
fn with_abort_on_overflow_a_final_ack_that_meets_a_full_queue_gets_a_reset() {
    let Some(python) = support::python3() else {
        return; // skipped, with the reason (a failure under SOCKET_STEPS_STRICT=1)
    };
    support::in_private_network(|| {
        support::sysctl("net.ipv4.tcp_abort_on_overflow", "1");
        let (answer, server_side) = third_client_meets_a_full_queue(python)?;
        let error = answer.expect_err("the server's kernel resets the third client");
        assert_eq!(error.kind(), io::ErrorKind::ConnectionReset, "{error}");
        assert_eq!(server_side, None, "the server's kernel forgot it");
        Ok(())
    });
}
// ANCHOR_END: final_ack_meets_full_queue

// ANCHOR: syn_schedule
#[test]
#[cfg(target_os = "linux")]
fn syn_retransmissions_follow_the_running_kernels_settings() {
    use socket_steps::syn_retries::SynRetries;

    support::in_private_network(|| {
        // A short schedule, in our namespace only: one retry, and one linear retry on a kernel
        // that has them (6.5 and later). The host keeps its own (default: 6 and 4, 131 s).
        support::sysctl("net.ipv4.tcp_syn_retries", "1");
        if std::path::Path::new("/proc/sys/net/ipv4/tcp_syn_linear_timeouts").exists() {
            support::sysctl("net.ipv4.tcp_syn_linear_timeouts", "1");
        }
        let settings = SynRetries::of_this_kernel().expect("readable settings");
        let schedule = settings.schedule();

        let listener = listening_socket(loopback(), 0)?;
        let addr = local_addr(&listener)?;
        let _queued = connect(addr, PATIENCE)?; // the queue is full: every SYN will be dropped
        wait_for_kernel(|| socket_steps::step3_listen::accept_queue_len(addr) == Some(1));

        // A blocking connect with no timeout of ours: the kernel decides when to give up.
        let client = socket_steps::step1_create::create_tcp_socket(addr)?;
        let started = std::time::Instant::now();
        let error = client
            .connect(&addr.into())
            .expect_err("no SYN is answered");
        let took = started.elapsed();
        println!("{settings}: {schedule}; measured: ETIMEDOUT after {took:.2?}");
        assert_eq!(error.kind(), io::ErrorKind::TimedOut, "{error}");
        let early = std::time::Duration::from_millis(20);
        let late = std::time::Duration::from_millis(1500); // a loaded machine's timers run late
        assert!(
            took + early >= schedule.gives_up && took <= schedule.gives_up + late,
            "computed {:?}, measured {took:?}",
            schedule.gives_up
        );
        // The kernel counted each SYN it sent again.
        assert_eq!(
            tcp_counter("TCPSynRetrans"),
            schedule.resends.len() as u64,
            "{schedule}"
        );
        Ok(())
    });
}
// ANCHOR_END: syn_schedule

// ANCHOR: handshake_before_accept
#[test]
fn kernel_completes_the_handshake_before_accept() -> io::Result<()> {
    let listener = listening_socket(loopback(), 5)?;
    let addr = local_addr(&listener)?;
    // The server has not called accept, yet connect succeeds and data can be sent.
    let client = connect(addr, PATIENCE)?;
    assert_eq!(send(&client, b"early")?, 5);
    #[cfg(target_os = "linux")]
    {
        // The kernel lists the waiting connection, with our 5 bytes in its receive queue.
        let client_addr = local_addr(&client)?;
        wait_for_kernel(|| {
            socket_steps::proc_net::state_of(addr, Some(client_addr))
                .is_some_and(|entry| entry.rx_queue == 5)
        });
    }
    let (connection, peer) = accept(&listener)?;
    assert_eq!(
        peer,
        local_addr(&client)?,
        "accept reports the client's own address"
    );
    connection.set_read_timeout(Some(PATIENCE))?;
    assert_eq!(
        recv(&connection, 1024)?,
        b"early",
        "the data was there before accept"
    );
    Ok(())
}
// ANCHOR_END: handshake_before_accept

// ANCHOR: accept_blocks_only_when_empty
#[test]
fn accept_waits_only_when_the_queue_is_empty() -> io::Result<()> {
    let listener = listening_socket(loopback(), 5)?;
    let addr = local_addr(&listener)?;
    listener.set_nonblocking(true)?;
    let error = accept(&listener).expect_err("nobody connected yet");
    assert_eq!(
        error.kind(),
        io::ErrorKind::WouldBlock,
        "non-blocking accept does not wait"
    );
    let _client = connect(addr, PATIENCE)?;
    // Once a connection waits in the queue, accept returns it at once.
    support::poll_until("the queued connection", PATIENCE, || {
        match accept(&listener) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => None,
            accepted => Some(accepted.map(drop)),
        }
    })
}
// ANCHOR_END: accept_blocks_only_when_empty

// ANCHOR: eof
#[test]
fn recv_returns_zero_bytes_at_end_of_stream() -> io::Result<()> {
    let (client, server) = loopback_pair()?;
    send_all(&client, b"bye")?;
    close(client);
    assert_eq!(recv(&server, 1024)?, b"bye");
    assert_eq!(recv(&server, 1024)?, b"", "0 bytes: the peer closed (FIN)");
    assert_eq!(recv(&server, 1024)?, b"", "and it stays at end of stream");
    Ok(())
}
// ANCHOR_END: eof

// ANCHOR: half_close
#[test]
fn shutdown_write_is_a_half_close() -> io::Result<()> {
    let (client, server) = loopback_pair()?;
    send_all(&client, b"question")?;
    // shutdown(SHUT_WR): our FIN goes out, and we can still receive.
    finish_sending(&client)?;
    // The server reads to end of stream: it knows the question is complete...
    assert_eq!(recv_until_closed(&server)?, b"question");
    // ...and can still answer on the same connection.
    send_all(&server, b"answer")?;
    close(server);
    assert_eq!(recv_until_closed(&client)?, b"answer");
    Ok(())
}
// ANCHOR_END: half_close

// ANCHOR: reset
/// Waits until the kernel has forgotten the connection `local` → `remote` (after a reset, a
/// socket leaves `/proc/net/tcp` at once).
#[cfg(target_os = "linux")]
fn wait_until_gone(local: SocketAddr, remote: SocketAddr) {
    socket_steps::proc_net::wait_until(local, Some(remote), PATIENCE, |entry| entry.is_none());
}

#[test]
#[cfg(target_os = "linux")]
fn close_with_unread_data_sends_a_reset() -> io::Result<()> {
    let (client, server) = loopback_pair()?;
    send_all(&server, b"bye")?; // the client will read this only later
    send_all(&client, b"never read")?;
    wait_for_bytes(&server, 10)?; // the bytes sit in the server's receive buffer
    wait_for_bytes(&client, 3)?;
    let addrs = (local_addr(&client)?, local_addr(&server)?);
    close(server); // unread data: the kernel sends RST instead of FIN
    wait_until_gone(addrs.0, addrs.1);
    // What arrived before the reset is still read first; then the reset; then end of stream.
    assert_eq!(recv(&client, 1024)?, b"bye");
    let error = recv(&client, 1024).expect_err("a reset, not an end of stream");
    assert_eq!(error.kind(), io::ErrorKind::ConnectionReset);
    assert_eq!(recv(&client, 1024)?, b"", "after the reset: end of stream");
    Ok(())
}

#[test]
#[cfg(target_os = "linux")]
fn shutdown_before_close_does_not_prevent_the_reset() -> io::Result<()> {
    let (client, server) = loopback_pair()?;
    let addrs = (local_addr(&client)?, local_addr(&server)?);
    send_all(&client, b"never read")?;
    wait_for_bytes(&server, 10)?;
    finish_sending(&server)?; // shutdown(SHUT_WR): a FIN goes out first...
    close(server); // ...but unread data remains, so close still sends RST
    wait_until_gone(addrs.0, addrs.1);
    // The FIN came first, so the client reads end of stream; the reset shows on its next send.
    assert_eq!(recv(&client, 1024)?, b"");
    let error = send(&client, b"anyone?").expect_err("the connection was reset");
    assert_eq!(error.kind(), io::ErrorKind::BrokenPipe, "{error}");
    Ok(())
}
// ANCHOR_END: reset

// ANCHOR: broken_pipe
#[test]
fn writing_after_the_peer_closed_gives_broken_pipe() -> io::Result<()> {
    let (client, server) = loopback_pair()?;
    close(server);
    assert_eq!(recv(&client, 1024)?, b"", "we saw the peer's FIN");
    // The first send succeeds: our kernel cannot know yet that nobody will read.
    // The peer's kernel answers it with RST.
    assert_eq!(send(&client, b"anyone?")?, 7);
    // Later sends fail. (socket2's `send` passes no MSG_NOSIGNAL, so the kernel also raised
    // SIGPIPE; we are alive because Rust's runtime ignores SIGPIPE before `main`.)
    let error = support::poll_until("a failing send", PATIENCE, || {
        send(&client, b"anyone?").err()
    });
    if cfg!(target_os = "linux") {
        assert_eq!(error.kind(), io::ErrorKind::BrokenPipe, "{error}");
    } else {
        assert!(
            matches!(
                error.kind(),
                io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
            ),
            "{error}"
        );
    }
    Ok(())
}
// ANCHOR_END: broken_pipe

// ANCHOR: sigpipe_child
/// A child that does what socket2's `send` does, `send(2)` with flags 0, after the peer closed.
/// Its SIGPIPE is the default action (std's `Command` resets it for children), and it is a Perl
/// program because a Rust program ignores SIGPIPE before `main` and needs `unsafe` to undo that.
#[cfg(target_os = "linux")]
const SEND_AFTER_CLOSE: &str = r#"
use Socket;
my ($port, $flags) = @ARGV;
socket(my $s, PF_INET, SOCK_STREAM, 0) or die "socket: $!";
connect($s, pack_sockaddr_in($port, inet_aton("127.0.0.1"))) or die "connect: $!";
sysread($s, my $buf, 1) == 0 or die "expected end of stream";
for (1..100) { defined send($s, "x", $flags) or do { print "send: $!\n"; exit 3 } }
print "still alive\n";
"#;

/// Runs [`SEND_AFTER_CLOSE`] against a server that accepts and closes; `None` without Perl.
#[cfg(target_os = "linux")]
fn send_after_close_in_child(flags: i32) -> io::Result<Option<std::process::Output>> {
    let listener = listening_socket(loopback(), 1)?;
    let port = local_addr(&listener)?.port();
    let child = match std::process::Command::new("perl")
        .args([
            "-e",
            SEND_AFTER_CLOSE,
            &port.to_string(),
            &flags.to_string(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(error) => {
            support::skip(&format!(
                "cannot run perl ({error}); the SIGPIPE child needs it"
            ));
            return Ok(None);
        }
    };
    listener.set_read_timeout(Some(PATIENCE))?; // Linux: accept(2) honours SO_RCVTIMEO
    let (connection, _) = accept(&listener)?;
    close(connection); // FIN: the child reads end of stream, then sends
    Ok(Some(support::wait_with_limit(child, "perl")))
}

#[test]
#[cfg(target_os = "linux")]
fn send_without_msg_nosignal_kills_a_process_with_default_sigpipe() -> io::Result<()> {
    use std::os::unix::process::ExitStatusExt;
    let Some(output) = send_after_close_in_child(0)? else {
        return Ok(());
    };
    assert_eq!(
        output.status.signal(),
        Some(13),
        "killed by SIGPIPE (13): {output:?}"
    );

    // The same program with MSG_NOSIGNAL, as std's TcpStream::write passes it: an error, no death.
    let flags = socket_steps::experiments::MSG_NOSIGNAL;
    let Some(output) = send_after_close_in_child(flags)? else {
        return Ok(());
    };
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    assert!(
        support::stdout(&output).contains("Broken pipe"),
        "{output:?}"
    );
    Ok(())
}
// ANCHOR_END: sigpipe_child

// ANCHOR: time_wait
/// Opens a listener (with or without SO_REUSEADDR), lets it accept one client, closes the
/// server's side *first*, then everything. Returns the address, once the kernel shows the
/// server's old connection in TIME_WAIT and the client's side gone.
#[cfg(target_os = "linux")]
fn leave_time_wait(reuse: bool) -> io::Result<SocketAddr> {
    use socket_steps::proc_net::{find, snapshot, TcpState};

    let listener = socket_steps::step1_create::create_tcp_socket(loopback())?;
    listener.set_reuse_address(reuse)?;
    socket_steps::step2_bind::bind(&listener, loopback())?;
    socket_steps::step3_listen::listen(&listener, 1)?;
    let addr = local_addr(&listener)?;
    let client = connect(addr, PATIENCE)?;
    let client_addr = local_addr(&client)?;
    let (connection, _) = accept(&listener)?;
    close(connection); // the server closes first...
    client.set_read_timeout(Some(PATIENCE))?;
    assert_eq!(recv(&client, 16)?, b"");
    close(client); // ...then the client
    close(listener);
    wait_for_kernel(|| {
        let entries = snapshot().unwrap();
        let server_side = find(&entries, addr, Some(client_addr));
        let client_side = find(&entries, client_addr, Some(addr));
        assert!(
            client_side.iter().all(|e| e.state != TcpState::TimeWait),
            "TIME_WAIT is on the side that closed first"
        );
        server_side.iter().any(|e| e.state == TcpState::TimeWait) && client_side.is_empty()
    });
    Ok(addr)
}

/// Binds a new socket to `addr`, with or without SO_REUSEADDR.
#[cfg(target_os = "linux")]
fn rebind(addr: SocketAddr, reuse: bool) -> io::Result<socket2::Socket> {
    let socket = socket_steps::step1_create::create_tcp_socket(addr)?;
    socket.set_reuse_address(reuse)?;
    socket_steps::step2_bind::bind(&socket, addr)?;
    Ok(socket)
}

#[test]
#[cfg(target_os = "linux")]
fn time_wait_blocks_a_restart_unless_both_sockets_reuse() -> io::Result<()> {
    let kind = |result: io::Result<socket2::Socket>| result.err().map(|e| e.kind());
    let in_use = Some(io::ErrorKind::AddrInUse);
    assert_eq!(
        kind(rebind(leave_time_wait(false)?, false)),
        in_use,
        "nobody set SO_REUSEADDR"
    );
    assert_eq!(
        kind(rebind(leave_time_wait(false)?, true)),
        in_use,
        "only the new socket set it"
    );
    assert_eq!(
        kind(rebind(leave_time_wait(true)?, false)),
        in_use,
        "only the old socket set it"
    );
    assert_eq!(
        kind(rebind(leave_time_wait(true)?, true)),
        None,
        "both set it: the restart works"
    );
    Ok(())
}
// ANCHOR_END: time_wait

// ANCHOR: never_two_listeners
#[test]
#[cfg(target_os = "linux")]
fn reuse_address_never_allows_two_listeners() -> io::Result<()> {
    let first = listening_socket(loopback(), 5)?; // sets SO_REUSEADDR
    let addr = local_addr(&first)?;
    let error = listening_socket(addr, 5).expect_err("a second listener on the same address");
    assert_eq!(error.kind(), io::ErrorKind::AddrInUse);
    Ok(())
}
// ANCHOR_END: never_two_listeners

// ANCHOR: reuse_port
#[test]
#[cfg(target_os = "linux")]
fn reuse_port_lets_two_sockets_listen_on_one_address() -> io::Result<()> {
    let listen_with_reuse_port = |addr: SocketAddr| -> io::Result<socket2::Socket> {
        let socket = socket_steps::step1_create::create_tcp_socket(addr)?;
        socket.set_reuse_port(true)?; // SO_REUSEPORT, on both sockets, before bind
        socket_steps::step2_bind::bind(&socket, addr)?;
        socket_steps::step3_listen::listen(&socket, 5)?;
        Ok(socket)
    };
    let first = listen_with_reuse_port(loopback())?;
    let addr = local_addr(&first)?;
    let second = listen_with_reuse_port(addr)?;
    assert_eq!(local_addr(&second)?, addr, "two listeners, one address");
    Ok(())
}
// ANCHOR_END: reuse_port

// ANCHOR: wildcard_and_specific
#[test]
#[cfg(target_os = "linux")]
fn linux_lets_reuse_address_sockets_share_a_port_until_one_listens() -> io::Result<()> {
    let reuse_and_bind = |addr: SocketAddr| -> io::Result<socket2::Socket> {
        let socket = socket_steps::step1_create::create_tcp_socket(addr)?;
        socket.set_reuse_address(true)?;
        socket_steps::step2_bind::bind(&socket, addr)?;
        Ok(socket)
    };
    // Two bound sockets, neither listening, both with SO_REUSEADDR: one port, no error.
    let first = reuse_and_bind(loopback())?;
    let addr = local_addr(&first)?;
    let _second = reuse_and_bind(addr)?;
    drop(_second);
    // Once one listens on 127.0.0.1, the wildcard 0.0.0.0 on the same port is refused, although
    // the addresses differ (the BSDs allow it).
    socket_steps::step3_listen::listen(&first, 5)?;
    let wildcard = SocketAddr::from(([0, 0, 0, 0], addr.port()));
    let error = reuse_and_bind(wildcard).expect_err("the wildcard overlaps 127.0.0.1");
    assert_eq!(error.kind(), io::ErrorKind::AddrInUse);
    Ok(())
}
// ANCHOR_END: wildcard_and_specific

// ANCHOR: refused
#[test]
fn connect_where_nothing_listens_is_refused() -> io::Result<()> {
    // A socket that is bound but not listening holds the port, and a SYN to it is answered with
    // RST. It does *not* set SO_REUSEADDR: that way no other socket can bind the port, let alone
    // listen there, during the test (see the next experiment).
    let holder = socket_steps::step1_create::create_tcp_socket(loopback())?;
    socket_steps::step2_bind::bind(&holder, loopback())?;
    let addr = local_addr(&holder)?;
    let error = connect(addr, PATIENCE).expect_err("nothing listens");
    assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused);
    let advice = socket_steps::advice::connect_failed(addr, error).to_string();
    assert!(advice.contains("nothing is listening"), "{advice}");
    Ok(())
}
// ANCHOR_END: refused

// ANCHOR: reuse_holder
#[test]
#[cfg(target_os = "linux")]
fn a_bound_holder_with_reuse_address_does_not_keep_a_listener_away() -> io::Result<()> {
    // Bound, not listening, with SO_REUSEADDR (create_and_bind sets it, as servers do).
    let holder = create_and_bind(loopback())?;
    let addr = local_addr(&holder)?;
    // std's TcpListener::bind sets SO_REUSEADDR too: Linux lets it bind the same port and listen.
    let listener = std::net::TcpListener::bind(addr)?;
    let client = TcpStream::connect_timeout(&addr, PATIENCE)?;
    let (_, peer) = listener.accept()?;
    assert_eq!(
        peer,
        client.local_addr()?,
        "the second socket took the connection"
    );
    Ok(())
}
// ANCHOR_END: reuse_holder

// ANCHOR: unresolvable
#[test]
#[cfg(target_os = "linux")]
fn a_name_that_does_not_resolve_fails_before_any_socket() {
    // In a network namespace of our own, whose resolver is a stub on its loopback: the lookup is
    // real, and no query leaves the machine.
    support::in_private_network(|| {
        let resolver = support::dns_stub();
        let error = socket_steps::cli::resolve("no-such-host.invalid:50007").unwrap_err();
        assert!(
            error.to_string().contains("could not resolve the host"),
            "{error}"
        );
        // std's connect resolves first too: the error is the resolver's, not a refusal or a
        // timeout, and no socket was made.
        let error = TcpStream::connect("no-such-host.invalid:50007").unwrap_err();
        assert!(
            !matches!(
                error.kind(),
                io::ErrorKind::ConnectionRefused | io::ErrorKind::TimedOut
            ),
            "{error}"
        );
        // Both asked the resolver: `getaddrinfo(3)` sent the name to port 53.
        let asked = resolver.asked();
        assert!(
            asked
                .iter()
                .all(|name| name.starts_with("no-such-host.invalid"))
                && asked.len() >= 2,
            "{asked:?}"
        );
        Ok(())
    });
}
// ANCHOR_END: unresolvable

/// Polls a kernel state with a deadline (reading `/proc` is cheap); fails after [`PATIENCE`].
#[cfg(target_os = "linux")]
fn wait_for_kernel(mut condition: impl FnMut() -> bool) {
    support::poll_until("the kernel reaching the state", PATIENCE, || {
        condition().then_some(())
    })
}
