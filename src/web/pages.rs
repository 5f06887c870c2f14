//! The pages at the root: the upload page, "My galleries" and the icon.

use std::sync::Arc;

use rocket::http::ContentType;
use rocket::{Route, State, get, routes};
use time::Duration;

use crate::assets::Assets;
use crate::config::Config;
use crate::views;
use crate::web::app::App;

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

/// `GET /galleries`: "My galleries", every gallery this browser knows, with batch actions.
/// The page is a shell: its script lists what this browser saved (manage keys in
/// localStorage) and what its owner key holds through the JSON API, so no key ever reaches
/// the server in a URL.
#[get("/galleries")]
fn galleries_page() -> maud::Markup {
    views::galleries::page()
}

/// `GET /favicon.ico`: the icon, for browsers that ask before reading the page.
#[get("/favicon.ico")]
fn favicon() -> Option<(ContentType, Vec<u8>)> {
    Some((ContentType::SVG, Assets::get("icon.svg")?.data.into_owned()))
}

pub fn routes() -> Vec<Route> {
    routes![upload_page, galleries_page, favicon]
}
