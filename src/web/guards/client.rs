//! The client's address: who a request is attributed to (password rate limits, the access
//! log).
//!
//! It starts from the socket's peer address ([`Request::remote`]), never from a header a
//! client could write itself: Rocket's `client_ip()` believes `X-Real-IP` from anyone. Only
//! when the peer is one of the configured `trusted_proxies` is `X-Forwarded-For` read, from
//! the right (each proxy appends the address it received the request from), skipping
//! entries that are trusted proxies themselves; the first untrusted entry is the client. A
//! malformed entry ends the walk at the last trusted address, so garbage a client prepends
//! can never be taken for its address.
//!
//! The RFC 7239 `Forwarded` header is not read: a proxy that writes only `X-Forwarded-For`
//! passes a client's own `Forwarded` header through untouched, so believing both would let
//! the client choose its address. Configure the proxy to send `X-Forwarded-For`.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;
use rocket::request::{FromRequest, Outcome, Request};

use crate::config::StoreIp;
use crate::web::app::App;

/// The address a request is attributed to. IPv4-mapped IPv6 addresses (a dual-stack
/// listener's view of an IPv4 client) are given as IPv4.
///
/// As a request guard it never fails. A request without a peer address (Rocket's local
/// client in tests, unless the test sets one with `.remote(…)`) counts as coming from
/// `127.0.0.1`, and the trusted-proxy rule applies to that address as to any other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientAddr(pub IpAddr);

/// The per-request cache slot (a private type, so no other `local_cache` user collides).
struct Cached(ClientAddr);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ClientAddr {
    type Error = Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Infallible> {
        Outcome::Success(req.local_cache(|| Cached(ClientAddr::of(req))).0)
    }
}

impl ClientAddr {
    /// Work out the client of `req` (see the module documentation).
    fn of(req: &Request<'_>) -> ClientAddr {
        let app = req.rocket().state::<Arc<App>>();
        // Through the front door the socket's peer is the door itself: it says whom.
        let peer = match (req.remote(), app) {
            (Some(remote), Some(app)) => app.peers.client_of(remote),
            (Some(remote), None) => remote.ip(),
            (None, _) => IpAddr::from([127, 0, 0, 1]),
        };
        let trusted = app.map_or(&[][..], |app| app.config.trusted_proxies());
        ClientAddr(resolve(peer, trusted, req.headers().get("X-Forwarded-For")))
    }
}

/// The client behind `peer`: `peer` itself unless it is in `trusted`; then the rightmost
/// `X-Forwarded-For` entry that is not in `trusted` (`forwarded_for`: every value of every
/// such header, in the order received), or the last trusted address when the entries run
/// out or one is malformed.
pub fn resolve<'a>(
    peer: IpAddr,
    trusted: &[IpNet],
    forwarded_for: impl IntoIterator<Item = &'a str>,
) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let mut client = peer.to_canonical();
    if !is_trusted(&client) {
        return client;
    }
    let entries: Vec<&str> = forwarded_for
        .into_iter()
        .flat_map(|value| value.split(','))
        .collect();
    for entry in entries.into_iter().rev() {
        let Some(ip) = parse_entry(entry) else {
            break;
        };
        client = ip.to_canonical();
        if !is_trusted(&client) {
            break;
        }
    }
    client
}

/// One `X-Forwarded-For` entry: an address, optionally with a port (`203.0.113.7:5123`,
/// `[2001:db8::1]:5123`) or in brackets. Anything else (`unknown`, a name, "") is `None`.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(socket) = entry.parse::<SocketAddr>() {
        return Some(socket.ip());
    }
    let bracketed = entry.strip_prefix('[')?.strip_suffix(']')?;
    bracketed.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
}

/// Who shares a per-client bound (rate limits, the access log's, uploads in flight, the
/// front door's connections): an IPv4 address, or an IPv6 /64 (one subscriber's network, in
/// which a host can pick any address). One function for all of them, in the front door.
pub use crate::front::network_of as network;

/// The network an address belongs to, as stored instead of the address:
/// `203.0.113.0/24` for IPv4, `2001:db8:abcd::/48` for IPv6 (an IPv4-mapped IPv6 address
/// is treated as the IPv4 address).
pub fn truncate(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        IpAddr::V6(v6) => {
            let [a, b, c, ..] = v6.segments();
            format!("{}/48", Ipv6Addr::new(a, b, c, 0, 0, 0, 0, 0))
        }
    }
}

