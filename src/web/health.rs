//! `/healthz` and `/readyz`: what a load balancer or a monitor asks.

use std::sync::Arc;

use rocket::http::{ContentType, Status};
use rocket::serde::json::json;
use rocket::{Route, State, get, routes};
use time::format_description::well_known::Rfc3339;

use crate::domain::galleries::admin::Fault;
use crate::web::app::App;

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
    routes![healthz, readyz]
}
