//! A printable poster for a gallery: title, a large QR code, the short link and the access
//! rules in words — for a table at a wedding or a notice board at an event. One page on A4
//! and on Letter (the print styles leave the page size to the printer).

use maud::{Markup, PreEscaped, html};
use time::OffsetDateTime;

use super::layout::{Shell, render};
use crate::domain::access::{zone_of, zoned};
use crate::domain::settings::{clock_text, days_text};
use crate::model::Settings;

/// The rules a viewer meets, in plain words, times in the gallery's zone.
pub fn rules(settings: &Settings) -> Vec<String> {
    let zone = zone_of(settings);
    let when = |t: OffsetDateTime| zoned(&zone, t).strftime("%A %-d %B %Y, %H:%M").to_string();
    let mut rules = Vec::new();
    if !settings.enabled {
        rules.push("This link is switched off at the moment.".to_owned());
    }
    if let Some(from) = settings.available_from {
        rules.push(format!("Opens {}.", when(from)));
    }
    if let Some(until) = settings.available_until {
        rules.push(format!("Closes {}.", when(until)));
    }
    if let Some(at) = settings.expires_at {
        rules.push(format!("Available until {}.", when(at)));
    }
    if let Some(window) = settings.daily {
        rules.push(format!(
            "Open daily {}–{} ({}).",
            clock_text(window.from),
            clock_text(window.until),
            days_text(window.days).replace(',', ", ")
        ));
    }
    if let Some(max) = settings.max_opens {
        rules.push(format!(
            "Can be opened by {max} {}.",
            if max == 1 { "person" } else { "people" }
        ));
    }
    if settings.password_hash.is_some() {
        rules.push("A password is needed: ask the person who shared it.".to_owned());
    }
    rules.push(if settings.allow_download {
        "Photos can be downloaded.".to_owned()
    } else {
        "View only: no downloads.".to_owned()
    });
    if settings.daily.is_some() || settings.available_from.is_some() {
        rules.push(format!("Times are {} time.", settings.timezone));
    }
    rules
}

/// The poster page. `qr_svg` is our own generated SVG (no user content in it).
pub fn page(title: &str, share_url: &str, qr_svg: &str, rules: &[String]) -> Markup {
    let shell = Shell {
        title: "Poster",
        page: "poster",
        reason: None,
        scripts: &["poster.js"],
        styles: &[],
    };
    let heading = if title.is_empty() {
        "Our photos"
    } else {
        title
    };
    render(
        &shell,
        html! {
            main id="main" class="poster" {
                p class="no-print poster-tools" {
                    button type="button" id="print-poster" class="button primary" { "Print" }
                    " A4 or Letter, one page."
                }
                article class="poster-sheet" aria-labelledby="poster-title" {
                    h1 id="poster-title" { (heading) }
                    p class="poster-lead" { "Scan to see the photos" }
                    div class="poster-qr" role="img" aria-label="QR code that opens the photos" {
                        (PreEscaped(qr_svg))
                    }
                    p class="poster-url" { (share_url) }
                    ul class="poster-rules" {
                        @for rule in rules { li { (rule) } }
                    }
                }
            }
        },
    )
}
