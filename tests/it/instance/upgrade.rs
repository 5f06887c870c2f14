//! Photos stored by an earlier version are brought up to this one's ingest in the
//! background: WebP originals lose their `INFO` chunks, renditions of non-sRGB photos are
//! made again colour-managed, blob references move in the same transactions, and the walk
//! resumes where it stopped.

use std::path::Path;

use super::store_state;
use crate::common::*;
use crate::ingest::colour::{P3_COLOUR, p3_in_srgb, p3_photo};
use maiimg::domain::galleries::{Galleries, OpenOptions};
use maiimg::domain::ingest::{Encoded, Ingested, Limits, ingest};
use maiimg::domain::settings::SettingsInput;
use maiimg::model::{Digest, MediaFormat};
use rocket::http::{ContentType, Status};
use time::{Duration, OffsetDateTime};

const TOKEN: &str = "correct-horse-battery-staple-42";

fn limits() -> Limits {
    Limits {
        max_file_bytes: 1 << 24,
        max_pixels: 10_000_000,
        max_dimension: 10_000,
    }
}

/// An untagged JPEG of these numbers, as renditions were written before colour management.
fn jpeg(pixels: &[u8], width: u16, height: u16) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut bytes, 95);
    encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_4_4);
    encoder
        .encode(pixels, width, height, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    bytes
}

fn encoded(bytes: Vec<u8>, format: MediaFormat, width: u32, height: u32) -> Encoded {
    Encoded {
        bytes,
        format,
        width,
        height,
    }
}

/// What an earlier version stored for a Display P3 photo: the tagged original, and
/// renditions carrying its numbers as if they were sRGB.
fn old_p3_image() -> Ingested {
    let (original, _) = p3_photo(64, 48);
    Ingested {
        name: "p3.jpg".into(),
        animated: false,
        original: encoded(original, MediaFormat::Jpeg, 64, 48),
        display: encoded(
            jpeg(&P3_COLOUR.repeat(64 * 48), 64, 48),
            MediaFormat::Jpeg,
            64,
            48,
        ),
        thumb: encoded(
            jpeg(&P3_COLOUR.repeat(32 * 24), 32, 24),
            MediaFormat::Jpeg,
            32,
            24,
        ),
        download: None,
    }
}

/// A lossless WebP whose original still has the artist's name in a RIFF `INFO` chunk, as
/// an earlier version kept it; its renditions were right.
fn old_webp_image() -> Ingested {
    let mut plain = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut plain)
        .encode(
            &[90, 160, 30].repeat(40 * 30),
            40,
            30,
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    let fresh = ingest(&plain, "art.webp", &limits()).unwrap();
    let info = b"INFOIART\x0e\0\0\0Alice Artist!\0";
    let mut body = plain[12..].to_vec();
    body.extend_from_slice(b"LIST");
    body.extend_from_slice(&(info.len() as u32).to_le_bytes());
    body.extend_from_slice(info);
    let mut leaky = b"RIFF".to_vec();
    leaky.extend_from_slice(&(body.len() as u32 + 4).to_le_bytes());
    leaky.extend_from_slice(b"WEBP");
    leaky.extend_from_slice(&body);
    Ingested {
        original: encoded(leaky, MediaFormat::Webp, 40, 30),
        ..fresh
    }
}

/// A plain sRGB photo: already what this version makes.
fn current_image() -> Ingested {
    let pixels: Vec<u8> = (0..48 * 32 * 3).map(|i| (i * 7 % 251) as u8).collect();
    ingest(&jpeg(&pixels, 48, 32), "plain.jpg", &limits()).unwrap()
}

/// Store galleries as an earlier version did: one of each kind, and a second gallery
/// sharing the P3 photo's files. Returns the galleries' ids.
fn store_old(dir: &Path, now: OffsetDateTime) -> (String, String) {
    let galleries = Galleries::open(OpenOptions::at(dir.to_path_buf()), now).unwrap();
    let write = |i: &Ingested| galleries.write_image(i).unwrap();
    let images = vec![
        write(&old_p3_image()),
        write(&old_webp_image()),
        write(&current_image()),
    ];
    let first = galleries
        .create("old", &SettingsInput::default(), images, &[], now)
        .unwrap();
    let shared = vec![write(&old_p3_image())];
    let second = galleries
        .create("shared", &SettingsInput::default(), shared, &[], now)
        .unwrap();
    (first.id.to_string(), second.id.to_string())
}

fn app_on(dir: &Path) -> TestApp {
    let dir = dir.to_path_buf();
    TestApp::started(true, maiimg::Start::default(), move |c| {
        c.data_dir = dir;
        c.admin_token = TOKEN.into();
    })
}

fn mean_rgb(bytes: &[u8]) -> [u8; 3] {
    let rgb = decode(bytes).to_rgb8();
    let n = u64::from(rgb.width() * rgb.height());
    let mut sum = [0u64; 3];
    for p in rgb.pixels() {
        for c in 0..3 {
            sum[c] += u64::from(p[c]);
        }
    }
    sum.map(|s| (s / n) as u8)
}

fn hex(etag: &str) -> Digest {
    Digest::from_hex(etag.trim_matches('"')).unwrap()
}

