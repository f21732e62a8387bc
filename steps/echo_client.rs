//! The seed tutorial's echo client: connect, send `Hello network world`, print the answer.
//!
//! Run: `cargo run --bin echo_client [HOST:PORT] [MESSAGE...]` with `echo_server` running.
//! Like the seed's client, each message is sent and answered by one `recv(1024)`.

use std::time::Duration;

use socket_steps::cli::{self, run_main};
use socket_steps::client::{connect_any, exchange, CONNECT_TIMEOUT};
use socket_steps::echo::python_repr;
use socket_steps::wire::{closed, Wire};

/// The tutorial's echo client: connect, send Hello network world, print the answer.
///
/// Run it with echo_server running. Like the tutorial's client, each message is sent and answered
/// by one recv(1024).
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
        args.messages.refuse_empty()?;
        // ANCHOR: main
        let messages = args.messages.or_seed();
        let addrs = args.connect.addrs()?;
        let mut wire = Wire::start(&args.wire.options())?;
        wire.watch(&[addrs[0].port()]);
        let (socket, server) = connect_any(&addrs, CONNECT_TIMEOUT)
            .map_err(|error| socket_steps::advice::connect_failed(addrs[0], error))?;
        wire.show("connect", 3);
        // A server that never answers should not leave us waiting forever.
        socket.set_read_timeout(Some(Duration::from_secs(30)))?;
        for message in &messages {
            let data = exchange(&socket, message.as_bytes()).map_err(|error| {
                anyhow::Error::new(error).context(format!("no answer from {server}"))
            })?;
            println!("Client received: {}", python_repr(&data));
            // Our message and its ACK, the reply and our ACK.
            wire.show("send+recv", 4);
        }
        drop(socket);
        // Our FIN, the server's FIN with its ACK of ours (or each on its own), our last ACK.
        wire.show_until("close", closed);
        // ANCHOR_END: main
        Ok(())
    })
}
