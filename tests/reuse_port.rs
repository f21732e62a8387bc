//! `SO_REUSEPORT` (Linux 3.9 and later): several sockets listen on one address, and the kernel
//! spreads the incoming connections among them. The Bind chapter ("`SO_REUSEPORT`") includes
//! this file.
#![cfg(target_os = "linux")]

use std::io;
use std::net::{SocketAddr, TcpStream};

use socket2::{Domain, Socket, Type};
use socket_steps::experiments::{poll_until, PATIENCE};

// ANCHOR: listener
/// socket + `SO_REUSEPORT` + bind + listen: a listener that shares its address with any other
/// socket of the same user that set `SO_REUSEPORT` too.
fn reuse_port_listener(addr: SocketAddr) -> io::Result<Socket> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_port(true)?; // before bind: the kernel checks it there
    socket.bind(&addr.into())?;
    socket.listen(64)?;
    Ok(socket)
}
// ANCHOR_END: listener

// ANCHOR: two_listeners
#[test]
fn two_listeners_share_a_port_and_the_kernel_spreads_connections_between_them() -> io::Result<()> {
    let first = reuse_port_listener("127.0.0.1:0".parse().unwrap())?;
    let addr = first.local_addr()?.as_socket().unwrap();
    let second = reuse_port_listener(addr)?; // the same address: allowed
                                             // A socket without SO_REUSEPORT still may not join them.
    let outsider = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    let error = outsider.bind(&addr.into()).expect_err("the port is taken");
    assert_eq!(error.kind(), io::ErrorKind::AddrInUse);

    // 32 clients. The kernel picks a listener for each by a hash of the connection's addresses
    // and ports: like tossing a coin, so both get some (all 32 on one side: 1 chance in 2^31).
    let clients: Vec<TcpStream> = (0..32)
        .map(|_| TcpStream::connect_timeout(&addr, PATIENCE))
        .collect::<io::Result<_>>()?;
    let counts = accept_all(&[&first, &second], clients.len())?;
    println!("connections accepted by each listener: {counts:?}");
    assert!(counts.iter().all(|&n| n > 0), "{counts:?}");
    Ok(())
}
// ANCHOR_END: two_listeners

/// Accepts from each listener, without blocking, until `total` connections are accepted (at
/// most [`PATIENCE`]), and returns how many each one got.
fn accept_all(listeners: &[&Socket], total: usize) -> io::Result<Vec<usize>> {
    let mut counts = vec![0; listeners.len()];
    for listener in listeners {
        listener.set_nonblocking(true)?;
    }
    let done = poll_until(PATIENCE, || {
        for (listener, count) in listeners.iter().zip(&mut counts) {
            match listener.accept() {
                Ok(_) => *count += 1,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                Err(error) => return Some(Err(error)),
            }
        }
        (counts.iter().sum::<usize>() >= total).then_some(Ok(()))
    });
    done.unwrap_or_else(|| panic!("accepted only {counts:?}"))?;
    Ok(counts)
}