#[test]
fn outdated_stored_photos_are_made_again_in_the_background() {
    let data = tempfile::tempdir().unwrap();
    let (first, second) = store_old(
        data.path(),
        OffsetDateTime::now_utc() - Duration::minutes(5),
    );
    let app = app_on(data.path());
    let before: Vec<[String; 3]> = (0..3)
        .map(|n| ["original", "display", "thumb"].map(|r| app.etag(&first, n, r)))
        .collect();

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let done = |app: &TestApp| {
        app.etag(&first, 0, "display") != before[0][1]
            && app.etag(&first, 1, "original") != before[1][0]
            && app.etag(&second, 0, "display") != before[0][1]
    };
    while !done(&app) {
        assert!(
            std::time::Instant::now() < deadline,
            "the walk did not finish"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }

    // The P3 photo: its original kept, its renditions shown as a colour-managed browser
    // shows the original, in both galleries.
    assert_eq!(app.etag(&first, 0, "original"), before[0][0]);
    let display = app.image(&first, 0, "display").body;
    let (want, got) = (p3_in_srgb(), mean_rgb(&display));
    for c in 0..3 {
        assert!(
            want[c].abs_diff(got[c]) <= 3,
            "display {got:?}, want {want:?}"
        );
    }
    assert_eq!(
        app.etag(&second, 0, "display"),
        app.etag(&first, 0, "display")
    );
    // The WebP: the artist's name gone, the same pixels.
    let webp = app.image(&first, 1, "original").body;
    assert!(!webp.windows(4).any(|w| w == b"LIST" || w == b"INFO"));
    assert!(!webp.windows(12).any(|w| w == b"Alice Artist"));
    assert_eq!(decode(&webp).to_rgb8().get_pixel(5, 5).0, [90, 160, 30]);
    // The plain photo: untouched.
    let plain = ["original", "display", "thumb"].map(|r| app.etag(&first, 2, r));
    assert_eq!(plain, before[2]);

    // The admin sees that it is done.
    let signed_in = app
        .client
        .post("/admin/login")
        .header(ContentType::Form)
        .body(format!("token={TOKEN}"))
        .dispatch();
    assert_eq!(signed_in.status(), Status::SeeOther);
    drop(signed_in);
    // The walk marks itself done just after its last swap: wait for that too.
    let page = loop {
        let page = app.get("/admin");
        assert!(page.has_id("storage-upgrade"), "{}", page.text());
        if page.text().contains("data-current=\"true\"") {
            break page;
        }
        assert!(std::time::Instant::now() < deadline, "{}", page.text());
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(
        page.text()
            .contains("Up to date with this version (3 photos made again)"),
        "{}",
        page.text()
    );
    drop(app);

    // References moved with the records: nothing dangling, nothing left over, and the
    // files only the old records used are gone.
    let (galleries, orphans) = store_state(data.path());
    assert_eq!((galleries, orphans), (2, vec![]));
    for (n, rendition) in [(0, 1), (0, 2), (1, 0)] {
        let old = hex(&before[n][rendition]);
        assert!(
            !blob_exists(data.path(), &old),
            "image {n}'s old file {rendition} is still there"
        );
    }

    // A second start has nothing left to do.
    let galleries = Galleries::open(
        OpenOptions::at(data.path().to_path_buf()),
        OffsetDateTime::now_utc(),
    )
    .unwrap();
    let state = galleries.upgrade_state().unwrap();
    assert!(state.is_current(), "{state:?}");
    assert_eq!((state.galleries, state.redone, state.failed), (2, 3, 0));
    assert_eq!(
        galleries
            .upgrade_next(OffsetDateTime::now_utc())
            .unwrap()
            .map(|g| g.id),
        None
    );
}

fn blob_exists(data: &Path, digest: &Digest) -> bool {
    let hex = digest.to_hex();
    data.join("blobs")
        .join(&hex[0..2])
        .join(&hex[2..4])
        .join(&hex)
        .exists()
}

#[test]
fn the_walk_goes_on_where_it_stopped() {
    let data = tempfile::tempdir().unwrap();
    let now = OffsetDateTime::now_utc();
    let (first, second) = store_old(data.path(), now - Duration::minutes(5));
    let open = || Galleries::open(OpenOptions::at(data.path().to_path_buf()), now).unwrap();

    let galleries = open();
    let one = galleries
        .upgrade_next(now)
        .unwrap()
        .expect("a gallery to look at");
    assert!([&first, &second].contains(&&one.id.to_string()));
    galleries.upgrade_done(&one.id, 0, 0).unwrap();
    drop(galleries);

    // A restart (or a kill -9 after that commit): the other gallery, not the first again.
    let galleries = open();
    let two = galleries
        .upgrade_next(now)
        .unwrap()
        .expect("the other gallery");
    assert_ne!(two.id, one.id);
    galleries.upgrade_done(&two.id, 0, 0).unwrap();
    assert!(galleries.upgrade_next(now).unwrap().is_none());
    assert!(galleries.upgrade_state().unwrap().is_current());

    // Galleries made after the walk began are this version's own: never looked at.
    let elsewhere = tempfile::tempdir().unwrap();
    let fresh = Galleries::open(OpenOptions::at(elsewhere.path().to_path_buf()), now).unwrap();
    let image = fresh.write_image(&old_p3_image()).unwrap();
    fresh
        .create(
            "new",
            &SettingsInput::default(),
            vec![image],
            &[],
            now + Duration::seconds(1),
        )
        .unwrap();
    assert!(fresh.upgrade_next(now).unwrap().is_none());
}
