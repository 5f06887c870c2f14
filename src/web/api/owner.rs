//! Owner keys and batches over HTTP: make an owner key, file galleries under it, list them
//! from any device, change many galleries in one request; and QR codes of text that must
//! not travel in a URL (an owner key's link).
//!
//! Keys go in `Authorization: Bearer` (the owner key) or in the JSON body (per-item keys of
//! a batch), never in a URL.

use std::sync::Arc;

use rocket::serde::json::Json;
use rocket::{Route, State, get, post, routes};
use serde::{Deserialize, Deserializer, Serialize};
use time::OffsetDateTime;

use crate::domain::access::GalleryState;
use crate::domain::error::DomainError;
use crate::domain::galleries::owners::{self, BatchAction};
use crate::ids::OwnerKey;
use crate::model::Digest;
use crate::store::Filed;
use crate::web::api::json::{Body, parsed};
use crate::web::app::{App, blocking};
use crate::web::error::WebError;
use crate::web::error_response::ApiError;
use crate::web::guards::keys::{Bearer, OwnerKeyHeader};

/// The owner a new gallery is filed under: the `owner_key` field or the `X-Owner-Key`
/// header (empty means none). A value that is not an owner key is refused rather than
/// ignored, so nobody believes a gallery is filed when it is not.
pub fn creation_owner(
    field: Option<String>,
    header: OwnerKeyHeader,
) -> Result<Option<Digest>, WebError> {
    let field = field.map(|f| f.trim().to_owned()).filter(|f| !f.is_empty());
    let key = match (field, header.0) {
        (Some(f), Some(h)) if f != h => {
            return Err(WebError::BadRequest(
                "owner_key and X-Owner-Key differ: send one owner key".into(),
            ));
        }
        (Some(k), _) | (None, Some(k)) => k,
        (None, None) => return Ok(None),
    };
    OwnerKey::parse(&key)
        .map(|k| Some(k.hash()))
        .ok_or_else(|| {
            WebError::BadRequest(
                "owner_key is not an owner key: create one with POST /api/owner".into(),
            )
        })
}

#[derive(Serialize)]
struct OwnerJson {
    owner_key: String,
    /// Opens "My galleries" with this key on another device (the key rides in the fragment).
    owner_url: String,
}

/// A gallery in a list: what "My galleries" shows in a row.
#[derive(Serialize)]
struct SummaryJson {
    id: String,
    title: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    state: GalleryState,
    #[serde(with = "time::serde::rfc3339::option")]
    opens_at: Option<OffsetDateTime>,
    enabled: bool,
    opens: u64,
    max_opens: Option<u64>,
    #[serde(with = "time::serde::rfc3339::option")]
    expires_at: Option<OffsetDateTime>,
    images: usize,
    /// The first image for the owner (send the key as Bearer), whatever the state.
    thumb_url: Option<String>,
    share_url: String,
}

fn summary(app: &App, filed: &Filed, now: OffsetDateTime) -> SummaryJson {
    let Filed { id, record, opens } = filed;
    let (state, opens_at) = GalleryState::with_opening(&record.settings, *opens, now);
    SummaryJson {
        id: id.to_string(),
        title: record.title.clone(),
        created_at: record.created_at,
        state,
        opens_at,
        enabled: record.settings.enabled,
        opens: *opens,
        max_opens: record.settings.max_opens,
        expires_at: record.settings.expires_at,
        images: record.images.len(),
        thumb_url: (!record.images.is_empty())
            .then(|| format!("{}/api/galleries/{id}/i/0/thumb", app.config.public_url())),
        share_url: app.share_url(id),
    }
}

#[derive(Serialize)]
struct ListJson {
    galleries: Vec<SummaryJson>,
}

#[derive(Serialize)]
struct ErrorJson {
    code: &'static str,
    message: String,
}

/// One item's result: `ok` with the gallery's `state` (and the gallery, unless deleted),
/// or the error that left it unchanged.
#[derive(Serialize)]
struct ItemJson {
    id: String,
    ok: bool,
    /// A [`GalleryState`]'s name, or `deleted` once the batch deleted it.
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gallery: Option<SummaryJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ErrorJson>,
}

#[derive(Serialize)]
struct ResultsJson {
    results: Vec<ItemJson>,
}

