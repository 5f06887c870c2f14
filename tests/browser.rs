//! What a person does in a real browser: headless Chromium (Debian's `chromium` and
//! `chromium-driver`) driven through WebDriver against the real binary.
//!
//! Skips with a visible message when Chromium is not installed, unless
//! `MAIIMG_REQUIRE_BROWSER=1` (set by `.ci/run`), where a missing browser is a failure.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Kills its process when dropped, so a failing test leaves nothing running.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on port {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

/// A photo-like test image: gradients plus a bright block that shows orientation.
fn write_photo(path: &Path, width: u32, height: u32, hue: u8) {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        let block = x < width / 4 && y < height / 4;
        if block {
            image::Rgb([250, 250, 250])
        } else {
            image::Rgb([
                hue.wrapping_add((x * 200 / width) as u8),
                (y * 200 / height) as u8,
                ((x + y) % 64) as u8 + 90,
            ])
        }
    });
    img.save(path).expect("write fixture");
}

async fn wait_until(client: &Client, what: &str, script: &str) -> Result<Value, String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let value = client
            .execute(script, vec![])
            .await
            .map_err(|e| e.to_string())?;
        if !value.is_null() && value != json!(false) {
            return Ok(value);
        }
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}"));
        }
        rocket::tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn save_screenshot(client: &Client, name: &str) -> TestResult {
    let path = screenshot_dir().join(name);
    std::fs::write(&path, client.screenshot().await?)?;
    eprintln!("screenshot: {}", path.display());
    Ok(())
}

async fn text_of(client: &Client, css: &str) -> Result<String, Box<dyn std::error::Error>> {
    Ok(client.find(Locator::Css(css)).await?.text().await?)
}

async fn value_of(element: &Element) -> Result<String, Box<dyn std::error::Error>> {
    Ok(element.prop("value").await?.unwrap_or_default())
}

/// Drop a file on the drop zone the way a browser does: a `drop` event carrying a
/// DataTransfer (WebDriver cannot drag from the desktop).
async fn drop_file(client: &Client, name: &str, bytes: &[u8]) -> TestResult {
    let b64 = data_encoding::BASE64.encode(bytes);
    client
        .execute(
            r#"const [name, b64] = arguments;
               const raw = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
               const file = new File([raw], name, { type: 'image/jpeg' });
               const dt = new DataTransfer();
               dt.items.add(file);
               const zone = document.getElementById('dropzone');
               for (const type of ['dragenter', 'dragover', 'drop']) {
                 zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dt }));
               }"#,
            vec![json!(name), json!(b64)],
        )
        .await?;
    Ok(())
}

fn start_browser() -> Option<(Running, u16)> {
    let driver = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    let Some(driver) = driver.filter(|_| Path::new("/usr/bin/chromium").exists()) else {
        assert!(
            std::env::var("MAIIMG_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "MAIIMG_REQUIRE_BROWSER=1 but chromium/chromedriver are not installed"
        );
        eprintln!(
            "SKIPPED browser test: install chromium and chromium-driver (apt-get install -y chromium chromium-driver)"
        );
        return None;
    };
    let port = free_port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let running = Running(child);
    wait_for_port(port);
    Some((running, port))
}

/// A Chrome DevTools command through ChromeDriver's `goog/cdp/execute` endpoint.
#[derive(Debug)]
struct Cdp(Value);

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.0.to_string()))
    }
}

