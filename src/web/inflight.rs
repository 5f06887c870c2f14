//! Uploads being received, bounded per client and in all: a client (an IPv4 address or an
//! IPv6 /64) sends at most [`PER_CLIENT`] at once (429), and all uploads together hold at
//! most `upload_buffer_bytes` of memory (503), each at most [`BUFFER_PER_UPLOAD`] since
//! larger files are spooled to `tmp/` as they arrive (`crate::spool`).
//!
//! This is nginx's model (`client_body_buffer_size` with temp files, `limit_conn`): the
//! memory of a request is bounded by its buffer, not by its file, and the number of
//! buffers by a count. A byte budget over whole bodies would have to refuse a handful of
//! 45 MB uploads where buffers serve dozens at a few MB; the disk holds the rest.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::front::network_of as network;
use crate::web::error::WebError;

/// Uploads one client may send at once: the upload page's 3 in parallel, and one more (a
/// second tab, or a gallery created while the last photos are processed).
pub const PER_CLIENT: usize = 4;
/// A part larger than this is written to `tmp/` instead of memory.
pub const SPOOL_THRESHOLD: usize = 1024 * 1024;
/// Memory one upload being received holds at most: the part under the spool threshold, the
/// spool's write buffer and the HTTP and multipart read buffers.
pub const BUFFER_PER_UPLOAD: u64 = 2 * 1024 * 1024;

/// The uploads in flight.
#[derive(Debug, Default)]
pub struct InFlight(Arc<Mutex<State>>);

#[derive(Debug, Default)]
struct State {
    per_client: HashMap<IpAddr, usize>,
    buffered: u64,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // Every critical section leaves the counts valid; a poisoned lock is still usable.
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// One admitted upload; its place is given back when dropped (with the request).
#[derive(Debug)]
pub struct Ticket {
    state: Arc<Mutex<State>>,
    client: Option<IpAddr>,
    charge: u64,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut state = lock(&self.state);
        state.buffered = state.buffered.saturating_sub(self.charge);
        if let Some(client) = self.client
            && let Some(n) = state.per_client.get_mut(&client)
        {
            *n -= 1;
            if *n == 0 {
                state.per_client.remove(&client);
            }
        }
    }
}

impl InFlight {
    /// Admit an upload from `client` whose body says it has `declared` bytes (`None`: no
    /// length given). `exempt` (a trusted proxy's own address) is not counted per client.
    /// The first upload is always admitted, whatever `budget`.
    pub fn enter(
        &self,
        client: IpAddr,
        exempt: bool,
        declared: Option<u64>,
        budget: u64,
    ) -> Result<Ticket, WebError> {
        let key = network(client);
        let charge = declared.map_or(BUFFER_PER_UPLOAD, |n| n.min(BUFFER_PER_UPLOAD));
        let mut state = lock(&self.0);
        let mine = state.per_client.get(&key).copied().unwrap_or(0);
        if !exempt && mine >= PER_CLIENT {
            return Err(WebError::TooManyParallelUploads { max: PER_CLIENT });
        }
        if state.buffered > 0 && state.buffered + charge > budget {
            return Err(WebError::UploadsBusy);
        }
        state.buffered += charge;
        if !exempt {
            state.per_client.insert(key, mine + 1);
        }
        Ok(Ticket {
            state: Arc::clone(&self.0),
            client: (!exempt).then_some(key),
            charge,
        })
    }

    /// Uploads in flight from `client`'s network and bytes of the budget taken (tests).
    pub fn counts(&self, client: IpAddr) -> (usize, u64) {
        let state = lock(&self.0);
        let mine = state.per_client.get(&network(client)).copied();
        (mine.unwrap_or(0), state.buffered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    #[test]
    fn a_client_sends_at_most_four_at_once_and_an_ipv6_64_is_one_client() {
        let uploads = InFlight::default();
        let a = ip("2001:db8:1:2::1");
        let held: Vec<Ticket> = (0..PER_CLIENT)
            .map(|_| {
                uploads
                    .enter(a, false, Some(MIB), 1024 * MIB)
                    .expect("admitted")
            })
            .collect();
        let same_network = ip("2001:db8:1:2:ffff::9");
        let refused = uploads.enter(same_network, false, Some(MIB), 1024 * MIB);
        assert!(matches!(
            refused,
            Err(WebError::TooManyParallelUploads { max: 4 })
        ));
        // Another client, and a trusted proxy's own address, are not affected.
        assert!(
            uploads
                .enter(ip("2001:db8:1:3::1"), false, None, 1024 * MIB)
                .is_ok()
        );
        let proxy: Vec<Ticket> = (0..10)
            .map(|_| uploads.enter(ip("10.0.0.1"), true, Some(MIB), 1024 * MIB))
            .collect::<Result<_, _>>()
            .expect("a proxy's own address is exempt");
        assert_eq!(uploads.counts(ip("10.0.0.1")).0, 0);
        drop(proxy);
        // One finishing makes room for one more.
        drop(held.into_iter().next());
        assert!(
            uploads
                .enter(same_network, false, Some(MIB), 1024 * MIB)
                .is_ok()
        );
        assert_eq!(uploads.counts(a), (0, 0), "everything given back on drop");
    }

    #[test]
    fn the_buffer_budget_admits_while_it_fits_and_never_starves_the_first() {
        let uploads = InFlight::default();
        let budget = 5 * MIB;
        // Each large upload takes its buffer, not its file; a small one only its length.
        let one = uploads
            .enter(ip("192.0.2.1"), false, Some(45 * MIB), budget)
            .expect("first");
        let two = uploads
            .enter(ip("192.0.2.2"), false, None, budget)
            .expect("second");
        assert_eq!(uploads.counts(ip("192.0.2.1")).1, 2 * BUFFER_PER_UPLOAD);
        let small = uploads
            .enter(ip("192.0.2.3"), false, Some(MIB / 2), budget)
            .expect("half a MiB fits");
        assert!(matches!(
            uploads.enter(ip("192.0.2.4"), false, Some(45 * MIB), budget),
            Err(WebError::UploadsBusy)
        ));
        drop((one, two, small));
        // Alone, an upload is admitted even if its buffer is more than the budget.
        assert!(uploads.enter(ip("192.0.2.4"), false, None, MIB).is_ok());
    }
}
