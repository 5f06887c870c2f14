//! Who is behind each of the front door's internal connections, and the network a client
//! is counted by.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};

/// Which client each internal connection carries, by its source port.
#[derive(Debug, Default)]
pub struct Peers {
    by_port: Mutex<HashMap<u16, IpAddr>>,
}

impl Peers {
    /// The client behind a connection from `remote` (itself if the front did not open it).
    pub fn client_of(&self, remote: SocketAddr) -> IpAddr {
        if !remote.ip().is_loopback() {
            return remote.ip();
        }
        let by_port = self.by_port.lock().unwrap_or_else(PoisonError::into_inner);
        by_port.get(&remote.port()).copied().unwrap_or(remote.ip())
    }

    /// Remember that internal connection `port` carries `client`, until the guard drops.
    pub fn note(self: &Arc<Self>, port: u16, client: IpAddr) -> Noted {
        self.by_port
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(port, client);
        Noted {
            peers: Arc::clone(self),
            port,
        }
    }
}

/// Forgets the port when the internal connection ends.
pub struct Noted {
    peers: Arc<Peers>,
    port: u16,
}

impl Drop for Noted {
    fn drop(&mut self) {
        self.peers
            .by_port
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.port);
    }
}

/// The network a client is counted by: its IPv4 address, or its IPv6 /64.
pub fn network_of(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let mut octets = v6.octets();
            octets[8..].fill(0);
            IpAddr::from(octets)
        }
        v4 => v4,
    }
}
