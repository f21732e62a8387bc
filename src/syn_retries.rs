//! When a client's SYN gets no answer, how often its kernel sends it again, and when `connect`
//! gives up with `ETIMEDOUT`: computed from the running kernel's settings, never from a table.
//!
//! A SYN can go unanswered because the server's accept queue is full (Linux drops it), a
//! firewall swallows it, or the host is down. The client's kernel then retransmits it on a timer
//! that starts at one second. Two settings decide the rest, both per network namespace:
//!
//! - `net.ipv4.tcp_syn_retries` (default 6): how many retransmissions before giving up;
//! - `net.ipv4.tcp_syn_linear_timeouts` (Linux 6.5 and later, default 4): that many *more*
//!   retransmissions come first, each one second after the last (linear); after them the wait
//!   doubles each time (exponential backoff), up to the maximum retransmission timeout (120 s,
//!   `net.ipv4.tcp_rto_max_ms` on kernels that have it).
//!
//! With the defaults of Linux 6.5 and later this gives SYNs at 0, 1, 2, 3, 4, 5, 7, 11, 19, 35 and
//! 67 s and `ETIMEDOUT` at 131 s; before 6.5, SYNs at 0, 1, 3, 7, 15, 31, 63 s and `ETIMEDOUT` at
//! 127 s. The kernel's timers for long waits are coarse and may fire a little late (a
//! measurement on Linux 6.18 gave up at 134.9 s), so the times are the earliest ones, "about".
//! `tests/experiments.rs` measures a short schedule inside a network namespace of its own.

use std::fmt;
use std::time::Duration;

/// The first retransmission timeout of a SYN: one second (`TCP_TIMEOUT_INIT`).
pub const FIRST_TIMEOUT: Duration = Duration::from_secs(1);

/// The kernel's ceiling on any retransmission timeout (`TCP_RTO_MAX`) unless
/// `net.ipv4.tcp_rto_max_ms` says otherwise.
pub const DEFAULT_MAX_TIMEOUT: Duration = Duration::from_secs(120);

/// The settings that decide a SYN's retransmissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynRetries {
    /// `net.ipv4.tcp_syn_retries`.
    pub retries: u32,
    /// `net.ipv4.tcp_syn_linear_timeouts`; `None` on kernels older than 6.5, which lack it.
    pub linear_timeouts: Option<u32>,
    /// The ceiling of one timeout: `net.ipv4.tcp_rto_max_ms`, or 120 s.
    pub max_timeout: Duration,
}

/// When the SYNs of one `connect` go out, and when it gives up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// The settings the schedule comes from.
    pub settings: SynRetries,
    /// The time of each retransmission, counted from the first SYN.
    pub resends: Vec<Duration>,
    /// When `connect` fails with `ETIMEDOUT` (`TimedOut`).
    pub gives_up: Duration,
}

impl SynRetries {
    /// The settings of the network namespace this process runs in, read from
    /// `/proc/sys/net/ipv4/`. `None` off Linux (or if `/proc` is not mounted).
    pub fn of_this_kernel() -> Option<SynRetries> {
        let read = |name: &str| -> Option<u32> {
            std::fs::read_to_string(format!("/proc/sys/net/ipv4/{name}"))
                .ok()?
                .trim()
                .parse()
                .ok()
        };
        if !cfg!(target_os = "linux") {
            return None;
        }
        Some(SynRetries {
            retries: read("tcp_syn_retries")?,
            linear_timeouts: read("tcp_syn_linear_timeouts"),
            max_timeout: read("tcp_rto_max_ms")
                .map_or(DEFAULT_MAX_TIMEOUT, |ms| Duration::from_millis(ms.into())),
        })
    }

