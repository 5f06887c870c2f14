//! `/admin`: the instance administrator's pages, present only when `admin_token` is set.
//!
//! Sessions are kept in memory: signing in with the token (compared in constant time;
//! failures slowed per client: `backoff.rs`) makes a random 256-bit session id, sent as an HttpOnly,
//! SameSite=Strict cookie on `/admin` (Secure when `public_url` is https), valid 12 hours
//! or until sign-out. Keeping them server-side makes sign-out final and needs no signing
//! key; a restart signs the administrator out, which is acceptable. Each session has its
//! own random CSRF token, which every state-changing form (all POST) carries in a hidden
//! field and which is compared in constant time: a missing or wrong one changes nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rocket::form::{Form, FromForm};
use rocket::http::{Cookie, CookieJar, SameSite};
use rocket::response::Redirect;
use rocket::{Responder, Route, State, get, post, routes};
use sha2::{Digest as _, Sha256};

use super::backoff::Backoff;
use super::client::ClientAddr;
use super::error::{PageError, WebError};
use super::{App, blocking};
use crate::domain::ingest::human_bytes;
use crate::domain::instance::SortBy;
use crate::ids::GalleryId;
use crate::ids::{random_token, secrets_match};
use crate::views::admin::{self as view, Controls, Dashboard};

/// The session cookie.
const COOKIE: &str = "maiimg_admin";
/// How long a session lasts.
const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// Sessions kept at once; the oldest goes first.
const MAX_SESSIONS: usize = 64;
/// Galleries per page of the list.
const PER_PAGE: usize = 50;

#[derive(Debug)]
struct Session {
    csrf: String,
    expires: Instant,
    /// The outcome of the last action, shown once by the next page.
    flash: Option<String>,
}

/// Signed-in administrators and failed sign-ins.
#[derive(Debug, Default)]
pub struct Sessions {
    /// By SHA-256 of the session id, so a lookup's timing says nothing about live ids.
    live: Mutex<HashMap<[u8; 32], Session>>,
    failures: Backoff,
}

fn session_key(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

impl Sessions {
    fn lock(&self) -> MutexGuard<'_, HashMap<[u8; 32], Session>> {
        // Each critical section leaves the map valid; a poisoned lock is still usable.
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new session: its id (for the cookie).
    fn open(&self, now: Instant) -> String {
        let id = random_token(32);
        let mut live = self.lock();
        live.retain(|_, s| s.expires > now);
        if live.len() >= MAX_SESSIONS
            && let Some(oldest) = live.iter().min_by_key(|(_, s)| s.expires).map(|(k, _)| *k)
        {
            live.remove(&oldest);
        }
        live.insert(
            session_key(&id),
            Session {
                csrf: random_token(32),
                expires: now + SESSION_TTL,
                flash: None,
            },
        );
        id
    }

    /// The CSRF token of a live session, and its flash (taken: shown once).
    fn get(&self, id: &str, now: Instant) -> Option<(String, Option<String>)> {
        let mut live = self.lock();
        let key = session_key(id);
        match live.get_mut(&key) {
            Some(s) if s.expires > now => Some((s.csrf.clone(), s.flash.take())),
            Some(_) => {
                live.remove(&key);
                None
            }
            None => None,
        }
    }

    pub(super) fn flash(&self, id: &str, message: String) {
        if let Some(s) = self.lock().get_mut(&session_key(id)) {
            s.flash = Some(message);
        }
    }

    fn close(&self, id: &str) {
        self.lock().remove(&session_key(id));
    }
}

/// A page, or the way to another.
#[derive(Responder)]
enum Page {
    Html(maud::Markup),
    Redirect(Box<Redirect>),
}

/// 404 unless the instance has an admin token.
fn enabled(app: &App) -> Result<(), WebError> {
    if app.config.admin_token().is_set() {
        Ok(())
    } else {
        Err(WebError::NotFound)
    }
}

/// The signed-in session: (id, CSRF token, flash).
fn session(
    app: &App,
    cookies: &CookieJar<'_>,
) -> Result<Option<(String, String, Option<String>)>, WebError> {
    enabled(app)?;
    let Some(id) = cookies.get(COOKIE).map(|c| c.value().to_owned()) else {
        return Ok(None);
    };
    Ok(app
        .admin
        .get(&id, app.clock.instant())
        .map(|(csrf, flash)| (id, csrf, flash)))
}

/// A state-changing request: admin on, signed in, and the form's CSRF token right.
/// Returns the session id.
pub(super) fn authorize(
    app: &App,
    cookies: &CookieJar<'_>,
    csrf: Option<&str>,
) -> Result<String, WebError> {
    let (id, expected, flash) = session(app, cookies)?.ok_or(WebError::AdminSignIn)?;
    if let Some(flash) = flash {
        // Not shown yet: keep it for the next page.
        app.admin.flash(&id, flash);
    }
    match csrf {
        Some(given) if secrets_match(given, &expected) => Ok(id),
        _ => Err(WebError::Csrf),
    }
}

fn cookie(app: &App, value: String) -> Cookie<'static> {
    Cookie::build((COOKIE, value))
        .path("/admin")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(app.config.public_url().starts_with("https://"))
        .max_age(time::Duration::seconds(SESSION_TTL.as_secs() as i64))
        .build()
}

/// Only id characters (URL-safe base64), at most an id long: safe in a link as it is.
fn clean_search(raw: &str) -> String {
    raw.trim()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(GalleryId::LEN)
        .collect()
}

