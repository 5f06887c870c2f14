//! Viewer tickets: proof that this browser was admitted to a gallery (its open counted,
//! its password given), so reloads and image requests do not count again.
//!
//! A ticket is `expiry ‖ session ‖ HMAC-SHA256(key, gallery ‖ expiry ‖ session)[..16]`,
//! URL-safe base64. The key is random, kept in the database, so tickets survive restarts.
//! The MAC also covers the gallery's ticket epoch (`Settings::ticket_epoch`), so advancing
//! it ends every ticket issued before. Epoch 0 adds nothing to the MAC: tickets issued
//! before epochs existed stay valid until the first change.

use data_encoding::BASE64URL_NOPAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use time::{Duration, OffsetDateTime};

use crate::ids::GalleryId;

/// How long an admitted viewer may come back without counting as a new open.
pub const TICKET_TTL: Duration = Duration::hours(12);

const TAG_BYTES: usize = 16;

/// Issues and checks tickets with the instance's key.
#[derive(Clone)]
pub struct Tickets {
    key: Vec<u8>,
}

impl std::fmt::Debug for Tickets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tickets(…)")
    }
}

impl Tickets {
    /// Use `key` (at least 32 random bytes).
    pub fn new(key: Vec<u8>) -> Tickets {
        Tickets { key }
    }

    fn mac(&self, gallery: &GalleryId, epoch: u64, expires: i64, session: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key)
            .expect("HMAC accepts keys of any length");
        mac.update(b"maiimg-ticket-v1\0");
        mac.update(gallery.as_str().as_bytes());
        mac.update(&expires.to_be_bytes());
        mac.update(session);
        // Last and fixed-length, so no other input can produce the same message.
        if epoch != 0 {
            mac.update(&epoch.to_be_bytes());
        }
        mac
    }

    /// A ticket for `gallery` under its `epoch`, valid for [`TICKET_TTL`] from `now`.
    pub fn issue(&self, gallery: &GalleryId, epoch: u64, now: OffsetDateTime) -> String {
        let expires = (now + TICKET_TTL).unix_timestamp();
        let session = rand::random::<[u8; 8]>();
        let tag = self
            .mac(gallery, epoch, expires, &session)
            .finalize()
            .into_bytes();
        let mut raw = Vec::with_capacity(16 + TAG_BYTES);
        raw.extend_from_slice(&expires.to_be_bytes());
        raw.extend_from_slice(&session);
        raw.extend_from_slice(&tag[..TAG_BYTES]);
        BASE64URL_NOPAD.encode(&raw)
    }

    /// Is `ticket` a live ticket for `gallery` in its current `epoch`? The tag is compared
    /// in constant time.
    pub fn verify(
        &self,
        gallery: &GalleryId,
        epoch: u64,
        ticket: &str,
        now: OffsetDateTime,
    ) -> bool {
        let Ok(raw) = BASE64URL_NOPAD.decode(ticket.as_bytes()) else {
            return false;
        };
        if raw.len() != 16 + TAG_BYTES {
            return false;
        }
        let (expires, rest) = raw.split_at(8);
        let (session, tag) = rest.split_at(8);
        let Ok(expires) = <[u8; 8]>::try_from(expires).map(i64::from_be_bytes) else {
            return false;
        };
        expires > now.unix_timestamp()
            && self
                .mac(gallery, epoch, expires, session)
                .verify_truncated_left(tag)
                .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_opens_its_gallery_only_until_it_expires() {
        let tickets = Tickets::new(vec![7; 32]);
        let gallery = GalleryId::generate();
        let now = OffsetDateTime::now_utc();
        let ticket = tickets.issue(&gallery, 0, now);
        assert!(tickets.verify(&gallery, 0, &ticket, now));
        let last_second = now + TICKET_TTL - Duration::seconds(1);
        assert!(tickets.verify(&gallery, 0, &ticket, last_second));
        assert!(!tickets.verify(&gallery, 0, &ticket, now + TICKET_TTL));
        assert!(!tickets.verify(&GalleryId::generate(), 0, &ticket, now));
        assert!(!Tickets::new(vec![8; 32]).verify(&gallery, 0, &ticket, now));
        let mut forged = ticket.into_bytes();
        let last = forged.len() - 2;
        forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
        let forged = String::from_utf8(forged).expect("ascii");
        assert!(!tickets.verify(&gallery, 0, &forged, now));
        assert!(!tickets.verify(&gallery, 0, "garbage", now));
    }

    #[test]
    fn a_ticket_opens_only_in_the_epoch_it_was_issued_in() {
        let tickets = Tickets::new(vec![7; 32]);
        let gallery = GalleryId::generate();
        let now = OffsetDateTime::now_utc();
        let first = tickets.issue(&gallery, 0, now);
        assert!(!tickets.verify(&gallery, 1, &first, now));
        let second = tickets.issue(&gallery, 1, now);
        assert!(tickets.verify(&gallery, 1, &second, now));
        assert!(!tickets.verify(&gallery, 0, &second, now));
        assert!(!tickets.verify(&gallery, 2, &second, now));
    }
}
