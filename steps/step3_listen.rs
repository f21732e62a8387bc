//! Step 3: listen, then watch the accept queue fill while nothing accepts.
//!
//! Run: `cargo run --bin step3_listen [HOST:PORT] [--with-client] [--wire] [--pcap FILE]`.
//! Without `--with-client` it waits for you to connect clients from other terminals and press
//! Enter; with it, it connects its own clients until the queue is full. With `--wire` it shows
//! the packets too (Linux, as root). Chapter 3 of the book explains the output.

use std::io::BufRead;
use std::net::SocketAddr;
use std::time::Duration;

use socket2::Socket;
use socket_steps::cli::{self, run_main};
use socket_steps::narrate::{self, explain, title};
use socket_steps::step3_listen::accept_queue_len;
use socket_steps::syn_retries::SynRetries;
use socket_steps::wire::Wire;
use socket_steps::{client, step2_bind};

/// A small backlog, so the queue fills after a few clients (the seed uses 5).
const BACKLOG: i32 = 2;

/// How long the client that finds the queue full tries when `--wire` shows its SYNs: half way
/// between this kernel's second and third retransmissions (2.5 s on Linux 6.5 and later, whose
/// SYNs go out after 1, 2, 3... s), so that every run shows the same two resent SYNs.
fn wire_patience() -> Duration {
    let schedule = SynRetries::of_this_kernel().map(|settings| settings.schedule());
    match schedule.as_ref().map(|s| s.resends.as_slice()) {
        Some([_, second, third, ..]) => (*second + *third) / 2,
        _ => Duration::from_millis(2500),
    }
}

/// Step 3: listen, then watch the accept queue fill while nothing accepts.
///
/// Without --with-client it waits for you to connect clients from other terminals and press
/// Enter; with it, it connects its own clients until the queue is full.
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
        title("Step 3: listen");
        let mut wire = Wire::start(&args.wire.options())?;
        let (listener, bound) = narrate::listening_socket(args.listen.addr()?, BACKLOG)?;
        wire.watch(&[bound.port()]);
        explain("from now on the kernel completes TCP handshakes by itself and queues the");
        explain(format!(
            "connections for accept; backlog {BACKLOG} lets {} wait on Linux (backlog + 1).",
            BACKLOG + 1
        ));
        println!();
        // The clients stay open until the listener closes.
        let _clients = if args.with_client.with_client {
            fill_the_queue(bound, &mut wire)?
        } else {
            wait_for_reader(bound)?;
            Vec::new()
        };
        println!();
        println!("We never called accept. Closing the listener now: the kernel resets the queued");
        println!("connections (their clients see 'connection reset').");
        drop(listener);
        wire.show("close", BACKLOG as usize + 1); // one RST for each queued connection
        println!("Next: take a connection off the queue: cargo run --bin step4_accept");
        Ok(())
    })
}

/// Without `--with-client`: the reader connects clients from other terminals.
fn wait_for_reader(bound: SocketAddr) -> anyhow::Result<()> {
    println!("In other terminals, connect a few clients, e.g. run this three or four times:");
    println!("{}", narrate::client_command(bound, ""));
    println!("Each connect succeeds although nobody calls accept. Then press Enter here.");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    narrate::kernel(bound, None);
    Ok(())
}

// ANCHOR: fill
/// With `--with-client`: connect clients until the queue is full, then one more.
fn fill_the_queue(bound: SocketAddr, wire: &mut Wire) -> anyhow::Result<Vec<Socket>> {
    let target = narrate::reachable(bound); // 0.0.0.0 means "any" to bind, not a destination
    let mut clients: Vec<Socket> = Vec::new();
    for number in 1..=BACKLOG + 1 {
        let client = client::connect(target, client::CONNECT_TIMEOUT)
            .map_err(|error| socket_steps::advice::connect_failed(target, error))?;
        let from = step2_bind::local_addr(&client)?;
        println!("client {number}: connect({target}) -> ok, from {from}");
        wire.show("connect", 3); // the kernel completes the handshake: SYN, SYN-ACK, ACK
        clients.push(client);
        // The client's kernel sends the last ACK as connect returns; we let the server's kernel
        // queue the connection before we print the queue.
        narrate::kernel_when(bound, None, |listener| listener.rx_queue >= number as u32);
    }
    explain("the handshakes are done and the connections wait in the accept queue.");

    let number = BACKLOG + 2;
    // With the wire we wait longer, to watch the client's kernel send its SYN again.
    let patience = match wire.is_on() {
        true => wire_patience(),
        false => Duration::from_secs(1),
    };
    match client::connect(target, patience) {
        Ok(_) => println!("client {number}: connect({target}) -> ok (this system queued it too)"),
        Err(error) if error.kind() == std::io::ErrorKind::TimedOut => {
            println!("client {number}: connect({target}) -> timed out after {patience:?}");
            wire.show_timed("connect"); // SYNs, none answered
            explain("the queue was full when its SYN arrived, and Linux does not refuse: it drops");
            explain("the SYN without an answer, and the client's kernel sends it again.");
            narrate::unanswered_syn();
        }
        Err(error) => {
            println!("client {number}: connect({target}) -> error: {error}");
            explain("this system refuses when the queue is full (Linux would drop the SYN).");
        }
    }
    if let Some(waiting) = accept_queue_len(bound) {
        explain(format!(
            "accept queue: {waiting} connections, still waiting for accept"
        ));
    }
    Ok(clients)
}
// ANCHOR_END: fill
