//! The admin's instance-wide buttons: garbage collection, "verify every file", the purge.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

#[test]
fn garbage_collection_removes_planted_orphans_an_hour_after_marking_them() {
    let clock = Clock::manual(OffsetDateTime::now_utc());
    let app = TestApp::on_clock(&clock, |c| c.admin_token = TOKEN.into());
    let id = gallery(&app, 5);
    let csrf = sign_in(&app);
    let referenced: HashSet<String> = digests(&app, &id, 2).into_iter().collect();

    let orphan = "ab".repeat(32);
    let path = app.blob_path(&orphan);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, b"left behind by a crash").unwrap();

    // Seen unreferenced for the first time: marked, not deleted.
    let res = post(&app, "/admin/gc", &format!("csrf={csrf}"));
    assert_eq!(res.status(), Status::SeeOther);
    assert!(
        path.exists(),
        "an orphan is deleted only an hour after it was marked"
    );
    let flash = flash_of(&dashboard(&app, "/admin"));
    assert!(
        flash.contains("removed 0") && flash.contains("1 more"),
        "{flash}"
    );
    clock.advance(StdDuration::from_secs(59 * 60));
    post(&app, "/admin/gc", &format!("csrf={csrf}"));
    assert!(path.exists(), "59 minutes are not an hour");

    clock.advance(StdDuration::from_secs(60));
    let res = post(&app, "/admin/gc", &format!("csrf={csrf}"));
    assert_eq!(res.status(), Status::SeeOther);
    assert!(!path.exists(), "the orphan was removed");
    for hex in &referenced {
        assert!(app.blob_path(hex).exists(), "{hex} is referenced");
    }
    let page = dashboard(&app, "/admin");
    let flash = flash_of(&page);
    assert!(flash.contains("removed 1 unreferenced"), "{flash}");

    let files = blob_files(app.dir.path());
    let bytes: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum();
    assert!(
        page.contains(&format!("data-bytes=\"{bytes}\"")),
        "storage used is the files' size ({bytes}): {page}"
    );
    assert!(page.contains(&format!("id=\"storage-blobs\">{}<", files.len())));
    assert!(page.contains("id=\"storage-galleries\">1<"));
    // A second run finds nothing.
    post(&app, "/admin/gc", &format!("csrf={csrf}"));
    assert!(flash_of(&dashboard(&app, "/admin")).contains("removed 0"));
}

#[test]
fn verify_files_names_what_is_missing_or_damaged() {
    let app = admin_app();
    let id = gallery(&app, 5);
    let csrf = sign_in(&app);
    post(&app, "/admin/verify", &format!("csrf={csrf}"));
    let flash = flash_of(&dashboard(&app, "/admin"));
    assert!(flash.contains("0 missing, 0 damaged"), "{flash}");

    let hexes = digests(&app, &id, 2);
    let damaged = app.blob_path(&hexes[0]);
    let mut bytes = std::fs::read(&damaged).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    std::fs::write(&damaged, bytes).unwrap();
    let missing = hexes.iter().find(|h| **h != hexes[0]).unwrap();
    std::fs::remove_file(app.blob_path(missing)).unwrap();
    post(&app, "/admin/verify", &format!("csrf={csrf}"));
    let flash = flash_of(&dashboard(&app, "/admin"));
    assert!(flash.contains("1 missing, 1 damaged"), "{flash}");
    assert!(flash.contains("Restore"), "{flash}");
}

#[test]
fn the_purge_button_deletes_galleries_closed_longer_than_purge_after_days_on_the_app_clock() {
    let clock = Clock::manual(OffsetDateTime::now_utc());
    let app = TestApp::on_clock(&clock, |c| {
        c.admin_token = TOKEN.into();
        c.purge_after_days = 1;
    });
    let res = app.post_form(
        "/api/galleries",
        Form::new()
            .text("expires_in", "3600")
            .file("a.jpg", &jpeg(120, 90, 3)),
    );
    assert_eq!(res.status(), Status::Created);
    let closing = field(&json_of(res), "id").to_owned();
    let staying = gallery(&app, 4);
    let files = app.blob_count();
    let csrf = sign_in(&app);

    // Expired an hour in, but closed for less than a day: kept.
    clock.advance(StdDuration::from_secs(2 * 3600));
    assert_eq!(reason(&app, &closing).0, Status::Gone);
    assert_eq!(
        post(&app, "/admin/purge", &format!("csrf={csrf}")).status(),
        Status::SeeOther
    );
    assert!(flash_of(&dashboard(&app, "/admin")).contains("Purged 0 galleries"));
    assert_eq!(reason(&app, &closing).0, Status::Gone);

    // Closed for more than a day: gone, with its files; the open gallery is untouched.
    // (The admin's session ended meanwhile: sessions run on the app's clock too.)
    clock.advance(StdDuration::from_secs(24 * 3600));
    let stale = post(&app, "/admin/purge", &format!("csrf={csrf}"));
    assert_eq!(stale.status(), Status::Unauthorized);
    let csrf = sign_in(&app);
    assert_eq!(
        post(&app, "/admin/purge", &format!("csrf={csrf}")).status(),
        Status::SeeOther
    );
    assert!(flash_of(&dashboard(&app, "/admin")).contains("Purged 1 galleries"));
    assert_eq!(reason(&app, &closing).0, Status::NotFound);
    assert_eq!(reason(&app, &staying).0, Status::Ok);
    assert!(
        app.blob_count() < files,
        "the purged gallery's files stayed"
    );
}
