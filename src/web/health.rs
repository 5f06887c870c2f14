//! `/healthz` and `/readyz`: what a load balancer or a monitor asks.

use std::sync::Arc;

use rocket::http::{ContentType, Status};
use rocket::serde::json::json;
use rocket::{Route, State, get, routes};
use time::format_description::well_known::Rfc3339;

use crate::domain::galleries::admin::Fault;
use crate::web::app::{App, blocking};
use crate::web::error_response::ApiError;

/// `GET /healthz`: 200 while viewers can be served (the process is up and answering);
/// the JSON body says what is degraded (`writes` while the database takes none,
/// `object_storage` while the bucket does not answer: only renditions in memory are shown).
#[get("/healthz")]
async fn healthz(app: &State<Arc<App>>) -> Result<(Status, (ContentType, String)), ApiError> {
    let (_, body) = blocking(app, health_report).await?;
    Ok((Status::Ok, (ContentType::JSON, body)))
}

/// `GET /readyz`: 200 when the server takes writes too, 503 while they fail (the database
/// or the object store; a load balancer sends uploads elsewhere, viewers are still served
/// by `/healthz`'s server).
#[get("/readyz")]
async fn readyz(app: &State<Arc<App>>) -> Result<(Status, (ContentType, String)), ApiError> {
    let (ready, body) = blocking(app, health_report).await?;
    let status = if ready {
        Status::Ok
    } else {
        Status::ServiceUnavailable
    };
    Ok((status, (ContentType::JSON, body)))
}

/// Whether writes would succeed, and the health report. The object store's state may wait
/// for its probe (shared by every asker, at most a second: `blobs/bucket/probe.rs`), so
/// this is called off the async threads.
fn health_report(app: &App) -> (bool, String) {
    let health = app.galleries.health();
    let object_storage = app
        .galleries
        .object_storage_failure()
        .map(|error| json!({ "reason": "unreachable", "error": error }));
    let ready = health.writes_failing.is_none() && object_storage.is_none();
    let writes = health.writes_failing.map(|(fault, since)| {
        json!({
            "reason": match fault {
                Fault::Full => "disk_full",
                Fault::Failing => "io_error",
            },
            "since": since.format(&Rfc3339).unwrap_or_default(),
        })
    });
    let degraded: Vec<&str> = writes
        .iter()
        .map(|_| "writes")
        .chain(object_storage.iter().map(|_| "object_storage"))
        .collect();
    let body = json!({
        "status": if degraded.is_empty() { "ok" } else { "degraded" },
        "degraded": degraded,
        "writes": writes,
        "object_storage": object_storage,
        "recoveries": health.recoveries,
    });
    (ready, body.to_string())
}

pub fn routes() -> Vec<Route> {
    routes![healthz, readyz]
}
