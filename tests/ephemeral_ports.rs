//! Ephemeral ports, and the TIME_WAIT a client leaves behind (Linux).
//!
//! A client's `connect` takes a local port from `net.ipv4.ip_local_port_range` (32768 to 60999
//! by default). Each connection to one server address needs a port of its own, and a port stays
//! taken while its connection lives, and for 60 s of TIME_WAIT after, on the side that closed
//! first. To run out on purpose, bounded, we narrow the range to 10 ports, in a network
//! namespace of the test's own (`support::in_private_network`): the host's range is never
//! touched. The Client chapter ("Running out of ports") includes this file region by region.
#![cfg(target_os = "linux")]

mod support;

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};

use socket_steps::experiments::PATIENCE;
use socket_steps::proc_net::{snapshot, wait_for, TcpState};

/// The server, at a fixed port outside the narrowed range: in a namespace of our own, nobody
/// else can hold it.
const SERVER: &str = "127.0.0.1:50007";

// ANCHOR: ten_ports
/// Narrows the ephemeral ports to 40000-40009 and turns off the reuse of TIME_WAIT ports for new
/// connections (`tcp_tw_reuse`; its default, 2, allows it on loopback after a second).
fn ten_ephemeral_ports() {
    support::sysctl("net.ipv4.ip_local_port_range", "40000 40009");
    support::sysctl("net.ipv4.tcp_tw_reuse", "0");
}
// ANCHOR_END: ten_ports

/// Ten connections to the server, one per ephemeral port.
fn ten_clients(server: SocketAddr) -> io::Result<Vec<TcpStream>> {
    (0..10)
        .map(|_| TcpStream::connect_timeout(&server, PATIENCE))
        .collect()
}

// ANCHOR: exhausted
#[test]
fn when_every_ephemeral_port_is_taken_connect_fails_with_addr_not_available() {
    support::in_private_network(|| {
        ten_ephemeral_ports();
        let listener = TcpListener::bind(SERVER)?;
        let server = listener.local_addr()?;
        let clients = ten_clients(server)?;
        let ports: Vec<u16> = clients
            .iter()
            .map(|c| c.local_addr().map(|a| a.port()))
            .collect::<io::Result<_>>()?;
        assert!(
            ports.iter().all(|p| (40000..=40009).contains(p)),
            "{ports:?}"
        );
        // The eleventh finds no free port: EADDRNOTAVAIL, "Cannot assign requested address".
        let error = TcpStream::connect_timeout(&server, PATIENCE).expect_err("no port left");
        assert_eq!(error.kind(), io::ErrorKind::AddrNotAvailable, "{error}");
        Ok(())
    });
}
// ANCHOR_END: exhausted

// ANCHOR: time_wait
#[test]
fn a_client_that_closes_first_keeps_its_port_in_time_wait() {
    support::in_private_network(|| {
        ten_ephemeral_ports();
        let listener = TcpListener::bind(SERVER)?;
        let server = listener.local_addr()?;
        let clients = ten_clients(server)?;
        let accepted: Vec<TcpStream> = clients
            .iter()
            .map(|_| listener.accept().map(|(stream, _)| stream))
            .collect::<io::Result<_>>()?;
        // The clients close first (FIN), then the server closes its ends.
        let ours: Vec<SocketAddr> = clients
            .iter()
            .map(|c| c.local_addr())
            .collect::<io::Result<_>>()?;
        drop(clients);
        for &client in &ours {
            wait_for(client, Some(server), PATIENCE, |e| {
                e.state == TcpState::FinWait2
            });
        }
        drop(accepted);
        // Every client connection is in TIME_WAIT now, on the client's side: its port is taken
        // for 60 s, although no program uses it any more...
        for &client in &ours {
            let entry = wait_for(client, Some(server), PATIENCE, |e| {
                e.state == TcpState::TimeWait
            });
            assert_eq!(entry.map(|e| e.state), Some(TcpState::TimeWait), "{client}");
        }
        let waiting = snapshot().unwrap();
        let waiting = waiting
            .iter()
            .filter(|e| e.state == TcpState::TimeWait)
            .count();
        assert_eq!(waiting, 10);
        // ...so a new client finds no port, with nothing connected at all.
        let error = TcpStream::connect_timeout(&server, PATIENCE).expect_err("no port left");
        assert_eq!(error.kind(), io::ErrorKind::AddrNotAvailable, "{error}");
        Ok(())
    });
}
// ANCHOR_END: time_wait
