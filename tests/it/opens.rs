//! Counting opens over real HTTP against the built binary: exact under concurrency,
//! durable across `kill -9`, and never counting reloads, HEAD, prefetches or preview bots.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Barrier};

use crate::common::*;

fn opens(base: &str, id: &str, key: &str) -> u64 {
    let json: serde_json::Value = stranger()
        .get(format!("{base}/api/galleries/{id}"))
        .bearer_auth(key)
        .send()
        .and_then(|r| r.json())
        .expect("gallery JSON");
    json["counters"]["opens"].as_u64().expect("opens")
}

fn status_and_body(res: reqwest::blocking::Response) -> (u16, String) {
    let status = res.status().as_u16();
    (status, res.text().unwrap_or_default())
}

#[test]
fn exactly_the_limit_is_admitted_under_concurrency_and_survives_kill_9() {
    let cwd = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start(cwd.path(), data.path(), port);
    let base = server.base.clone();
    let (id, key) = create_gallery(&base, &[("max_opens", "50")]);

    // 300 new viewers at once: 100 threads released together, three requests each.
    let barrier = Arc::new(Barrier::new(100));
    let threads: Vec<_> = (0..100)
        .map(|_| {
            let barrier = Arc::clone(&barrier);
            let url = format!("{base}/g/{id}");
            std::thread::spawn(move || {
                let client = stranger();
                barrier.wait();
                (0..3)
                    .map(|_| status_and_body(client.get(&url).send().expect("GET")))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let answers: Vec<(u16, String)> = threads
        .into_iter()
        .flat_map(|t| t.join().expect("thread"))
        .collect();
    let admitted = answers.iter().filter(|(s, _)| *s == 200).count();
    let limited = answers
        .iter()
        .filter(|(s, b)| *s == 410 && b.contains("data-reason=\"limit\""))
        .count();
    assert_eq!(
        (admitted, limited),
        (50, 250),
        "exactly the limit is admitted"
    );
    assert_eq!(opens(&base, &id, &key), 50);

    // Every admitted open was committed before its page was sent.
    server.kill_9();
    let server = Server::start(cwd.path(), data.path(), port);
    assert_eq!(opens(&server.base, &id, &key), 50);
    let (status, body) = status_and_body(stranger().get(format!("{base}/g/{id}")).send().unwrap());
    assert_eq!(status, 410);
    assert!(body.contains("data-reason=\"limit\""));
}

#[test]
fn reloads_head_prefetch_and_bots_do_not_count() {
    let cwd = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(cwd.path(), data.path(), free_port());
    let base = server.base.clone();
    let (id, key) = create_gallery(&base, &[("max_opens", "2"), ("title", "Party")]);
    let page = format!("{base}/g/{id}");
    let image = format!("{base}/g/{id}/i/0/display");

    let (status, body) = status_and_body(
        stranger()
            .get(&page)
            .header(
                "User-Agent",
                "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
            )
            .send()
            .unwrap(),
    );
    assert_eq!(status, 200);
    assert!(
        body.contains("og:title") && body.contains("Party"),
        "a preview card"
    );
    assert!(
        !body.contains("<img") && !body.contains("/i/0/"),
        "no images for bots"
    );
    let prefetch = stranger()
        .get(&page)
        .header("Sec-Purpose", "prefetch")
        .send()
        .unwrap();
    assert_eq!(prefetch.status().as_u16(), 503);
    assert_eq!(
        stranger().head(&page).send().unwrap().status().as_u16(),
        200
    );
    assert_eq!(
        opens(&base, &id, &key),
        0,
        "bot, prefetch and HEAD are not opens"
    );

    // Without a ticket no image is served.
    assert_eq!(
        stranger().get(&image).send().unwrap().status().as_u16(),
        403
    );

    let alice = http();
    for _ in 0..4 {
        assert_eq!(alice.get(&page).send().unwrap().status().as_u16(), 200);
    }
    assert_eq!(alice.get(&image).send().unwrap().status().as_u16(), 200);
    assert_eq!(
        opens(&base, &id, &key),
        1,
        "reloads within the ticket count once"
    );

    assert_eq!(http().get(&page).send().unwrap().status().as_u16(), 200);
    let carol = http();
    assert_eq!(carol.get(&page).send().unwrap().status().as_u16(), 410);
    assert_eq!(opens(&base, &id, &key), 2);

    // Alice was admitted: others using up the limit does not lock her out.
    assert_eq!(alice.get(&page).send().unwrap().status().as_u16(), 200);
    assert_eq!(alice.get(&image).send().unwrap().status().as_u16(), 200);

    // Raising the limit reopens the gallery for new viewers at once.
    let res = stranger()
        .patch(format!("{base}/api/galleries/{id}"))
        .bearer_auth(&key)
        .header("Content-Type", "application/json")
        .body(r#"{"max_opens": 3}"#)
        .send()
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(carol.get(&page).send().unwrap().status().as_u16(), 200);
    assert_eq!(opens(&base, &id, &key), 3);
}
