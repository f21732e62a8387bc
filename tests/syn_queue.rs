//! The SYN queue, beside the accept queue (Linux): where half-open connections wait, what bounds
//! it (the backlog, `net.ipv4.tcp_max_syn_backlog`), and what SYN cookies change.
//!
//! A half-open connection is one whose client sent a SYN and never answered the server's
//! SYN-ACK. On loopback a real client always answers at once, so we play the client by hand: a
//! raw socket sends SYNs from 10.9.9.1 (`socket_steps::raw::send_syn`), an address behind a
//! network link whose far end is down, so the server's SYN-ACKs go nowhere.
//!
//! Every test runs in a network namespace of its own (`support::in_private_network`): the
//! sysctls it sets and the counters it reads in `/proc/net/netstat` are that namespace's alone.
//! The Listen chapter ("The SYN queue") includes this file region by region.
#![cfg(target_os = "linux")]

mod support;

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use socket2::{Domain, Socket, Type};
use socket_steps::experiments::PATIENCE;
use socket_steps::proc_net::{counter, snapshot, TcpState};
use socket_steps::raw::send_syn;
use socket_steps::step3_listen::listening_socket;

/// The server's address in the namespace: on the near end of the link.
const SERVER: Ipv4Addr = Ipv4Addr::new(10, 9, 9, 254);
/// Where our hand-made SYNs come from: across the link, where nobody will ever answer.
const NOBODY: Ipv4Addr = Ipv4Addr::new(10, 9, 9, 1);

// ANCHOR: unreachable_clients
/// A link whose far end is down: a veth pair (two ends of a virtual cable), `va` up with
/// 10.9.9.254/24, `vb` left down. Packets routed into `va` for 10.9.9.x are lost without a word,
/// like SYN-ACKs to a client that has vanished (or never existed: a SYN flood).
fn network_with_unreachable_clients() {
    support::ip(&["link", "add", "va", "type", "veth", "peer", "name", "vb"]);
    support::ip(&["addr", "add", "10.9.9.254/24", "dev", "va"]);
    support::ip(&["link", "set", "va", "up"]);
}

/// `count` SYNs to `to`, from 10.9.9.1, ports 40000, 40001...: as many half-open connections.
fn syns_from_nobody(to: SocketAddrV4, count: u16) -> io::Result<()> {
    for port in 40000..40000 + count {
        send_syn(SocketAddrV4::new(NOBODY, port), to, 1)?;
    }
    Ok(())
}
// ANCHOR_END: unreachable_clients

/// A listener on 10.9.9.254 with `backlog`, and its address.
fn listener(backlog: i32) -> io::Result<(Socket, SocketAddrV4)> {
    let listener = listening_socket(SocketAddr::from((SERVER, 0)), backlog)?;
    match listener.local_addr()?.as_socket() {
        Some(SocketAddr::V4(addr)) => Ok((listener, addr)),
        other => panic!("an IPv4 listener, not {other:?}"),
    }
}

/// How many half-open connections (`SYN_RECV` in `/proc/net/tcp`) the listener at `addr` has.
fn half_open(addr: SocketAddrV4) -> usize {
    let entries = snapshot().expect("Linux has /proc/net/tcp");
    entries
        .iter()
        .filter(|e| e.state == TcpState::SynRecv && e.local == SocketAddr::V4(addr))
        .count()
}

/// A `TcpExt` counter of `/proc/net/netstat`, in this namespace.
fn tcp_ext(name: &str) -> u64 {
    counter("TcpExt", name).unwrap_or_else(|| panic!("this kernel has no TcpExt {name}"))
}

/// Waits, at most [`PATIENCE`], until `done` holds: the kernel handles each SYN in its own time.
fn wait_until(what: &str, done: impl Fn() -> bool) {
    support::poll_until(what, PATIENCE, || done().then_some(()))
}

// ANCHOR: half_open
#[test]
fn a_half_open_connection_waits_in_the_syn_queue_not_in_the_accept_queue() {
    support::in_private_network(|| {
        network_with_unreachable_clients();
        let (listener, addr) = listener(8)?;
        syns_from_nobody(addr, 1)?;
        // The kernel answered with SYN-ACK and keeps the connection half-open, SYN_RECV...
        wait_until("one SYN_RECV", || half_open(addr) == 1);
        // ...but it is not in the accept queue, and accept has nothing to give.
        let listening = snapshot().unwrap();
        let entry = listening
            .iter()
            .find(|e| e.state == TcpState::Listen && e.local == SocketAddr::V4(addr))
            .expect("the listener");
        assert_eq!(entry.rx_queue, 0, "the accept queue is empty");
        listener.set_nonblocking(true)?;
        let error = listener.accept().expect_err("nothing to accept");
        assert_eq!(error.kind(), io::ErrorKind::WouldBlock);
        Ok(())
    });
}
// ANCHOR_END: half_open

