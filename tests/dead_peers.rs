//! Dead peers (Linux): when the peer's machine vanishes, no FIN and no RST ever come, and a
//! blocking `recv` waits for ever. Keepalive (`SO_KEEPALIVE`, `TCP_KEEPIDLE`, `TCP_KEEPINTVL`,
//! `TCP_KEEPCNT`) and `TCP_USER_TIMEOUT` are how the kernel finds out; an application heartbeat
//! is how a protocol does.
//!
//! The peer is the course's own `echo_server`, running in a second network namespace, at the
//! far end of a virtual cable (a veth pair): 10.7.7.1 here, 10.7.7.2 there. To make its machine
//! vanish we take the cable's far end down: from then on every packet we send is lost, without a
//! word, exactly as when a machine loses power. All of it happens inside namespaces the test
//! made (`support::in_private_network`); the Process chapter ("When the peer vanishes")
//! includes this file region by region.
#![cfg(target_os = "linux")]

mod support;

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use socket2::{Socket, TcpKeepalive};
use socket_steps::experiments::PATIENCE;
use socket_steps::proc_net::{state_of, TcpState};

const ECHO_SERVER: &str = env!("CARGO_BIN_EXE_echo_server");

// ANCHOR: peer
/// The course's echo server in a network namespace of its own, reachable over a virtual cable.
struct PeerAcrossACable {
    server: support::Server,
}

impl PeerAcrossACable {
    /// Starts `echo_server` under `unshare --net` (its own namespace), moves the cable's far end
    /// `vb` into that namespace, and gives both ends addresses: 10.7.7.1 here, 10.7.7.2 there.
    fn start() -> PeerAcrossACable {
        support::ip(&["link", "add", "va", "type", "veth", "peer", "name", "vb"]);
        let server = support::start_server("unshare", &["--net", "--", ECHO_SERVER, "0.0.0.0:0"]);
        let peer = PeerAcrossACable { server };
        support::ip(&[
            "link",
            "set",
            "vb",
            "netns",
            &peer.server.child.id().to_string(),
        ]);
        peer.there(&["addr", "add", "10.7.7.2/24", "dev", "vb"]);
        peer.there(&["link", "set", "vb", "up"]);
        support::ip(&["addr", "add", "10.7.7.1/24", "dev", "va"]);
        support::ip(&["link", "set", "va", "up"]);
        peer
    }

    /// Where the peer listens, seen from here.
    fn addr(&self) -> SocketAddr {
        SocketAddr::from(([10, 7, 7, 2], self.server.addr.port()))
    }

    /// Runs `ip ARGS` in the peer's namespace (`nsenter --net`).
    fn there(&self, args: &[&str]) {
        let pid = self.server.child.id().to_string();
        let status = Command::new("nsenter")
            .args(["--target", &pid, "--net", "--", "ip"])
            .args(args)
            .status()
            .expect("nsenter (util-linux)");
        assert!(
            status.success(),
            "ip {} in the peer's namespace",
            args.join(" ")
        );
    }

    /// The peer's machine vanishes: the cable's far end goes down. Nothing is sent to us.
    fn vanish(&self) {
        self.there(&["link", "set", "vb", "down"]);
    }
}

/// A connection to the peer that has been answered once, so we know the path works.
fn connected(peer: &PeerAcrossACable) -> io::Result<TcpStream> {
    let mut stream = TcpStream::connect_timeout(&peer.addr(), PATIENCE)?;
    stream.write_all(b"are you there?")?;
    let mut reply = [0; 28];
    stream.set_read_timeout(Some(PATIENCE))?;
    stream.read_exact(&mut reply)?;
    assert_eq!(&reply, b"|From Server| are you there?");
    Ok(stream)
}
// ANCHOR_END: peer

// ANCHOR: silence
#[test]
fn when_the_peer_vanishes_recv_hears_nothing_and_the_connection_stays_established() {
    support::in_private_network(|| {
        let peer = PeerAcrossACable::start();
        let mut stream = connected(&peer)?;
        peer.vanish();
        // A send succeeds: it only queues the bytes in our kernel, which sends them, and
        // resends them, and hears nothing back.
        stream.write_all(b"hello?")?;
        // Nothing arrives: no echo, no FIN (recv would return 0), no RST (ConnectionReset).
        // Only our own read timeout ends the wait; without one, recv would block for ever.
        stream.set_read_timeout(Some(Duration::from_secs(1)))?;
        let error = stream.read(&mut [0; 100]).expect_err("nothing can arrive");
        assert_eq!(
            error.kind(),
            io::ErrorKind::WouldBlock,
            "our timeout: {error}"
        );
        // The kernel still calls the connection established, with our 6 bytes unacknowledged.
        let ours = state_of(stream.local_addr()?, Some(peer.addr())).expect("in the table");
        assert_eq!(
            (ours.state, ours.tx_queue),
            (TcpState::Established, 6),
            "{ours}"
        );
        Ok(())
    });
}
// ANCHOR_END: silence

// ANCHOR: keepalive
#[test]
fn keepalive_probes_find_a_vanished_peer_and_recv_fails_with_timed_out() {
    support::in_private_network(|| {
        let peer = PeerAcrossACable::start();
        let stream = connected(&peer)?;
        // After 1 s of silence, probe; probe every second; after 2 unanswered probes, give up.
        // (Linux's defaults: 7200 s, 75 s, 9 probes: 2 hours and 11 minutes.)
        let keepalive = TcpKeepalive::new()
            .with_time(Duration::from_secs(1))
            .with_interval(Duration::from_secs(1))
            .with_retries(2);
        let socket = Socket::from(stream);
        socket.set_tcp_keepalive(&keepalive)?; // SO_KEEPALIVE, TCP_KEEPIDLE, _KEEPINTVL, _KEEPCNT
        peer.vanish();
        let started = Instant::now();
        let mut stream = TcpStream::from(socket);
        let error = stream.read(&mut [0; 100]).expect_err("the peer is gone");
        // ETIMEDOUT, from the kernel: not our read timeout (PATIENCE, 10 s), which gives
        // WouldBlock.
        assert_eq!(error.kind(), io::ErrorKind::TimedOut, "{error}");
        println!("keepalive gave up after {:?}", started.elapsed());
        Ok(())
    });
}
// ANCHOR_END: keepalive

// ANCHOR: user_timeout
#[test]
fn tcp_user_timeout_gives_up_on_data_the_vanished_peer_never_acknowledges() {
    support::in_private_network(|| {
        let peer = PeerAcrossACable::start();
        let stream = connected(&peer)?;
        let socket = Socket::from(stream);
        // At most 1 s for what we send to be acknowledged; then the kernel drops the
        // connection. Without it, retransmissions go on for about 15 minutes (tcp_retries2).
        socket.set_tcp_user_timeout(Some(Duration::from_secs(1)))?;
        peer.vanish();
        let mut stream = TcpStream::from(socket);
        stream.write_all(b"hello?")?; // queued and sent; never acknowledged
        let error = stream.read(&mut [0; 100]).expect_err("the peer is gone");
        assert_eq!(error.kind(), io::ErrorKind::TimedOut, "{error}");
        Ok(())
    });
}
// ANCHOR_END: user_timeout
