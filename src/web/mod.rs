//! HTTP: routes, request guards, responders and fairings. Handlers are thin: parse the
//! request, call the domain off the async executor, render.
//!
//! This file is the URL map: each area's routes are mounted under its prefix here, so any
//! URL is found in one place. Files below import downwards only (areas → guards,
//! responders → app, error), never this file.

mod admin;
mod api;
pub mod app;
mod assets;
mod blob_cache;
mod blob_response;
mod catch;
mod delivery;
pub mod error;
mod error_log;
mod error_response;
mod guards;
mod headers;
mod health;
mod inflight;
mod manage;
pub mod multipart;
mod pages;
mod request_log;
mod stream;
mod throttle;
pub mod upgrade;
mod verified;
mod viewer;

use std::sync::Arc;

use rocket::{Build, Rocket, catchers};

use crate::config::LogLevel;

pub use app::{App, BLOB_CACHE_BYTES, blocking};
pub use blob_cache::BlobCache;
pub use error_log::ErrorLog;

/// Mount every URL area, the catchers and the security headers.
pub fn mount(rocket: Rocket<Build>, app: Arc<App>) -> Rocket<Build> {
    let log = request_log::RequestLog {
        on: matches!(app.config.log_level(), LogLevel::Normal | LogLevel::Debug),
    };
    let errors = Arc::clone(&app.errors);
    let security = headers::SecurityHeaders::new(delivery::image_origin(&app).as_deref());
    rocket
        .manage(app)
        .manage(errors)
        .attach(security)
        .attach(log)
        // Pages for people.
        .mount("/", pages::routes())
        .mount("/", health::routes())
        .mount("/assets", assets::routes())
        .mount("/g", viewer::routes())
        .mount("/m", manage::routes())
        .mount("/admin", admin::routes())
        // The JSON API.
        .mount("/api/galleries", api::create::routes())
        .mount("/api/galleries", api::gallery::routes())
        .mount("/api/galleries", api::images::routes())
        .mount("/api/galleries", api::stats::routes())
        .mount("/api/galleries", api::owner::batch_routes())
        .mount("/api/owner", api::owner::routes())
        .mount("/api/uploads", api::uploads::routes())
        .mount("/api/qr", api::qr::routes())
        .mount("/api/admin", api::backup::routes())
        // Whatever no route above takes.
        .mount("/", catch::unmatched())
        .register("/", catchers![catch::catch_all])
}
