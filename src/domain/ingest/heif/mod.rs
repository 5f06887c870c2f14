//! The HEIF/AVIF container, as far as the ingest writes it: metadata stripped from the
//! original that is stored and served.
//!
//! INTERIM: this module is a stand-in for the container module (box parsing, limits, and a
//! stripping rewrite of `iinf`/`iloc`/`iref`/`ipma`) being written beside it; only the
//! signature of [`strip`] is relied on.

mod strip;

pub use strip::{HeifError, strip};
