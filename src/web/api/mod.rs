//! `/api/`: the JSON API, one file per area. Keys travel as `Authorization: Bearer` (or in
//! a JSON body), never in a URL. Errors are `{"error":{"code","message"}}` (`error.rs`).

pub mod backup;
pub mod create;
pub mod gallery;
pub mod images;
pub mod json;
pub mod owner;
pub mod qr;
pub mod receive;
pub mod stats;
pub mod uploads;
