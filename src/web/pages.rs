//! The upload page, the manage page and the health check.

use std::sync::Arc;

use rocket::http::{ContentType, Status};
use rocket::serde::json::json;
use rocket::{Route, State, get, routes};
use time::Duration;
use time::format_description::well_known::Rfc3339;

use super::error::{PageError, WebError};
use super::{App, blocking};
use crate::config::Config;
use crate::domain::instance::Fault;
use crate::ids::GalleryId;
use crate::views;

/// `GET /`: drop photos, get a link.
#[get("/")]
fn upload_page(app: &State<Arc<App>>) -> maud::Markup {
    let c = &app.config;
    views::upload::page(&views::upload::UploadView {
        max_images: c.max_images(),
        max_file_bytes: c.max_file_bytes(),
        max_pixels: c.max_pixels(),
        expiry_choices: expiry_choices(c),
        private: c.upload_password().is_set(),
    })
}

/// The expiry menu: the instance default first, then the presets the maximum allows.
fn expiry_choices(config: &Config) -> Vec<(String, String)> {
    let (default, max) = config.expiry_policy();
    let presets = [
        ("1 hour", Duration::hours(1)),
        ("1 day", Duration::days(1)),
        ("7 days", Duration::days(7)),
        ("30 days", Duration::days(30)),
    ];
    let name = |d: Duration| {
        presets
            .iter()
            .find(|(_, p)| *p == d)
            .map(|(label, _)| (*label).to_owned())
            .unwrap_or_else(|| {
                humantime::format_duration(std::time::Duration::from_secs(
                    d.whole_seconds().unsigned_abs(),
                ))
                .to_string()
            })
    };
    let mut choices = vec![match default {
        Some(d) => (
            format!("After {} (default)", name(d)),
            d.whole_seconds().to_string(),
        ),
        None => ("Never (default)".to_owned(), "never".to_owned()),
    }];
    for (label, d) in presets {
        if Some(d) != default && max.is_none_or(|m| d <= m) {
            choices.push((format!("After {label}"), d.whole_seconds().to_string()));
        }
    }
    if default.is_some() && max.is_none() {
        choices.push(("Never".to_owned(), "never".to_owned()));
    }
    choices
}

/// `GET /m/<id>`: the owner's page. The key is in the URL fragment; the page's script
/// sends it as a Bearer header, so the server never sees it in a URL.
#[get("/m/<id>")]
async fn manage_page(app: &State<Arc<App>>, id: &str) -> Result<maud::Markup, PageError> {
    let id = GalleryId::parse(id).ok_or(WebError::NotFound)?;
    let lookup = id.clone();
    blocking(app.inner(), move |app| app.galleries.get(&lookup)).await??;
    Ok(views::manage::page(id.as_str()))
}

/// `GET /m/<id>/stats`: the owner's statistics and access log (key in the fragment, as
/// for the manage page).
#[get("/m/<id>/stats")]
async fn stats_page(app: &State<Arc<App>>, id: &str) -> Result<maud::Markup, PageError> {
    let id = GalleryId::parse(id).ok_or(WebError::NotFound)?;
    let lookup = id.clone();
    blocking(app.inner(), move |app| app.galleries.get(&lookup)).await??;
    Ok(views::stats::page(id.as_str()))
}

/// `GET /healthz`: 200 while viewers can be served (the process is up and answering);
/// the JSON body says what is degraded (`writes` while the database takes none).
#[get("/healthz")]
fn healthz(app: &State<Arc<App>>) -> (Status, (ContentType, String)) {
    (Status::Ok, (ContentType::JSON, health_body(app)))
}

/// `GET /readyz`: 200 when the server takes writes too, 503 while they fail (a load
/// balancer sends uploads elsewhere; viewers are still served by `/healthz`'s server).
#[get("/readyz")]
fn readyz(app: &State<Arc<App>>) -> (Status, (ContentType, String)) {
    let status = match app.galleries.health().writes_failing {
        None => Status::Ok,
        Some(_) => Status::ServiceUnavailable,
    };
    (status, (ContentType::JSON, health_body(app)))
}

fn health_body(app: &App) -> String {
    let health = app.galleries.health();
    let writes = health.writes_failing.map(|(fault, since)| {
        json!({
            "reason": match fault {
                Fault::Full => "disk_full",
                Fault::Failing => "io_error",
            },
            "since": since.format(&Rfc3339).unwrap_or_default(),
        })
    });
    let degraded: Vec<&str> = writes.iter().map(|_| "writes").collect();
    json!({
        "status": if degraded.is_empty() { "ok" } else { "degraded" },
        "degraded": degraded,
        "writes": writes,
        "recoveries": health.recoveries,
    })
    .to_string()
}

pub fn routes() -> Vec<Route> {
    routes![upload_page, manage_page, stats_page, healthz, readyz]
}
