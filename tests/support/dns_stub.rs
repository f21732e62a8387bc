//! A resolver stub: a DNS server on port 53 of a private network namespace's loopback that
//! answers every question "no such name" and remembers what it was asked.
//!
//! Tests of a name that does not resolve use it, inside [`super::in_private_network`] (whose
//! `/etc/resolv.conf` points at 127.0.0.1). So the system resolver (`getaddrinfo(3)`) really
//! runs, really sends its query, and gets a real answer — and the test can check that the
//! program asked the resolver, while not one packet leaves the machine.

use std::net::UdpSocket;
use std::sync::{Arc, Mutex};

/// The running stub. Its thread lives as long as the child process, which ends with the test.
pub struct DnsStub {
    asked: Arc<Mutex<Vec<String>>>,
}

impl DnsStub {
    /// The names asked so far, in order (a resolver may ask more than once, for A and AAAA).
    pub fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Starts the stub on 127.0.0.1:53. Only inside a private network namespace: on the host, port
/// 53 belongs to the machine.
pub fn dns_stub() -> DnsStub {
    assert!(
        super::in_a_private_network(),
        "the DNS stub runs only inside support::in_private_network"
    );
    let socket = UdpSocket::bind("127.0.0.1:53").expect("bind 127.0.0.1:53 in the namespace");
    let asked = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&asked);
    std::thread::spawn(move || {
        let mut query = [0; 512];
        while let Ok((len, from)) = socket.recv_from(&mut query) {
            let Some((name, reply)) = no_such_name(&query[..len]) else {
                continue;
            };
            log.lock().unwrap_or_else(|e| e.into_inner()).push(name);
            let _ = socket.send_to(&reply, from);
        }
    });
    DnsStub { asked }
}

/// The name a DNS query asks about, and the reply "no such name" (NXDOMAIN) to it (RFC 1035,
/// section 4.1): the query's id and question, with the flags of an answer and no records.
fn no_such_name(query: &[u8]) -> Option<(String, Vec<u8>)> {
    let header = query.get(..12)?;
    let mut labels = Vec::new();
    let mut at = 12;
    loop {
        let len = usize::from(*query.get(at)?);
        at += 1;
        if len == 0 {
            break;
        }
        labels.push(String::from_utf8_lossy(query.get(at..at + len)?).into_owned());
        at += len;
    }
    let question = query.get(12..at + 4)?; // the name, then its type and class (2 bytes each)
    let recursion_desired = header[2] & 0x01;
    let mut reply = Vec::with_capacity(12 + question.len());
    reply.extend_from_slice(&header[..2]); // the query's id
    reply.push(0x80 | recursion_desired); // QR: an answer; the query's RD bit
    reply.push(0x80 | 3); // RA: recursion available; RCODE 3: the name does not exist
    reply.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]); // one question, no records
    reply.extend_from_slice(question);
    Some((labels.join("."), reply))
}
