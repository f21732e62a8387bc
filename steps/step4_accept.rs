//! Step 4: accept one connection: a new socket for it, and the client's address.
//!
//! Run: `cargo run --bin step4_accept [HOST:PORT] [--with-client] [--wire] [--pcap FILE]`.
//! Without `--with-client` it waits for a client from another terminal; with it, it connects its
//! own client first. With `--wire` it shows the packets too (Linux, as root). Chapter 4 of the
//! book explains the output.

use socket_steps::cli::{self, run_main};
use socket_steps::narrate::{self, explain, title};
use socket_steps::step3_listen::SEED_BACKLOG;
use socket_steps::wire::Wire;
use socket_steps::{advice, client, step2_bind};

/// Step 4: accept one connection: a new socket for it, and the client's address.
///
/// Without --with-client it waits for a client from another terminal; with it, it connects its
/// own client first.
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
        title("Step 4: accept");
        let mut wire = Wire::start(&args.wire.options())?;
        let (listener, bound) = narrate::listening_socket(args.listen.addr()?, SEED_BACKLOG)?;
        wire.watch(&[bound.port()]);
        let target = narrate::reachable(bound); // where our own client connects
        println!();

        // With --with-client we connect before calling accept: the kernel completes the
        // handshake on its own, so connect returns even though nobody has accepted yet.
        let own_client = if args.with_client.with_client {
            let client = client::connect(target, client::CONNECT_TIMEOUT)
                .map_err(|error| advice::connect_failed(target, error))?;
            let from = step2_bind::local_addr(&client)?;
            println!("client: connect({target}) -> ok, from {from}");
            // ANCHOR: handshake
            wire.show("connect", 3); // SYN, SYN-ACK, ACK: the handshake
                                     // ANCHOR_END: handshake
            explain("the client's kernel chose its port (an ephemeral port).");
            narrate::kernel_when(bound, None, |listener| listener.rx_queue >= 1);
            Some((client, from))
        } else {
            println!("accept blocks until a client connects. In another terminal run:");
            println!("{}", narrate::client_command(bound, ""));
            None
        };

        // ANCHOR: accept
        let (connection, peer) = narrate::accept(&listener)?;
        wire.show("accept", 0);
        explain("accept returned a NEW socket for this one connection; the listening socket");
        explain("keeps listening for the next client.");
        if wire.is_on() && own_client.is_some() {
            explain("accept sent no packet: the handshake was over before we called it.");
        }
        narrate::kernel(bound, Some(peer));
        narrate::kernel(bound, None);
        // ANCHOR_END: accept
        if let Some((_client, from)) = &own_client {
            let same = if *from == peer { "yes" } else { "no" };
            println!("is the peer address the client's own address ({from})? {same}");
        }

        println!();
        println!("The program ends: closing the connection and the listener.");
        if own_client.is_none() {
            explain("we never read from the connection: if the client sent something, closing");
            explain("with unread data sends a reset (RST), and the client reports 'connection");
            explain("reset' instead of a normal end of file (step 6 shows both).");
        }
        drop(connection);
        wire.show("close", 2); // our FIN, the client's ACK
        drop(listener);
        if let Some((client, _)) = own_client {
            drop(client);
            wire.show("close", 2); // the client's FIN, our ACK
        }
        println!("Next: exchange data over the connection: cargo run --bin step5_process");
        Ok(())
    })
}
