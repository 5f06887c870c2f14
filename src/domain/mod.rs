//! What maiimg does, independent of HTTP: ingest images, keep galleries, draw QR codes.

pub mod access;
pub mod archive;
pub mod backup;
pub mod binding;
pub mod check;
pub mod collector;
pub mod error;
pub mod galleries;
pub mod ingest;
pub mod migrate_store;
pub mod names;
pub mod passwords;
pub mod qr;
pub mod restore;
pub mod settings;
pub mod tickets;
pub mod tracking;
