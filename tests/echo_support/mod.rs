//! Checking the seed's echo protocol from the client side, for the many-clients and fault tests.
//!
//! The server answers each `recv` it makes with `|From Server| ` and the bytes it received. How
//! the kernel splits our bytes into `recv`s is not ours to choose, so we never expect a particular
//! split: we check that the reply is a sequence of prefixed, non-empty pieces whose concatenation
//! is exactly what we sent.
#![allow(dead_code)] // Each test file uses only some of these helpers.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use socket_steps::echo::PREFIX;
use socket_steps::step5_process::RECV_SIZE;

/// Splits a reply into the pieces the server echoed, and checks that together they are `sent`.
/// Every piece must be non-empty and at most one `recv` (1024 bytes) long.
///
/// A piece ends where the reply stops matching `sent`: that is where the next prefix starts. This
/// is unambiguous as long as `sent` itself never contains the prefix, which the callers ensure.
pub fn check_echo(reply: &[u8], sent: &[u8]) -> Result<usize, String> {
    assert!(
        !sent.windows(PREFIX.len()).any(|w| w == PREFIX),
        "test data must not contain the prefix"
    );
    let (mut at, mut matched, mut pieces) = (0, 0, 0);
    while at < reply.len() {
        let rest = &reply[at..];
        if !rest.starts_with(PREFIX) {
            return Err(format!(
                "at reply byte {at} (after {matched} echoed bytes) expected the prefix, found {:?}",
                String::from_utf8_lossy(&rest[..rest.len().min(40)])
            ));
        }
        at += PREFIX.len();
        // The longest run that matches what we sent and is followed by the next prefix (or the
        // end). Only the longest is right: the prefix cannot overlap itself, and `sent` does not
        // contain it, so a byte of `sent` that happens to be `|` cannot fool us.
        let common = reply[at..]
            .iter()
            .zip(&sent[matched..])
            .take_while(|(got, want)| got == want)
            .count()
            .min(RECV_SIZE);
        let piece = (1..=common)
            .rev()
            .find(|&len| at + len == reply.len() || reply[at + len..].starts_with(PREFIX))
            .unwrap_or(0);
        if piece == 0 {
            return Err(format!(
                "piece {pieces} at reply byte {at} has {piece} matching bytes: expected 1 to \
                 {RECV_SIZE} bytes of what we sent (byte {matched} onwards)"
            ));
        }
        at += piece;
        matched += piece;
        pieces += 1;
    }
    if matched != sent.len() {
        return Err(format!("only {matched} of {} bytes came back", sent.len()));
    }
    Ok(pieces)
}

/// Reads until `reply` holds an echo of all of `sent` (or fails): for one message sent on a
/// connection that stays open. Gives up after `limit`.
pub fn read_echo(stream: &mut TcpStream, sent: &[u8], limit: Duration) -> io::Result<Vec<u8>> {
    let deadline = Instant::now() + limit;
    let mut reply = Vec::new();
    let mut buffer = [0; 4096];
    loop {
        // Done when the payload bytes (reply minus prefixes) add up to what we sent.
        if check_echo(&reply, sent).is_ok() {
            return Ok(reply);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        stream.set_read_timeout(Some(left))?;
        match stream.read(&mut buffer)? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => reply.extend_from_slice(&buffer[..n]),
        }
    }
}

/// The seed client's exchange, checked: connect, send a message, expect exactly its echo.
pub fn assert_answers(addr: SocketAddr, what: &str) {
    assert_answers_within(addr, what, super::support::LIMIT)
}

/// [`assert_answers`], waiting at most `limit` for the answer.
pub fn assert_answers_within(addr: SocketAddr, what: &str, limit: Duration) {
    let message = format!("Hello network world, after {what}");
    let mut stream = super::support::connect(addr);
    stream.write_all(message.as_bytes()).unwrap();
    let reply = read_echo(&mut stream, message.as_bytes(), limit)
        .unwrap_or_else(|e| panic!("no answer after {what}: {e}"));
    let mut expected = PREFIX.to_vec();
    expected.extend_from_slice(message.as_bytes());
    // A short message fits one `recv`: one prefix.
    pretty_assertions::assert_eq!(
        String::from_utf8_lossy(&reply),
        String::from_utf8_lossy(&expected)
    );
}

/// The lesson of the Many clients chapter, as exercises 15.1 and 17.3 grade it: a first client
/// is answered, then stays connected and quiet; a second client must be answered meanwhile
/// (`second_answered` is the failure message if not: it says why this exercise's server must),
/// and then the first is served again. Each wait lasts at most `limit`. Returns both
/// connections, still open.
#[track_caller]
pub fn assert_second_served_while_first_idles(
    addr: SocketAddr,
    limit: Duration,
    second_answered: &str,
) -> (TcpStream, TcpStream) {
    let mut idle = super::support::connect(addr);
    idle.write_all(b"first").unwrap();
    read_echo(&mut idle, b"first", limit).expect("the first client is answered");
    let mut second = super::support::connect(addr);
    second.write_all(b"second").unwrap();
    read_echo(&mut second, b"second", limit).expect(second_answered);
    idle.write_all(b"still here").unwrap();
    read_echo(&mut idle, b"still here", limit).expect("and the first is still served");
    (idle, second)
}

/// A small deterministic pseudo-random generator (xorshift64*), so that a failure can be
/// reproduced exactly. Not for cryptography; good enough to pick lengths and bytes.
pub struct Rng(u64);

impl Rng {
    /// A generator that always produces the same sequence for the same seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `low..=high`.
    pub fn between(&mut self, low: usize, high: usize) -> usize {
        low + (self.next_u64() % (high - low + 1) as u64) as usize
    }

    /// `len` random bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}

#[test]
fn check_echo_accepts_any_split_and_rejects_losses() {
    let reply = [PREFIX, b"hel", PREFIX, b"lo"].concat();
    assert_eq!(check_echo(&reply, b"hello"), Ok(2));
    assert!(check_echo(&reply, b"hello!").is_err());
    assert!(check_echo(&[PREFIX, b"hxllo"].concat(), b"hello").is_err());
    assert!(check_echo(b"hello", b"hello").is_err());
    // A piece that ends just before a `|` of the data is still split right.
    let tricky = [PREFIX, b"ab", PREFIX, b"|F"].concat();
    assert_eq!(check_echo(&tricky, b"ab|F"), Ok(2));
}
