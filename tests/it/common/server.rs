//! The real binary on a free port, and an HTTP client that keeps cookies like a browser.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

pub use super::launch::*;

/// `maiimg check` on `data_dir`: its exit code and its report.
pub fn maiimg_check(cwd: &Path, data_dir: &Path) -> (Option<i32>, String) {
    let out = maiimg(cwd, data_dir, free_port())
        .arg("check")
        .output()
        .expect("maiimg check runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// A running server, killed (SIGKILL) when dropped.
pub struct Server {
    child: Child,
    pub base: String,
}

impl Server {
    pub fn start(cwd: &Path, data_dir: &Path, port: u16) -> Server {
        Server::start_with(cwd, data_dir, port, &[])
    }

    /// [`Server::start`] with extra environment variables (`MAIIMG_…` settings).
    pub fn start_with(cwd: &Path, data_dir: &Path, port: u16, env: &[(&str, &str)]) -> Server {
        let mut cmd = maiimg(cwd, data_dir, port);
        cmd.envs(env.iter().copied());
        Server::spawn(cmd, port)
    }

    /// Run `cmd` (a [`maiimg`] command, with arguments) as the server on `port`.
    pub fn spawn(mut cmd: Command, port: u16) -> Server {
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        Server::spawn_logging(&mut cmd, port)
    }

    /// [`Server::spawn`] with `cmd`'s output as the caller set it.
    pub fn spawn_logging(cmd: &mut Command, port: u16) -> Server {
        let child = cmd.spawn().expect("spawn maiimg");
        let mut server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        server.wait_healthy();
        server
    }

    /// [`Server::spawn`] with everything it prints (Rocket logs to standard output) going
    /// to `log`.
    pub fn spawn_logged_to(cmd: &mut Command, port: u16, log: &Path) -> Server {
        let file = std::fs::File::create(log).expect("log file");
        cmd.stderr(Stdio::from(file.try_clone().expect("log file")))
            .stdout(Stdio::from(file));
        Server::spawn_logging(cmd, port)
    }

    fn wait_healthy(&mut self) {
        let client = http();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(res) = client.get(format!("{}/healthz", self.base)).send()
                && res.status().as_u16() == 200
            {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("maiimg exited during start-up: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "maiimg did not become healthy within 20 s"
            );
            sleep(Duration::from_millis(50));
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no shutdown code runs.
    pub fn kill_9(mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("reap");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client that keeps cookies, like a browser (images need the gallery's viewer ticket).
pub fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .cookie_store(true)
        .build()
        .expect("http client")
}

pub fn get_with(client: &reqwest::blocking::Client, url: &str) -> (u16, Vec<u8>) {
    let res = client
        .get(url)
        .send()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = res.status().as_u16();
    (status, res.bytes().expect("body").to_vec())
}

pub fn get(url: &str) -> (u16, Vec<u8>) {
    get_with(&http(), url)
}

/// A browser-like client without cookies: every request is a new viewer.
pub fn stranger() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .build()
        .expect("client")
}

/// Create a gallery of one image with these extra form fields over HTTP; (id, key).
pub fn create_gallery(base: &str, fields: &[(&str, &str)]) -> (String, String) {
    use reqwest::blocking::multipart::{Form, Part};
    let form = fields.iter().fold(Form::new(), |form, (name, value)| {
        form.text(name.to_string(), value.to_string())
    });
    let part = Part::bytes(super::jpeg(64, 48, 9)).file_name("a.jpg");
    let res = stranger()
        .post(format!("{base}/api/galleries"))
        .multipart(form.part("file", part))
        .send()
        .expect("create");
    assert_eq!(res.status().as_u16(), 201);
    let json: serde_json::Value = res.json().expect("json");
    let field = |k: &str| json[k].as_str().expect("a string").to_owned();
    (field("id"), field("manage_key"))
}

/// `POST /api/galleries` with these files as `file` parts.
pub fn post_gallery(base: &str, files: &[(&str, Vec<u8>)]) -> reqwest::blocking::Response {
    let mut form = reqwest::blocking::multipart::Form::new();
    for (name, bytes) in files {
        let part =
            reqwest::blocking::multipart::Part::bytes(bytes.clone()).file_name(name.to_string());
        form = form.part("file", part);
    }
    http()
        .post(format!("{base}/api/galleries"))
        .multipart(form)
        .send()
        .expect("upload")
}
