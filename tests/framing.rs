//! Framing a byte stream: TCP keeps no message boundaries, so a protocol marks them itself.
//!
//! The first two tests show the problem on real sockets. The others grade classroom exercises
//! 14.1 (`ex14_1_`: the length-prefix decoder, on bytes, without sockets) and 14.2 (`ex14_2_`:
//! `FramedStream::recv`, on real sockets), checking that each framing of `socket_steps::framing`
//! (a newline delimiter, a length prefix) gets its messages back whole however TCP cuts them:
//! one byte per segment, or two messages in one segment; and 14.3 (`ex14_3_`: `serve_lines`, the
//! seed's server in lines, by hostile clients). The book's chapter "Framing a byte stream"
//! includes this file region by region.

mod support;

use support::graders::{self, flood_without_reading, in_thread, InThread, SOON};

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::thread;

use socket_steps::echo::PREFIX;
use socket_steps::experiments::{loopback_pair, wait_for_bytes};
use socket_steps::framing::{serve_framed_echo, FramedStream, Framing, MAX_MESSAGE};
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

// ANCHOR: on_bytes
/// Feeds `bytes` to the length-prefix decoder `step` bytes at a time, as `recv` might deliver
/// them, and returns every message it gave back, and after how many bytes.
#[track_caller]
fn decode_in_pieces(bytes: &[u8], step: usize) -> Vec<(usize, Vec<u8>)> {
    let mut buffer = Vec::new();
    let mut messages = Vec::new();
    for (at, piece) in bytes.chunks(step).enumerate() {
        buffer.extend_from_slice(piece);
        while let Some(message) = Framing::LengthPrefixed.decode(&mut buffer).unwrap() {
            messages.push((at * step + piece.len(), message));
            // A decoder that leaves its message in the buffer would give it back for ever.
            assert!(
                messages.len() <= 16,
                "more messages than were sent: {messages:?}"
            );
        }
    }
    assert_eq!(
        buffer, b"",
        "bytes left in the buffer after the last message"
    );
    messages
}

#[test]
fn ex14_1_a_length_prefixed_message_comes_out_whole_when_fed_one_byte_at_a_time() {
    let bytes = [&[0, 0, 0, 19][..], b"Hello network world"].concat();
    let messages = decode_in_pieces(&bytes, 1);
    assert_eq!(
        messages,
        [(23, b"Hello network world".to_vec())],
        "one message, given back once its 23rd byte (4 of length, 19 of message) came"
    );
}

#[test]
fn ex14_1_two_length_prefixed_messages_in_one_piece_come_out_as_two() {
    // Any bytes may be in a message, newlines and zeros too; an empty message is a message.
    let bytes = [
        &[0, 0, 0, 3][..],
        b"a\n\0",
        &[0, 0, 0, 0],
        &[0, 0, 0, 2],
        b"hi",
    ]
    .concat();
    let messages: Vec<Vec<u8>> = decode_in_pieces(&bytes, bytes.len())
        .into_iter()
        .map(|(_, message)| message)
        .collect();
    assert_eq!(
        messages,
        [&b"a\n\0"[..], b"", b"hi"],
        "three messages from one piece"
    );
}

