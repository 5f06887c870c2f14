//! Tracking: what each request to a gallery records, and the statistics read back.
//!
//! A visitor is known only by a daily hash: SHA-256 of a random salt that is replaced
//! every UTC day (the old one is overwritten, so yesterday's hashes can no longer be
//! recomputed from an address), the gallery, the client address and the User-Agent. That
//! counts unique visitors within a day without storing who they are.

pub mod agent;
mod keys;
pub mod referrer;
pub mod stats;

use keys::{day_of, hour_of};
pub use keys::{image_key, local_day};

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

use super::access::Reason;
use crate::ids::GalleryId;
use crate::model::{AccessRecord, Digest, EventKind, Settings};
use crate::store::{Store, StoreError, Tally, encode_record};
use agent::Agent;

/// Who made a request, as the web layer saw it.
#[derive(Clone, Debug)]
pub struct Visitor {
    /// The parsed User-Agent.
    pub agent: Arc<Agent>,
    /// The raw User-Agent (hashed, never stored).
    pub user_agent: String,
    /// Referring app or host.
    pub referrer: String,
    /// The client's address (hashed, never stored as is).
    pub ip: IpAddr,
    /// The address as the instance keeps it (truncated), or `None`.
    pub stored_ip: Option<String>,
    /// The network the log's per-address bounds apply to (an IPv4 address or an IPv6
    /// /64, hashed, never stored), or `None` for a trusted proxy, which is exempt.
    pub network: Option<IpAddr>,
}

/// Opens from one network that a gallery logs one by one per hour; the rest of that hour
/// are counted as usual but logged as one record that says how many. Venues and mobile
/// carriers put hundreds of guests behind one address: 300 lets a full wedding hall
/// through with room to spare, while a flood of fresh opens from one network adds at most
/// 301 records an hour. Each photo's unique lightbox views from one network are kept (and
/// counted) up to the same number an hour: the keys that tell viewers apart are visitor
/// hashes, which a rotated User-Agent renews.
pub const OPENS_LOGGED_PER_HOUR: u64 = 300;

