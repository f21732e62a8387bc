//! Writing packets in the pcap format, which `tcpdump -r FILE` and Wireshark read.
//!
//! A pcap file is a 24-byte header, then for each packet a 16-byte header and the packet's
//! bytes. We write every number little-endian; the first four bytes (the "magic number"
//! `0xa1b2c3d4`) tell a reader which byte order the file uses, so any machine can read it.
//!
//! ```text
//! file header (24 bytes)                 packet header (16 bytes), then the packet
//!  0  magic 0xa1b2c3d4 (microseconds)     0  time: seconds since 1970
//!  4  version 2.4                         4  time: microseconds
//!  8  time zone 0, accuracy 0             8  bytes saved in the file
//! 16  longest packet saved (snaplen)     12  bytes the packet had
//! 20  link type: 101, raw IP (our packets start at the IP header)
//! ```

use std::io::{self, Write};
use std::time::{SystemTime, UNIX_EPOCH};

/// `LINKTYPE_RAW`: each packet starts with its IPv4 or IPv6 header (no Ethernet header).
pub const LINKTYPE_RAW: u32 = 101;

/// The pcap magic number: "this file counts time in microseconds".
pub const MAGIC: u32 = 0xa1b2_c3d4;

// ANCHOR: pcap
/// Writes a pcap file, one packet at a time.
pub struct PcapWriter<W: Write> {
    out: W,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header and returns the writer.
    pub fn new(mut out: W) -> io::Result<PcapWriter<W>> {
        let mut header = Vec::with_capacity(24);
        header.extend_from_slice(&MAGIC.to_le_bytes());
        header.extend_from_slice(&2u16.to_le_bytes()); // version 2.4
        header.extend_from_slice(&4u16.to_le_bytes());
        header.extend_from_slice(&0i32.to_le_bytes()); // time zone: UTC
        header.extend_from_slice(&0u32.to_le_bytes()); // timestamp accuracy: unused, 0
        header.extend_from_slice(&super::filter::SNAPLEN.to_le_bytes());
        header.extend_from_slice(&LINKTYPE_RAW.to_le_bytes());
        out.write_all(&header)?;
        Ok(PcapWriter { out })
    }

    /// Writes one packet (from its IP header on) with the time it was seen.
    pub fn packet(&mut self, at: SystemTime, bytes: &[u8]) -> io::Result<()> {
        let since_1970 = at.duration_since(UNIX_EPOCH).unwrap_or_default();
        let len = bytes.len() as u32;
        let mut header = Vec::with_capacity(16);
        header.extend_from_slice(&(since_1970.as_secs() as u32).to_le_bytes());
        header.extend_from_slice(&since_1970.subsec_micros().to_le_bytes());
        header.extend_from_slice(&len.to_le_bytes()); // saved: all of it
        header.extend_from_slice(&len.to_le_bytes()); // its length on the wire
        self.out.write_all(&header)?;
        self.out.write_all(bytes)?;
        // Each packet reaches the file at once: a server stopped with Ctrl-C leaves a file that
        // ends with a whole packet.
        self.out.flush()
    }
}
// ANCHOR_END: pcap

/// Reads back what [`PcapWriter`] wrote (little-endian, microseconds): each packet's time and
/// bytes. `None` if `file` is not such a pcap file. The tests and the diagram use it.
pub fn read(file: &[u8]) -> Option<Vec<(SystemTime, Vec<u8>)>> {
    let word = |at: usize| -> Option<u32> {
        Some(u32::from_le_bytes(file.get(at..at + 4)?.try_into().ok()?))
    };
    if word(0)? != MAGIC || word(20)? != LINKTYPE_RAW {
        return None;
    }
    let mut packets = Vec::new();
    let mut at = 24;
    while at < file.len() {
        let (secs, micros, saved) = (word(at)?, word(at + 4)?, word(at + 8)? as usize);
        let bytes = file.get(at + 16..at + 16 + saved)?.to_vec();
        let time = UNIX_EPOCH
            + std::time::Duration::from_secs(secs.into())
            + std::time::Duration::from_micros(micros.into());
        packets.push((time, bytes));
        at += 16 + saved;
    }
    Some(packets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_24_byte_header_then_16_bytes_per_packet() {
        let mut file = Vec::new();
        let at = UNIX_EPOCH + Duration::from_micros(1_700_000_000_123_456);
        let mut writer = PcapWriter::new(&mut file).unwrap();
        writer.packet(at, b"first").unwrap();
        writer.packet(at, b"second!").unwrap();
        assert_eq!(file.len(), 24 + (16 + 5) + (16 + 7));
        assert_eq!(
            &file[..4],
            &[0xd4, 0xc3, 0xb2, 0xa1],
            "the magic, little-endian"
        );
        assert_eq!(&file[20..24], &[101, 0, 0, 0], "LINKTYPE_RAW");
        let packets = read(&file).unwrap();
        assert_eq!(
            packets,
            vec![(at, b"first".to_vec()), (at, b"second!".to_vec())]
        );
    }
}
