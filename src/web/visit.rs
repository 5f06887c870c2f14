//! What kind of request reached a gallery page, and the viewer's ticket cookie.

use rocket::Request;
use rocket::http::{Cookie, CookieJar, SameSite};
use rocket::request::{FromRequest, Outcome};

use crate::domain::tickets::TICKET_TTL;
use crate::ids::GalleryId;

/// Link-preview fetchers: they get a card, never the photos, and never count as an open.
const PREVIEW_BOTS: [&str; 21] = [
    "slackbot",
    "slack-imgproxy",
    "whatsapp",
    "telegrambot",
    "discordbot",
    "facebookexternalhit",
    "facebot",
    "meta-externalagent",
    "twitterbot",
    "linkedinbot",
    "skypeuripreview",
    "microsoftpreview",
    "applebot",
    "googlebot",
    "bingbot",
    "redditbot",
    "embedly",
    "pinterest",
    "mastodon",
    "bluesky",
    "iframely",
];

/// How this request came.
#[derive(Debug)]
pub struct Visit<'r> {
    /// A speculative prefetch (`Sec-Purpose`/`Purpose: prefetch`): not a person yet.
    pub prefetch: bool,
    /// A link-preview bot.
    pub bot: bool,
    cookies: &'r CookieJar<'r>,
}

/// The ticket cookie of one gallery. Scoped to the gallery's path, HttpOnly, SameSite=Lax.
fn cookie_name(gallery: &GalleryId) -> String {
    format!("t_{gallery}")
}

impl Visit<'_> {
    /// The ticket this browser holds for `gallery`, if any.
    pub fn ticket(&self, gallery: &GalleryId) -> Option<String> {
        self.cookies
            .get(&cookie_name(gallery))
            .map(|c| c.value().to_owned())
    }

    /// Give this browser its ticket.
    pub fn admit(&self, gallery: &GalleryId, ticket: String, secure: bool) {
        let cookie = Cookie::build((cookie_name(gallery), ticket))
            .path(format!("/g/{gallery}"))
            .http_only(true)
            .secure(secure)
            .same_site(SameSite::Lax)
            .max_age(rocket::time::Duration::seconds(TICKET_TTL.whole_seconds()));
        self.cookies.add(cookie);
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Visit<'r> {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        let headers = req.headers();
        let prefetch = ["Sec-Purpose", "Purpose", "X-Purpose", "X-Moz"]
            .iter()
            .filter_map(|h| headers.get_one(h))
            .any(|v| v.to_ascii_lowercase().contains("prefetch"));
        let agent = headers
            .get_one("User-Agent")
            .unwrap_or("")
            .to_ascii_lowercase();
        Outcome::Success(Visit {
            prefetch,
            bot: PREVIEW_BOTS.iter().any(|b| agent.contains(b)),
            cookies: req.cookies(),
        })
    }
}
