//! Driving Debian's Chromium through ChromeDriver: start both, connect (desktop, or a
//! dark-mode phone), wait for conditions, take screenshots, drop files.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Kills its process when dropped, so a failing test leaves nothing running (and then
/// removes the directory it ran in, if it has one).
pub struct Running(Child, #[allow(dead_code)] Option<tempfile::TempDir>);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub use crate::launch::free_port;

pub fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on port {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

/// A photo-like test image: gradients plus a bright block that shows orientation.
pub fn write_photo(path: &Path, width: u32, height: u32, hue: u8) {
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

pub async fn wait_until(client: &Client, what: &str, script: &str) -> Result<Value, String> {
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

/// Wait until every image matching `css` (at least one) has loaded.
pub async fn images_loaded(client: &Client, css: &str) -> Result<Value, String> {
    let script = format!(
        "const all = [...document.querySelectorAll({css:?})];
         return all.length > 0 && all.every(i => i.complete && i.naturalWidth > 0);"
    );
    wait_until(client, css, &script).await
}

/// Open the gallery at `share_url`, wait for its grid's images, open the first in the
/// lightbox and wait for it too.
pub async fn open_first_in_lightbox(client: &Client, share_url: &str) -> TestResult {
    client.goto(share_url).await?;
    images_loaded(client, "#grid img").await?;
    client
        .find(fantoccini::Locator::Css("#grid .tile"))
        .await?
        .click()
        .await?;
    images_loaded(client, "#lb-image").await?;
    Ok(())
}

/// Wait until the manage page shows the gallery in `state`.
pub async fn manage_state(client: &Client, state: &str) -> Result<Value, String> {
    let script =
        format!("return document.getElementById('manage-state').dataset.state === {state:?}");
    wait_until(client, state, &script).await
}

pub async fn save_screenshot(client: &Client, name: &str) -> TestResult {
    let path = screenshot_dir().join(name);
    std::fs::write(&path, client.screenshot().await?)?;
    eprintln!("screenshot: {}", path.display());
    Ok(())
}

/// Click the element with this id.
pub async fn click(client: &Client, id: &str) -> TestResult {
    client.find(Locator::Id(id)).await?.click().await?;
    Ok(())
}

/// Press "Create gallery" and wait for the result panel (share link, QR code).
pub async fn create_gallery(client: &Client) -> TestResult {
    click(client, "create-button").await?;
    wait_until(
        client,
        "the result",
        "return !document.getElementById('result').hidden",
    )
    .await?;
    Ok(())
}

pub async fn text_of(client: &Client, css: &str) -> Result<String, Box<dyn std::error::Error>> {
    Ok(client.find(Locator::Css(css)).await?.text().await?)
}

pub async fn value_of(element: &Element) -> Result<String, Box<dyn std::error::Error>> {
    Ok(element.prop("value").await?.unwrap_or_default())
}

/// Drop a file on the drop zone the way a browser does: a `drop` event carrying a
/// DataTransfer (WebDriver cannot drag from the desktop).
pub async fn drop_file(client: &Client, name: &str, bytes: &[u8]) -> TestResult {
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

pub fn start_browser() -> Option<(Running, u16)> {
    let driver = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    let Some(driver) = driver.filter(|_| Path::new("/usr/bin/chromium").exists()) else {
        assert!(
            std::env::var("CI_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "CI_REQUIRE_BROWSER=1 but chromium/chromedriver are not installed"
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
    let running = Running(child, None);
    wait_for_port(port);
    Some((running, port))
}

/// A Chrome DevTools command through ChromeDriver's `goog/cdp/execute` endpoint.
#[derive(Debug)]
pub struct Cdp(pub Value);

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
pub async fn connect(driver_port: u16, phone: bool) -> Result<Client, String> {
    connect_as(driver_port, phone, None).await
}

/// [`connect`], sending `user_agent` instead of Chromium's own.
pub async fn connect_as(
    driver_port: u16,
    phone: bool,
    user_agent: Option<&str>,
) -> Result<Client, String> {
    let profile = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut args = vec![
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
    if let Some(agent) = user_agent {
        args.push(format!("--user-agent={agent}"));
    }
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

/// A test's stage: a browser, maiimg on a data directory of its own, and a folder for the
/// photos the test drops. Fields drop in order: the server stops before its data
/// directory goes, and the browser last.
pub struct Stage {
    /// ChromeDriver's port, for [`connect`].
    pub driver_port: u16,
    /// `http://127.0.0.1:<port>` of the server.
    pub base: String,
    /// Where the test writes the photos it uploads.
    pub files: tempfile::TempDir,
    _server: Running,
    _data: tempfile::TempDir,
    _browser: Running,
}

impl Stage {
    /// Browser and server up, with `env` (`MAIIMG_…` variables) for the server; `None`
    /// where there is no browser ([`start_browser`] says so and skips).
    pub fn start(env: &[(&str, &str)]) -> Option<Stage> {
        let (browser, driver_port) = start_browser()?;
        let data = tempfile::tempdir().expect("tempdir");
        let (server, base) = start_server_with(data.path(), env);
        Some(Stage {
            driver_port,
            base,
            files: tempfile::tempdir().expect("tempdir"),
            _server: server,
            _data: data,
            _browser: browser,
        })
    }
}

/// maiimg on `data` with extra settings (`MAIIMG_…` variables), through the integration
/// tests' launcher: a clean environment, run from an empty directory.
fn start_server_with(data: &Path, env: &[(&str, &str)]) -> (Running, String) {
    let port = free_port();
    let cwd = tempfile::tempdir().expect("tempdir");
    let child = crate::launch::maiimg(cwd.path(), data, port)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .spawn()
        .expect("start maiimg");
    let running = Running(child, Some(cwd));
    wait_for_port(port);
    (running, format!("http://127.0.0.1:{port}"))
}
