//! The front door: the public listener, in front of Rocket, that keeps slow and idle
//! connections from taking the server's sockets.
//!
//! Rocket 0.5.1 gives hyper no header-read timeout and has no public way to hand it a
//! listener, so a client that opens sockets and never finishes a request head holds them
//! forever (1,100 such sockets made a server under a 1,024-descriptor limit unreachable).
//! Here every connection must complete its first request head within
//! [`Timeouts::head`] (nginx's `client_header_timeout`, hyper 1.x's header-read timeout)
//! and is closed after [`Timeouts::idle`] without a byte either way (keep-alive or a
//! stalled body). Connections that are incomplete or idle are capped per client network
//! (IPv4 address, IPv6 /64): a new one past the cap first closes that network's longest
//! idle connection (browsers reopen an idle keep-alive connection without a word), and is
//! refused only when all of them are still incomplete. Active connections are never
//! capped: hundreds of guests behind one venue address are served. Trusted proxies are
//! exempt.
//!
//! Then the bytes go to Rocket on an internal loopback address. Rocket learns the real
//! client from [`Peers`]: the front binds each internal connection's source port before
//! connecting and notes which client it carries; a port that is not noted (someone on this
//! machine connecting to the internal port directly) is just that local address, so no
//! client can claim another's address. The bytes themselves move kernel to kernel
//! (`relay.rs`).

mod peers;
mod relay;

use peers::Noted;
pub use peers::{Peers, network_of};

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ipnet::IpNet;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::Notify;
use tokio::time::Instant;

/// Longest request head read before the request is handed on (Rocket's own limits apply
/// after that; a head this long is refused by closing).
const MAX_HEAD: usize = 64 * 1024;
/// A connection silent this long counts as idle (for the per-network cap).
const IDLE_AFTER: Duration = Duration::from_secs(5);
/// How often a connection checks whether it has been silent too long.
const WATCH_EVERY: Duration = Duration::from_secs(1);

/// How long a connection may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// For its first request head.
    pub head: Duration,
    /// Without a byte in either direction.
    pub idle: Duration,
    /// Incomplete or idle connections per client network.
    pub per_client: usize,
}

const INCOMPLETE: u8 = 0;
const ACTIVE: u8 = 1;
const IDLE: u8 = 2;

/// One connection as the per-network cap sees it.
#[derive(Debug)]
struct Conn {
    state: AtomicU8,
    close: Notify,
}

/// Connections by client network.
#[derive(Debug, Default)]
struct Table {
    by_net: Mutex<HashMap<IpAddr, Vec<Arc<Conn>>>>,
}

/// A connection's place in the table; leaves it when dropped.
struct Entry {
    table: Arc<Table>,
    net: IpAddr,
    conn: Arc<Conn>,
}

impl Drop for Entry {
    fn drop(&mut self) {
        let mut by_net = self
            .table
            .by_net
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(list) = by_net.get_mut(&self.net) {
            list.retain(|c| !Arc::ptr_eq(c, &self.conn));
            if list.is_empty() {
                by_net.remove(&self.net);
            }
        }
    }
}

impl Table {
    /// Admit a new connection of `net`, making room by closing its longest idle one if the
    /// cap is reached; `None` if every waiting connection of `net` is still incomplete.
    fn enter(self: &Arc<Self>, net: IpAddr, cap: usize) -> Option<Entry> {
        let mut by_net = self.by_net.lock().unwrap_or_else(PoisonError::into_inner);
        let list = by_net.entry(net).or_default();
        let waiting = list
            .iter()
            .filter(|c| c.state.load(Ordering::Relaxed) != ACTIVE)
            .count();
        if waiting >= cap {
            // The list is in arrival order: the first idle one has waited longest.
            let idle = list
                .iter()
                .find(|c| c.state.load(Ordering::Relaxed) == IDLE)?;
            idle.state.store(ACTIVE, Ordering::Relaxed);
            idle.close.notify_one();
        }
        let conn = Arc::new(Conn {
            state: AtomicU8::new(INCOMPLETE),
            close: Notify::new(),
        });
        list.push(Arc::clone(&conn));
        Some(Entry {
            table: Arc::clone(self),
            net,
            conn,
        })
    }
}

