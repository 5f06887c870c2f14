//! The subcommands' side of talking to a running server on this machine: where it listens,
//! and `maiimg backup` asking it for a backup through `POST /api/admin/backup` (only the
//! process that holds the database can read a snapshot of it).

use std::io::{BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::config::Config;
use crate::domain::backup::{Manifest, Progress};

/// Where the server configured here can be reached from this machine: its address, or
/// loopback when it listens on every address.
pub fn local_address(config: &Config) -> SocketAddr {
    let ip = match config.address() {
        IpAddr::V4(a) if a.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(a) if a.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, config.port())
}

/// One line of the server's answer.
#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum Line {
    Progress(Progress),
    Done(Manifest),
    Error(ErrorBody),
}

#[derive(Deserialize)]
struct ErrorBody {
    message: String,
}

#[derive(Deserialize)]
struct ErrorAnswer {
    error: ErrorBody,
}

/// Ask the server configured here to back itself up into `dest` (absolute), reporting its
/// progress. The error is a sentence for the person at the terminal.
pub fn backup_through_server(
    config: &Config,
    dest: &Path,
    mut report: impl FnMut(&Progress),
) -> Result<Manifest, String> {
    let token = config.admin_token();
    if !token.is_set() {
        return Err(
            "the server is running and holds the database: set admin_token (the \
                    same configuration as the server's) so that `maiimg backup` can ask it \
                    for the backup, or stop the server first"
                .into(),
        );
    }
    let addr = local_address(config);
    let client = reqwest::blocking::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        // A large backup takes as long as it takes; the server writes a line every few
        // seconds.
        .timeout(None)
        .build()
        .map_err(|e| e.to_string())?;
    let answer = client
        .post(format!("http://{addr}/api/admin/backup"))
        .bearer_auth(token.expose())
        .json(&serde_json::json!({ "destination": dest }))
        .send()
        .map_err(|e| format!("could not reach the server at {addr}: {e}"))?;
    if !answer.status().is_success() {
        let status = answer.status();
        let message = answer
            .json::<ErrorAnswer>()
            .map(|a| a.error.message)
            .unwrap_or_else(|_| status.to_string());
        return Err(message);
    }
    for line in BufReader::new(answer).lines() {
        let line = line.map_err(|e| format!("the connection to the server broke: {e}"))?;
        match serde_json::from_str::<Line>(&line) {
            Ok(Line::Progress(p)) => report(&p),
            Ok(Line::Done(manifest)) => return Ok(manifest),
            Ok(Line::Error(e)) => return Err(e.message),
            Err(_) => {}
        }
    }
    Err("the server closed the connection before the backup was done (its log says why)".into())
}
