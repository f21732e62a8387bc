//! The seed tutorial's echo server: port 50007, one client at a time, forever; each received
//! piece comes back as `|From Server| ` + the piece.
//!
//! Run: `cargo run --bin echo_server [HOST:PORT] [--write-timeout=DURATION]` (default
//! 127.0.0.1:50007; a client gets 10 s to take each reply), then `cargo run --bin echo_client` in
//! another terminal. Stop it with Ctrl-C.

use socket_steps::cli::{self, run_main};
use socket_steps::echo::{serve_forever, Event};
use socket_steps::step3_listen::{listening_socket, SEED_BACKLOG};
use socket_steps::wire::{closed, Wire};

/// The tutorial's echo server: one client at a time, forever; each received piece comes back
/// as |From Server| + the piece. Stop it with Ctrl-C.
#[derive(clap::Parser)]
#[command(verbatim_doc_comment)]
struct Args {
    #[command(flatten)]
    common: cli::Common,
    #[command(flatten)]
    listen: cli::Listen,
    /// Ours, not the seed's: the tests use a short one.
    #[command(flatten)]
    write: cli::WriteTimeout,
    #[command(flatten)]
    wire: cli::WireFlags,
}

fn main() {
    run_main(|| {
        let args: Args = cli::parse()?;
        let addr = args.listen.addr()?;
        let write_timeout = args.write.write_timeout;
        let mut wire = Wire::start(&args.wire.options())?;
        // ANCHOR: main
        let listener = listening_socket(addr, SEED_BACKLOG)
            .map_err(|error| socket_steps::advice::bind_failed(addr, "echo_server", error))?;
        let bound = socket_steps::step2_bind::local_addr(&listener)?;
        println!("echo server: listening on {bound} (backlog {SEED_BACKLOG}, recv 1024)");
        wire.watch(&[bound.port()]);
        if bound.ip().is_loopback() {
            println!(
                "Only this machine can connect: the tutorial binds '' (every interface), we bind"
            );
            println!(
                "{} unless you pass another address, e.g. 0.0.0.0:{}.",
                bound.ip(),
                bound.port()
            );
        } else if let Some(warning) = socket_steps::narrate::every_network(bound) {
            println!("{warning}.");
        }
        let reach = socket_steps::narrate::reachable(bound);
        println!("In another terminal run: cargo run --bin echo_client -- {reach}");
        println!(
            "  (or: {}, type lines, Ctrl-D to end). Stop the server with Ctrl-C.",
            socket_steps::narrate::nc_command(reach)
        );
        serve_forever(&listener, None, write_timeout, |event| match event {
            // The seed prints Python's tuple: Server connected by ('127.0.0.1', 54321)
            Event::Connected(peer) => {
                wire.show("connect", 3); // the handshake was over before accept returned
                println!("Server connected by ('{}', {})", peer.ip(), peer.port())
            }
            Event::Finished(peer, bytes) => {
                // Everything until the client's ACK of our FIN.
                wire.show_until("echo+close", closed);
                let bytes = socket_steps::narrate::counted(bytes, "byte");
                println!("{peer} closed after {bytes}; closing our side, next client")
            }
            Event::Failed(peer, error) => {
                println!("connection with {peer} failed: {error}; next client")
            }
            // The first failure in a row, then every 50th (5 s of retries): no flood.
            Event::AcceptFailed(error, repeats) if socket_steps::echo::worth_logging(repeats) => {
                println!("accept failed: {error} (failure {repeats} in a row); trying again")
            }
            Event::AcceptFailed(..) => {}
        });
        // ANCHOR_END: main
        Ok(())
    })
}
