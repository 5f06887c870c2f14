//! `GET /galleries`: "My galleries". The page is a shell; its script lists what this
//! browser saved (manage keys in localStorage) and what its owner key holds, through the
//! JSON API, so no key ever reaches the server in a URL.

use rocket::{Route, get, routes};

use crate::views;

/// `GET /galleries`: every gallery this browser knows, with batch actions.
#[get("/galleries")]
fn page() -> maud::Markup {
    views::galleries::page()
}

pub fn routes() -> Vec<Route> {
    routes![page]
}
