//! IPv6: `[::1]`, `[::]`, and one socket for both families. Every test first checks that this
//! machine has IPv6 at all (`[::1]` binds) and skips, saying so, if not (`support::skip`: in
//! strict mode, as in CI, that is a failure).

mod support;

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use socket_steps::client::connect;
use socket_steps::ipv6::{canonical, dual_stack_listener, has_ipv6_loopback, ipv6_listener};
use socket_steps::step2_bind::{create_and_bind, local_addr};
use socket_steps::step4_accept::accept;

const PATIENCE: Duration = Duration::from_secs(10);

/// Returns true (and says why) when the machine has no IPv6, so the test should stop.
fn no_ipv6() -> bool {
    let missing = !has_ipv6_loopback();
    if missing {
        support::skip("this machine cannot bind [::1] (IPv6 is off here)");
    }
    missing
}

// ANCHOR: loopback6
#[test]
fn ipv6_loopback_works_like_127_0_0_1() -> io::Result<()> {
    if no_ipv6() {
        return Ok(());
    }
    let listener = ipv6_listener("[::1]:0".parse().unwrap(), true)?;
    let addr = local_addr(&listener)?;
    assert_eq!(addr.ip(), Ipv6Addr::LOCALHOST);
    let client = connect(addr, PATIENCE)?;
    let (_connection, peer) = accept(&listener)?;
    assert_eq!(peer, local_addr(&client)?);
    assert_eq!(
        peer.ip(),
        Ipv6Addr::LOCALHOST,
        "the client came from ::1 too"
    );
    // Written with brackets around the address, so the port's colon is not ambiguous.
    assert_eq!(
        socket_steps::cli::resolve(&format!("[::1]:{}", addr.port())).unwrap()[0],
        addr
    );
    Ok(())
}
// ANCHOR_END: loopback6

// ANCHOR: dual_stack
#[test]
fn a_dual_stack_listener_sees_ipv4_clients_as_mapped_addresses() -> io::Result<()> {
    if no_ipv6() {
        return Ok(());
    }
    let listener = dual_stack_listener(0)?; // [::]:port with IPV6_V6ONLY off
    let port = local_addr(&listener)?.port();
    let client = connect(SocketAddr::from((Ipv4Addr::LOCALHOST, port)), PATIENCE)?;
    let (_connection, peer) = accept(&listener)?;
    assert_eq!(
        peer.ip().to_string(),
        "::ffff:127.0.0.1",
        "an IPv4 client, in IPv6 clothes"
    );
    assert_eq!(
        canonical(peer),
        local_addr(&client)?,
        "and the address a person would write"
    );
    // The one socket holds the port for both families: IPv4 cannot bind it separately.
    let error =
        create_and_bind(SocketAddr::from((Ipv4Addr::UNSPECIFIED, port))).expect_err("taken");
    assert_eq!(error.kind(), io::ErrorKind::AddrInUse);
    Ok(())
}
// ANCHOR_END: dual_stack

// ANCHOR: v6_only
#[test]
fn a_v6_only_listener_leaves_ipv4_alone() -> io::Result<()> {
    if no_ipv6() {
        return Ok(());
    }
    let listener = ipv6_listener("[::]:0".parse().unwrap(), true)?; // IPV6_V6ONLY on
    let port = local_addr(&listener)?.port();
    // The IPv4 side of the port is free: a separate socket can bind it (we do not listen on it,
    // so nothing else can either)...
    let v4 = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let _holder = create_and_bind(v4)?;
    // ...and an IPv4 client is refused: the IPv6 listener does not take it.
    let error = connect(v4, PATIENCE).expect_err("nobody listens on IPv4");
    assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused);
    Ok(())
}
// ANCHOR_END: v6_only