/// What the access log keeps of `ip` under `policy`: its [`truncate`]d network, or nothing.
pub fn stored_ip(ip: IpAddr, policy: StoreIp) -> Option<String> {
    match policy {
        StoreIp::Off => None,
        StoreIp::Truncated => Some(truncate(ip)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().expect("a network")).collect()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let peer = ip("203.0.113.9");
        assert_eq!(resolve(peer, &[], ["198.51.100.7"]), peer);
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(resolve(peer, &trusted, ["198.51.100.7"]), peer);
        assert_eq!(resolve(peer, &trusted, ["10.0.0.1"]), peer);
    }

    #[test]
    fn a_trusted_peer_gives_the_rightmost_untrusted_entry() {
        let trusted = nets(&["127.0.0.1/32"]);
        let peer = ip("127.0.0.1");
        assert_eq!(
            resolve(peer, &trusted, ["198.51.100.7"]),
            ip("198.51.100.7")
        );
        // A client may prepend anything; only what the proxy appended counts.
        assert_eq!(
            resolve(peer, &trusted, ["1.2.3.4, 198.51.100.7"]),
            ip("198.51.100.7")
        );
        // Several headers are one list, in the order received.
        assert_eq!(
            resolve(peer, &trusted, ["1.2.3.4", "198.51.100.7 "]),
            ip("198.51.100.7")
        );
        // No header: the proxy itself.
        assert_eq!(resolve(peer, &trusted, []), peer);
        // A proxy given as an IPv4-mapped IPv6 peer (dual-stack listener) is still trusted.
        assert_eq!(
            resolve(ip("::ffff:127.0.0.1"), &trusted, ["198.51.100.7"]),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn a_chain_of_trusted_proxies_is_skipped() {
        let trusted = nets(&["10.0.0.0/8", "127.0.0.1/32"]);
        let peer = ip("127.0.0.1");
        assert_eq!(
            resolve(peer, &trusted, ["6.6.6.6, 198.51.100.7, 10.1.2.3"]),
            ip("198.51.100.7")
        );
        // Every entry trusted: the leftmost of them.
        assert_eq!(
            resolve(peer, &trusted, ["10.9.9.9, 10.1.2.3"]),
            ip("10.9.9.9")
        );
    }

    #[test]
    fn a_malformed_entry_stops_at_the_last_trusted_address() {
        let trusted = nets(&["10.0.0.0/8", "127.0.0.1/32"]);
        let peer = ip("127.0.0.1");
        for header in [
            "198.51.100.7, unknown",
            "198.51.100.7, , 10.1.2.3",
            "198.51.100.7, 300.1.2.3, 10.1.2.3",
            "198.51.100.7, proxy.example.org, 10.1.2.3",
        ] {
            let expected = if header.ends_with("10.1.2.3") {
                ip("10.1.2.3")
            } else {
                peer
            };
            assert_eq!(resolve(peer, &trusted, [header]), expected, "{header}");
        }
        assert_eq!(resolve(peer, &trusted, [""]), peer);
        // Ports and brackets are allowed.
        assert_eq!(
            resolve(peer, &trusted, ["198.51.100.7:5123"]),
            ip("198.51.100.7")
        );
        assert_eq!(
            resolve(peer, &trusted, ["[2001:db8::7]:5123"]),
            ip("2001:db8::7")
        );
        assert_eq!(
            resolve(peer, &trusted, ["[2001:db8::7]"]),
            ip("2001:db8::7")
        );
    }

    #[test]
    fn ipv6_proxies_and_clients() {
        let trusted = nets(&["2001:db8:ffff::/48", "::1/128"]);
        assert_eq!(
            resolve(ip("::1"), &trusted, ["2001:db8:1::5, 2001:db8:ffff::2"]),
            ip("2001:db8:1::5")
        );
        assert_eq!(
            resolve(ip("2001:db8:ffff::9"), &trusted, ["::ffff:198.51.100.7"]),
            ip("198.51.100.7"),
            "a mapped client address is given as IPv4"
        );
        assert_eq!(
            resolve(ip("2001:db8:1::5"), &trusted, ["2001:db8:1::6"]),
            ip("2001:db8:1::5")
        );
    }

    #[test]
    fn addresses_are_truncated_to_their_network() {
        assert_eq!(truncate(ip("203.0.113.77")), "203.0.113.0/24");
        assert_eq!(truncate(ip("2001:db8:abcd:12::1")), "2001:db8:abcd::/48");
        assert_eq!(truncate(ip("::ffff:203.0.113.77")), "203.0.113.0/24");
        assert_eq!(truncate(ip("::1")), "::/48");
        assert_eq!(
            stored_ip(ip("203.0.113.77"), StoreIp::Truncated).as_deref(),
            Some("203.0.113.0/24")
        );
        assert_eq!(stored_ip(ip("203.0.113.77"), StoreIp::Off), None);
    }
}
