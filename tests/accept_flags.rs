//! What an accepted socket inherits from its listener: on Linux, not `O_NONBLOCK`. The Accept
//! chapter ("What `accept` does not copy") includes this file. Unix only: Windows cannot tell
//! whether a socket is non-blocking.
#![cfg(unix)]

use std::io;

use socket_steps::experiments::{poll_until, PATIENCE};

// ANCHOR: nonblocking
#[test]
fn an_accepted_socket_does_not_inherit_o_nonblocking_on_linux() -> io::Result<()> {
    let listener = socket_steps::step3_listen::listening_socket("127.0.0.1:0".parse().unwrap(), 1)?;
    listener.set_nonblocking(true)?; // fcntl(F_SETFL, O_NONBLOCK) on the listener
    let addr = listener.local_addr()?.as_socket().unwrap();
    let _client = std::net::TcpStream::connect_timeout(&addr, PATIENCE)?;
    // A poll with a deadline: the connection reaches the queue in the kernel's own time.
    let (connection, _) = poll_until(PATIENCE, || match listener.accept() {
        Err(error) if error.kind() == io::ErrorKind::WouldBlock => None,
        accepted => Some(accepted),
    })
    .expect("nobody came")?;
    assert!(listener.nonblocking()?);
    // Linux: the new socket is blocking; BSD and macOS copy the listener's O_NONBLOCK.
    let inherited = connection.nonblocking()?;
    if cfg!(target_os = "linux") {
        assert!(
            !inherited,
            "Linux does not copy O_NONBLOCK to the accepted socket"
        );
    }
    println!("accepted socket non-blocking: {inherited}");
    Ok(())
}
// ANCHOR_END: nonblocking
