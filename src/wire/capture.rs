//! The capture itself (Linux only): a packet socket on loopback, its filter, and a thread that
//! reads it.
//!
//! `socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL))` asks for a copy of every packet, of every
//! protocol, without its link-layer header. Only root or a program with `CAP_NET_RAW` may make
//! one: anybody else gets `EPERM` ([`std::io::ErrorKind::PermissionDenied`]), as for the raw
//! socket of step 1.
//!
//! The socket receives from the moment it exists, so we attach a filter that drops everything,
//! read away whatever was queued before it was attached, and only then, once the step knows its
//! ports, attach the real filter ([`super::filter::program`]). A thread reads the packets as they
//! come and notes the time of each, so that the step can print them after its calls.

use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use socket2::{Domain, Protocol, SockFilter, Socket, Type};

use super::filter::{self, Insn};

/// `ETH_P_ALL` from `linux/if_ether.h`: packets of every protocol.
const ETH_P_ALL: u16 = 0x0003;

/// How often the reading thread looks whether it should stop.
const POLL: Duration = Duration::from_millis(50);

/// One packet as the capture saw it: when, and its bytes from the IP header on.
#[derive(Debug, Clone)]
pub struct Captured {
    /// When our thread read it (within a fraction of a millisecond of its arrival).
    pub at: SystemTime,
    /// The packet, from its IP header on.
    pub bytes: Vec<u8>,
}

/// A running capture: the packets come through [`Capture::packets`].
pub struct Capture {
    /// Shared with the reading thread: one socket, one file descriptor.
    socket: Arc<Socket>,
    /// The packets the reading thread has seen, in order.
    pub packets: mpsc::Receiver<Captured>,
    stop: Arc<AtomicBool>,
    reader: Option<JoinHandle<()>>,
}

impl Capture {
    // ANCHOR: open
    /// Opens the packet socket, with a filter that drops everything for now.
    ///
    /// This function corresponds to the `socket(2)` system call with `AF_PACKET`, then
    /// `setsockopt(2)` with `SO_ATTACH_FILTER`, and `recv(2)` until nothing is left.
    pub fn open() -> io::Result<Capture> {
        // The protocol of a packet socket is in network byte order, like the fields it reads.
        let every_protocol = Protocol::from(i32::from(ETH_P_ALL.to_be()));
        let socket = Socket::new(Domain::PACKET, Type::DGRAM, Some(every_protocol))?;
        attach(&socket, &filter::drop_all())?;
        // Packets that arrived between socket() and the filter are still queued: read them away.
        socket.set_nonblocking(true)?;
        let mut buffer = vec![0; 1 << 16];
        loop {
            match (&socket).read(&mut buffer) {
                Ok(_) => continue,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => break,
                Err(error) => return Err(error),
            }
        }
        socket.set_nonblocking(false)?;
        socket.set_read_timeout(Some(POLL))?;
        let (send, packets) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let socket = Arc::new(socket);
        let reader = {
            let (socket, stop) = (Arc::clone(&socket), Arc::clone(&stop));
            std::thread::spawn(move || read_packets(&socket, &stop, &send))
        };
        Ok(Capture {
            socket,
            packets,
            stop,
            reader: Some(reader),
        })
    }
    // ANCHOR_END: open

    /// The packet socket, e.g. to print its file descriptor.
    pub fn socket(&self) -> &Socket {
        &self.socket
    }

    /// From now on, keep the packets on loopback with one of `ports` as source or destination.
    ///
    /// This function corresponds to `setsockopt(2)` with `SO_ATTACH_FILTER`, which replaces the
    /// filter attached before.
    pub fn watch(&self, ports: &[u16]) -> io::Result<()> {
        attach(&self.socket, &filter::program(loopback_index(), ports))
    }
}

impl Drop for Capture {
    /// Stops the reading thread (it notices within [`POLL`]).
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

/// The reading thread: each packet, with the time we read it, until `stop`.
fn read_packets(socket: &Socket, stop: &AtomicBool, send: &mpsc::Sender<Captured>) {
    // Loopback's packets can be as large as its MTU, 65,536 bytes.
    let mut buffer = vec![0; 1 << 16];
    while !stop.load(Ordering::Relaxed) {
        match (&*socket).read(&mut buffer) {
            Ok(len) => {
                let packet = Captured {
                    at: SystemTime::now(),
                    bytes: buffer[..len].to_vec(),
                };
                if send.send(packet).is_err() {
                    return;
                }
            }
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(_) => return,
        }
    }
}

/// Attaches a classic BPF program to `socket`.
fn attach(socket: &Socket, program: &[Insn]) -> io::Result<()> {
    let program: Vec<SockFilter> = program
        .iter()
        .map(|op| SockFilter::new(op.code, op.jt, op.jf, op.k))
        .collect();
    socket.attach_filter(&program)
}

/// The interface index of loopback, `lo`: 1 on Linux, as the kernel makes it first; we read it
/// from `/sys` all the same.
fn loopback_index() -> u32 {
    std::fs::read_to_string("/sys/class/net/lo/ifindex")
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(1)
}
