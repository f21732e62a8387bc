//! Predict the segments, then compare with the capture: the exercises of "Reading the wire".
//!
//! Each function here is a prediction: what will be on the wire when a program makes a call.
//! Write yours from the chapter (not from a run), then `cargo classroom check 20.1`: the tests
//! make the call, capture its packets (as root; otherwise they read the book's checked capture)
//! and compare them with what you predicted. Flags are written as the `wire:` lines write them:
//! `SYN`, `SYN-ACK`, `ACK`, `PSH-ACK`, `FIN-ACK`, `RST-ACK`.
//!
//! Nothing else in the course calls these functions.

/// The packets that one `connect` to a listening socket causes, in order, until `connect`
/// returns: their flags.
pub fn packets_of_connect() -> Vec<&'static str> {
    todo!(
        "20.1: predict the packets of a connect — \
         read reading-the-wire.md; stuck? cargo classroom hint 20.1"
    )
}

/// The packets that one `send` of 19 bytes on an established connection causes, until the other
/// side's kernel has answered: each one's flags and payload length (`len`, 0 for none).
pub fn packets_of_a_send() -> Vec<(&'static str, usize)> {
    todo!(
        "20.2: predict the packets of a 19-byte send — \
         read reading-the-wire.md; stuck? cargo classroom hint 20.2"
    )
}

/// The acknowledgement number (relative, as the `wire:` lines print it) of the server kernel's
/// answer to a client's first `send` of 19 bytes, `Hello network world`.
pub fn ack_of_hello() -> u32 {
    todo!(
        "20.3: predict the acknowledgement number of 19 bytes — \
         read reading-the-wire.md; stuck? cargo classroom hint 20.3"
    )
}

/// The packets that a server's `close` causes when 19 bytes it never read wait in its receive
/// buffer: their flags.
pub fn packets_of_close_with_unread_data() -> Vec<&'static str> {
    todo!(
        "20.4: predict what a close with unread data sends — \
         read reading-the-wire.md; stuck? cargo classroom hint 20.4"
    )
}
