//! What kind of request reached a gallery page, and the viewer's ticket cookie.

use std::net::IpAddr;

use rocket::Request;
use rocket::http::{Cookie, CookieJar, SameSite};
use rocket::request::{FromRequest, Outcome};

use crate::domain::tickets::TICKET_TTL;
use crate::domain::tracking::{Visitor, agent, referrer};
use crate::ids::GalleryId;
use crate::web::app::App;
use crate::web::guards::client::{ClientAddr, network, stored_ip};

/// How this request came.
#[derive(Debug)]
pub struct Visit<'r> {
    /// A speculative prefetch (`Sec-Purpose`/`Purpose: prefetch`): not a person yet.
    pub prefetch: bool,
    /// The link-preview bot, if it is one: it gets a card, never the photos, and never
    /// counts as an open.
    pub bot: Option<&'static str>,
    cookies: &'r CookieJar<'r>,
    user_agent: &'r str,
    referer: Option<&'r str>,
    ip: IpAddr,
}

/// The ticket cookie of one gallery. Scoped to the gallery's path, HttpOnly, SameSite=Lax.
fn cookie_name(gallery: &GalleryId) -> String {
    format!("t_{gallery}")
}

impl Visit<'_> {
    /// Who this is, for the access log (the User-Agent parse is cached). A client that
    /// resolved to a trusted proxy (one that forwarded no address) is many people: the
    /// log's per-network bounds leave it alone.
    pub fn visitor(&self, app: &App) -> Visitor {
        let agent = agent::parse(self.user_agent);
        let proxy = app
            .config
            .trusted_proxies()
            .iter()
            .any(|n| n.contains(&self.ip));
        Visitor {
            network: (!proxy).then(|| network(self.ip)),
            referrer: referrer::referrer(self.referer, &agent),
            agent,
            user_agent: self.user_agent.to_owned(),
            ip: self.ip,
            stored_ip: stored_ip(self.ip, app.config.store_ip()),
        }
    }

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
        let user_agent = headers.get_one("User-Agent").unwrap_or("");
        let ClientAddr(ip) = match req.guard::<ClientAddr>().await {
            Outcome::Success(addr) => addr,
            _ => ClientAddr(IpAddr::from([127, 0, 0, 1])),
        };
        Outcome::Success(Visit {
            prefetch,
            bot: agent::preview_bot(user_agent),
            cookies: req.cookies(),
            user_agent,
            referer: headers.get_one("Referer"),
            ip,
        })
    }
}
