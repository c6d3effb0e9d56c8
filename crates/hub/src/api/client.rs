//! Who is calling, by network address: the peer of the connection, or, when that peer is a
//! proxy this hub trusts (`trusted_proxies`), the address it says it forwarded for. Login
//! throttling, visitor limits, sessions and the audit log use it.

use super::{AppState, Failure};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// The caller's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl std::fmt::Display for ClientAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The client behind a connection from `peer`: walking `X-Forwarded-For` from the right
/// (the hop nearest this hub), each address added by a trusted proxy is skipped; the first
/// one that is not trusted is the client. A peer that is not trusted is the client itself,
/// whatever it claims; a header that does not parse stops the walk at the last trusted hop.
pub fn client_address(peer: IpAddr, forwarded_for: &[&str], trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let mut client = peer;
    let hops = forwarded_for.iter().rev().flat_map(|h| h.rsplit(',')).map(str::trim);
    for hop in hops {
        if !is_trusted(&client) {
            break;
        }
        match hop.parse::<IpAddr>() {
            Ok(ip) => client = ip,
            Err(_) => break,
        }
    }
    client
}

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Failure> {
        // Served without connection info (never by `serve`): an address nothing trusts.
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |ConnectInfo(a)| a.ip());
        let headers: Vec<&str> =
            parts.headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).collect();
        Ok(ClientAddr(client_address(peer, &headers, &s.config.trusted_proxies)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_is_the_first_untrusted_hop_from_the_right() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()];
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        for (peer, headers, want) in [
            // No proxy: the peer, whatever it claims.
            ("198.51.100.7", vec!["1.2.3.4"], "198.51.100.7"),
            ("198.51.100.7", vec![], "198.51.100.7"),
            // One trusted proxy.
            ("10.0.0.2", vec!["198.51.100.7"], "198.51.100.7"),
            ("::1", vec!["2001:db8::5"], "2001:db8::5"),
            // A client that forges hops before the proxy's: the proxy's own entry wins.
            ("10.0.0.2", vec!["6.6.6.6, 198.51.100.7"], "198.51.100.7"),
            ("10.0.0.2", vec!["6.6.6.6", "198.51.100.7"], "198.51.100.7"),
            // Two trusted proxies in a row.
            ("10.0.0.2", vec!["198.51.100.7, 10.0.0.3"], "198.51.100.7"),
            // A trusted proxy with no header, or a header that does not parse.
            ("10.0.0.2", vec![], "10.0.0.2"),
            ("10.0.0.2", vec!["junk"], "10.0.0.2"),
            ("10.0.0.2", vec!["198.51.100.7, junk"], "10.0.0.2"),
            // Every hop trusted: the leftmost one.
            ("10.0.0.2", vec!["10.1.1.1"], "10.1.1.1"),
        ] {
            assert_eq!(client_address(ip(peer), &headers, &trusted), ip(want), "{peer} {headers:?}");
        }
        assert_eq!(client_address(ip("10.0.0.2"), &["198.51.100.7"], &[]), ip("10.0.0.2"));
    }
}
