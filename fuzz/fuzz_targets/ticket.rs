//! Ticket cookies: an arbitrary cookie never verifies, and no change to a genuine ticket
//! (a byte replaced, cut, or extended) is accepted; the genuine one still is.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use maiimg::domain::tickets::Tickets;
use maiimg::ids::GalleryId;
use time::OffsetDateTime;

struct Fixture {
    tickets: Tickets,
    gallery: GalleryId,
    now: OffsetDateTime,
    genuine: String,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let tickets = Tickets::new(vec![7; 32]);
    let gallery = GalleryId::parse("AAAAAAAAAAAAAAAA").expect("a gallery id");
    let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("a valid instant");
    let genuine = tickets.issue(&gallery, 3, now);
    Fixture {
        tickets,
        gallery,
        now,
        genuine,
    }
});

fuzz_target!(|data: &[u8]| {
    let f = &*FIXTURE;
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let candidate = if mode % 2 == 0 {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        // Edit the genuine ticket: pairs of (position, byte) replace, 0xFF bytes cut it.
        let mut t = f.genuine.clone().into_bytes();
        for pair in rest.chunks(2) {
            match *pair {
                [_, 0xFF] => t.truncate(t.len().saturating_sub(1)),
                [at, b] if usize::from(at) < t.len() => t[usize::from(at)] = b,
                [_, b] => t.push(b),
                _ => {}
            }
        }
        String::from_utf8_lossy(&t).into_owned()
    };
    let epoch = u64::from(mode >> 1 & 3);
    let at = f.now + time::Duration::seconds(i64::from(mode >> 3));
    let accepted = f.tickets.verify(&f.gallery, epoch, &candidate, at);
    assert_eq!(
        accepted,
        candidate == f.genuine && epoch == 3,
        "{candidate:?} in epoch {epoch}"
    );
});
