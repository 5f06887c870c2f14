//! The instance administrator's pages: sign-in, and every gallery with storage, takedown
//! and garbage collection. Plain HTML forms (POST, each with the session's CSRF token):
//! no script needed.

use maud::{Markup, html};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

use super::layout::{Shell, render};
use crate::domain::galleries::admin::{Fault, GallerySummary, Listing, SortBy, StorageUse};
use crate::domain::galleries::upgrade::UpgradeState;
use crate::domain::ingest::human_bytes;

/// What the instance is configured to allow, as the dashboard states it.
pub struct Controls {
    /// Uploads need the upload password.
    pub private: bool,
    /// Files per client and hour (0: unlimited).
    pub uploads_per_hour: u32,
    /// New galleries per client and hour (0: unlimited).
    pub galleries_per_hour: u32,
    /// The storage quota (0: none).
    pub max_storage_bytes: u64,
    /// Days after which closed galleries are purged (0: never).
    pub purge_after_days: u32,
}

/// Everything the dashboard shows.
pub struct Dashboard<'a> {
    /// The page of galleries.
    pub listing: &'a Listing,
    /// The id search as given (already reduced to id characters).
    pub search: &'a str,
    /// The order.
    pub sort: SortBy,
    /// Disk and gallery counts.
    pub storage: StorageUse,
    /// Limits in force.
    pub controls: Controls,
    /// The session's CSRF token, put in every form.
    pub csrf: &'a str,
    /// The outcome of the last action, shown once.
    pub flash: Option<&'a str>,
    /// Set while database writes fail: why, and since when.
    pub storage_fault: Option<(Fault, OffsetDateTime)>,
    /// How far stored photos are brought up to this version's ingest.
    pub upgrade: UpgradeState,
}

fn shell(title: &str) -> Shell<'_> {
    Shell {
        title,
        page: "admin",
        reason: None,
        scripts: &[],
        styles: &["admin.css"],
    }
}

/// The sign-in page, with why the last try failed, if it did.
pub fn login(message: Option<&str>) -> Markup {
    render(
        &shell("Admin sign-in"),
        html! {
            main id="main" class="narrow admin" {
                h1 { "Instance admin" }
                p class="lede" { "Sign in with the admin token set in this server's configuration (admin_token)." }
                form id="admin-login" method="post" action="/admin/login" {
                    label for="admin-token" { "Admin token" }
                    input type="password" id="admin-token" name="token" required autocomplete="current-password"
                        autofocus;
                    @if let Some(message) = message {
                        p id="login-error" class="form-error" role="alert" { (message) }
                    }
                    button type="submit" class="button primary" { "Sign in" }
                }
            }
        },
    )
}

fn date(t: OffsetDateTime) -> String {
    let format = format_description!("[year]-[month]-[day] [hour]:[minute]");
    t.format(&format).unwrap_or_default()
}

/// Where the walk that makes outdated stored photos again stands, in words.
fn upgrade_line(state: &UpgradeState, galleries: u64) -> String {
    let made_again = match state.redone {
        1 => "1 photo made again".to_string(),
        n => format!("{n} photos made again"),
    };
    let failed = match state.failed {
        0 => String::new(),
        n => format!(", {n} could not be (left as they were; see the log)"),
    };
    if state.is_current() {
        format!("Up to date with this version ({made_again}{failed})")
    } else {
        format!(
            "Being brought up to this version: {} of {galleries} galleries looked at, \
             {made_again}{failed}",
            state.galleries.min(galleries)
        )
    }
}

fn per_hour(n: u32, what: &str) -> String {
    match n {
        0 => format!("{what}: unlimited"),
        n => format!("{what}: {n} an hour per client"),
    }
}

/// `/admin?…` with these parameters (values are id characters or fixed words: no escaping
/// needed).
fn link(search: &str, sort: SortBy, page: usize) -> String {
    let mut url = format!("/admin?sort={}", sort.name());
    if !search.is_empty() {
        url.push_str("&q=");
        url.push_str(search);
    }
    if page > 1 {
        url.push_str(&format!("&page={page}"));
    }
    url
}

fn csrf_field(csrf: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(csrf); }
}

fn row(g: &GallerySummary, csrf: &str) -> Markup {
    let toggle = if g.enabled { "disable" } else { "enable" };
    html! {
        tr data-gallery=(g.id) data-state=(g.state.as_str()) {
            td { a href={ "/g/" (g.id) } class="mono" { (g.id) } }
            td class="title" { (g.title) }
            td { time datetime=(g.created_at.format(&Rfc3339).unwrap_or_default()) { (date(g.created_at)) } }
            td class="num" { (g.images) }
            td class="num" { (human_bytes(g.bytes)) }
            td class="num" { (g.opens) }
            td { span class={ "state state-" (g.state.as_str()) } { (g.state.as_str()) } }
            td { @if g.owner { "yes" } @else { "no" } }
            td class="actions" {
                form method="post" action={ "/admin/galleries/" (g.id) "/" (toggle) } {
                    (csrf_field(csrf))
                    button type="submit" class="button small" data-action=(toggle) {
                        @if g.enabled { "Disable" } @else { "Enable" }
                    }
                }
                form method="post" action={ "/admin/galleries/" (g.id) "/delete" } class="delete" {
                    (csrf_field(csrf))
                    label class="check" {
                        input type="checkbox" name="confirm" value="yes" required;
                        " confirm"
                    }
                    button type="submit" class="button small danger" data-action="delete" { "Delete" }
                }
            }
        }
    }
}

