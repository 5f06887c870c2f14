//! `/admin`: the instance administrator's dashboard (every gallery, searchable and
//! sortable, with takedown buttons), sign-in and sign-out. Who may use it: `auth.rs`.

use std::sync::Arc;

use rocket::form::{Form, FromForm};
use rocket::http::{Cookie, CookieJar};
use rocket::response::Redirect;
use rocket::{Responder, Route, State, get, post, routes};

use crate::domain::galleries::admin::SortBy;
use crate::domain::ingest::human_bytes;
use crate::ids::GalleryId;
use crate::views::admin::{self as view, Controls, Dashboard};
use crate::web::admin::auth::{ActionForm, authorize, check_token, cookie, enabled, session};
use crate::web::admin::sessions::COOKIE;
use crate::web::app::{App, blocking};
use crate::web::error::WebError;
use crate::web::error_response::PageError;
use crate::web::guards::client::ClientAddr;

/// Galleries per page of the list.
const PER_PAGE: usize = 50;

/// A page, or the way to another.
#[derive(Responder)]
enum Page {
    Html(maud::Markup),
    Redirect(Box<Redirect>),
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
#[get("/?<q>&<sort>&<page>")]
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
        let storage = app.galleries.storage()?;
        Ok::<_, crate::domain::error::DomainError>((
            listing,
            storage,
            app.galleries.upgrade_state()?,
        ))
    })
    .await?;
    let health = app.galleries.health();
    let (listing, storage, upgrade) = match read {
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
        upgrade,
    })))
}

/// `GET /admin/login`: the sign-in form.
#[get("/login")]
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
#[post("/login", data = "<form>")]
fn login(
    app: &State<Arc<App>>,
    cookies: &CookieJar<'_>,
    client: ClientAddr,
    form: Form<LoginForm>,
) -> Result<Redirect, PageError> {
    enabled(app)?;
    let given = form.into_inner().token.unwrap_or_default();
    check_token(app, client.0, &given, "at sign-in")?;
    cookies.add(cookie(app, app.admin.open(app.clock.instant())));
    Ok(Redirect::to("/admin"))
}

/// `POST /admin/logout`.
#[post("/logout", data = "<form>")]
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
#[post("/galleries/<id>/<action>", data = "<form>")]
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
    routes![dashboard, login_page, login, logout, gallery_action]
}
