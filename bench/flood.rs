//! Access-log flood benchmark helper (harness = false); `bench/flood.sh` drives it.
//!
//!   cargo bench --bench flood -- <refusals|opens> <data_dir> <events>
//!       creates a gallery in <data_dir>, then sends <events> events from one address
//!       (203.0.113.5), every one with a User-Agent of its own, through the real write
//!       path (`Galleries::note` for refusals, `Galleries::admit` for fresh opens, i.e.
//!       the recorder's group commits), one event per simulated millisecond. Prints the
//!       database size before and after, the records and the opens counted.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Instant;

use maiimg::domain::access::Reason;
use maiimg::domain::galleries::{Galleries, OpenOptions};
use maiimg::domain::ingest::{Limits, ingest};
use maiimg::domain::settings::SettingsInput;
use maiimg::domain::tracking::{Event, Visitor, agent};
use time::{Duration, OffsetDateTime};

/// Opens awaited together: the recorder sees batches as under real load.
const IN_FLIGHT: usize = 4096;
/// Distinct parsed agents (parsing a million distinct strings would time the parser);
/// the raw string, which the visitor hash takes, differs for every event.
const PARSED: usize = 64;

fn photo() -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8, y as u8, 7]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

fn size(dir: &Path) -> u64 {
    std::fs::metadata(dir.join("maiimg.redb")).map_or(0, |m| m.len())
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    match (args.first().map(String::as_str), args.get(1), args.get(2)) {
        (Some(mode @ ("refusals" | "opens")), Some(dir), Some(n)) => {
            let n: usize = n.parse().expect("an event count");
            let opens = mode == "opens";
            rocket::tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(flood(PathBuf::from(dir), n, opens));
        }
        _ => {
            eprintln!("usage: flood <refusals|opens> <data_dir> <events>");
            std::process::exit(2);
        }
    }
}

async fn flood(dir: PathBuf, n: usize, opens: bool) {
    let start = OffsetDateTime::now_utc();
    let galleries = Galleries::open(OpenOptions::at(dir.clone()), start).expect("open");
    let limits = Limits {
        max_file_bytes: 50_000_000,
        max_pixels: 50_000_000,
        max_dimension: 20_000,
    };
    let ingested = ingest(&photo(), "photo.jpg", &limits).unwrap();
    let image = galleries.write_image(&ingested).unwrap();
    let created = galleries
        .create(
            "Flooded",
            &SettingsInput::default(),
            vec![image],
            &[],
            start,
        )
        .unwrap();
    let (id, record) = (created.id.clone(), created.record.clone());
    galleries.flush().await.unwrap();
    let before = size(&dir);

    let ip = IpAddr::from([203, 0, 113, 5]);
    let agents: Vec<_> = (0..PARSED)
        .map(|k| agent::parse(&format!("Mozilla/5.0 (X11; Linux) Firefox/{k}.0")))
        .collect();
    let who = |i: usize| Visitor {
        agent: agents[i % PARSED].clone(),
        user_agent: format!("Mozilla/5.0 (X11; Linux) Firefox/{}.0 r{i}", i % PARSED),
        referrer: "direct".into(),
        ip,
        stored_ip: Some("203.0.113.0/24".into()),
        network: Some(ip),
    };
    let began = Instant::now();
    let mut pending = Vec::with_capacity(IN_FLIGHT);
    let galleries = &galleries;
    let (id, record) = (&id, &record);
    for i in 0..n {
        let now = start + Duration::milliseconds(i as i64);
        if opens {
            pending.push(async move {
                galleries
                    .admit(id, record, Some(&who(i)), now)
                    .await
                    .unwrap();
            });
            if pending.len() == IN_FLIGHT {
                futures_util::future::join_all(pending.drain(..)).await;
            }
        } else {
            let event = Event::Denied(Reason::Disabled);
            galleries.note(id, record, event, &who(i), now).unwrap();
        }
    }
    futures_util::future::join_all(pending).await;
    galleries.flush().await.unwrap();
    let took = began.elapsed();
    let (mut records, mut aggregate) = (0u64, String::new());
    galleries
        .log_each(id, |_, record| {
            records += 1;
            if record.kind.as_str() == "more_opens" {
                aggregate = format!(", aggregate: {} more", record.detail.unwrap_or_default());
            }
            true
        })
        .unwrap();
    let counted = galleries.opens(id).unwrap();
    let after = size(&dir);
    println!(
        "{n} {} from one address in {:.1} s: database {before} -> {after} bytes (+{:.2} MB), \
         {records} log records{aggregate}, {counted} opens counted",
        if opens { "fresh opens" } else { "refusals" },
        took.as_secs_f64(),
        after.saturating_sub(before) as f64 / 1e6,
    );
}
