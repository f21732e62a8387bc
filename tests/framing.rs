//! Framing a byte stream: TCP keeps no message boundaries, so a protocol marks them itself.
//!
//! The first two tests show the problem on real sockets; the others show each framing of
//! `socket_steps::framing` (a newline delimiter, a length prefix) getting its messages back
//! whole however TCP cuts them: one byte per segment, or two messages in one segment. The
//! decoders' own unit tests (on bytes, without sockets) are in `src/framing.rs`. The book's
//! chapter "Framing a byte stream" includes this file region by region.

mod support;

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::thread;

use socket_steps::echo::PREFIX;
use socket_steps::experiments::{loopback_pair, wait_for_bytes};
use socket_steps::framing::{serve_framed_echo, FramedStream, Framing};
use socket_steps::step5_process::{recv, send_all};

const BOTH: [Framing; 2] = [Framing::Line, Framing::LengthPrefixed];

// ANCHOR: two_writes_one_read
#[test]
fn stream_two_sends_arrive_in_one_recv() -> io::Result<()> {
    let (client, server) = loopback_pair()?;
    send_all(&client, b"Hello ")?;
    send_all(&client, b"network world")?;
    // Wait until the kernel holds all 19 bytes, then read once.
    wait_for_bytes(&server, 19)?;
    let got = recv(&server, 1024)?;
    assert_eq!(
        got, b"Hello network world",
        "two sends, one recv: no boundary between them"
    );
    Ok(())
}
// ANCHOR_END: two_writes_one_read

// ANCHOR: one_write_many_reads
#[test]
fn stream_one_send_arrives_in_several_recvs() -> io::Result<()> {
    let (client, server) = loopback_pair()?;
    let message = vec![b'x'; 3000];
    send_all(&client, &message)?;
    wait_for_bytes(&server, 3000)?;
    // The seed's recv(1024) takes at most 1024 bytes; the rest stays buffered for the next call.
    let sizes: Vec<usize> = (0..3)
        .map(|_| recv(&server, 1024).map(|piece| piece.len()))
        .collect::<io::Result<_>>()?;
    assert_eq!(sizes, [1024, 1024, 952], "one send, three recvs");
    Ok(())
}
// ANCHOR_END: one_write_many_reads

// ANCHOR: reporting
/// The server's end of a connection, reporting the size of each `read` (one `recv(2)`) on a
/// channel, so that a test knows exactly how TCP delivered the bytes.
struct Reporting {
    stream: TcpStream,
    reads: mpsc::Sender<usize>,
}

impl Read for Reporting {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let read = self.stream.read(buffer)?;
        let _ = self.reads.send(read);
        Ok(read)
    }
}

impl Write for Reporting {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.stream.write(bytes)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

/// A connection over loopback, seen from the client: its stream (with `TCP_NODELAY`: each write
/// goes out at once, as its own segment), the size of each `read` the server makes, and the
/// thread that receives messages on the server's end and returns them.
struct Connection {
    client: TcpStream,
    reads: mpsc::Receiver<usize>,
    server: thread::JoinHandle<io::Result<Vec<Vec<u8>>>>,
}

/// A [`Connection`] whose server receives `count` messages in `framing`.
fn receiving_end(framing: Framing, count: usize) -> Connection {
    let (client, server) = loopback_pair().expect("a loopback pair");
    let client = TcpStream::from(client);
    client.set_nodelay(true).unwrap();
    let (reads, reported) = mpsc::channel();
    let stream = Reporting {
        stream: TcpStream::from(server),
        reads,
    };
    let server = thread::spawn(move || {
        let mut framed = FramedStream::new(stream, framing);
        (0..count)
            .map(|_| framed.recv()?.ok_or(io::ErrorKind::UnexpectedEof.into()))
            .collect()
    });
    Connection {
        client,
        reads: reported,
        server,
    }
}
// ANCHOR_END: reporting

// ANCHOR: one_byte_per_segment
#[test]
fn each_framing_gets_a_message_back_whole_when_it_comes_one_byte_per_segment() {
    for framing in BOTH {
        let mut end = receiving_end(framing, 1);
        let bytes = framing.encode(b"Hello network world").unwrap();
        for byte in &bytes {
            end.client.write_all(std::slice::from_ref(byte)).unwrap();
            // We send the next byte only once the server has read this one, alone.
            let read = end.reads.recv_timeout(support::LIMIT).expect("a read");
            assert_eq!(read, 1, "{framing:?}: one byte per recv");
        }
        let messages = end.server.join().unwrap().unwrap();
        assert_eq!(messages, [b"Hello network world"], "{framing:?}");
    }
}
// ANCHOR_END: one_byte_per_segment

// ANCHOR: two_per_segment
#[test]
fn each_framing_gets_two_messages_back_when_they_come_in_one_segment() {
    for framing in BOTH {
        let mut end = receiving_end(framing, 2);
        let mut bytes = framing.encode(b"Hello").unwrap();
        bytes.extend(framing.encode(b"network world").unwrap());
        end.client.write_all(&bytes).unwrap(); // one write, one segment: both messages
        let messages = end.server.join().unwrap().unwrap();
        assert_eq!(messages, [&b"Hello"[..], b"network world"], "{framing:?}");
        let sizes: Vec<usize> = end.reads.try_iter().collect();
        assert_eq!(sizes, [bytes.len()], "{framing:?}: both came in one recv");
    }
}
// ANCHOR_END: two_per_segment

// ANCHOR: framed_echo
#[test]
fn a_framed_echo_answers_each_message_once_however_tcp_cuts_it() {
    let (client, server) = loopback_pair().unwrap();
    let echo = thread::spawn(move || serve_framed_echo(TcpStream::from(server), Framing::Line));
    let mut client = FramedStream::new(TcpStream::from(client), Framing::Line);
    // 3000 bytes: the seed's server would answer with three prefixed pieces (one per recv).
    let long = vec![b'x'; 3000];
    client.send(&long).unwrap();
    client.send(b"Hello network world").unwrap();
    let first = client.recv().unwrap().unwrap();
    assert_eq!(
        first,
        [PREFIX, &long].concat(),
        "one prefix for one message"
    );
    let second = client.recv().unwrap().unwrap();
    assert_eq!(second, b"|From Server| Hello network world");
    client
        .get_ref()
        .shutdown(std::net::Shutdown::Write)
        .unwrap();
    echo.join().unwrap().unwrap(); // the server saw a clean end between messages
}
// ANCHOR_END: framed_echo
