//! The gallery service: one [`Galleries`] owns the store and the blob directory, and its
//! methods live by what they are for — `create` (creation and reading), `edit` (settings,
//! title and images), `owners` (owner keys and batches), `admin` (the instance side: every
//! gallery, takedown, purge, collection, verification), `tracking` (counting and the access
//! log), `housekeeping` (the periodic chores) and `upgrade` (stored images brought up to
//! this build's ingest); `service` holds the struct, opens it and
//! keeps what they share: who may manage a gallery, and how files are given up.
//!
//! Two keys manage a gallery. Its **manage key** is made with it and shown once; an
//! **owner key** is a person's key that galleries are filed under (`owners.rs`). A method
//! that takes `manage_or_owner_key` accepts either (`may_manage` decides); one that takes
//! `manage_key` or `owner_key` wants exactly that one.
//!
//! Write path of an image: blobs are written and pinned first, then one redb transaction
//! records the references; pins are released after that commit. A failure in between
//! leaves unreferenced files, which [`Galleries::discard`] (or a later collection)
//! removes. A reference to a missing file can never be committed.

pub mod admin;
pub mod create;
pub mod edit;
pub mod housekeeping;
pub mod owners;
mod service;
mod tracking;
pub mod upgrade;

pub use service::{Galleries, MAX_TITLE_CHARS, OpenOptions, clean_title};
