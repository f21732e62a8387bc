//! Step 6: close a connection, and see the end of file and the TIME_WAIT it leaves behind.
//!
//! Run: `cargo run --bin step6_close [HOST:PORT] [--with-client] [--wire] [--pcap FILE]`.
//! Without `--with-client` it serves one client from another terminal; with it, it plays both
//! sides, and closes a second connection with unread data (a reset). Either way the server closes
//! first, so the TIME_WAIT is on its side. With `--wire` it shows the packets too (Linux, as
//! root). Chapter 6 of the book explains the output.

use std::net::SocketAddr;
use std::time::Duration;

use socket2::Socket;
use socket_steps::cli::{self, run_main};
use socket_steps::echo::{python_repr, reply_to};
use socket_steps::narrate::{self, explain, title};
use socket_steps::proc_net::{self, TcpState};
use socket_steps::step1_create::{create_tcp_socket, describe};
use socket_steps::step3_listen::SEED_BACKLOG;
use socket_steps::step5_process::{recv, send_all, RECV_SIZE};
use socket_steps::step6_close::close;
use socket_steps::wire::Wire;
use socket_steps::{advice, client, step2_bind};

/// How long we wait for a client in another terminal to close its side.
const CLIENT_PATIENCE: Duration = Duration::from_secs(30);

/// Step 6: close a connection, and see the end of file and the TIME_WAIT it leaves behind.
///
/// Without --with-client it serves one client from another terminal; with it, it plays both
/// sides. Either way the server closes first, so the TIME_WAIT is on its side.
#[derive(clap::Parser)]
#[command(verbatim_doc_comment)]
struct Args {
    #[command(flatten)]
    common: cli::Common,
    #[command(flatten)]
    listen: cli::Listen,
    #[command(flatten)]
    with_client: cli::WithClient,
    #[command(flatten)]
    wire: cli::WireFlags,
}

fn main() {
    run_main(|| {
        let args: Args = cli::parse()?;
        title("Step 6: close");
        let mut wire = Wire::start(&args.wire.options())?;
        let (listener, bound) = narrate::listening_socket(args.listen.addr()?, SEED_BACKLOG)?;
        wire.watch(&[bound.port()]);
        let target = narrate::reachable(bound); // where our own client connects
        let client = if args.with_client.with_client {
            let client = client::connect(target, client::CONNECT_TIMEOUT)
                .map_err(|error| advice::connect_failed(target, error))?;
            let hello = client::SEED_MESSAGE.as_bytes();
            send_all(&client, hello)?;
            println!("client: connect and send {}", python_repr(hello));
            wire.show("connect+send", 5); // the handshake, the data and its ACK
            Some(client)
        } else {
            println!("Waiting for one client. In another terminal run:");
            println!("{}", narrate::client_command(bound, "--until-eof"));
            explain("--until-eof: after the reply the client reads on, and sees our end of file.");
            None
        };
        let (connection, peer) = narrate::accept(&listener)?;
        let piece = recv(&connection, RECV_SIZE)?;
        send_all(&connection, &reply_to(&piece))?;
        println!(
            "server: recv {} and send the reply",
            narrate::bytes(piece.len())
        );
        wire.show("send", 2);

        println!();
        // ANCHOR: close
        let fd = describe(&connection);
        close(connection);
        println!("server: close({fd}) -> the kernel sends a FIN to {peer}");
        wire.show("close", 2); // our FIN, and the client's kernel's ACK
                               // ANCHOR_END: close
        let after_close = narrate::kernel_when(bound, Some(peer), |e| {
            matches!(e.state, TcpState::FinWait2 | TcpState::TimeWait)
        });
        let listed = after_close.is_some(); // the kernel's table shows this connection
        let half_closed = after_close
            .as_ref()
            .is_some_and(|e| e.state == TcpState::FinWait2);
        if half_closed {
            explain("FIN_WAIT2: our FIN is acknowledged; the client has not closed its side yet.");
        }

        if let Some(client) = client {
            // ANCHOR: peer_sees_eof
            let c = describe(&client);
            let reply = recv(&client, RECV_SIZE)?;
            println!("client: recv({c}, {RECV_SIZE}) -> {}", python_repr(&reply));
            let end = recv(&client, RECV_SIZE)?;
            println!(
                "client: recv({c}, {RECV_SIZE}) -> {} bytes: end of file",
                end.len()
            );
            close(client);
            println!("client: close({c}) -> its FIN goes back to the server");
            wire.show("close", 2); // the client's FIN, and our kernel's ACK
                                   // ANCHOR_END: peer_sees_eof
        } else if half_closed {
            // A person at the other terminal may take a while (nc closes on Ctrl-D).
            explain(format!(
                "waiting (at most {CLIENT_PATIENCE:?}) for the client to close its side..."
            ));
            // Until TIME_WAIT, or until the entry is gone (a reset leaves no TIME_WAIT).
            proc_net::wait_until(bound, Some(peer), CLIENT_PATIENCE, |e| {
                e.map_or(true, |e| e.state == TcpState::TimeWait)
            });
        }
        let last = if after_close
            .as_ref()
            .is_some_and(|e| e.state == TcpState::TimeWait)
        {
            after_close // already printed: the client closed before we looked
        } else {
            narrate::kernel_when(bound, Some(peer), |e| e.state == TcpState::TimeWait)
        };
        match last.map(|e| e.state) {
            None if listed => {
                explain("the connection has left the table: it ended with a reset (RST), not a");
                explain("FIN, and a reset leaves no TIME_WAIT.");
            }
            state => {
                if state.is_some_and(|state| state != TcpState::TimeWait) {
                    explain("the client has not closed its side yet; once it does, ours goes to");
                    explain("TIME_WAIT:");
                }
                explain(
                    "the side that closed first (the server here) keeps the connection in TIME_WAIT",
                );
                explain("for 60 s on Linux, so that stray packets cannot reach a new connection.");
            }
        }

        if args.with_client.with_client {
            close_with_unread_data(&listener, bound, &mut wire)?;
        }

        println!();
        close(listener);
        println!("server: close the listener, then try to start again on {bound}:");
        restart(bound)?;
        println!();
        println!("Next: the client side in full: cargo run --bin client (with a server running,");
        println!("e.g. cargo run --bin echo_server in another terminal)");
        Ok(())
    })
}

