//! The `maiimg` command: serve; check that a local server is healthy; check, move, back up
//! and restore the data.

use std::io::{Read, Write};
use std::net::TcpStream;
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
    /// Copy every image file to another storage backend (with the server stopped), checking
    /// each; resumable. Nothing is switched: set `storage` to the new backend afterwards.
    MigrateStore {
        /// Where to copy the files: `s3` (the bucket of the s3_* keys) or `fs` (blobs/ in
        /// the data directory).
        #[arg(long, value_enum)]
        to: StorageArg,
    },
    /// Back up the database and every image file it references into DEST, while the
    /// server runs (it makes the copy: set admin_token) or with it stopped. Run it again
    /// into the same DEST and only new files are copied.
    Backup {
        /// An empty directory, or an earlier backup of this instance.
        dest: PathBuf,
    },
    /// Restore a backup made by `maiimg backup` into the data directory, its files into the
    /// configured storage (with the server stopped).
    Restore {
        /// The backup directory.
        src: PathBuf,
        /// Restore into a data directory that is not empty: its database is renamed
        /// aside, and image files the backup does not know are kept.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum StorageArg {
    Fs,
    S3,
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
        Command::MigrateStore { to } => migrate_store(&config, to),
        Command::Backup { dest } => backup(&config, &dest),
        Command::Restore { src, force } => restore(&config, &src, force),
    }
}

/// A bar of files (and bytes in the message) for the long subcommands.
fn files_bar() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:30} {pos}/{len} files, {msg}, {per_sec}, ETA {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

fn show(bar: &indicatif::ProgressBar, p: &maiimg::domain::backup::Progress) {
    if p.files == 0 {
        // Still copying the database.
        bar.set_length(p.rows_total);
        bar.set_position(p.rows);
        bar.set_message("database rows");
    } else {
        bar.set_length(p.files);
        bar.set_position(p.done_files);
        bar.set_message(maiimg::domain::ingest::human_bytes(p.done_bytes));
    }
}

fn backup(config: &Config, dest: &std::path::Path) -> ExitCode {
    let dest = match std::path::absolute(dest) {
        Ok(dest) => dest,
        Err(e) => {
            eprintln!("maiimg backup: {}: {e}", dest.display());
            return ExitCode::from(2);
        }
    };
    let bar = files_bar();
    let data_dir = config.data_dir();
    let now = maiimg::clock::Clock::system().now();
    let result = if maiimg::domain::backup::in_use(data_dir) {
        maiimg::client::backup_through_server(config, &dest, |p| show(&bar, p)).and_then(|m| {
            // The server wrote it on its own filesystem: make sure that is this one (a
            // command run outside the server's container would see nothing).
            match maiimg::domain::backup::read_manifest(&dest) {
                Ok(Some(here)) if here == m => Ok(m),
                _ => Err(format!(
                    "the server wrote the backup into {} on its own filesystem, which is not \
                     the one this command sees (run it where the server runs, e.g. with \
                     docker exec)",
                    dest.display()
                )),
            }
        })
    } else {
        let backend = maiimg::blob_backend(config.storage());
        maiimg::domain::backup::backup_stopped(data_dir, &backend, &dest, now, |p| show(&bar, p))
            .map_err(|e| e.to_string())
    };
    bar.finish_and_clear();
    match result {
        Ok(m) if m.missing.is_empty() => {
            println!(
                "maiimg backup: {} galleries and {} files ({}) in {}",
                m.galleries,
                m.files,
                maiimg::domain::ingest::human_bytes(m.bytes),
                dest.display()
            );
            ExitCode::SUCCESS
        }
        Ok(m) => {
            eprintln!(
                "maiimg backup: written to {}, but {} of its {} files were missing or damaged \
                 in the store (listed in BACKUP.json; run `maiimg check` on the server)",
                dest.display(),
                m.missing.len(),
                m.files
            );
            // Written, but not whole: not the failure of a backup that was not made.
            ExitCode::from(3)
        }
        Err(e) => {
            eprintln!("maiimg backup: {e}");
            ExitCode::FAILURE
        }
    }
}

fn restore(config: &Config, src: &std::path::Path, force: bool) -> ExitCode {
    let bar = files_bar();
    let backend = maiimg::blob_backend(config.storage());
    let now = maiimg::clock::Millis::of(maiimg::clock::Clock::system().now());
    let result =
        maiimg::domain::restore::restore(src, config.data_dir(), &backend, force, now, |p| {
            show(&bar, p)
        });
    bar.finish_and_clear();
    match result {
        Ok(done) => {
            println!(
                "maiimg restore: {} galleries from the backup of {} ({} files, {} copied) \
                 in {}",
                done.manifest.galleries,
                done.manifest.created,
                done.progress.files,
                done.progress.copied,
                config.data_dir().display()
            );
            if let Some(aside) = &done.set_aside {
                println!("the database that was there is now {}", aside.display());
            }
            if done.kept > 0 {
                println!(
                    "{} image files the backup does not know are kept (never deleted \
                     automatically; `maiimg check` lists them)",
                    done.kept
                );
            }
            if done.missing.is_empty() {
                ExitCode::SUCCESS
            } else {
                eprintln!(
                    "maiimg restore: {} files the database references are missing or damaged \
                     in the backup; their images will not show: {}",
                    done.missing.len(),
                    done.missing.join(", ")
                );
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("maiimg restore: {e}");
            ExitCode::FAILURE
        }
    }
}

fn migrate_store(config: &Config, to: StorageArg) -> ExitCode {
    let storage = config.storage();
    let from = maiimg::blob_backend(storage);
    let to = match (to, &storage.s3) {
        (StorageArg::Fs, _) => maiimg::blobs::Backend::Disk,
        (StorageArg::S3, Some(s3)) => maiimg::blobs::Backend::S3(maiimg::s3_target(s3)),
        (StorageArg::S3, None) => {
            eprintln!("maiimg migrate-store: set s3_bucket (and the other s3_* keys) first");
            return ExitCode::from(2);
        }
    };
    let bar = files_bar();
    let result = maiimg::domain::migrate_store::migrate(config.data_dir(), &from, &to, |p| {
        bar.set_length(p.files);
        bar.set_position(p.done_files);
        bar.set_message(maiimg::domain::ingest::human_bytes(p.done_bytes));
    });
    bar.finish_and_clear();
    match result {
        Ok(done) => {
            let target = match to {
                maiimg::blobs::Backend::Disk => "fs",
                maiimg::blobs::Backend::S3(_) => "s3",
            };
            println!(
                "maiimg migrate-store: {} files ({}) in place, {} of them already there. \
                 Set storage = \"{target}\" and start the server; the old copy is untouched.",
                done.done_files,
                maiimg::domain::ingest::human_bytes(done.done_bytes),
                done.skipped
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("maiimg migrate-store: {e}");
            ExitCode::FAILURE
        }
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
    let backend = maiimg::blob_backend(config.storage());
    match maiimg::domain::check::check(config.data_dir(), &backend) {
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
    let addr = maiimg::client::local_address(config);
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
