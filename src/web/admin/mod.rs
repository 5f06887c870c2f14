//! `/admin`: the instance administrator's pages, present only when `admin_token` is set.

pub mod auth;
pub mod backoff;
mod dashboard;
pub mod sessions;
mod tools;

use rocket::Route;

/// Every route under `/admin`.
pub fn routes() -> Vec<Route> {
    let mut routes = dashboard::routes();
    routes.extend(tools::routes());
    routes
}
