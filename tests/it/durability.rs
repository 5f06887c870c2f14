//! The real binary over real HTTP: crash (SIGKILL) and restart, the health check, the
//! command line, configuration errors and the single-process lock on the data directory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

use crate::common::*;

fn healthcheck(cwd: &Path, data_dir: &Path, port: u16) -> Output {
    maiimg(cwd, data_dir, port)
        .arg("healthcheck")
        .output()
        .expect("run healthcheck")
}

#[test]
fn galleries_survive_sigkill_and_restart() {
    let cwd = tempfile::tempdir().expect("cwd");
    let data = tempfile::tempdir().expect("data");
    let port = free_port();
    let server = Server::start(cwd.path(), data.path(), port);
    let base = server.base.clone();

    let ok = healthcheck(cwd.path(), data.path(), port);
    assert!(
        ok.status.success(),
        "healthcheck failed while up: {}",
        String::from_utf8_lossy(&ok.stderr)
    );

    let files = [
        ("one.jpg", jpeg(1200, 800, 1)),
        ("two.png", png_rgba(300, 200)),
        ("three.gif", gif_animated(64, 48, 3)),
    ];
    let mut form = reqwest::blocking::multipart::Form::new().text("title", "crash test");
    for (name, bytes) in &files {
        let part = reqwest::blocking::multipart::Part::bytes(bytes.clone()).file_name(*name);
        form = form.part("file", part);
    }
    let res = http()
        .post(format!("{base}/api/galleries"))
        .multipart(form)
        .send()
        .expect("upload");
    assert_eq!(res.status().as_u16(), 201);
    let json: serde_json::Value = res.json().expect("json");
    let id = json["id"].as_str().expect("id").to_owned();
    assert_eq!(
        json["share_url"],
        format!("{base}/g/{id}"),
        "derived public URL"
    );

    let urls: Vec<String> = std::iter::once(format!("{base}/g/{id}"))
        .chain((0..files.len()).flat_map(|i| {
            ["original", "display", "thumb"].map(|r| format!("{base}/g/{id}/i/{i}/{r}"))
        }))
        .chain([format!("{base}/g/{id}/qr.png")])
        .collect();
    // One browser session across the crash: its ticket (signed with a key kept in the
    // database) must still open the images after the restart.
    let browser = http();
    let before: Vec<Vec<u8>> = urls
        .iter()
        .map(|u| {
            let (status, body) = get_with(&browser, u);
            assert_eq!(status, 200, "{u}");
            body
        })
        .collect();

    server.kill_9();
    let down = healthcheck(cwd.path(), data.path(), port);
    assert!(
        !down.status.success(),
        "healthcheck passed with the server down"
    );
    assert!(String::from_utf8_lossy(&down.stderr).contains("unhealthy"));

    let server = Server::start(cwd.path(), data.path(), port);
    for (url, expected) in urls.iter().zip(&before) {
        let (status, body) = get_with(&browser, url);
        assert_eq!(status, 200, "{url} after restart");
        if !url.ends_with(&format!("/g/{id}")) {
            assert!(body == *expected, "{url} changed across the crash");
        }
    }
    // Nothing lost, nothing left over: one file per distinct served image.
    let distinct: std::collections::HashSet<&Vec<u8>> =
        before[1..before.len() - 1].iter().collect();
    assert_eq!(blob_files(data.path()).len(), distinct.len());

    // A second server on the same data directory refuses to start, saying why.
    let second = maiimg(cwd.path(), data.path(), free_port())
        .output()
        .expect("second server");
    assert!(
        !second.status.success(),
        "a second server started on the same data directory"
    );
    let stderr = String::from_utf8_lossy(&second.stderr).to_lowercase();
    assert!(
        stderr.contains("data directory") && stderr.contains("already open"),
        "unclear message: {stderr}"
    );
    let (status, _) = get(&format!("{base}/g/{id}"));
    assert_eq!(status, 200, "the first server was disturbed");
    drop(server);
}

