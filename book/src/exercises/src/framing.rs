//! Framing a byte stream: turning TCP's bytes back into the messages a program sent.
//!
//! TCP delivers a stream of bytes. Two `send`s may arrive in one `recv`, one `send` in several,
//! and a `recv` may end in the middle of a message. So every protocol over TCP says where a
//! message ends, in the bytes themselves. There are two usual ways:
//!
//! - a **delimiter** ([`Framing::Line`]): each message ends with a byte that never occurs inside
//!   one, here `\n`, as in SMTP, Redis' inline commands, or HTTP's header lines;
//! - a **length prefix** ([`Framing::LengthPrefixed`]): each message starts with its length, here
//!   4 bytes in network byte order (big-endian), as in TLS records, HTTP/2 frames, PostgreSQL.
//!
//! As in mini-redis (`frame.rs` parses, `connection.rs` owns the socket), the parsing here works
//! on bytes only ([`Framing::decode`] takes a message off the front of a buffer), so it is tested
//! without sockets; [`FramedStream`] owns the stream, reads into the buffer until a whole message
//! is there, and writes whole messages with `write_all`.

use std::io::{self, Read, Write};

/// The largest message we accept, in bytes. A peer that announces more (or sends a line longer
/// than this without a newline) is refused: without a limit, one bad length would make us
/// allocate gigabytes.
pub const MAX_MESSAGE: usize = 64 * 1024;

/// How many bytes [`FramedStream`] asks `recv` for at a time.
const READ_SIZE: usize = 4096;

/// Where a message ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Each message is followed by `\n` and may not contain one.
    Line,
    /// Each message is preceded by its length: a `u32` in network byte order (big-endian).
    LengthPrefixed,
}

// ANCHOR: encode
impl Framing {
    /// The bytes to send for `message`: the message and its newline, or its length and the
    /// message. Refuses a message this framing cannot carry (`InvalidInput`).
    pub fn encode(self, message: &[u8]) -> io::Result<Vec<u8>> {
        if message.len() > MAX_MESSAGE {
            return Err(invalid(format!(
                "a message of {} bytes is longer than {MAX_MESSAGE}",
                message.len()
            )));
        }
        match self {
            Framing::Line if message.contains(&b'\n') => Err(invalid(
                "a line-framed message cannot contain a newline: it would end the message there",
            )),
            Framing::Line => Ok([message, b"\n"].concat()),
            Framing::LengthPrefixed => {
                let length = u32::try_from(message.len()).expect("at most MAX_MESSAGE");
                Ok([&length.to_be_bytes()[..], message].concat())
            }
        }
    }
    // ANCHOR_END: encode

    // ANCHOR: decode
    /// Takes one whole message off the front of `buffer`, if one is there: `Ok(None)` means
    /// "not yet, read more". The bytes of any later message stay in `buffer` for the next call.
    /// A message longer than [`MAX_MESSAGE`] is an error (`InvalidData`).
    pub fn decode(self, buffer: &mut Vec<u8>) -> io::Result<Option<Vec<u8>>> {
        match self {
            Framing::Line => decode_line(buffer),
            Framing::LengthPrefixed => decode_length_prefixed(buffer),
        }
    }
    // ANCHOR_END: decode
}

// ANCHOR: decode_line
/// [`Framing::decode`] for lines: the bytes up to the first `\n`, which is taken off too.
pub fn decode_line(buffer: &mut Vec<u8>) -> io::Result<Option<Vec<u8>>> {
    match buffer.iter().position(|&byte| byte == b'\n') {
        Some(end) => {
            let message = buffer[..end].to_vec();
            buffer.drain(..=end); // the message and its newline
            Ok(Some(message))
        }
        None if buffer.len() > MAX_MESSAGE => Err(too_long(buffer.len())),
        None => Ok(None),
    }
}
// ANCHOR_END: decode_line

// ANCHOR: decode_length_prefixed
/// [`Framing::decode`] for a length prefix: 4 bytes of length (`u32`, big-endian), then that
/// many bytes of message; both are taken off the buffer. A length above [`MAX_MESSAGE`] is
/// refused as soon as the 4 bytes are there, before the message arrives (see [`too_long`]).
pub fn decode_length_prefixed(buffer: &mut Vec<u8>) -> io::Result<Option<Vec<u8>>> {
    todo!(
        "14.1: take one length-prefixed message off the front of a buffer — \
         read framing.md; stuck? cargo classroom hint 14.1"
    )
}
// ANCHOR_END: decode_length_prefixed

