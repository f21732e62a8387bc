//! IPv6: `AF_INET6`, the family the tutorial leaves out.
//!
//! Everything of the six steps works the same; only the address is longer. Written in a
//! `HOST:PORT` the IPv6 address goes in brackets: `[::1]:50007` is this machine (like 127.0.0.1),
//! `[::]:50007` is every interface (like 0.0.0.0).
//!
//! One socket can serve both families. An `AF_INET6` socket bound to `[::]` with the option
//! `IPV6_V6ONLY` off ([`dual_stack_listener`]) also accepts IPv4 clients, and sees each one as an
//! *IPv4-mapped* IPv6 address: 127.0.0.1 arrives as `::ffff:127.0.0.1`.
//! `Ipv6Addr::to_ipv4_mapped` (or `IpAddr::to_canonical`) turns it back. Whether the option starts
//! on or off depends on the system (Linux: off, from `net.ipv6.bindv6only`; Windows: on; std
//! leaves it alone), so a program that cares sets it.
//!
//! A machine may have no IPv6 at all (some containers): binding `[::1]` then fails, and
//! [`has_ipv6_loopback`] is how our tests find out and skip.

use std::io;
use std::net::{Ipv6Addr, SocketAddr, TcpListener};

use socket2::Socket;

use crate::step1_create::create_tcp_socket;
use crate::step2_bind::{allow_quick_restart, bind};
use crate::step3_listen::{listen, SEED_BACKLOG};

/// IPv6's loopback address, `::1`, with port 0.
pub const LOOPBACK: SocketAddr = SocketAddr::new(std::net::IpAddr::V6(Ipv6Addr::LOCALHOST), 0);

// ANCHOR: has_ipv6
/// Whether this machine can bind `[::1]`. Some containers and old kernels have IPv6 switched off;
/// then every test of this module skips, saying why.
pub fn has_ipv6_loopback() -> bool {
    TcpListener::bind(LOOPBACK).is_ok()
}
// ANCHOR_END: has_ipv6

// ANCHOR: ipv6_listener
/// A TCP listener on an IPv6 address, with `IPV6_V6ONLY` set to `only_v6`.
///
/// With `only_v6 == false` and `addr` = `[::]:port`, the socket also takes IPv4 connections to
/// that port (dual stack). With `true`, IPv4 clients are refused: the port is free for a separate
/// IPv4 socket.
///
/// This function corresponds to `socket(AF_INET6, SOCK_STREAM, IPPROTO_TCP)`,
/// `setsockopt(IPPROTO_IPV6, IPV6_V6ONLY)`, `bind(2)` and `listen(2)`.
pub fn ipv6_listener(addr: SocketAddr, only_v6: bool) -> io::Result<Socket> {
    let socket = create_tcp_socket(addr)?;
    socket.set_only_v6(only_v6)?;
    allow_quick_restart(&socket)?;
    bind(&socket, addr)?;
    listen(&socket, SEED_BACKLOG)?;
    Ok(socket)
}
// ANCHOR_END: ipv6_listener

/// A listener on `[::]:port` that also accepts IPv4: [`ipv6_listener`] with `only_v6` off.
pub fn dual_stack_listener(port: u16) -> io::Result<Socket> {
    ipv6_listener(SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), port), false)
}

// ANCHOR: canonical
/// The address a person would write: `[::ffff:127.0.0.1]:5000` becomes `127.0.0.1:5000`; any
/// other address is returned as it is.
pub fn canonical(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip().to_canonical(), addr.port())
}
// ANCHOR_END: canonical