/// The bytes of an address, for hashing.
fn ip_bytes(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// What happened.
#[derive(Clone, Copy, Debug)]
pub enum Event {
    /// A new viewer got the gallery.
    Open,
    /// An admitted viewer reloaded it.
    Reload,
    /// A link-preview bot fetched it.
    Preview(&'static str),
    /// It was refused.
    Denied(Reason),
    /// An image was looked at in the lightbox.
    View {
        /// Its position.
        index: usize,
        /// Its original's digest (stable across reordering).
        image: Digest,
    },
    /// An original was downloaded.
    Download {
        /// Its position.
        index: usize,
        /// Its original's digest.
        image: Digest,
    },
    /// The ZIP of all originals was downloaded.
    Zip,
}

/// Turns events into tallies for the recorder.
#[derive(Debug)]
pub struct Tracker {
    enabled: bool,
    salt: Mutex<Option<(u64, [u8; 32])>>,
}

fn key16(parts: &[&[u8]]) -> [u8; 16] {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    let full = hash.finalize();
    let mut key = [0; 16];
    key.copy_from_slice(&full[..16]);
    key
}

impl Tracker {
    /// A tracker; `enabled: false` records nothing but open counts.
    pub fn new(enabled: bool) -> Tracker {
        Tracker {
            enabled,
            salt: Mutex::new(None),
        }
    }

    /// Whether access logs and statistics are kept.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Today's salt, replacing yesterday's in the store when the day has changed (a small
    /// write, once a day).
    fn salt(&self, store: &Store, day: u64) -> Result<[u8; 32], StoreError> {
        let mut current = self.salt.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((d, salt)) = *current
            && d == day
        {
            return Ok(salt);
        }
        let salt = store.daily_salt(day, rand::random)?;
        *current = Some((day, salt));
        Ok(salt)
    }

    /// Make sure today's salt exists (at start-up and from the housekeeping task, so a
    /// request rarely has to).
    pub fn rotate(&self, store: &Store, now: OffsetDateTime) -> Result<(), StoreError> {
        self.salt(store, day_of(now)).map(|_| ())
    }

    /// What `event` adds to the log and the roll-ups, or `None` when tracking is off.
    pub fn tally(
        &self,
        store: &Store,
        gallery: &GalleryId,
        settings: &Settings,
        event: Event,
        who: &Visitor,
        now: OffsetDateTime,
    ) -> Result<Option<Tally>, StoreError> {
        if !self.enabled {
            return Ok(None);
        }
        let day = day_of(now);
        let salt = self.salt(store, day)?;
        let visitor = key16(&[
            &salt,
            gallery.as_str().as_bytes(),
            &ip_bytes(who.ip),
            who.user_agent.as_bytes(),
        ]);
        // The network's key for this hour: the same for every User-Agent it sends, so
        // rotating them changes nothing.
        let hour = hour_of(now).to_be_bytes();
        let network = who
            .network
            .map(|net| key16(&[&salt, gallery.as_str().as_bytes(), &ip_bytes(net), &hour]));
        let agent = &who.agent;
        let (kind, image, detail) = match event {
            Event::Open => (EventKind::Open, None, None),
            Event::Reload => (EventKind::Reload, None, None),
            Event::Preview(bot) => (EventKind::Preview, None, Some(bot.to_owned())),
            Event::Denied(reason) => (EventKind::Denied, None, Some(reason.slug().to_owned())),
            Event::View { index, .. } => (EventKind::View, Some(index), None),
            Event::Download { index, .. } => (EventKind::Download, Some(index), None),
            Event::Zip => (EventKind::Zip, None, None),
        };
        let mut tally = Tally::new(day);
        if let Some(network) = network {
            match event {
                Event::Open => tally.budget = Some((network, OPENS_LOGGED_PER_HOUR)),
                Event::View { image, .. } => {
                    let key = image_key(&image);
                    let views = key16(&[&network, b"views", key.as_bytes()]);
                    tally.once_budget = Some((views, OPENS_LOGGED_PER_HOUR));
                    tally.logged_once = Some(key16(&[&network, b"view", key.as_bytes()]));
                }
                // One record per network, hour and kind of event (and reason, bot or
                // image); every one is still counted.
                _ => tally.logged_once = Some(key16(&[&network, format!("{event:?}").as_bytes()])),
            }
        }
        tally.record = Some(encode_record(&AccessRecord {
            at_ms: crate::clock::Millis::of(now),
            kind,
            image: image.and_then(|i| u32::try_from(i).ok()),
            detail,
            device: agent.device.as_str().to_owned(),
            os: agent.os.clone(),
            browser: agent.browser.clone(),
            referrer: who.referrer.clone(),
            visitor: data_encoding::HEXLOWER.encode(&visitor[..8]),
            ip: who.stored_ip.clone(),
        })?);
        match event {
            Event::Open => {
                tally.count(format_args!("device:{}", agent.device.as_str()));
                tally.count(format_args!("os:{}", agent.os));
                tally.count(format_args!("browser:{}", agent.browser));
                tally.count(format_args!("ref:{}", who.referrer));
                tally.first = Some(visitor);
                tally.count_first(format_args!("visitors"));
                tally.series = Some((hour_of(now), local_day(settings, now)));
            }
            Event::Reload => tally.count(format_args!("reloads")),
            Event::Preview(bot) => {
                tally.count(format_args!("previews"));
                tally.count(format_args!("bot:{bot}"));
            }
            Event::Denied(reason) => tally.count(format_args!("denied:{}", reason.slug())),
            Event::View { image, .. } => {
                let key = image_key(&image);
                tally.once = Some(key16(&[&visitor, b"view", key.as_bytes()]));
                tally.count(format_args!("view:{key}"));
            }
            Event::Download { image, .. } => {
                tally.count(format_args!("download:{}", image_key(&image)));
            }
            Event::Zip => tally.count(format_args!("zip")),
        }
        Ok(Some(tally))
    }
}
