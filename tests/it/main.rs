//! The integration tests, one binary with a module per area (one build of the helpers in
//! `common`, one link): Rocket's local client for handlers, the real binary over HTTP for
//! what crosses a process (crashes, limits, faults). The browser tests are `tests/browser.rs`.

mod common;

mod access;
mod admin;
mod api;
mod backup;
mod downloads;
mod durability;
mod editing;
mod faults;
mod flood;
mod heif;
mod house;
mod ingest;
mod instance;
mod opens;
mod owner;
mod password;
mod s3;
mod s3_delivery;
mod s3_migrate;
mod s3_outage;
mod soak;
mod tracking;
mod uploads;
