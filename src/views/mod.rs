//! HTML, rendered with maud from plain view structs. Only this module knows maud markup;
//! pages carry stable `id`s and `data-*` attributes that scripts and tests rely on.

pub mod access_form;
pub mod admin;
pub mod charts;
pub mod errors;
pub mod galleries;
pub mod gallery;
pub mod layout;
pub mod manage;
pub mod poster;
pub mod refusal;
pub mod stats;
pub mod upload;
