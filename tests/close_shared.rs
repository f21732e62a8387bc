//! Closing a socket that has several descriptors, and `SO_LINGER`: what `close(2)` really does.
//!
//! A descriptor is a process's handle on a socket; `dup(2)`, `fork(2)` and socket2's
//! `try_clone` make more handles on the *same* socket. `close` lets go of one handle; the kernel
//! ends the connection (FIN) only when the last one goes. `shutdown(2)` acts on the connection
//! itself, whatever handles remain. The Close chapter includes this file region by region.

use std::io;
use std::net::Shutdown;

use socket_steps::experiments::{loopback_pair, wait_for_bytes};
use socket_steps::step5_process::{recv, send_all};

// ANCHOR: duplicate
#[test]
fn close_sends_no_fin_while_another_descriptor_of_the_socket_is_open() -> io::Result<()> {
    let (client, server) = loopback_pair()?;
    let duplicate = server.try_clone()?; // dup(2): a second descriptor, the same socket
    drop(server); // close(2) of the first descriptor: no FIN, the socket lives on
    send_all(&duplicate, b"still here")?;
    wait_for_bytes(&client, 10)?;
    assert_eq!(recv(&client, 100)?, b"still here", "the connection is open");
    drop(duplicate); // the last descriptor: now the FIN
    assert_eq!(recv(&client, 100)?, b"", "end of stream");
    Ok(())
}
// ANCHOR_END: duplicate

// ANCHOR: shutdown_shared
#[test]
fn shutdown_ends_the_connection_for_every_descriptor() -> io::Result<()> {
    let (client, server) = loopback_pair()?;
    let duplicate = server.try_clone()?;
    duplicate.shutdown(Shutdown::Write)?; // FIN now, although `server` is still open
    assert_eq!(recv(&client, 100)?, b"", "end of stream");
    #[cfg(target_os = "linux")]
    {
        let error = socket_steps::experiments::send_no_signal(&server, b"x").expect_err("shut");
        assert_eq!(
            error.kind(),
            io::ErrorKind::BrokenPipe,
            "EPIPE: this socket's sending side is shut"
        );
    }
    Ok(())
}
// ANCHOR_END: shutdown_shared

// ANCHOR: linger_zero
#[test]
fn close_with_a_zero_linger_time_sends_a_reset_and_leaves_no_time_wait() -> io::Result<()> {
    let (client, server) = loopback_pair()?;
    // Its addresses, to look for a TIME_WAIT entry afterwards (the kernel's table is Linux's).
    #[cfg_attr(not(target_os = "linux"), allow(unused_variables))]
    let (ours, theirs) = (server.local_addr()?, server.peer_addr()?);
    server.set_linger(Some(std::time::Duration::ZERO))?; // SO_LINGER { on, 0 s }
    drop(server); // close(2): RST instead of FIN, and the socket is gone at once
    let error = recv(&client, 100).expect_err("a reset, not an end of stream");
    assert_eq!(error.kind(), io::ErrorKind::ConnectionReset);
    #[cfg(target_os = "linux")]
    {
        let (ours, theirs) = (ours.as_socket().unwrap(), theirs.as_socket().unwrap());
        let left = socket_steps::proc_net::state_of(ours, Some(theirs));
        assert_eq!(left, None, "no TIME_WAIT on the side that reset");
    }
    Ok(())
}
// ANCHOR_END: linger_zero