// ANCHOR: no_cookies
#[test]
fn without_syn_cookies_the_backlog_bounds_the_syn_queue_and_later_syns_are_dropped() {
    support::in_private_network(|| {
        network_with_unreachable_clients();
        support::sysctl("net.ipv4.tcp_syncookies", "0");
        let (_listener, addr) = listener(4)?;
        syns_from_nobody(addr, 10)?;
        // backlog 4 holds 5 half-open connections (as the accept queue holds backlog + 1);
        // the kernel drops the other 5 SYNs without a word, and counts them.
        wait_until("10 SYNs handled", || {
            half_open(addr) + tcp_ext("TCPReqQFullDrop") as usize == 10
        });
        assert_eq!(half_open(addr), 5);
        assert_eq!(tcp_ext("TCPReqQFullDrop"), 5);
        assert_eq!(
            tcp_ext("ListenDrops"),
            5,
            "the counter `nstat` shows as TcpExtListenDrops"
        );
        // A real client now fares no better: its SYN is dropped too, and it waits in SYN_SENT,
        // retrying, until the half-open ones time out or its own connect gives up.
        let client = Socket::new(Domain::IPV4, Type::STREAM, None)?;
        client.set_nonblocking(true)?;
        let _ = client.connect(&SocketAddr::V4(addr).into()); // EINPROGRESS
        wait_until("the real SYN dropped", || tcp_ext("TCPReqQFullDrop") >= 6);
        let mine = client.local_addr()?.as_socket().unwrap();
        let state = snapshot().unwrap().into_iter().find(|e| e.local == mine);
        assert_eq!(state.map(|e| e.state), Some(TcpState::SynSent));
        Ok(())
    });
}
// ANCHOR_END: no_cookies

// ANCHOR: max_syn_backlog
#[test]
fn without_syn_cookies_tcp_max_syn_backlog_bounds_the_syn_queue_too() {
    support::in_private_network(|| {
        network_with_unreachable_clients();
        support::sysctl("net.ipv4.tcp_syncookies", "0");
        support::sysctl("net.ipv4.tcp_max_syn_backlog", "8");
        let (_listener, addr) = listener(100)?; // the backlog is not the limit here
        syns_from_nobody(addr, 20)?;
        // A SYN is dropped once fewer than a quarter of tcp_max_syn_backlog's places are free:
        // with 8, seven half-open connections fit.
        wait_until("20 SYNs handled", || {
            half_open(addr) + tcp_ext("ListenDrops") as usize == 20
        });
        assert_eq!(half_open(addr), 7);
        Ok(())
    });
}
// ANCHOR_END: max_syn_backlog

// ANCHOR: cookies
#[test]
fn with_syn_cookies_a_real_client_gets_in_past_a_full_syn_queue() {
    support::in_private_network(|| {
        network_with_unreachable_clients();
        support::sysctl("net.ipv4.tcp_syncookies", "1"); // Linux's default
        let (listener, addr) = listener(4)?;
        syns_from_nobody(addr, 10)?;
        // The queue is full with 5; the other 5 SYNs got a SYN-ACK whose sequence number is a
        // cookie: the connection is encoded in it, and nothing is kept.
        wait_until("5 cookies sent", || tcp_ext("SyncookiesSent") == 5);
        assert_eq!(half_open(addr), 5, "cookies take no place in the queue");
        // A real client answers its cookie with an ACK; the kernel checks the cookie, and
        // the connection is made from it straight into the accept queue.
        let client = std::net::TcpStream::connect_timeout(&SocketAddr::V4(addr), PATIENCE)?;
        assert_eq!(
            tcp_ext("SyncookiesRecv"),
            1,
            "the connection came from a cookie"
        );
        listener.set_read_timeout(Some(PATIENCE))?; // Linux: bounds accept too
        let (_connection, peer) = listener.accept()?;
        assert_eq!(peer.as_socket(), Some(client.local_addr()?));
        Ok(())
    });
}
// ANCHOR_END: cookies
