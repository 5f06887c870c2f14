//! The `maiimg` command: serve, or check that a local server is healthy.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use maiimg::config::Config;

// Requests allocate small strings on worker threads that the recorder thread frees; glibc's
// allocator serialises that (measured: a fifth of the recorder's time in malloc/free).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Self-hosted image sharing: drop photos, get a link and a QR code.
#[derive(Parser)]
#[command(name = "maiimg", version, about)]
struct Cli {
    /// TOML config file (default: ./maiimg.toml if it exists). MAIIMG_* variables override it.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve {
        /// Start although maiimg.redb is new, empty or another instance's while blobs/ holds
        /// files: they are adopted and kept (never deleted automatically).
        #[arg(long)]
        new_database: bool,
    },
    /// Exit 0 if the server configured here answers /healthz (for container health checks).
    Healthcheck,
    /// Check the data directory (with the server stopped): database integrity, every
    /// referenced file present with the right digest, files nobody references.
    Check,
}

fn main() -> ExitCode {
    // One line a person can act on, not a backtrace (the ones we expect, a damaged
    // database, are turned into errors that say what to do).
    std::panic::set_hook(Box::new(|info| {
        eprintln!("maiimg: unexpected failure: {info}")
    }));
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("maiimg: {e}");
            return ExitCode::from(2);
        }
    };
    match cli.command.unwrap_or(Command::Serve {
        new_database: false,
    }) {
        Command::Serve { new_database } => serve(config, new_database),
        Command::Healthcheck => healthcheck(&config),
        Command::Check => check(&config),
    }
}

fn serve(config: Config, new_database: bool) -> ExitCode {
    // Every open connection is a descriptor: take what the system allows, not the
    // soft default (often 1024).
    if let Err(e) = rlimit::increase_nofile_limit(u64::MAX) {
        eprintln!("maiimg: could not raise the open-files limit: {e}");
    }
    let start = maiimg::Start {
        new_database,
        front: true,
        ..maiimg::Start::default()
    };
    let rocket = match maiimg::build_with(config, start) {
        Ok(rocket) => rocket,
        Err(e) => {
            eprintln!("maiimg: {e}");
            return ExitCode::from(2);
        }
    };
    match rocket::execute(rocket.launch()) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("maiimg: {e}");
            ExitCode::FAILURE
        }
    }
}

fn check(config: &Config) -> ExitCode {
    match maiimg::domain::check::check(config.data_dir()) {
        Ok(report) => {
            print!("{report}");
            if report.problems() == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("maiimg check: {e}");
            ExitCode::from(2)
        }
    }
}

/// A plain HTTP/1.0 request on loopback: no client library needed for one status line.
fn healthcheck(config: &Config) -> ExitCode {
    let ip = match config.address() {
        IpAddr::V4(a) if a.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(a) if a.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let addr = SocketAddr::new(ip, config.port());
    let timeout = Duration::from_secs(3);
    let answer = (|| -> std::io::Result<String> {
        let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        stream.write_all(b"GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
        let mut response = String::new();
        stream.take(4096).read_to_string(&mut response)?;
        Ok(response)
    })();
    match answer {
        Ok(response)
            if response.starts_with("HTTP/1.0 200") || response.starts_with("HTTP/1.1 200") =>
        {
            // Healthy means viewers are served; the body says what is degraded.
            let body = response.split("\r\n\r\n").nth(1).unwrap_or("").trim();
            println!("healthy: {addr} {body}");
            ExitCode::SUCCESS
        }
        Ok(response) => {
            eprintln!(
                "unhealthy: {}",
                response.lines().next().unwrap_or("no answer")
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("unhealthy: cannot reach {addr}: {e}");
            ExitCode::FAILURE
        }
    }
}
