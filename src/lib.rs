//! maiimg: drop up to 25 photos, get a share link and a QR code at once, and control who
//! sees them. One binary; state in one redb file and a content-addressed blob directory.
//!
//! Layers, each calling only the ones below it:
//! `web` (Rocket routes, guards) → `views` (maud) and `domain` (ingest, galleries, QR)
//! → `store` (redb) and `blobs` (files) → `model`, `ids`, `config`.

pub mod assets;
pub mod blobs;
pub mod client;
pub mod clock;
pub mod config;
pub mod disk;
pub mod domain;
pub mod front;
pub mod ids;
pub mod model;
pub mod spool;
pub mod store;
pub mod views;
pub mod web;

use std::sync::Arc;
use std::time::Duration;

use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use rocket::{Build, Rocket};

use clock::Clock;
use config::{Config, LogLevel};
use domain::error::DomainError;
use domain::galleries::housekeeping::HousekeepingPolicy;
use domain::galleries::{self, Galleries};
use domain::ingest::{Limits, Pool};
use web::App;

/// Why the server cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data directory or database cannot be opened.
    #[error("cannot open the data directory: {0}")]
    Storage(#[from] DomainError),
    /// The public address cannot be listened on.
    #[error("cannot listen on {0}: {1}")]
    Listen(std::net::SocketAddr, std::io::Error),
}

/// How often the housekeeping runs (abandoned uploads, old access-log records, the daily
/// visitor salt, the purge of closed galleries, orphan files).
const SWEEP_EVERY: Duration = Duration::from_secs(600);

/// How a server starts, besides its configuration.
#[derive(Clone, Debug, Default)]
pub struct Start {
    /// Where time comes from (the system clock unless a test brings its own).
    pub clock: Clock,
    /// Adopt a blob tree this database does not own (`maiimg serve --new-database`).
    pub new_database: bool,
    /// Listen through the front door (`front.rs`): what the binary does. Off for Rocket's
    /// local client in tests, which uses no socket.
    pub front: bool,
    /// Where free space is read from (the filesystem unless a test sets it).
    pub free_space: disk::FreeSpace,
}

/// Rocket's level for ours: our request log replaces Rocket's at `normal`.
fn rocket_log_level(ours: LogLevel) -> rocket::config::LogLevel {
    match ours {
        LogLevel::Off => rocket::config::LogLevel::Off,
        LogLevel::Critical | LogLevel::Normal => rocket::config::LogLevel::Critical,
        LogLevel::Debug => rocket::config::LogLevel::Debug,
    }
}

/// Where the blobs are, as configured.
pub fn blob_backend(storage: &config::Storage) -> blobs::Backend {
    match (&storage.kind, &storage.s3) {
        (config::StorageKind::S3, Some(s3)) => blobs::Backend::S3(s3_target(s3)),
        _ => blobs::Backend::Disk,
    }
}

/// The bucket of the `s3_*` keys, as the blob store takes it.
pub fn s3_target(s3: &config::S3Config) -> blobs::S3Target {
    blobs::S3Target {
        endpoint: s3.endpoint.clone(),
        region: s3.region.clone(),
        bucket: s3.bucket.clone(),
        prefix: s3.prefix.clone(),
        credentials: s3
            .credentials
            .as_ref()
            .map(|(key, secret)| (key.clone(), secret.expose().to_owned())),
        path_style: s3.path_style,
    }
}

/// The whole application for `config`, ready to launch (tests launch it on a temporary
/// data directory through Rocket's local client).
pub fn build(config: Config) -> Result<Rocket<Build>, StartError> {
    build_with(config, Start::default())
}

/// [`build`] with start options: a clock, `--new-database`.
pub fn build_with(config: Config, start: Start) -> Result<Rocket<Build>, StartError> {
    let (default, max) = config.expiry_policy();
    let expiry = domain::settings::ExpiryPolicy { default, max };
    let clock = start.clock;
    let galleries = Galleries::open(
        galleries::OpenOptions {
            data_dir: config.data_dir().to_path_buf(),
            max_images: config.max_images(),
            expiry,
            group_commit: config.group_commit(),
            tracking: config.tracking(),
            new_database: start.new_database,
            backend: blob_backend(config.storage()),
        },
        clock.now(),
    )?;
    let pool = Pool::new(
        Limits {
            max_file_bytes: config.max_file_bytes(),
            max_pixels: config.max_pixels(),
            max_dimension: config.max_dimension(),
        },
        config.decode_memory_bytes(),
    );
    let peers = Arc::new(front::Peers::default());
    let public = std::net::SocketAddr::new(config.address(), config.port());
    let door = if start.front && config.front_door() {
        let timeouts = front::Timeouts {
            head: config.header_timeout(),
            idle: config.idle_timeout(),
            per_client: config.max_waiting_connections(),
        };
        let trusted = config.trusted_proxies().to_vec();
        Some(
            front::Front::bind(public, timeouts, trusted, Arc::clone(&peers))
                .map_err(|e| StartError::Listen(public, e))?,
        )
    } else {
        None
    };
    let listen = door.as_ref().map_or(public, front::Front::internal);
    let figment = Figment::from(rocket::Config::default())
        .merge(("ident", "maiimg"))
        .merge(("address", listen.ip()))
        .merge(("port", listen.port()))
        // At `normal`, Rocket would print every URI (ids, upload capabilities): its
        // own lines are kept to warnings and errors, ours say what was served.
        .merge(("log_level", rocket_log_level(config.log_level())))
        .merge(("limits.json", 1024 * 1024));
    let disk = disk::Reserve::new(
        config.data_dir(),
        config.min_free_disk_bytes(),
        start.free_space,
    );
    let app = Arc::new(App {
        galleries,
        disk,
        pool,
        config,
        clock: clock.clone(),
        attempts: Default::default(),
        limits: Default::default(),
        in_flight: Default::default(),
        admin: Default::default(),
        blob_cache: web::BlobCache::new(web::BLOB_CACHE_BYTES),
        errors: Arc::new(web::ErrorLog::new(clock.clone())),
        peers,
        backing_up: Default::default(),
    });
    let sweeper = Arc::clone(&app);
    let mut rocket = rocket::custom(figment);
    if let Some(door) = door {
        // Opened once Rocket listens on the internal address; until then the public
        // socket's backlog holds the first clients.
        rocket = rocket.attach(AdHoc::on_liftoff("front door", move |_| {
            Box::pin(async move {
                println!("maiimg listens on http://{public} (Rocket on http://{listen})");
                rocket::tokio::spawn(door.run());
            })
        }));
    }
    let upgrader = Arc::clone(&app);
    rocket = rocket.attach(AdHoc::on_liftoff("upgrade", |_| {
        Box::pin(async move { web::upgrade::spawn(upgrader) })
    }));
    let rocket = rocket.attach(AdHoc::on_liftoff("housekeeping", |_| {
        Box::pin(async move {
            rocket::tokio::spawn(async move {
                let mut tick = rocket::tokio::time::interval(SWEEP_EVERY);
                tick.tick().await;
                loop {
                    tick.tick().await;
                    let swept = web::blocking(&sweeper, |app| {
                        let policy = HousekeepingPolicy {
                            log_retention_days: app.config.log_retention_days(),
                            purge_after_days: app.config.purge_after_days(),
                        };
                        app.galleries.housekeeping(app.clock.now(), &policy)
                    })
                    .await;
                    if let Ok(Err(e)) = swept {
                        rocket::warn!("housekeeping failed: {e}");
                    }
                }
            });
        })
    }));
    Ok(web::mount(rocket, app))
}