fn invalid(why: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, why.into())
}

/// The error for a stream that ended `received` bytes into a message: `UnexpectedEof`.
pub fn cut_short(received: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("the peer closed in the middle of a message ({received} bytes of it came)"),
    )
}

/// The error for a message of `length` bytes, more than [`MAX_MESSAGE`]: `InvalidData`.
pub fn too_long(length: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "the peer sent a message of {length} bytes or more; we accept at most {MAX_MESSAGE}"
        ),
    )
}

// ANCHOR: framed_stream
/// A stream that sends and receives whole messages: bytes that `recv` returned but that belong
/// to the next message wait in `buffer` until it is asked for.
pub struct FramedStream<S> {
    stream: S,
    framing: Framing,
    buffer: Vec<u8>,
}

impl<S: Read + Write> FramedStream<S> {
    /// Frames `stream` (a `TcpStream`, a `UnixStream`, anything that reads and writes).
    pub fn new(stream: S, framing: Framing) -> FramedStream<S> {
        FramedStream {
            stream,
            framing,
            buffer: Vec::new(),
        }
    }

    /// Sends one message, framed, with `write_all`: a `send` may take only part of it.
    pub fn send(&mut self, message: &[u8]) -> io::Result<()> {
        let bytes = self.framing.encode(message)?;
        self.stream.write_all(&bytes)
    }

    /// Receives the next whole message: reads (`recv(2)`) until the buffer holds one. `Ok(None)`
    /// when the peer closed between messages; closing in the middle of one is an error
    /// (`UnexpectedEof`): the message is cut, and we must not pass half of it on.
    pub fn recv(&mut self) -> io::Result<Option<Vec<u8>>> {
        todo!(
            "14.2: receive one whole message, however TCP cuts it — \
             read framing.md; stuck? cargo classroom hint 14.2"
        )
    }
    // ANCHOR_END: framed_stream

    /// The stream inside, e.g. to set a timeout or shut it down.
    pub fn get_ref(&self) -> &S {
        &self.stream
    }
}

// ANCHOR: framed_echo
/// The seed's echo service as a protocol: for each whole *message* (not each `recv`), one reply,
/// `|From Server| ` and the message, in the same framing. Serves until the client closes between
/// messages.
pub fn serve_framed_echo<S: Read + Write>(stream: S, framing: Framing) -> io::Result<()> {
    let mut framed = FramedStream::new(stream, framing);
    while let Some(message) = framed.recv()? {
        framed.send(&crate::echo::reply_to(&message))?;
    }
    Ok(())
}
// ANCHOR_END: framed_echo

#[cfg(test)]
mod tests {
    use super::*;

    // The decoders and `FramedStream::recv` are classroom exercises 14.1 and 14.2: their tests,
    // on bytes and on real sockets, are in tests/framing.rs.

    #[test]
    fn the_length_is_four_bytes_big_endian() {
        let bytes = Framing::LengthPrefixed.encode(b"hi").unwrap();
        assert_eq!(bytes, [0, 0, 0, 2, b'h', b'i']);
        assert_eq!(Framing::Line.encode(b"hi").unwrap(), b"hi\n");
    }

    #[test]
    fn what_a_framing_cannot_carry_is_refused() {
        let error = Framing::Line.encode(b"two\nlines").unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        // A length prefix carries any byte, newlines included.
        assert!(Framing::LengthPrefixed.encode(b"two\nlines").is_ok());
        let huge = vec![b'x'; MAX_MESSAGE + 1];
        assert!(Framing::LengthPrefixed.encode(&huge).is_err());
    }

    #[test]
    fn a_line_decodes_one_byte_at_a_time_and_an_endless_line_is_refused() {
        let mut buffer = Vec::new();
        for &byte in b"Hello" {
            buffer.push(byte);
            assert_eq!(decode_line(&mut buffer).unwrap(), None, "no newline yet");
        }
        buffer.extend_from_slice(b"\nnext");
        assert_eq!(decode_line(&mut buffer).unwrap().unwrap(), b"Hello");
        assert_eq!(buffer, b"next", "the next message's bytes stay");
        let mut endless = vec![b'x'; MAX_MESSAGE + 1];
        assert!(decode_line(&mut endless).is_err());
    }
}
