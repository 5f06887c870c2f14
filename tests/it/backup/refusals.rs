//! What backups and restores refuse: a wrong token, a client elsewhere, the data directory
//! and anything in it, a directory that is not this instance's backup, a full data
//! directory without `--force`, a damaged backup; and what `--force` keeps.

use std::path::Path;

use maiimg::blobs::Backend;
use maiimg::clock::Millis;
use maiimg::domain::restore::{Restored, restore};
use rocket::http::{ContentType, Header, Status};
use serde_json::Value;

use super::{TOKEN, admin_app, backup_ok, owned, post_backup};
use crate::common::*;

/// `maiimg restore [--force]` of `backups` into `data` at `now`, files on disk; the error
/// as the command prints it.
fn restore_disk(backups: &Path, data: &Path, force: bool, now: Millis) -> Result<Restored, String> {
    restore(backups, data, &Backend::Disk, force, now, |_| {}).map_err(|e| e.to_string())
}

#[test]
fn backups_are_refused_where_they_would_do_harm() {
    let app = admin_app();
    app.two_photo_gallery();
    let elsewhere = tempfile::tempdir().unwrap();
    let refused = |dest: &Path, token: &str, status: Status, code: &str| {
        let answer = post_backup(&app, dest, token);
        assert_eq!(answer.status, status, "{}: {}", dest.display(), answer.body);
        let json: Value = serde_json::from_str(&answer.body).unwrap();
        assert_eq!(error_of(&json).0, code, "{}", answer.body);
    };
    refused(
        elsewhere.path(),
        "wrong",
        Status::Unauthorized,
        "admin_token_wrong",
    );
    refused(
        Path::new("relative/dir"),
        TOKEN,
        Status::UnprocessableEntity,
        "backup_refused",
    );
    let data = app.dir.path();
    for harmful in [
        data.to_path_buf(),
        data.join("blobs"),
        data.join("inside"),
        data.join("blobs/zz/new"),
    ] {
        refused(
            &harmful,
            TOKEN,
            Status::UnprocessableEntity,
            "backup_refused",
        );
    }
    assert!(!data.join("inside").exists() && !data.join("blobs/zz").exists());
    let busy = elsewhere.path().join("photos");
    std::fs::create_dir_all(&busy).unwrap();
    std::fs::write(busy.join("holiday.jpg"), b"not ours").unwrap();
    refused(&busy, TOKEN, Status::UnprocessableEntity, "backup_refused");
    assert_eq!(
        std::fs::read(busy.join("holiday.jpg")).unwrap(),
        b"not ours"
    );
    // Names a backup uses, without its marker, are someone else's: nothing is touched.
    let lookalike = elsewhere.path().join("lookalike");
    std::fs::create_dir_all(lookalike.join("tmp")).unwrap();
    std::fs::write(lookalike.join("tmp/notes.txt"), b"mine").unwrap();
    refused(
        &lookalike,
        TOKEN,
        Status::UnprocessableEntity,
        "backup_refused",
    );
    assert_eq!(
        std::fs::read(lookalike.join("tmp/notes.txt")).unwrap(),
        b"mine"
    );

    // Only from the server's own machine.
    let res = app
        .client
        .post("/api/admin/backup")
        .remote("203.0.113.9:4000".parse().unwrap())
        .header(ContentType::JSON)
        .header(Header::new("Authorization", format!("Bearer {TOKEN}")))
        .body(serde_json::json!({ "destination": elsewhere.path().join("x") }).to_string())
        .dispatch();
    assert_eq!(res.status(), Status::Forbidden);
    assert_eq!(error_of(&json_of(res)).0, "backup_local_only");
    assert!(!elsewhere.path().join("x").exists());

    // Another instance's backup is not overwritten.
    let other = admin_app();
    other.two_photo_gallery();
    let theirs = elsewhere.path().join("theirs");
    backup_ok(&other, &theirs);
    refused(
        &theirs,
        TOKEN,
        Status::UnprocessableEntity,
        "backup_refused",
    );

    // Without an admin token there is no such endpoint.
    let plain = TestApp::new();
    let answer = post_backup(&plain, elsewhere.path(), TOKEN);
    assert_eq!(answer.status, Status::NotFound);
}

#[test]
fn a_restore_refuses_a_full_directory_and_a_damaged_backup_and_never_deletes() {
    let app = admin_app();
    let (id, key) = app.two_photo_gallery();
    let backups = tempfile::tempdir().unwrap();
    backup_ok(&app, backups.path());
    let (extra, _) = app.gallery(Form::new().file("later.png", &png_rgb(30, 20)));
    let TestApp { client, dir } = app;
    drop(client);
    let files_before = blob_files(dir.path()).len();

    // The data directory has a newer database: refused without --force.
    let err = restore_disk(backups.path(), dir.path(), false, Millis(0)).unwrap_err();
    assert!(err.contains("--force"), "{err}");

    // With it: the newer database is set aside, the newer gallery's files kept for good.
    let done = restore_disk(backups.path(), dir.path(), true, Millis(1_700_000_000_000)).unwrap();
    let aside = done.set_aside.expect("the old database set aside");
    assert!(aside.exists(), "{}", aside.display());
    assert!(done.kept > 0, "the later gallery's files are kept");
    let newer = std::fs::read(&aside).unwrap();
    // Again at the same moment: the first database set aside is not replaced.
    let again = restore_disk(backups.path(), dir.path(), true, Millis(1_700_000_000_000)).unwrap();
    let second = again.set_aside.expect("set aside again");
    assert_ne!(second, aside);
    assert_eq!(std::fs::read(&aside).unwrap(), newer);
    assert_eq!(
        blob_files(dir.path()).len(),
        files_before,
        "nothing deleted"
    );
    let restored = TestApp::in_dir(dir, true, maiimg::Start::default(), |_| {});
    assert_eq!(owned(&restored, &id, &key).0["id"], id.as_str());
    assert_eq!(
        restored.get(&format!("/g/{extra}")).status,
        Status::NotFound
    );

    // A backup whose database does not match its manifest is refused.
    std::fs::write(backups.path().join("maiimg.redb"), b"torn").unwrap();
    let empty = tempfile::tempdir().unwrap();
    let err = restore_disk(backups.path(), empty.path(), false, Millis(0)).unwrap_err();
    assert!(err.contains("does not match"), "{err}");
}
