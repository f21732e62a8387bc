//! Step 1: create sockets of each kind the tutorial names, and see what the kernel answers.
//!
//! Run: `cargo run --bin step1_create`. Chapter 1 of the book explains the output.

use socket_steps::cli::{self, run_main};
use socket_steps::narrate::{explain, title};
use socket_steps::step1_create::{create_each_kind, describe, explain_raw_error};

/// Step 1: create sockets of each kind the tutorial names (TCP, UDP, Unix, raw), and see what the
/// kernel answers. Takes no arguments.
#[derive(clap::Parser)]
#[command(verbatim_doc_comment)]
struct Args {
    #[command(flatten)]
    common: cli::Common,
    #[command(flatten)]
    wire: cli::WireFlags,
}

fn main() {
    run_main(|| {
        let args: Args = cli::parse()?;
        title("Step 1: create");
        let wire = socket_steps::wire::Wire::start(&args.wire.options())?;
        if wire.is_on() {
            explain(
                "wire: that was a packet socket, the kind tcpdump uses. The sockets below send",
            );
            explain("nothing and have no port for it to watch yet: packets start in step 3.");
        }
        println!("socket(family, type, protocol) asks the kernel for a new socket.");
        println!("Nothing goes on the network yet: the socket has no address and no peer.");
        println!();
        // ANCHOR: tour
        let attempts = create_each_kind();
        for attempt in &attempts {
            match &attempt.result {
                Ok(socket) => {
                    println!("{} -> {}", attempt.call, describe(socket));
                    if attempt.call.contains("SOCK_RAW") {
                        explain("allowed: this program runs as root or with CAP_NET_RAW");
                    }
                }
                Err(error) => {
                    println!("{} -> error", attempt.call);
                    explain(explain_raw_error(error));
                }
            }
        }
        // ANCHOR_END: tour
        println!();
        println!("Each number is a file descriptor: the program's name for its socket in every");
        println!("later call (bind, listen, accept, send, recv, close).");
        println!("AF_INET / AF_INET6 speak IPv4 / IPv6 addresses; AF_UNIX speaks file paths.");
        println!("SOCK_STREAM is TCP (a byte stream), SOCK_DGRAM is UDP (separate messages),");
        println!("SOCK_RAW is packets below TCP and UDP: only root (or CAP_NET_RAW) may open one.");
        // ANCHOR: close_all
        drop(attempts);
        println!("The program ends: every socket is closed (close(2)) and its number freed.");
        // ANCHOR_END: close_all
        println!();
        println!("Next: give a socket an address: cargo run --bin step2_bind");
        Ok(())
    })
}