/// A desktop window, or (`phone`) a 390×844 touch screen at 3× density in dark mode.
async fn connect(driver_port: u16, phone: bool) -> Result<Client, String> {
    let profile = tempfile::tempdir().map_err(|e| e.to_string())?;
    let args = vec![
        "--headless=new".to_owned(),
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        "--disable-dev-shm-usage".to_owned(),
        "--disable-background-networking".to_owned(),
        "--disable-component-update".to_owned(),
        "--disable-sync".to_owned(),
        "--no-first-run".to_owned(),
        "--disable-quic".to_owned(),
        "--hide-scrollbars".to_owned(),
        "--window-size=1280,900".to_owned(),
        format!("--user-data-dir={}", profile.keep().display()),
    ];
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({ "binary": "/usr/bin/chromium", "args": args }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await
        .map_err(|e| e.to_string())?;
    if phone {
        for command in [
            json!({
                "cmd": "Emulation.setEmulatedMedia",
                "params": { "features": [{ "name": "prefers-color-scheme", "value": "dark" }] }
            }),
            json!({
                "cmd": "Emulation.setDeviceMetricsOverride",
                "params": { "width": 390, "height": 844, "deviceScaleFactor": 3, "mobile": true }
            }),
            json!({ "cmd": "Emulation.setTouchEmulationEnabled", "params": { "enabled": true } }),
        ] {
            client
                .issue_cmd(Cdp(command))
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(client)
}

fn start_server(data: &Path) -> (Running, String) {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_maiimg"))
        .env("MAIIMG_ADDRESS", "127.0.0.1")
        .env("MAIIMG_PORT", port.to_string())
        .env("MAIIMG_DATA_DIR", data)
        .env("MAIIMG_LOG_LEVEL", "critical")
        .stdout(Stdio::null())
        .spawn()
        .expect("start maiimg");
    let running = Running(child);
    wait_for_port(port);
    (running, format!("http://127.0.0.1:{port}"))
}

#[rocket::async_test]
async fn upload_share_and_view_in_a_real_browser() -> TestResult {
    let Some((_driver, driver_port)) = start_browser() else {
        return Ok(());
    };
    let data = tempfile::tempdir()?;
    let (_server, base) = start_server(data.path());
    let files = tempfile::tempdir()?;
    let photos: Vec<PathBuf> = (0..2)
        .map(|i| {
            let path = files.path().join(format!("photo-{i}.jpg"));
            write_photo(&path, 1600 - i * 400, 1200, 40 * i as u8);
            path
        })
        .collect();
    let fake = files.path().join("not-a-photo.jpg");
    std::fs::write(&fake, "<svg xmlns='http://www.w3.org/2000/svg'></svg>")?;

    let client = connect(driver_port, false).await?;
    client.goto(&base).await?;
    let input = client.find(Locator::Id("file-input")).await?;
    // Two photos and one impostor through the file picker …
    let picked: Vec<String> = photos
        .iter()
        .chain([&fake])
        .map(|p| p.display().to_string())
        .collect();
    input.send_keys(&picked.join("\n")).await?;
    // … and a third photo dropped onto the page.
    let dropped = files.path().join("dropped.jpg");
    write_photo(&dropped, 900, 1400, 120);
    drop_file(&client, "dropped.jpg", &std::fs::read(&dropped)?).await?;

    let items = client.find_all(Locator::Css("#file-list li.file")).await?;
    assert_eq!(items.len(), 4, "one row per file");
    assert_eq!(
        client
            .find_all(Locator::Css("#file-list progress"))
            .await?
            .len(),
        4,
        "one progress bar per file"
    );
    wait_until(
        &client,
        "three uploads done and one refused",
        "const s = [...document.querySelectorAll('#file-list li')].map(li => li.dataset.state);
         return s.filter(x => x === 'done').length === 3 && s.includes('error');",
    )
    .await?;
    let bars: Value = client
        .execute(
            "return [...document.querySelectorAll('#file-list li[data-state=done] progress')].map(p => p.value)",
            vec![],
        )
        .await?;
    assert_eq!(bars, json!([100, 100, 100]), "every progress bar finished");
    let refusal = text_of(&client, "#file-list li[data-state=error] .file-status").await?;
    assert!(
        refusal.contains("not an accepted image") && refusal.contains("JPEG, PNG, GIF, WebP"),
        "the refused file says why: {refusal}"
    );
    let thumbs_loaded = wait_until(
        &client,
        "server thumbnails",
        "return [...document.querySelectorAll('#file-list li[data-state=done] img')]
           .every(i => i.src.includes('/api/uploads/') && i.complete && i.naturalWidth > 0);",
    )
    .await?;
    assert_eq!(thumbs_loaded, json!(true));
    save_screenshot(&client, "upload-progress.png").await?;

    // The impostor is removed; it must not sink the others.
    client
        .find(Locator::Css("#file-list li[data-state=error] .remove"))
        .await?
        .click()
        .await?;
    client
        .find(Locator::Id("title-input"))
        .await?
        .send_keys("Garden party")
        .await?;
    // Access options: the link expires after a day.
    client
        .find(Locator::Css("#options summary"))
        .await?
        .click()
        .await?;
    client
        .find(Locator::Css("#expires-in option[value='86400']"))
        .await?
        .click()
        .await?;
    client
        .find(Locator::Id("create-button"))
        .await?
        .click()
        .await?;
    wait_until(
        &client,
        "the result panel",
        "return !document.getElementById('result').hidden",
    )
    .await?;
    let share_url = value_of(&client.find(Locator::Id("share-url")).await?).await?;
    let manage_url = value_of(&client.find(Locator::Id("manage-url")).await?).await?;
    assert!(share_url.starts_with(&format!("{base}/g/")), "{share_url}");
    assert!(manage_url.starts_with(&format!("{base}/m/")) && manage_url.contains('#'));
    wait_until(
        &client,
        "the QR code",
        "const q = document.getElementById('qr-image'); return q.complete && q.naturalWidth > 100;",
    )
    .await?;
    let saved: Value = client
        .execute(
            "return JSON.parse(localStorage.getItem('maiimg.galleries'))[0].manage_url",
            vec![],
        )
        .await?;
    assert_eq!(
        saved,
        json!(manage_url),
        "the manage link is kept in this browser"
    );
    client
        .find(Locator::Id("copy-share"))
        .await?
        .click()
        .await?;
    let copied = text_of(&client, "#copy-share").await?;
    assert!(
        copied.starts_with("Copied"),
        "copy button confirms: {copied}"
    );
    save_screenshot(&client, "result.png").await?;

    // The share link opens the gallery.
    client.goto(&share_url).await?;
    assert_eq!(text_of(&client, "#gallery-title").await?, "Garden party");
    let tiles = client.find_all(Locator::Css("#grid .tile img")).await?;
    assert_eq!(tiles.len(), 3);
    wait_until(
        &client,
        "thumbnails",
        "return [...document.querySelectorAll('#grid img')].every(i => i.complete && i.naturalWidth > 0);",
    )
    .await?;
    save_screenshot(&client, "viewer.png").await?;

    // Lightbox: open, arrows, buttons, wrap-around, Esc.
    client.find(Locator::Id("tile-0")).await?.click().await?;
    wait_until(
        &client,
        "the lightbox",
        "return document.getElementById('lightbox').open",
    )
    .await?;
    wait_until(
        &client,
        "the display image",
        "const i = document.getElementById('lb-image'); return i.complete && i.naturalWidth > 0 && i.src.endsWith('/i/0/display');",
    )
    .await?;
    assert_eq!(text_of(&client, "#lb-counter").await?, "1 / 3");
    let dialog = client.find(Locator::Id("lightbox")).await?;
    dialog.send_keys(&Key::Right.to_string()).await?;
    assert_eq!(text_of(&client, "#lb-counter").await?, "2 / 3");
    client.find(Locator::Id("lb-next")).await?.click().await?;
    assert_eq!(text_of(&client, "#lb-counter").await?, "3 / 3");
    wait_until(
        &client,
        "the third display image",
        "const i = document.getElementById('lb-image'); return i.complete && i.naturalWidth > 0;",
    )
    .await?;
    save_screenshot(&client, "lightbox.png").await?;
    dialog.send_keys(&Key::Right.to_string()).await?;
    assert_eq!(
        text_of(&client, "#lb-counter").await?,
        "1 / 3",
        "wraps around"
    );
    dialog.send_keys(&Key::Left.to_string()).await?;
    assert_eq!(text_of(&client, "#lb-counter").await?, "3 / 3");
    dialog.send_keys(&Key::Escape.to_string()).await?;
    wait_until(
        &client,
        "the lightbox to close",
        "return !document.getElementById('lightbox').open",
    )
    .await?;

    // The manage link opens the owner's page with the key from its fragment.
    client.goto(&manage_url).await?;
    wait_until(
        &client,
        "the manage panel",
        "return !document.getElementById('manage-panel').hidden",
    )
    .await?;
    assert_eq!(text_of(&client, "#manage-title").await?, "Garden party");
    let rules = text_of(&client, "#manage-rules").await?;
    assert!(
        rules.starts_with("Expires"),
        "the chosen expiry is shown: {rules}"
    );
    assert_eq!(text_of(&client, "#manage-state").await?, "Active");
    save_screenshot(&client, "manage.png").await?;

    // One click turns the link off; the viewer is told why; one click turns it back on.
    client
        .find(Locator::Id("toggle-enabled"))
        .await?
        .click()
        .await?;
    wait_until(
        &client,
        "the disabled state",
        "return document.getElementById('manage-state').dataset.state === 'disabled'",
    )
    .await?;
    client.goto(&share_url).await?;
    let reason: Value = client
        .execute("return document.body.dataset.reason", vec![])
        .await?;
    assert_eq!(reason, json!("disabled"));
    save_screenshot(&client, "disabled.png").await?;
    client.goto(&manage_url).await?;
    wait_until(
        &client,
        "the manage panel",
        "return !document.getElementById('manage-panel').hidden",
    )
    .await?;
    client
        .find(Locator::Id("toggle-enabled"))
        .await?
        .click()
        .await?;
    wait_until(
        &client,
        "the active state",
        "return document.getElementById('manage-state').dataset.state === 'active'",
    )
    .await?;
    client.goto(&share_url).await?;
    assert_eq!(text_of(&client, "#gallery-title").await?, "Garden party");
    client.close().await?;

    // The same pages on a phone, in dark mode.
    let phone = connect(driver_port, true).await?;
    phone.goto(&share_url).await?;
    let dark: Value = phone
        .execute(
            "return matchMedia('(prefers-color-scheme: dark)').matches",
            vec![],
        )
        .await?;
    assert_eq!(dark, json!(true), "dark mode is emulated");
    wait_until(
        &phone,
        "thumbnails on the phone",
        "return [...document.querySelectorAll('#grid img')].every(i => i.complete && i.naturalWidth > 0);",
    )
    .await?;
    let columns: Value = phone
        .execute(
            "return getComputedStyle(document.getElementById('grid')).gridTemplateColumns.split(' ').length",
            vec![],
        )
        .await?;
    assert_eq!(columns, json!(3), "three columns on a phone");
    save_screenshot(&phone, "viewer-phone-dark.png").await?;
    phone.goto(&base).await?;
    save_screenshot(&phone, "upload-phone-dark.png").await?;
    phone.close().await?;
    Ok(())
}