/// `GET /admin`: the dashboard, or the way to sign in.
#[get("/admin?<q>&<sort>&<page>")]
async fn dashboard(
    app: &State<Arc<App>>,
    cookies: &CookieJar<'_>,
    q: Option<&str>,
    sort: Option<&str>,
    page: Option<usize>,
) -> Result<Page, PageError> {
    let Some((_, csrf, flash)) = session(app, cookies)? else {
        return Ok(Page::Redirect(Box::new(Redirect::to("/admin/login"))));
    };
    let search = clean_search(q.unwrap_or(""));
    let sort = sort.and_then(SortBy::parse).unwrap_or_default();
    let page = page.unwrap_or(1);
    let lookup = search.clone();
    let read = blocking(app.inner(), move |app| {
        let now = app.clock.now();
        let listing = app.galleries.list_all(&lookup, sort, page, PER_PAGE, now)?;
        Ok::<_, crate::domain::galleries::DomainError>((listing, app.galleries.storage()?))
    })
    .await?;
    let health = app.galleries.health();
    let (listing, storage) = match read {
        Ok(read) => read,
        // The banner says why; the list comes back with the database.
        Err(_) if health.writes_failing.is_some() => Default::default(),
        Err(e) => return Err(e.into()),
    };
    let c = &app.config;
    Ok(Page::Html(view::dashboard(&Dashboard {
        listing: &listing,
        search: &search,
        sort,
        storage,
        controls: Controls {
            private: c.upload_password().is_set(),
            uploads_per_hour: c.rate_limit_uploads_per_hour(),
            galleries_per_hour: c.rate_limit_galleries_per_hour(),
            max_storage_bytes: c.max_storage_bytes(),
            purge_after_days: c.purge_after_days(),
        },
        csrf: &csrf,
        flash: flash.as_deref(),
        storage_fault: health.writes_failing,
    })))
}

/// `GET /admin/login`: the sign-in form.
#[get("/admin/login")]
fn login_page(app: &State<Arc<App>>, cookies: &CookieJar<'_>) -> Result<Page, PageError> {
    if session(app, cookies)?.is_some() {
        return Ok(Page::Redirect(Box::new(Redirect::to("/admin"))));
    }
    Ok(Page::Html(view::login(None)))
}

#[derive(FromForm)]
struct LoginForm {
    token: Option<String>,
}

/// `POST /admin/login`: a right token opens a session.
#[post("/admin/login", data = "<form>")]
fn login(
    app: &State<Arc<App>>,
    cookies: &CookieJar<'_>,
    client: ClientAddr,
    form: Form<LoginForm>,
) -> Result<Redirect, PageError> {
    enabled(app)?;
    let now = app.clock.instant();
    let failures = &app.admin.failures;
    failures
        .check(client.0, now)
        .map_err(|wait| WebError::TooManyAttempts(wait.as_secs().max(1)))?;
    let given = form.into_inner().token.unwrap_or_default();
    if !secrets_match(&given, app.config.admin_token().expose()) {
        failures.failed(client.0, now);
        app.log_error(&format!("admin: wrong token from {}", client.0));
        return Err(WebError::AdminTokenWrong.into());
    }
    failures.forget(client.0);
    cookies.add(cookie(app, app.admin.open(now)));
    Ok(Redirect::to("/admin"))
}

/// A button's form: the session's CSRF token, and "confirm" where an action needs it.
#[derive(FromForm)]
pub(super) struct ActionForm {
    pub(super) csrf: Option<String>,
    pub(super) confirm: bool,
}

/// `POST /admin/logout`.
#[post("/admin/logout", data = "<form>")]
fn logout(
    app: &State<Arc<App>>,
    cookies: &CookieJar<'_>,
    form: Form<ActionForm>,
) -> Result<Redirect, PageError> {
    let id = authorize(app, cookies, form.csrf.as_deref())?;
    app.admin.close(&id);
    cookies.remove(Cookie::build(COOKIE).path("/admin"));
    Ok(Redirect::to("/admin/login"))
}

/// `POST /admin/galleries/<id>/<disable|enable|delete>`: takedown. Delete needs the
/// `confirm` box ticked.
#[post("/admin/galleries/<id>/<action>", data = "<form>")]
async fn gallery_action(
    app: &State<Arc<App>>,
    cookies: &CookieJar<'_>,
    id: &str,
    action: &str,
    form: Form<ActionForm>,
) -> Result<Redirect, PageError> {
    let session = authorize(app, cookies, form.csrf.as_deref())?;
    let gallery = GalleryId::parse(id).ok_or(WebError::NotFound)?;
    let shown = Redirect::to(format!("/admin?q={gallery}"));
    let target = gallery.clone();
    let message = match action {
        "disable" | "enable" => {
            let on = action == "enable";
            blocking(app.inner(), move |app| {
                app.galleries.admin_set_enabled(&target, on)
            })
            .await??;
            rocket::info!("admin: {action}d gallery {gallery}");
            if on {
                format!("Enabled {gallery}: its link opens again (within its other rules).")
            } else {
                format!("Disabled {gallery}: its link shows the “disabled” page now.")
            }
        }
        "delete" if !form.confirm => {
            app.admin.flash(
                &session,
                format!("Not deleted: tick “confirm” next to {gallery} to delete it for good."),
            );
            return Ok(shown);
        }
        "delete" => {
            let freed =
                blocking(app.inner(), move |app| app.galleries.admin_delete(&target)).await??;
            rocket::info!("admin: deleted gallery {gallery}");
            app.admin.flash(
                &session,
                format!(
                    "Deleted {gallery} for good: its link answers “not found”; {} files only it \
                     used were removed ({}).",
                    freed.files,
                    human_bytes(freed.bytes)
                ),
            );
            return Ok(Redirect::to("/admin"));
        }
        _ => return Err(WebError::NotFound.into()),
    };
    app.admin.flash(&session, message);
    Ok(shown)
}

pub fn routes() -> Vec<Route> {
    routes![dashboard, login_page, login, logout, gallery_action,]
}