/// The front door, ready to run.
#[derive(Debug)]
pub struct Front {
    listener: std::net::TcpListener,
    internal: SocketAddr,
    timeouts: Timeouts,
    trusted: Vec<IpNet>,
    peers: Arc<Peers>,
    table: Arc<Table>,
}

impl Front {
    /// Bind the public address now (so a taken port is reported at start-up) and choose
    /// the internal loopback port Rocket will listen on.
    pub fn bind(
        public: SocketAddr,
        timeouts: Timeouts,
        trusted: Vec<IpNet>,
        peers: Arc<Peers>,
    ) -> io::Result<Front> {
        let listener = listen(public)?;
        let internal = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()?;
        Ok(Front {
            listener,
            internal,
            timeouts,
            trusted,
            peers,
            table: Arc::default(),
        })
    }

    /// Where Rocket must listen.
    pub fn internal(&self) -> SocketAddr {
        self.internal
    }

    /// Accept connections until the runtime ends.
    pub async fn run(self) {
        let listener = match TcpListener::from_std(self.listener) {
            Ok(listener) => listener,
            Err(e) => {
                rocket::error!("the public listener failed: {e}");
                return;
            }
        };
        let shared = Arc::new(Shared {
            internal: self.internal,
            timeouts: self.timeouts,
            trusted: self.trusted,
            peers: self.peers,
            table: self.table,
        });
        loop {
            match listener.accept().await {
                Ok((stream, peer)) => {
                    // As Rocket does on its own sockets: with Nagle's algorithm on, the last
                    // short segment of a response waits for the client's delayed ACK.
                    let _ = stream.set_nodelay(true);
                    let shared = Arc::clone(&shared);
                    tokio::spawn(async move { shared.serve(stream, peer).await });
                }
                // Out of descriptors or a connection reset before it was accepted: wait a
                // moment rather than spin (as hyper's listener does).
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }
}

/// A listening socket on `public` that a restart can take over at once: `SO_REUSEADDR`,
/// as hyper's and nginx's listeners set, so connections of the last run still in
/// TIME_WAIT do not keep the port.
fn listen(public: SocketAddr) -> io::Result<std::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(public), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.bind(&public.into())?;
    socket.listen(1024)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

#[derive(Debug)]
struct Shared {
    internal: SocketAddr,
    timeouts: Timeouts,
    trusted: Vec<IpNet>,
    peers: Arc<Peers>,
    table: Arc<Table>,
}

impl Shared {
    async fn serve(&self, mut client: TcpStream, peer: SocketAddr) {
        let ip = peer.ip().to_canonical();
        let trusted = self.trusted.iter().any(|net| net.contains(&ip));
        let cap = if trusted {
            usize::MAX
        } else {
            self.timeouts.per_client
        };
        let Some(entry) = self.table.enter(network_of(ip), cap) else {
            return;
        };
        let mut head = Vec::with_capacity(2048);
        let read = tokio::time::timeout(self.timeouts.head, read_head(&mut client, &mut head));
        if !matches!(read.await, Ok(Ok(true))) {
            if !head.is_empty() {
                let _ = client.write_all(TIMEOUT_RESPONSE).await;
            }
            return;
        }
        entry.conn.state.store(ACTIVE, Ordering::Relaxed);
        let Ok((upstream, _noted)) = self.connect(ip).await else {
            let _ = client.write_all(UNAVAILABLE_RESPONSE).await;
            return;
        };
        let mut upstream = upstream;
        if upstream.write_all(&head).await.is_err() {
            return;
        }
        self.relay(client, upstream, &entry.conn).await;
    }

    /// A connection to Rocket whose source port says it carries `client`.
    async fn connect(&self, client: IpAddr) -> io::Result<(TcpStream, Noted)> {
        let socket = TcpSocket::new_v4()?;
        socket.bind((Ipv4Addr::LOCALHOST, 0).into())?;
        let noted = self.peers.note(socket.local_addr()?.port(), client);
        let stream = socket.connect(self.internal).await?;
        stream.set_nodelay(true)?;
        Ok((stream, noted))
    }

    /// Pass bytes both ways until both sides are done, the connection is silent for
    /// [`Timeouts::idle`], or the per-network cap needs its place.
    async fn relay(&self, client: TcpStream, upstream: TcpStream, conn: &Conn) {
        let heard = Mutex::new(Instant::now());
        let both = relay::both_ways(&client, &upstream, &heard);
        tokio::pin!(both);
        let mut watch = tokio::time::interval(WATCH_EVERY);
        loop {
            tokio::select! {
                _ = &mut both => return,
                () = conn.close.notified() => return,
                _ = watch.tick() => {
                    let silent = heard.lock().unwrap_or_else(PoisonError::into_inner).elapsed();
                    if silent >= self.timeouts.idle {
                        return;
                    }
                    let state = if silent >= IDLE_AFTER { IDLE } else { ACTIVE };
                    conn.state.store(state, Ordering::Relaxed);
                }
            }
        }
    }
}

const TIMEOUT_RESPONSE: &[u8] =
    b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
const UNAVAILABLE_RESPONSE: &[u8] =
    b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";

/// Read until the end of the first request head (`true`), the peer closes or the head
/// grows past [`MAX_HEAD`] (`false`).
async fn read_head(client: &mut TcpStream, head: &mut Vec<u8>) -> io::Result<bool> {
    let mut buf = [0u8; 4096];
    loop {
        let n = client.read(&mut buf).await?;
        if n == 0 {
            return Ok(false);
        }
        // Only the new bytes and the three before them can complete "\r\n\r\n".
        let from = head.len().saturating_sub(3);
        head.extend_from_slice(&buf[..n]);
        if head[from..].windows(4).any(|w| w == b"\r\n\r\n") {
            return Ok(true);
        }
        if head.len() > MAX_HEAD {
            return Ok(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_are_ipv4_addresses_and_ipv6_slash_64s() {
        let v4: IpAddr = "192.0.2.7".parse().expect("ip");
        assert_eq!(network_of(v4), v4);
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().expect("ip");
        assert_eq!(network_of(mapped), v4);
        let v6: IpAddr = "2001:db8:1:2:3:4:5:6".parse().expect("ip");
        assert_eq!(
            network_of(v6),
            "2001:db8:1:2::".parse::<IpAddr>().expect("ip")
        );
    }

    #[test]
    fn the_cap_makes_room_by_closing_idle_connections_never_active_ones() {
        let table = Arc::new(Table::default());
        let net: IpAddr = "192.0.2.1".parse().expect("ip");
        let a = table.enter(net, 2).expect("first");
        let b = table.enter(net, 2).expect("second");
        // Two incomplete: the third is refused.
        assert!(table.enter(net, 2).is_none());
        // Another network is not affected.
        assert!(table.enter("192.0.2.2".parse().expect("ip"), 2).is_some());
        // Active ones do not count.
        a.conn.state.store(ACTIVE, Ordering::Relaxed);
        let c = table.enter(net, 2).expect("room");
        // b and c incomplete, a idle: a new one closes a to make room.
        a.conn.state.store(IDLE, Ordering::Relaxed);
        let d = table
            .enter(net, 2)
            .expect("room made by closing the idle one");
        assert_eq!(
            a.conn.state.load(Ordering::Relaxed),
            ACTIVE,
            "asked to close"
        );
        // Only incomplete ones left (and a closing): refused.
        assert!(table.enter(net, 2).is_none());
        assert_eq!(b.conn.state.load(Ordering::Relaxed), INCOMPLETE);
        drop(c);
        drop((a, b, d));
        assert!(table.by_net.lock().expect("lock").get(&net).is_none());
    }

    #[test]
    fn peers_are_known_only_for_ports_the_front_opened() {
        let peers = Arc::new(Peers::default());
        let client: IpAddr = "198.51.100.9".parse().expect("ip");
        let noted = peers.note(40000, client);
        let through: SocketAddr = "127.0.0.1:40000".parse().expect("addr");
        let direct: SocketAddr = "127.0.0.1:40001".parse().expect("addr");
        assert_eq!(peers.client_of(through), client);
        assert_eq!(peers.client_of(direct), direct.ip());
        drop(noted);
        assert_eq!(peers.client_of(through), through.ip());
    }
}
