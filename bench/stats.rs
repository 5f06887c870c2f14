//! Statistics benchmark helper (harness = false); `bench/stats.sh` drives it.
//!
//!   cargo bench --bench stats -- load <data_dir> <records>
//!       creates a gallery of three photos in <data_dir> and records <records> events
//!       (70 % opens, the rest reloads, image views, downloads, previews and refusals,
//!       from six kinds of device, spread over 30 days) through the real write path:
//!       `Galleries::admit` and `Galleries::note`, i.e. the recorder's group commits.
//!       Prints `<id> <manage key>` on the last line.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Instant;

use maiimg::domain::access::Reason;
use maiimg::domain::galleries::{Galleries, OpenOptions};
use maiimg::domain::ingest::{Limits, ingest};
use maiimg::domain::settings::SettingsInput;
use maiimg::domain::tracking::{Event, Visitor, agent, referrer};
use time::{Duration, OffsetDateTime};

const AGENTS: [&str; 6] = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "WhatsApp/2.23.20.0 A",
];
const REFERERS: [Option<&str>; 4] = [
    None,
    Some("android-app://com.whatsapp/"),
    Some("https://web.telegram.org/"),
    Some("https://www.example.org/party"),
];
/// Opens awaited together: the recorder sees batches as under real load.
const IN_FLIGHT: usize = 4096;

fn photo(seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(640, 480, |x, y| {
        image::Rgb([(x as u8).wrapping_add(seed), y as u8, seed])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    match (args.first().map(String::as_str), args.get(1), args.get(2)) {
        (Some("load"), Some(dir), Some(n)) => {
            let n: usize = n.parse().expect("a record count");
            rocket::tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(load(PathBuf::from(dir), n));
        }
        _ => {
            eprintln!("usage: stats load <data_dir> <records>");
            std::process::exit(2);
        }
    }
}

async fn load(dir: PathBuf, n: usize) {
    let galleries = Galleries::open(OpenOptions::at(dir), OffsetDateTime::now_utc())
        .expect("open the data directory");
    let limits = Limits {
        max_file_bytes: 50_000_000,
        max_pixels: 50_000_000,
        max_dimension: 20_000,
    };
    let images = (0..3u8)
        .map(|i| {
            let ingested = ingest(&photo(i * 70), &format!("photo-{i}.jpg"), &limits).unwrap();
            galleries.write_image(&ingested).unwrap()
        })
        .collect();
    let start = OffsetDateTime::now_utc() - Duration::days(30);
    let created = galleries
        .create(
            "A million opens",
            &SettingsInput::default(),
            images,
            &[],
            start,
        )
        .unwrap();
    let id = created.id.clone();
    let record = created.record.clone();
    let digests: Vec<_> = record.images.iter().map(|i| i.original.digest).collect();

    let visitors: Vec<Vec<Visitor>> = AGENTS
        .iter()
        .map(|ua| {
            (0..64u8)
                .map(|k| Visitor {
                    agent: agent::parse(ua),
                    user_agent: (*ua).to_owned(),
                    referrer: referrer::referrer(REFERERS[k as usize % 4], &agent::parse(ua)),
                    ip: IpAddr::from([10, 1, k, 7]),
                    stored_ip: Some(format!("10.1.{k}.0/24")),
                    // Exempt from the per-network bounds (as behind a trusted proxy), so
                    // every event is a record: this measures reading a million of them.
                    network: None,
                })
                .collect()
        })
        .collect();

    let began = Instant::now();
    let step = Duration::seconds(30 * 86_400) / n.max(1) as f64;
    let mut pending = Vec::with_capacity(IN_FLIGHT);
    let galleries = &galleries;
    for i in 0..n {
        let now = start + step * i as f64;
        let who = &visitors[i % AGENTS.len()][(i / 7) % 64];
        let image = i % digests.len();
        match i % 100 {
            0..70 => {
                let (id, record) = (&id, &record);
                pending.push(async move {
                    galleries.admit(id, record, Some(who), now).await.unwrap();
                });
                if pending.len() == IN_FLIGHT {
                    futures_util::future::join_all(pending.drain(..)).await;
                }
                continue;
            }
            70..80 => galleries.note(&id, &record, Event::Reload, who, now),
            80..92 => galleries.note(
                &id,
                &record,
                Event::View {
                    index: image,
                    image: digests[image],
                },
                who,
                now,
            ),
            92..97 => galleries.note(
                &id,
                &record,
                Event::Download {
                    index: image,
                    image: digests[image],
                },
                who,
                now,
            ),
            97..99 => galleries.note(&id, &record, Event::Preview("WhatsApp"), who, now),
            _ => galleries.note(&id, &record, Event::Denied(Reason::Expired), who, now),
        }
        .unwrap();
    }
    futures_util::future::join_all(pending).await;
    galleries.flush().await.unwrap();
    let took = began.elapsed();
    eprintln!(
        "recorded {n} events in {:.1} s ({:.0} events/s) through the recorder",
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64()
    );
    println!("{id} {}", created.manage_key.as_str());
}
