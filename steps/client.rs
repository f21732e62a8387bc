//! The client side: create, connect, send, recv, close.
//!
//! Run a server first (e.g. `cargo run --bin echo_server`), then
//! `cargo run --bin client [HOST:PORT] [MESSAGE...]` (one message per argument). Chapter 7 of the book explains the output.

use std::io;
use std::time::Duration;

use anyhow::Context;
use socket_steps::cli::{self, run_main};
use socket_steps::echo::python_repr;
use socket_steps::narrate::{self, explain, title};
use socket_steps::step1_create::describe;
use socket_steps::step5_process::{recv, send_all, RECV_SIZE};
use socket_steps::wire::{closed, Wire};
use socket_steps::{advice, client, step2_bind, step6_close};

/// How long we wait for the server's answer before giving up with a message.
const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// The client side: create, connect, send, recv, close, each call narrated.
///
/// Run a server first (e.g. cargo run --bin echo_server).
#[derive(clap::Parser)]
#[command(verbatim_doc_comment)]
struct Args {
    #[command(flatten)]
    common: cli::Common,
    #[command(flatten)]
    connect: cli::Connect,
    #[command(flatten)]
    messages: cli::Messages,
    #[command(flatten)]
    wire: cli::WireFlags,
}

fn main() {
    run_main(|| {
        let args: Args = cli::parse()?;
        title("The client");
        // ANCHOR: connect
        let addrs = args.connect.addrs()?;
        let mut wire = Wire::start(&args.wire.options())?;
        wire.watch(&[addrs[0].port()]);
        let (socket, server) =
            client::connect_any(&addrs, client::CONNECT_TIMEOUT).map_err(|error| {
                wire.show("connect", 2); // a refused connect: our SYN, the server's RST
                advice::connect_failed(addrs[0], error)
            })?;
        let fd = describe(&socket);
        let local = step2_bind::local_addr(&socket)?;
        println!(
            "socket({}, SOCK_STREAM, IPPROTO_TCP) -> {fd}",
            narrate::family(server)
        );
        println!("connect({fd}, {server}) -> ok, from {local}");
        wire.show("connect", 3);
        // ANCHOR_END: connect
        explain("the kernel chose our address: the server's IP route and an ephemeral port.");
        narrate::kernel(local, Some(server));

        // ANCHOR: exchange
        socket.set_read_timeout(Some(REPLY_TIMEOUT))?;
        for message in args.messages.or_seed() {
            send_all(&socket, message.as_bytes())?;
            println!(
                "send({fd}, {}) -> {}",
                python_repr(message.as_bytes()),
                narrate::bytes(message.len())
            );
            wire.show("send", 2); // our segment and the server's ACK
            match recv(&socket, RECV_SIZE) {
                Ok(reply) if reply.is_empty() => {
                    println!("recv({fd}, {RECV_SIZE}) -> 0 bytes: end of file");
                    explain("the server closed the connection without replying.");
                    break;
                }
                Ok(reply) => {
                    println!("recv({fd}, {RECV_SIZE}) -> {}", python_repr(&reply));
                    wire.show("recv", 2); // the reply was on its way already; our ACK
                }
                Err(error) if error.kind() == io::ErrorKind::ConnectionReset => {
                    println!("recv({fd}, {RECV_SIZE}) -> error: connection reset");
                    explain("the server closed without reading what we sent, so its kernel");
                    explain("answered with a reset (RST) instead of a normal end of file.");
                    break;
                }
                Err(error)
                    if matches!(
                        error.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    println!("recv({fd}, {RECV_SIZE}) -> no reply within {REPLY_TIMEOUT:?}");
                    explain("the server has not answered: it may never have accepted us (step 3),");
                    explain("or, on Linux, its accept queue was full when our handshake's");
                    explain("last packet arrived, and its kernel dropped it: our connect and");
                    explain("send still succeed.");
                    break;
                }
                Err(error) => return Err(error).context("recv failed"),
            }
        }
        step6_close::close(socket);
        println!("close({fd}) -> ok");
        // Our FIN, the server's FIN with its ACK of ours (or each on its own), our last ACK.
        wire.show_until("close", closed);
        // ANCHOR_END: exchange
        println!();
        println!("Next: the tutorial's whole demo: cargo run --bin echo_server, then in another");
        println!("terminal cargo run --bin echo_client");
        Ok(())
    })
}
