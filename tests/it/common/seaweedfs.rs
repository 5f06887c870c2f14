//! A SeaweedFS of the test's own, which it may kill and start again: `tests/s3/seaweedfs.sh`
//! on a directory and ports no other test uses (the shared one of `common/s3` is left
//! alone). Skips visibly where the `weed` binary is not installed, except under
//! `CI_REQUIRE_S3=1`; never installs it (no test touches the network).

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::s3::TestBucket;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/s3/seaweedfs.sh");
/// Ports tried for the S3 port, 10 apart: it and the next four are SeaweedFS's, their
/// gRPC ports are 10000 above, and the fifth after it is for the test's maiimg. Not the
/// shared instance's (8333, or 19433 on the development machine).
const PORTS: std::ops::Range<u16> = 9200..9300;

/// A running SeaweedFS, killed when dropped.
pub struct OwnSeaweed {
    dir: TempDir,
    port: u16,
    /// A free port beside SeaweedFS's, for the test's server.
    pub spare_port: u16,
    /// The bucket, under a prefix of the test's own.
    pub bucket: TestBucket,
}

/// Whether every port a SeaweedFS on `base` takes, and the spare one, is free now.
fn block_free(base: u16) -> bool {
    (base..base + 6)
        .chain(base + 10_000..base + 10_005)
        .all(|p| TcpListener::bind(("127.0.0.1", p)).is_ok())
}

impl OwnSeaweed {
    /// Start one for test `name`; `None` (with a note) when SeaweedFS is not installed.
    pub fn start(name: &str) -> Option<OwnSeaweed> {
        let port = PORTS
            .step_by(10)
            .find(|&p| block_free(p))
            .expect("no free block of ports in 9200-9299 for SeaweedFS");
        let dir = tempfile::tempdir().expect("tempdir");
        let mut own = OwnSeaweed {
            dir,
            port,
            spare_port: port + 5,
            bucket: TestBucket {
                endpoint: String::new(),
                region: String::new(),
                bucket: String::new(),
                access_key: String::new(),
                secret_key: String::new(),
                prefix: format!("test/{name}"),
            },
        };
        let vars = match own.run_script() {
            Ok(vars) => vars,
            Err(3) => {
                assert!(
                    std::env::var("CI_REQUIRE_S3").as_deref() != Ok("1"),
                    "CI_REQUIRE_S3=1 but SeaweedFS is not installed (run tests/s3/seaweedfs.sh start)"
                );
                eprintln!(
                    "SKIPPED {name}: SeaweedFS is not installed; `tests/s3/seaweedfs.sh start` \
                     installs it"
                );
                return None;
            }
            Err(code) => panic!("tests/s3/seaweedfs.sh start failed ({code})"),
        };
        let var = |name: &str| {
            vars.lines()
                .find_map(|l| l.strip_prefix(&format!("export {name}=")))
                .unwrap_or_else(|| panic!("{name} in the script's output: {vars}"))
                .to_owned()
        };
        own.bucket.endpoint = var("TEST_S3_ENDPOINT");
        own.bucket.region = var("TEST_S3_REGION");
        own.bucket.bucket = var("TEST_S3_BUCKET");
        own.bucket.access_key = var("TEST_S3_ACCESS_KEY");
        own.bucket.secret_key = var("TEST_S3_SECRET_KEY");
        own.wait_for_the_bucket();
        Some(own)
    }

    fn wait_for_the_bucket(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.bucket.answers() {
            assert!(
                Instant::now() < deadline,
                "SeaweedFS never served its bucket"
            );
            sleep(Duration::from_millis(100));
        }
    }

    /// `seaweedfs.sh start` on this directory and port: its variables, or its exit code.
    fn run_script(&self) -> Result<String, i32> {
        let out = Command::new("bash")
            .arg(SCRIPT)
            .arg("start")
            .arg(self.dir.path())
            .env("SEAWEEDFS_PORT", self.port.to_string())
            .env("SEAWEEDFS_INSTALL", "0")
            .output()
            .expect("bash runs");
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            eprintln!("{}", String::from_utf8_lossy(&out.stderr));
            Err(out.status.code().unwrap_or(-1))
        }
    }

    fn pid_file(&self) -> PathBuf {
        self.dir.path().join("weed.pid")
    }

    /// SIGKILL, as a crash: nothing of SeaweedFS's shutdown runs. Returns once its S3
    /// port refuses connections.
    pub fn kill(&self) {
        self.signal_kill();
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            assert!(
                Instant::now() < deadline,
                "SeaweedFS still answers after SIGKILL"
            );
            sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL to the process the script started, if it runs.
    fn signal_kill(&self) {
        let Ok(pid) = std::fs::read_to_string(self.pid_file()) else {
            return;
        };
        let _ = Command::new("kill").args(["-KILL", pid.trim()]).status();
        let _ = std::fs::remove_file(self.pid_file());
    }

    /// Start it again on the same directory and ports (its data kept).
    pub fn restart(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        // The ports of the killed process may take a moment to be given back.
        while !(self.port..self.port + 5).all(|p| TcpListener::bind(("127.0.0.1", p)).is_ok()) {
            assert!(Instant::now() < deadline, "SeaweedFS's ports stay taken");
            sleep(Duration::from_millis(50));
        }
        if let Err(code) = self.run_script() {
            panic!("SeaweedFS did not start again ({code})");
        }
        self.wait_for_the_bucket();
    }
}

impl Drop for OwnSeaweed {
    fn drop(&mut self) {
        self.signal_kill();
    }
}