/// Every gallery, storage, and the instance's controls.
pub fn dashboard(view: &Dashboard<'_>) -> Markup {
    let listing = view.listing;
    let storage = view.storage;
    let controls = &view.controls;
    render(
        &shell("Admin"),
        html! {
            main id="main" class="admin" {
                div class="admin-head" {
                    h1 { "Instance admin" }
                    form method="post" action="/admin/logout" {
                        (csrf_field(view.csrf))
                        button type="submit" class="button small" { "Sign out" }
                    }
                }
                @if let Some((fault, since)) = view.storage_fault {
                    div id="storage-fault" class="banner-fault" role="alert" {
                        strong {
                            @match fault {
                                Fault::Full => "The disk is full: nothing can be saved.",
                                Fault::Failing => "The database file failed (an I/O error).",
                            }
                        }
                        " Since " (since.format(&Rfc3339).unwrap_or_default())
                        ", uploads, edits and new viewers' opens are refused (507/503); viewers \
                         of recently opened galleries are still served from memory. The server \
                         tries again every second and carries on by itself once the file can \
                         be written again: free space on the disk holding the data directory."
                    }
                }
                @if let Some(flash) = view.flash {
                    p id="flash" class="flash" role="status" { (flash) }
                }
                section class="admin-storage" aria-labelledby="storage-heading" {
                    h2 id="storage-heading" { "Storage" }
                    dl id="storage" {
                        dt { "Image files" }
                        dd id="storage-bytes" data-bytes=(storage.bytes) {
                            (human_bytes(storage.bytes))
                            @if controls.max_storage_bytes > 0 {
                                " of " (human_bytes(controls.max_storage_bytes)) " allowed"
                            }
                        }
                        dt { "Files" }
                        dd id="storage-blobs" { (storage.blobs) }
                        dt { "Galleries" }
                        dd id="storage-galleries" { (storage.galleries) }
                        dt { "Stored photos" }
                        dd id="storage-upgrade" data-current=(view.upgrade.is_current()) {
                            (upgrade_line(&view.upgrade, storage.galleries))
                        }
                    }
                    ul class="controls" {
                        li { @if controls.private { "Private: uploads need the upload password" } @else { "Public: anyone may upload" } }
                        li { (per_hour(controls.uploads_per_hour, "Uploads")) }
                        li { (per_hour(controls.galleries_per_hour, "New galleries")) }
                        li {
                            @match controls.purge_after_days {
                                0 => "Purge: off",
                                days => { "Purge: galleries closed for more than " (days) " days" },
                            }
                        }
                    }
                    div class="admin-tools" {
                        form method="post" action="/admin/gc" {
                            (csrf_field(view.csrf))
                            button type="submit" id="run-gc" class="button" { "Run blob garbage collection now" }
                            label class="confirm" {
                                input type="checkbox" name="confirm" value="true" id="gc-confirm";
                                " even if it would delete most files (only after "
                                code { "maiimg check" } ")"
                            }
                        }
                        form method="post" action="/admin/verify" {
                            (csrf_field(view.csrf))
                            button type="submit" id="run-verify" class="button" { "Verify every file" }
                        }
                        @if controls.purge_after_days > 0 {
                            form method="post" action="/admin/purge" {
                                (csrf_field(view.csrf))
                                button type="submit" id="run-purge" class="button" { "Purge closed galleries now" }
                            }
                        }
                    }
                }
                section aria-labelledby="galleries-heading" {
                    h2 id="galleries-heading" { "Galleries" }
                    form id="admin-search" method="get" action="/admin" class="admin-search" {
                        div {
                            label for="search" { "Id (or its beginning)" }
                            input type="search" id="search" name="q" value=(view.search) autocomplete="off"
                                spellcheck="false";
                        }
                        div {
                            label for="sort" { "Sort" }
                            select id="sort" name="sort" {
                                @for (sort, name) in SortBy::ALL {
                                    option value=(name) selected[sort == view.sort] {
                                        @match sort {
                                            SortBy::Newest => "Newest first",
                                            SortBy::Oldest => "Oldest first",
                                            SortBy::Size => "Largest first",
                                            SortBy::Opens => "Most opened first",
                                        }
                                    }
                                }
                            }
                        }
                        button type="submit" class="button" { "Show" }
                    }
                    p id="matched" class="meta" data-matched=(listing.matched) {
                        (listing.matched) @if listing.matched == 1 { " gallery" } @else { " galleries" }
                        @if !view.search.is_empty() { " with an id starting “" (view.search) "”" }
                    }
                    @if listing.galleries.is_empty() {
                        p class="notice" { "No gallery matches." }
                    } @else {
                        div class="table-wrap" {
                            table id="galleries" {
                                thead {
                                    tr {
                                        th scope="col" { "Id" }
                                        th scope="col" { "Title" }
                                        th scope="col" { "Created (UTC)" }
                                        th scope="col" class="num" { "Images" }
                                        th scope="col" class="num" { "Size" }
                                        th scope="col" class="num" { "Opens" }
                                        th scope="col" { "State" }
                                        th scope="col" { "Owner key" }
                                        th scope="col" { "Actions" }
                                    }
                                }
                                tbody {
                                    @for g in &listing.galleries { (row(g, view.csrf)) }
                                }
                            }
                        }
                    }
                    @if listing.pages > 1 {
                        nav class="pager" aria-label="Pages" {
                            @if listing.page > 1 {
                                a rel="prev" href=(link(view.search, view.sort, listing.page - 1)) { "← Previous" }
                            }
                            span { "Page " (listing.page) " of " (listing.pages) }
                            @if listing.page < listing.pages {
                                a rel="next" href=(link(view.search, view.sort, listing.page + 1)) { "Next →" }
                            }
                        }
                    }
                }
            }
        },
    )
}