// ANCHOR: reset
/// With `--with-client`: a second client sends a message, and the server closes the connection
/// without reading it. Unread data means the conversation did not end well: the kernel sends a
/// reset (RST) instead of a FIN, and the client's next `recv` fails.
fn close_with_unread_data(
    listener: &Socket,
    bound: SocketAddr,
    wire: &mut Wire,
) -> anyhow::Result<()> {
    println!();
    println!("Closing with unread data:");
    let target = narrate::reachable(bound);
    let client = client::connect(target, client::CONNECT_TIMEOUT)
        .map_err(|error| advice::connect_failed(target, error))?;
    let hello = client::SEED_MESSAGE.as_bytes();
    send_all(&client, hello)?;
    println!("client: connect and send {}", python_repr(hello));
    wire.show("connect+send", 5);
    let (connection, peer) = narrate::accept(listener)?;
    let unread = hello.len() as u32;
    narrate::kernel_when(bound, Some(peer), |e| e.rx_queue >= unread);
    let fd = describe(&connection);
    close(connection);
    println!("server: close({fd}) without reading -> the kernel sends a reset (RST), not a FIN");
    wire.show("close", 1); // one RST: nobody answers a reset
    let c = describe(&client);
    client.set_read_timeout(Some(client::CONNECT_TIMEOUT))?;
    match recv(&client, RECV_SIZE) {
        Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => {
            println!("client: recv({c}, {RECV_SIZE}) -> error: connection reset");
        }
        other => println!("client: recv({c}, {RECV_SIZE}) -> {other:?} (no reset on this system)"),
    }
    narrate::kernel_when(bound, Some(peer), |_| false);
    explain("a reset ends the connection at once on both sides: no FIN, no TIME_WAIT.");
    Ok(())
}
// ANCHOR_END: reset

// ANCHOR: restart
/// Binds `bound` again, first without and then with `SO_REUSEADDR`.
fn restart(bound: SocketAddr) -> anyhow::Result<()> {
    let plain = create_tcp_socket(bound)?;
    let refused = match step2_bind::bind(&plain, bound) {
        Ok(()) => {
            println!("bind without SO_REUSEADDR -> ok (no TIME_WAIT on this port here)");
            false
        }
        Err(error) => {
            println!("bind without SO_REUSEADDR -> error");
            explain(step2_bind::explain_bind_error(&error));
            explain("here the other socket is the connection in TIME_WAIT.");
            true
        }
    };
    drop(plain); // it may hold the port now: close it before the next try
    let reusing = create_tcp_socket(bound)?;
    step2_bind::allow_quick_restart(&reusing)?;
    match step2_bind::bind(&reusing, bound) {
        Ok(()) => {
            println!("bind with SO_REUSEADDR    -> ok");
            if refused && cfg!(target_os = "linux") {
                explain(
                    "both the old socket and the new one set SO_REUSEADDR, so Linux lets us in.",
                );
            }
        }
        Err(error) => {
            println!("bind with SO_REUSEADDR    -> error");
            explain(step2_bind::explain_bind_error(&error));
        }
    }
    Ok(())
}
// ANCHOR_END: restart
