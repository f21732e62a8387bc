//! `HOST:PORT`, the address every TCP and UDP program takes: checked as it is read, looked up
//! (`getaddrinfo(3)`) only when the program is ready to use it.

use std::fmt;
use std::net::{Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::str::FromStr;

use anyhow::{anyhow, bail, Context};

use super::quote;

/// A host and a port, as typed: `127.0.0.1:50007`, `[::1]:50007`, `localhost:50007`.
///
/// Reading one ([`FromStr`]) checks only its shape, so that a typo is reported before any socket
/// exists and without asking the resolver; [`HostPort::resolve`] does the lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPort {
    /// The host without brackets: `127.0.0.1`, `::1`, `fe80::1%2`, `localhost`.
    host: String,
    /// The port: 0 lets the OS choose a free one.
    port: u16,
}

impl HostPort {
    /// The host, without the brackets of an IPv6 address.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port number.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The socket addresses this host and port stand for, with an error a newcomer can act on.
    ///
    /// An IP address is one address, no lookup needed. A name (`localhost`) goes to the system
    /// resolver (`getaddrinfo(3)`) and may give several addresses (`localhost` is often both
    /// `::1` and `127.0.0.1`); we return them all, in the resolver's order.
    pub fn resolve(&self) -> anyhow::Result<Vec<SocketAddr>> {
        if let Ok(addr) = self.to_string().parse::<SocketAddr>() {
            return Ok(vec![addr]);
        }
        // `(host, port)` is the same pair the Python tutorial passes to `bind((host, port))`.
        let addrs: Vec<SocketAddr> = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .with_context(|| {
                format!(
                    "could not resolve the host {}: check its spelling, or use an IP address \
                     such as 127.0.0.1",
                    quote(&self.host)
                )
            })?
            .collect();
        if addrs.is_empty() {
            bail!(
                "the host {} has no addresses: use an IP address such as 127.0.0.1",
                quote(&self.host)
            );
        }
        Ok(addrs)
    }
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl FromStr for HostPort {
    /// What is wrong, phrased to follow the quoted input: "`[::1` is missing ...".
    type Err = String;

    fn from_str(text: &str) -> Result<HostPort, String> {
        const NO_PORT: &str = "has no port: write it after the last colon, e.g. \
             `127.0.0.1:50007` or `[::1]:50007` (port 0 lets the OS choose)";
        let (host, port) = if let Some(bracketed) = text.strip_prefix('[') {
            let Some((inside, after)) = bracketed.split_once(']') else {
                return Err(
                    "is missing the `]` that closes its IPv6 address: write it in \
                            brackets, then a colon and the port, e.g. `[::1]:50007`"
                        .to_string(),
                );
            };
            let address = inside.split('%').next().unwrap_or(inside);
            if address.parse::<Ipv6Addr>().is_err() {
                return Err(
                    "has brackets around something that is not an IPv6 address: \
                            brackets are for IPv6 only, e.g. `[::1]:50007`"
                        .to_string(),
                );
            }
            match after.strip_prefix(':') {
                Some(port) => (inside, port),
                None if after.is_empty() => return Err(NO_PORT.to_string()),
                None => {
                    return Err("is not HOST:PORT: after the `]` of an IPv6 address come a \
                                colon and the port, e.g. `[::1]:50007`"
                        .to_string())
                }
            }
        } else {
            let Some((host, port)) = text.rsplit_once(':') else {
                return Err(
                    "is not HOST:PORT: write the host, a colon and the port, e.g. \
                            `127.0.0.1:50007` (or `127.0.0.1:0` to let the OS choose the port)"
                        .to_string(),
                );
            };
            if host.contains(':') {
                return Err(
                    "is not HOST:PORT: an IPv6 address goes in brackets, then a colon \
                            and the port, e.g. `[::1]:50007`"
                        .to_string(),
                );
            }
            (host, port)
        };
        if port.is_empty() {
            return Err(NO_PORT.to_string());
        }
        // Digits only: Rust would also read `+80` as 80.
        if !port.bytes().all(|b| b.is_ascii_digit()) {
            return Err(
                "does not end in a port number: a port is a whole number from 0 to \
                        65535, e.g. `127.0.0.1:50007`"
                    .to_string(),
            );
        }
        let Ok(port) = port.parse::<u16>() else {
            return Err(
                "has a port above 65535: ports are 16-bit numbers, from 0 to 65535 \
                        (0 lets the OS choose a free one)"
                    .to_string(),
            );
        };
        if host.is_empty() {
            return Err(format!(
                "has no host: the tutorial's '' means every interface; write it out as \
                 `0.0.0.0:{port}` if that is what you want, or `127.0.0.1:{port}` for this \
                 machine only"
            ));
        }
        Ok(HostPort {
            host: host.to_string(),
            port,
        })
    }
}

/// Turns `HOST:PORT` text into socket addresses: [`HostPort`]'s check, then
/// [`HostPort::resolve`].
pub fn resolve(host_port: &str) -> anyhow::Result<Vec<SocketAddr>> {
    host_port
        .parse::<HostPort>()
        .map_err(|reason| anyhow!("{} {reason}", quote(host_port)))?
        .resolve()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        resolve(text).unwrap_err().to_string()
    }

    #[test]
    fn ip_addresses_need_no_lookup() {
        assert_eq!(resolve("[::1]:80").unwrap(), ["[::1]:80".parse().unwrap()]);
        assert_eq!(
            resolve("127.0.0.1:0").unwrap(),
            ["127.0.0.1:0".parse().unwrap()]
        );
        let shown: HostPort = "[::1]:7".parse().unwrap();
        assert_eq!(shown.to_string(), "[::1]:7");
    }

    #[test]
    fn bad_input_says_what_to_do() {
        assert!(error("localhost").contains("is not HOST:PORT"));
        assert!(error("127.0.0.1:70000").contains("from 0 to 65535"));
        assert!(error("127.0.0.1:http").contains("port number"));
        assert!(error(":50007").contains("0.0.0.0:50007"));
        assert!(error("127.0.0.1:").contains("has no port"));
        assert!(error("[::1]").contains("has no port"));
        assert!(error("::1:50007").contains("`[::1]:50007`"));
        assert!(error("127.0.0.1:+80").contains("port number"));
        assert!(error("[::1").contains("missing the `]`"));
        assert!(error("[::1]x").contains("after the `]`"));
        assert!(error("[localhost]:80").contains("not an IPv6 address"));
    }

    #[test]
    fn the_input_is_quoted_once_and_shortened() {
        let long = format!("{}:1", "h".repeat(500));
        let message = resolve(&format!("[{long}")).unwrap_err().to_string();
        assert!(message.len() < 200, "{message}");
        assert_eq!(message.matches("`[hhh").count(), 1, "{message}");
    }
}
