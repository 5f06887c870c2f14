//! The access log's exports and its limits: the CSV parses, pages chain, formula-like cells are neutralised, keys and tickets guard the statistics, tracking off keeps only counts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

#[test]
fn the_csv_export_parses_and_matches_the_records_and_pages_chain() {
    let app = TestApp::untracked(|_| {});
    let (id, key) = gallery(&app);
    let agents = [IPHONE, ANDROID, EDGE, FIREFOX_MAC, WHATSAPP];
    for (n, agent) in agents.iter().enumerate() {
        visit(
            &app,
            &format!("/g/{id}"),
            agent,
            [192, 0, 2, n as u8],
            None,
            None,
        );
    }
    let all = log(&app, &id, &key, "format=json")["records"].clone();
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 5);

    let (status, csv) = owner_get(
        &app,
        &format!("/api/galleries/{id}/log?format=csv"),
        Some(&key),
    );
    assert_eq!(status, Status::Ok);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header[..3], ["cursor", "time", "event"]);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), all.len());
    for (row, record) in rows.iter().zip(all) {
        for (column, value) in header.iter().zip(row.iter()) {
            let expected = match &record[column.as_str()] {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            assert_eq!(value, expected, "column {column}");
        }
    }

    // Pages of two, newest first, chained by cursor, cover the log exactly once.
    let mut seen = Vec::new();
    let mut query = "format=json&limit=2".to_owned();
    loop {
        let page = log(&app, &id, &key, &query);
        for r in page["records"].as_array().unwrap() {
            seen.push(r["cursor"].as_str().unwrap().to_owned());
        }
        match page["next"].as_str() {
            Some(next) => query = format!("format=json&limit=2&before={next}"),
            None => break,
        }
    }
    let cursors: Vec<String> = all
        .iter()
        .map(|r| r["cursor"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(seen, cursors);
}

#[test]
fn statistics_and_log_need_the_manage_key_and_beacons_need_a_ticket() {
    let app = TestApp::untracked(|_| {});
    let (id, key) = gallery(&app);
    let (_, ticket) = visit(
        &app,
        &format!("/g/{id}"),
        IPHONE,
        [192, 0, 2, 1],
        None,
        None,
    );
    for path in [
        format!("/api/galleries/{id}/stats"),
        format!("/api/galleries/{id}/log"),
        format!("/api/galleries/{id}/log?format=csv"),
    ] {
        assert_eq!(
            owner_get(&app, &path, None).0,
            Status::Unauthorized,
            "{path}"
        );
        assert_eq!(
            owner_get(&app, &path, Some("wrong")).0,
            Status::Unauthorized,
            "{path}"
        );
    }
    assert_eq!(beacon(&app, &id, 0, None), Status::Forbidden);
    let forged = (format!("t_{id}"), "forged".to_owned());
    assert_eq!(beacon(&app, &id, 0, Some(&forged)), Status::Forbidden);
    assert_eq!(beacon(&app, &id, 9, ticket.as_ref()), Status::NotFound);
    let stats = stats(&app, &id, &key);
    assert!(
        stats["images"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["views"] == 0)
    );
    assert_eq!(beacon(&app, &id, 0, ticket.as_ref()), Status::NoContent);
    assert_eq!(count_views(&app, &id, &key), 1);
}

fn count_views(app: &TestApp, id: &str, key: &str) -> u64 {
    stats(app, id, key)["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["views"].as_u64().unwrap())
        .sum()
}

#[test]
fn with_tracking_off_only_opens_are_counted() {
    let app = TestApp::untracked(|c| c.tracking = false);
    let (id, key) = gallery(&app);
    visit(
        &app,
        &format!("/g/{id}"),
        IPHONE,
        [192, 0, 2, 1],
        None,
        None,
    );
    let stats = stats(&app, &id, &key);
    assert_eq!(
        (stats["opens"].as_u64(), stats["tracking"].as_bool()),
        (Some(1), Some(false))
    );
    assert_eq!(stats["unique_visitors"], 0);
    assert!(
        log(&app, &id, &key, "format=json")["records"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[rocket::async_test]
async fn pruning_old_records_keeps_counters_and_series() {
    use maiimg::domain::galleries::housekeeping::HousekeepingPolicy;
    use maiimg::domain::galleries::{Galleries, OpenOptions};
    use maiimg::domain::ingest::{Limits, ingest};
    use maiimg::domain::settings::SettingsInput;
    use maiimg::domain::tracking::{Event, Visitor, agent};
    use time::{Duration, OffsetDateTime};

    let dir = tempfile::tempdir().unwrap();
    let galleries = Galleries::open(
        OpenOptions::at(dir.path().to_path_buf()),
        OffsetDateTime::now_utc(),
    )
    .unwrap();
    let limits = Limits {
        max_file_bytes: 1 << 20,
        max_pixels: 1 << 20,
        max_dimension: 1000,
    };
    let image = galleries
        .write_image(&ingest(&jpeg(64, 48, 3), "a.jpg", &limits).unwrap())
        .unwrap();
    let now = OffsetDateTime::now_utc();
    let created = galleries
        .create(
            "",
            &SettingsInput::default(),
            vec![image],
            &[],
            now - Duration::days(200),
        )
        .unwrap();
    let (id, record) = (&created.id, &created.record);
    let who = Visitor {
        agent: agent::parse(IPHONE),
        user_agent: IPHONE.into(),
        referrer: "direct".into(),
        ip: [192, 0, 2, 1].into(),
        stored_ip: Some("192.0.2.0/24".into()),
        // Exempt from the per-network bounds: every event here is a record to prune.
        network: None,
    };
    // Three old opens (120 days ago) and one recent, plus an old and a recent reload.
    for days in [120, 120, 120, 1] {
        let at = now - Duration::days(days);
        galleries.admit(id, record, Some(&who), at).await.unwrap();
        galleries.note(id, record, Event::Reload, &who, at).unwrap();
    }
    galleries.flush().await.unwrap();
    let key = Some(created.manage_key.as_str());
    let before = galleries.stats(id, key, now).unwrap();
    assert_eq!(
        galleries
            .log_page(id, key, None, 100)
            .unwrap()
            .records
            .len(),
        8
    );

    let policy = HousekeepingPolicy {
        log_retention_days: 90,
        purge_after_days: 0,
    };
    galleries.housekeeping(now, &policy).unwrap();

    let left = galleries.log_page(id, key, None, 100).unwrap().records;
    assert_eq!(left.len(), 2, "only the recent open and reload stay");
    let after = galleries.stats(id, key, now).unwrap();
    assert_eq!(after.opens, 4);
    assert_eq!(after.reloads, 4);
    assert_eq!(after.unique_visitors, before.unique_visitors);
    assert_eq!(after.devices, before.devices);
    assert_eq!(after.daily, before.daily);
    assert_eq!(after.daily.iter().map(|d| d.opens).sum::<u64>(), 4);
}

#[test]
fn csv_cells_that_a_spreadsheet_would_run_as_formulas_start_with_a_quote() {
    let app = TestApp::untracked(|_| {});
    let (id, key) = gallery(&app);
    let agents = [
        "=HYPERLINK(\"http://evil.example\",\"x\")",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "-1-1 Bot/1.0",
        "+1 Crawler/2.0",
    ];
    for (n, agent) in agents.iter().enumerate() {
        let referer = Some("http://-1-1.example/@SUM(1)");
        visit(
            &app,
            &format!("/g/{id}"),
            agent,
            [192, 0, 2, n as u8],
            referer,
            None,
        );
    }
    // The whole log (streamed) and one page of it are written alike.
    for query in ["format=csv", "format=csv&limit=10"] {
        let url = format!("/api/galleries/{id}/log?{query}");
        let (status, csv) = owner_get(&app, &url, Some(&key));
        assert_eq!(status, Status::Ok);
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), agents.len(), "{csv}");
        for cell in rows.iter().flat_map(|r| r.iter()) {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell:?} in {csv}"
            );
        }
        // Newest first: the third visitor, the bot named "-1-1", is the second row.
        let bot = &rows[1];
        assert_eq!(
            (&bot[7], &bot[8]),
            ("'-1-1 Bot 1", "'-1-1.example"),
            "{csv}"
        );
    }
}