#[test]
fn ex14_1_a_length_beyond_the_limit_is_refused_before_the_message_arrives() {
    let mut buffer = (MAX_MESSAGE as u32 + 1).to_be_bytes().to_vec();
    let refused = Framing::LengthPrefixed
        .decode(&mut buffer)
        .map_err(|e| e.kind());
    assert_eq!(
        refused,
        Err(io::ErrorKind::InvalidData),
        "a length of MAX_MESSAGE + 1"
    );
    let mut buffer = (MAX_MESSAGE as u32).to_be_bytes().to_vec();
    let waiting = Framing::LengthPrefixed
        .decode(&mut buffer)
        .map_err(|e| e.kind());
    assert_eq!(
        waiting,
        Ok(None),
        "MAX_MESSAGE itself is allowed: wait for the message"
    );
}
// ANCHOR_END: on_bytes

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
fn ex14_2_each_framing_gets_a_message_back_whole_when_it_comes_one_byte_per_segment() {
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
fn ex14_2_each_framing_gets_two_messages_back_when_they_come_in_one_segment() {
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
fn ex14_2_a_framed_echo_answers_each_message_once_however_tcp_cuts_it() {
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

// ANCHOR: ends
#[test]
fn ex14_2_a_stream_that_ends_mid_message_is_an_error_and_between_messages_is_not() {
    for framing in BOTH {
        let whole = framing.encode(b"complete").unwrap();
        // A clean end: the peer closed after a whole message.
        let mut stream = FramedStream::new(io::Cursor::new(whole.clone()), framing);
        assert_eq!(
            stream.recv().unwrap(),
            Some(b"complete".to_vec()),
            "{framing:?}"
        );
        assert_eq!(
            stream.recv().unwrap(),
            None,
            "{framing:?}: the end, between messages"
        );
        // A cut: the peer closed one byte before the end of the second message.
        let cut = [&whole[..], &whole[..whole.len() - 1]].concat();
        let mut stream = FramedStream::new(io::Cursor::new(cut), framing);
        assert_eq!(
            stream.recv().unwrap(),
            Some(b"complete".to_vec()),
            "{framing:?}"
        );
        let second = stream.recv().map_err(|e| e.kind());
        assert_eq!(
            second,
            Err(io::ErrorKind::UnexpectedEof),
            "{framing:?}: a message cut short is an error, not a message and not a clean end"
        );
    }
}
// ANCHOR_END: ends

// ---- Exercise 14.3: a line server, by hostile clients -----------------------------------------

/// `serve_lines` for the first client of a fresh listener, in a thread.
fn line_server(write_timeout: std::time::Duration) -> InThread<io::Result<u64>> {
    in_thread("serve_lines", Some(support::LIMIT), move |listener| {
        socket_steps::step4_accept::accept(listener).and_then(|(connection, _)| {
            socket_steps::framing::serve_lines(&connection, write_timeout)
        })
    })
}

/// Reads reply lines until `count` of them have come; fails after `SOON`.
#[track_caller]
fn reply_lines(stream: &mut TcpStream, count: usize, what: &str) -> Vec<String> {
    stream.set_read_timeout(Some(SOON)).unwrap();
    let mut got = Vec::new();
    let mut byte = [0];
    while got.iter().filter(|&&b| b == b'\n').count() < count {
        match stream.read(&mut byte) {
            Ok(1) => got.push(byte[0]),
            other => panic!(
                "{what}: expected {count} reply line(s), got {:?} and then {other:?}",
                String::from_utf8_lossy(&got)
            ),
        }
    }
    String::from_utf8_lossy(&got)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn ex14_3_a_line_written_one_byte_at_a_time_gets_one_reply() {
    let server = line_server(support::LIMIT);
    let mut stream = support::connect(server.addr);
    stream.set_nodelay(true).unwrap(); // each byte its own segment
    for byte in b"Hello network world\n" {
        stream.write_all(&[*byte]).unwrap();
    }
    let replies = reply_lines(&mut stream, 1, "one line, sent one byte per segment");
    assert_eq!(
        replies,
        ["|From Server| Hello network world"],
        "one line, however many segments it came in: one reply"
    );
    drop(stream);
    assert_eq!(server.returned(SOON, "the client closed").ok(), Some(1));
}

#[test]
fn ex14_3_two_lines_in_one_write_get_two_replies() {
    let server = line_server(support::LIMIT);
    let mut stream = support::connect(server.addr);
    stream.write_all(b"first\nsecond\n").unwrap();
    let replies = reply_lines(&mut stream, 2, "two lines in one write");
    assert_eq!(
        replies,
        ["|From Server| first", "|From Server| second"],
        "two lines arrived in one segment (and one recv): two replies, in order"
    );
    drop(stream);
    assert_eq!(server.returned(SOON, "the client closed").ok(), Some(2));
}

#[test]
fn ex14_3_a_3000_byte_line_gets_one_reply() {
    let server = line_server(support::LIMIT);
    let long: String = (0..3000u32)
        .map(|i| (b'a' + (i % 26) as u8) as char)
        .collect();
    let mut stream = support::connect(server.addr);
    stream.write_all(format!("{long}\n").as_bytes()).unwrap();
    let replies = reply_lines(&mut stream, 1, "a line of 3000 bytes");
    assert!(
        replies.len() == 1 && replies[0] == format!("|From Server| {long}"),
        "a 3000-byte line (more than one recv of 1024): expected one reply line with the whole \
         line, got {} line(s) of {:?} bytes",
        replies.len(),
        replies.iter().map(String::len).collect::<Vec<_>>()
    );
    drop(stream);
    assert_eq!(server.returned(SOON, "the client closed").ok(), Some(1));
}

#[test]
fn ex14_3_a_close_in_the_middle_of_a_line_is_an_error() {
    let server = line_server(support::LIMIT);
    let mut stream = support::connect(server.addr);
    stream.write_all(b"whole\nhalf a li").unwrap();
    reply_lines(&mut stream, 1, "the whole line before the cut one");
    drop(stream); // FIN after 9 bytes of a line
    match server.returned(SOON, "the client closed in the middle of a line") {
        Err(error) => assert_eq!(
            error.kind(),
            io::ErrorKind::UnexpectedEof,
            "a stream that ends in the middle of a line: the error cut_short gives, not {error}"
        ),
        Ok(lines) => panic!(
            "the client closed after 9 bytes of a line without its \\n, yet serve_lines \
             returned Ok({lines}): return cut_short(the bytes of the line), as FramedStream does"
        ),
    }
}

#[test]
fn ex14_3_a_reset_is_the_error_it_returns() {
    let server = line_server(support::LIMIT);
    let mut stream = support::connect(server.addr);
    stream.write_all(b"then a reset\n").unwrap();
    reply_lines(&mut stream, 1, "the line before the reset");
    graders::reset(stream); // RST instead of FIN
    match server.returned(SOON, "the client reset the connection") {
        Err(error) => assert_eq!(error.kind(), io::ErrorKind::ConnectionReset, "{error}"),
        Ok(lines) => {
            panic!("the client reset the connection, yet serve_lines returned Ok({lines})")
        }
    }
}

#[test]
fn ex14_3_a_client_that_never_reads_is_given_up_after_the_write_timeout() {
    let server = line_server(std::time::Duration::from_secs(1));
    let mut lines = vec![b'y'; 64 * 1024];
    for end in (1023..lines.len()).step_by(1024) {
        lines[end] = b'\n'; // 64 lines of 1023 bytes
    }
    let socket = flood_without_reading(server.addr, &lines);
    match server.returned(SOON, "the write timeout (1 s) of a client that never reads") {
        Err(error) => assert_eq!(
            error.kind(),
            io::ErrorKind::TimedOut,
            "the client never read its replies: after 1 s, serve_lines should fail with \
             TimedOut, not: {error}"
        ),
        Ok(answered) => {
            panic!("the client never read a reply, yet serve_lines returned Ok({answered})")
        }
    }
    drop(socket);
}