fn item_json(app: &App, id: &str, result: Result<Option<Filed>, DomainError>) -> ItemJson {
    // Echo the id as sent (it need not be a valid one), but never a whole body of it.
    let id: String = id.chars().take(64).collect();
    let now = app.clock.now();
    match result {
        Ok(Some(filed)) => {
            let gallery = summary(app, &filed, now);
            ItemJson {
                id,
                ok: true,
                state: Some(gallery.state.as_str()),
                gallery: Some(gallery),
                error: None,
            }
        }
        Ok(None) => ItemJson {
            id,
            ok: true,
            state: Some("deleted"),
            gallery: None,
            error: None,
        },
        Err(e) => {
            let e = WebError::Domain(e);
            let (status, code) = e.status_and_code();
            if status.code >= 500 {
                rocket::error!("batch item failed: {e}");
            }
            ItemJson {
                id,
                ok: false,
                state: None,
                gallery: None,
                error: Some(ErrorJson {
                    code,
                    message: e.public_message(),
                }),
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemRequest {
    id: String,
    #[serde(default)]
    key: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRequest {
    items: Vec<ItemRequest>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum ActionName {
    Disable,
    Enable,
    Delete,
    Extend,
}

/// Absent stays `None`; `null` becomes `Some(None)` (extend to "never").
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchRequest {
    action: ActionName,
    items: Vec<ItemRequest>,
    #[serde(default, deserialize_with = "present")]
    expires_at: Option<Option<String>>,
}

fn check_items(items: &[ItemRequest]) -> Result<(), WebError> {
    if items.len() > owners::MAX_BATCH {
        return Err(WebError::BadRequest(format!(
            "at most {} galleries per request; {} were sent",
            owners::MAX_BATCH,
            items.len()
        )));
    }
    Ok(())
}

/// The Bearer value, if it has the shape of an owner key; else the whole request is 401.
fn owner_bearer(key: Bearer) -> Result<String, WebError> {
    key.0
        .filter(|k| OwnerKey::parse(k).is_some())
        .ok_or(WebError::Domain(DomainError::Unauthorized))
}

/// `POST /api/owner`: a new owner key. Nothing is stored until a gallery is filed under it.
#[post("/")]
fn create_owner(app: &State<Arc<App>>) -> Json<OwnerJson> {
    let key = OwnerKey::generate();
    Json(OwnerJson {
        owner_url: format!(
            "{}/galleries#owner={key}",
            app.config.public_url(),
            key = key.as_str()
        ),
        owner_key: key.as_str().to_owned(),
    })
}

/// `GET /api/owner/galleries` with the owner key as Bearer: every gallery filed under it,
/// newest first.
#[get("/galleries")]
async fn list(app: &State<Arc<App>>, key: Bearer) -> Result<Json<ListJson>, ApiError> {
    let key = owner_bearer(key)?;
    let app = Arc::clone(app.inner());
    let filed = blocking(&app, move |app| app.galleries.owned(Some(&key))).await??;
    let now = app.clock.now();
    Ok(Json(ListJson {
        galleries: filed.iter().map(|f| summary(&app, f, now)).collect(),
    }))
}

/// `POST /api/owner/galleries` with the owner key as Bearer and
/// `{"items":[{"id","key":<manage key>}]}`: file each gallery under the owner key.
#[post("/galleries", data = "<body>")]
async fn file(
    app: &State<Arc<App>>,
    key: Bearer,
    body: Body<'_, FileRequest>,
) -> Result<Json<ResultsJson>, ApiError> {
    let owner = owner_bearer(key)?;
    let items = parsed(body)?.items;
    check_items(&items)?;
    let app = Arc::clone(app.inner());
    let results = blocking(&app, move |app| {
        items
            .into_iter()
            .map(|item| {
                let result = app
                    .galleries
                    .file(Some(&owner), &item.id, item.key.as_deref())
                    .map(Some);
                item_json(app, &item.id, result)
            })
            .collect()
    })
    .await?;
    Ok(Json(ResultsJson { results }))
}

/// `POST /api/galleries/batch` with `{"action":"disable|enable|delete|extend",
/// "items":[{"id","key"}],"expires_at":…}`: each item's key is its manage key or owner key;
/// a result per item, in order.
#[post("/batch", data = "<body>")]
async fn batch(
    app: &State<Arc<App>>,
    body: Body<'_, BatchRequest>,
) -> Result<Json<ResultsJson>, ApiError> {
    let BatchRequest {
        action,
        items,
        expires_at,
    } = parsed(body)?;
    check_items(&items)?;
    let app = Arc::clone(app.inner());
    let now = app.clock.now();
    let action = match (action, expires_at) {
        // Pure validation, no I/O: no trip to the blocking pool.
        (ActionName::Extend, Some(at)) => app.galleries.extension(at, now)?,
        (ActionName::Extend, None) => {
            return Err(WebError::BadRequest(
                "extend needs expires_at (RFC 3339, or null for no expiry)".into(),
            )
            .into());
        }
        (_, Some(_)) => {
            return Err(WebError::BadRequest("expires_at is only for extend".into()).into());
        }
        (ActionName::Disable, None) => BatchAction::Disable,
        (ActionName::Enable, None) => BatchAction::Enable,
        (ActionName::Delete, None) => BatchAction::Delete,
    };
    let results = blocking(&app, move |app| {
        let pairs: Vec<(String, Option<String>)> =
            items.into_iter().map(|i| (i.id, i.key)).collect();
        let outcomes = app.galleries.batch(&action, &pairs, now);
        pairs
            .iter()
            .zip(outcomes)
            .map(|((id, _), outcome)| item_json(app, id, outcome))
            .collect()
    })
    .await?;
    Ok(Json(ResultsJson { results }))
}

/// The routes under `/api/owner`.
pub fn routes() -> Vec<Route> {
    routes![create_owner, list, file]
}

/// The routes under `/api/galleries` (a batch names its galleries in the body).
pub fn batch_routes() -> Vec<Route> {
    routes![batch]
}