#[test]
fn command_line_version_and_config_errors() {
    let out = Command::new(BIN)
        .arg("--version")
        .output()
        .expect("--version");
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(env!("CARGO_PKG_VERSION")) && stdout.contains("maiimg"),
        "{stdout}"
    );

    let cwd = tempfile::tempdir().expect("cwd");
    let data = tempfile::tempdir().expect("data");
    for (key, value, named) in [
        ("MAIIMG_PORT", "abc", "port"),
        ("MAIIMG_MAX_IMAGES", "0", "max_images"),
        ("MAIIMG_PUBLIC_URL", "ftp://example.org", "public_url"),
        ("MAIIMG_LOG_LEVEL", "chatty", "log_level"),
    ] {
        let out = maiimg(cwd.path(), data.path(), free_port())
            .env(key, value)
            .output()
            .expect("run");
        assert!(!out.status.success(), "{key}={value} was accepted");
        let stderr = String::from_utf8_lossy(&out.stderr).to_lowercase();
        assert!(
            stderr.contains(named),
            "{key}={value}: stderr does not name the key: {stderr}"
        );
    }
    let missing = Command::new(BIN)
        .current_dir(cwd.path())
        .args(["--config", "/nonexistent/maiimg.toml", "healthcheck"])
        .output()
        .expect("run");
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/maiimg.toml"));
}

fn sorted_blobs(data: &Path) -> Vec<std::path::PathBuf> {
    let mut files = blob_files(data);
    files.sort();
    files
}

fn create_gallery(base: &str, files: &[(&str, Vec<u8>)]) -> String {
    let res = post_gallery(base, files);
    assert_eq!(res.status().as_u16(), 201);
    let json: serde_json::Value = res.json().expect("json");
    json["id"].as_str().expect("id").to_owned()
}

#[test]
fn a_lost_or_empty_database_deletes_no_photo_and_new_database_keeps_them() {
    use maiimg::domain::collector::MassDeletion;
    use maiimg::domain::galleries::{Galleries, OpenOptions};
    use time::{Duration, OffsetDateTime};

    let cwd = tempfile::tempdir().expect("cwd");
    let data = tempfile::tempdir().expect("data");
    let port = free_port();
    let server = Server::start(cwd.path(), data.path(), port);
    let base = server.base.clone();
    let id = create_gallery(
        &base,
        &[("a.jpg", jpeg(400, 300, 1)), ("b.png", png_rgba(90, 60))],
    );
    server.kill_9();
    let photos = sorted_blobs(data.path());
    assert!(
        photos.len() >= 4,
        "at least two files per image: {photos:?}"
    );
    let db = data.path().join("maiimg.redb");

    for (case, lose) in [
        (
            "missing",
            Box::new(|| std::fs::remove_file(&db).unwrap()) as Box<dyn Fn()>,
        ),
        ("empty", Box::new(|| std::fs::write(&db, b"").unwrap())),
    ] {
        lose();
        let out = maiimg(cwd.path(), data.path(), free_port())
            .output()
            .expect("start");
        assert!(!out.status.success(), "{case}: started on a lost database");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("--new-database") && stderr.contains("backup"),
            "{case}: the refusal does not say what to do: {stderr}"
        );
        assert_eq!(
            sorted_blobs(data.path()),
            photos,
            "{case}: a photo was deleted"
        );
    }

    // `maiimg check` says what is wrong and lists the files.
    std::fs::remove_file(&db).unwrap();
    let (code, report) = maiimg_check(cwd.path(), data.path());
    assert!(code != Some(0), "{report}");
    assert!(report.contains("missing or empty"), "{report}");
    for file in &photos {
        let hex = file.file_name().unwrap().to_str().unwrap();
        assert!(report.contains(hex), "check does not list {hex}: {report}");
    }
    assert!(!db.exists(), "check created a database");

    // Adopted with --new-database: every file kept, now and after a collection hours later.
    let mut cmd = maiimg(cwd.path(), data.path(), port);
    cmd.args(["serve", "--new-database"]);
    let server = Server::spawn(cmd, port);
    assert_eq!(
        get(&format!("{base}/g/{id}")).0,
        404,
        "the old gallery is gone"
    );
    server.kill_9();
    assert_eq!(sorted_blobs(data.path()), photos);
    let later = OffsetDateTime::now_utc() + Duration::hours(3);
    let galleries = Galleries::open(OpenOptions::at(data.path().to_path_buf()), later).unwrap();
    let sweep = galleries
        .collect_garbage(later + Duration::hours(2), MassDeletion::Allow)
        .unwrap();
    assert_eq!(sweep.freed.files, 0);
    drop(galleries);
    assert_eq!(
        sorted_blobs(data.path()),
        photos,
        "an adopted file was collected"
    );

    let (code, report) = maiimg_check(cwd.path(), data.path());
    assert!(code == Some(0), "{report}");
    assert_eq!(
        report.matches("kept (adopted").count(),
        photos.len(),
        "{report}"
    );
    // From now on the pair belongs together: a plain start works.
    drop(Server::start(cwd.path(), data.path(), port));
}

