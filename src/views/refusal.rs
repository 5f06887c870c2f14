//! The page a viewer gets when a gallery exists but may not be shown now: why, in plain
//! words, and when it opens by itself.

use maud::{Markup, html};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::layout::{Shell, render};
use crate::domain::access::{Reason, zone_of_name, zoned};

/// What the refusal page needs.
#[derive(Debug)]
pub struct Refusal {
    /// Why.
    pub reason: Reason,
    /// When it opens by itself, if it will.
    pub opens_at: Option<OffsetDateTime>,
    /// The gallery's time zone, for showing `opens_at`.
    pub timezone: String,
    /// The gallery's id (the password form posts to it).
    pub gallery: String,
    /// A line above the password form, e.g. after a wrong password.
    pub notice: Option<String>,
}

/// Render the refusal page; `<body data-reason>` names the reason for scripts and tests.
pub fn page(refusal: &Refusal) -> Markup {
    let (heading, text) = match refusal.reason {
        Reason::Disabled => (
            "This gallery is switched off",
            "Its owner has turned this link off. It may be switched on again later.",
        ),
        Reason::Expired => (
            "This gallery has expired",
            "The link was only valid for a limited time, and that time is over.",
        ),
        Reason::Limit => (
            "This gallery has reached its view limit",
            "It could be opened a set number of times, and all of them have been used.",
        ),
        Reason::Scheduled => (
            "Not open yet",
            "This gallery has a scheduled release and cannot be viewed before then.",
        ),
        Reason::Ended => (
            "No longer available",
            "This gallery could only be viewed until a set date, which has passed.",
        ),
        Reason::Hours => (
            "Closed right now",
            "This gallery can only be viewed at certain times of day.",
        ),
        Reason::Password => (
            "This gallery is password protected",
            "Enter the password you were given to see the photos.",
        ),
    };
    let shell = Shell {
        title: heading,
        page: "refusal",
        reason: Some(refusal.reason.slug()),
        scripts: &[],
        styles: &[],
    };
    let opens = refusal.opens_at.map(|at| {
        let local = zoned(&zone_of_name(&refusal.timezone), at);
        (
            at.format(&Rfc3339).unwrap_or_default(),
            local.strftime("%A %-d %B %Y at %H:%M").to_string(),
        )
    });
    render(
        &shell,
        html! {
            main id="main" class="narrow error-page" {
                h1 id="refusal-heading" { (heading) }
                p id="refusal-text" { (text) }
                @if let Some((machine, human)) = opens {
                    p id="opens-at" {
                        "It opens on "
                        time datetime=(machine) { (human) }
                        " (" (refusal.timezone) " time)."
                    }
                }
                @if refusal.reason == Reason::Password {
                    form id="password-form" class="password-form" method="post"
                        action=(format!("/g/{}/password", refusal.gallery)) {
                        @if let Some(notice) = &refusal.notice {
                            p id="password-notice" class="warning" role="alert" { (notice) }
                        }
                        label for="password-input" { "Password" }
                        div class="copy-row" {
                            input type="password" id="password-input" name="password" required
                                autocomplete="current-password" autofocus;
                            button type="submit" class="button primary" { "Open" }
                        }
                    }
                } @else {
                    p { a class="button" href="/" { "Share your own photos" } }
                }
            }
        },
    )
}