    // ANCHOR: schedule
    /// What the kernel does with these settings (`tcp_retransmit_timer` and `tcp_write_timeout`
    /// in `net/ipv4/tcp_timer.c`): after the k-th retransmission the timeout stays at one second
    /// while k ≤ `linear_timeouts`, and doubles afterwards; the client gives up when the timer
    /// fires after the last of `retries + linear_timeouts` retransmissions.
    pub fn schedule(&self) -> Schedule {
        let linear = self.linear_timeouts.unwrap_or(0);
        let mut timeout = FIRST_TIMEOUT;
        let mut now = Duration::ZERO;
        let mut resends = Vec::new();
        for k in 1..=self.retries + linear {
            now += timeout;
            resends.push(now);
            if k > linear {
                timeout = (timeout * 2).min(self.max_timeout);
            }
        }
        Schedule {
            settings: *self,
            resends,
            gives_up: now + timeout,
        }
    }
    // ANCHOR_END: schedule
}

impl fmt::Display for SynRetries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tcp_syn_retries = {}", self.retries)?;
        match self.linear_timeouts {
            Some(linear) => write!(f, ", tcp_syn_linear_timeouts = {linear}"),
            None => write!(f, ", no tcp_syn_linear_timeouts (a kernel before 6.5)"),
        }
    }
}

impl fmt::Display for Schedule {
    /// `SYN again after 1, 2, 3 s; ETIMEDOUT after about 4 s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = |d: &Duration| {
            let s = d.as_secs_f64();
            if s.fract() == 0.0 {
                format!("{s:.0}")
            } else {
                format!("{s:.1}")
            }
        };
        let resends: Vec<String> = self.resends.iter().map(secs).collect();
        if resends.is_empty() {
            write!(f, "no SYN again")?;
        } else {
            write!(f, "SYN again after {} s", resends.join(", "))?;
        }
        write!(f, "; ETIMEDOUT after about {} s", secs(&self.gives_up))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(list: &[u64]) -> Vec<Duration> {
        list.iter().map(|s| Duration::from_secs(*s)).collect()
    }

    #[test]
    fn linux_6_5_defaults_are_linear_then_exponential() {
        let settings = SynRetries {
            retries: 6,
            linear_timeouts: Some(4),
            max_timeout: DEFAULT_MAX_TIMEOUT,
        };
        let schedule = settings.schedule();
        assert_eq!(schedule.resends, secs(&[1, 2, 3, 4, 5, 7, 11, 19, 35, 67]));
        assert_eq!(schedule.gives_up, Duration::from_secs(131));
        assert_eq!(
            schedule.to_string(),
            "SYN again after 1, 2, 3, 4, 5, 7, 11, 19, 35, 67 s; ETIMEDOUT after about 131 s"
        );
    }

    #[test]
    fn older_kernels_double_from_the_start() {
        let settings = SynRetries {
            retries: 6,
            linear_timeouts: None,
            max_timeout: DEFAULT_MAX_TIMEOUT,
        };
        let schedule = settings.schedule();
        assert_eq!(schedule.resends, secs(&[1, 3, 7, 15, 31, 63]));
        assert_eq!(schedule.gives_up, Duration::from_secs(127));
    }

    #[test]
    fn the_timeout_never_exceeds_the_ceiling() {
        let settings = SynRetries {
            retries: 9,
            linear_timeouts: Some(0),
            max_timeout: Duration::from_secs(120),
        };
        let schedule = settings.schedule();
        // 1, 2, 4 ... 64, then 120 instead of 128, and 120 again.
        assert_eq!(
            schedule.resends,
            secs(&[1, 3, 7, 15, 31, 63, 127, 247, 367])
        );
        assert_eq!(schedule.gives_up, Duration::from_secs(487));
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn this_kernel_has_settings() {
        let settings = SynRetries::of_this_kernel().expect("/proc/sys/net/ipv4 is readable");
        assert!(settings.retries > 0);
        assert_eq!(
            settings.schedule().resends.len() as u32,
            settings.retries + settings.linear_timeouts.unwrap_or(0)
        );
    }
}