#[test]
fn a_blob_tree_of_another_instance_or_without_its_marker_is_refused() {
    let cwd = tempfile::tempdir().expect("cwd");
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for data in [&one, &two] {
        let port = free_port();
        let server = Server::start(cwd.path(), data.path(), port);
        create_gallery(&server.base, &[("a.jpg", jpeg(200, 100, 2))]);
        server.kill_9();
    }
    let marker = |d: &tempfile::TempDir| d.path().join("blobs/INSTANCE");
    let theirs = std::fs::read(marker(&two)).unwrap();
    std::fs::write(marker(&one), &theirs).unwrap();
    let before = sorted_blobs(one.path());
    let out = maiimg(cwd.path(), one.path(), free_port())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("another database"), "{stderr}");
    std::fs::remove_file(marker(&one)).unwrap();
    let out = maiimg(cwd.path(), one.path(), free_port())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("INSTANCE is missing"), "{stderr}");
    assert_eq!(sorted_blobs(one.path()), before);
}

#[test]
fn a_damaged_database_is_reported_in_words_not_a_panic() {
    let cwd = tempfile::tempdir().expect("cwd");
    let data = tempfile::tempdir().expect("data");
    let port = free_port();
    let server = Server::start(cwd.path(), data.path(), port);
    create_gallery(&server.base, &[("a.jpg", jpeg(300, 200, 5))]);
    server.kill_9();
    let db = data.path().join("maiimg.redb");
    let mut bytes = std::fs::read(&db).unwrap();
    for page in (4096..bytes.len()).step_by(4096) {
        for b in &mut bytes[page + 100..page + 164] {
            *b ^= 0xff;
        }
    }
    std::fs::write(&db, &bytes).unwrap();

    let out = maiimg(cwd.path(), data.path(), port).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("database is damaged") && stderr.contains("restore maiimg.redb"),
        "{stderr}"
    );
    let (code, report) = maiimg_check(cwd.path(), data.path());
    assert_eq!(code, Some(1), "{report}");
    assert!(report.contains("DAMAGED"), "{report}");
    let files = blob_files(data.path());
    assert!(
        files
            .iter()
            .all(|f| report.contains(f.file_name().unwrap().to_str().unwrap()))
    );
}

#[test]
fn the_log_names_routes_never_ids_or_upload_capabilities() {
    let cwd = tempfile::tempdir().expect("cwd");
    let data = tempfile::tempdir().expect("data");
    let port = free_port();
    let log = cwd.path().join("out.log");
    let mut cmd = maiimg(cwd.path(), data.path(), port);
    cmd.env("MAIIMG_LOG_LEVEL", "normal")
        .stdout(std::process::Stdio::from(
            std::fs::File::create(&log).unwrap(),
        ));
    let mut child = cmd.stderr(std::process::Stdio::null()).spawn().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while http().get(format!("{base}/healthz")).send().is_err() {
        assert!(std::time::Instant::now() < deadline, "no start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let part = reqwest::blocking::multipart::Part::bytes(jpeg(64, 48, 1)).file_name("a.jpg");
    let form = reqwest::blocking::multipart::Form::new().part("file", part);
    let staged: serde_json::Value = http()
        .post(format!("{base}/api/uploads"))
        .multipart(form)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let upload = staged["upload_id"]
        .as_str()
        .or(staged["id"].as_str())
        .unwrap()
        .to_owned();
    let id = create_gallery(&base, &[("b.jpg", jpeg(64, 48, 2))]);
    assert_eq!(get(&format!("{base}/g/{id}")).0, 200);
    let _ = get(&format!("{base}/api/uploads/{upload}/thumb"));
    let _ = get(&format!("{base}/no/such/{id}"));
    let _ = child.kill();
    let _ = child.wait();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("GET /g/<id> 200"), "{text}");
    assert!(
        !text.contains(&id) && !text.contains(&upload),
        "an id reached the log: {text}"
    );
}
