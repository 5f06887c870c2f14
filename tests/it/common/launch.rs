//! How the tests start the real binary: a clean environment (no stray `MAIIMG_*` or
//! `ROCKET_*` variable) and an empty working directory (no stray `maiimg.toml`). Shared by
//! the integration tests and the browser tests (`tests/browser.rs` includes this file).

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;

pub const BIN: &str = env!("CARGO_BIN_EXE_maiimg");

/// The binary the launchers run: [`BIN`], or `MAIIMG_TEST_BIN` (bench/soak.sh runs a copy,
/// so a build during a long soak cannot swap the file under it).
pub fn bin() -> String {
    std::env::var("MAIIMG_TEST_BIN").unwrap_or_else(|_| BIN.to_owned())
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// `maiimg` with a clean environment for `data_dir` and `port`, run from an empty
/// directory (so no stray `maiimg.toml` is read).
pub fn maiimg(cwd: &Path, data_dir: &Path, port: u16) -> Command {
    configured(Command::new(bin()), cwd, data_dir, port)
}

/// `maiimg` started by `bash -c "<prefix>; exec maiimg"` (e.g. `ulimit -f N`), with the
/// environment of [`maiimg`]; `exec` keeps the process id, so limits can be lifted later.
pub fn maiimg_in_shell(prefix: &str, cwd: &Path, data_dir: &Path, port: u16) -> Command {
    let mut cmd = Command::new("bash");
    cmd.arg("-c").arg(format!("{prefix}; exec {}", bin()));
    configured(cmd, cwd, data_dir, port)
}

fn configured(mut cmd: Command, cwd: &Path, data_dir: &Path, port: u16) -> Command {
    for (key, _) in
        std::env::vars().filter(|(k, _)| k.starts_with("MAIIMG_") || k.starts_with("ROCKET_"))
    {
        cmd.env_remove(key);
    }
    cmd.current_dir(cwd)
        .env("MAIIMG_PORT", port.to_string())
        .env("MAIIMG_ADDRESS", "127.0.0.1")
        .env("MAIIMG_DATA_DIR", data_dir)
        .env("MAIIMG_LOG_LEVEL", "critical");
    cmd
}
