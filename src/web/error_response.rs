//! Failures as HTTP responses: under `/api/` the JSON error body with its status, for
//! people a page in plain words. The status and code of each failure come from `error.rs`.

use rocket::http::{ContentType, Status};
use rocket::response::{self, Responder};
use rocket::serde::json::json;
use rocket::{Request, Response};

use crate::views;
use crate::web::error::{WebError, refusal_status};

/// The JSON error body: `{"error":{"code":"…","message":"…"}}`.
pub fn json_body(code: &str, message: &str) -> String {
    json!({ "error": { "code": code, "message": message } }).to_string()
}

/// Errors of `/api/…` routes: JSON with the right status.
#[derive(Debug)]
pub struct ApiError(pub WebError);

impl<E: Into<WebError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl<'r> Responder<'r, 'static> for ApiError {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        self.0.log_if_internal(req);
        let (status, code) = self.0.status_and_code();
        let body = json_body(code, &self.0.public_message());
        let mut response = Response::build();
        response
            .status(status)
            .header(ContentType::JSON)
            .sized_body(body.len(), std::io::Cursor::new(body));
        let upload_password = matches!(
            self.0,
            WebError::UploadPasswordRequired | WebError::UploadPasswordWrong
        );
        if status == Status::Unauthorized && !upload_password {
            response.raw_header("WWW-Authenticate", "Bearer");
        }
        if let Some(seconds) = self.0.retry_after() {
            response.raw_header("Retry-After", seconds.to_string());
        }
        Ok(response.finalize())
    }
}

/// Errors of pages: an HTML page saying what happened in plain words.
#[derive(Debug)]
pub struct PageError(pub WebError);

impl<E: Into<WebError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

impl<'r> Responder<'r, 'static> for PageError {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        self.0.log_if_internal(req);
        if let WebError::Denied(refusal) = &self.0 {
            return (
                refusal_status(refusal.reason),
                views::refusal::page(refusal),
            )
                .respond_to(req);
        }
        let (status, _) = self.0.status_and_code();
        let page = match &self.0 {
            WebError::AdminTokenWrong => {
                (status, views::admin::login(Some(&self.0.public_message())))
            }
            e if e.is_storage_fault() => (
                status,
                views::errors::page(status.code, "Not right now", &sentence(&self.0)),
            ),
            WebError::RateLimited { .. }
            | WebError::TooManyParallelUploads { .. }
            | WebError::UploadsBusy
            | WebError::Busy(_)
            | WebError::StorageFull { .. }
            | WebError::DiskReserve { .. }
            | WebError::Csrf
            | WebError::AdminSignIn
            | WebError::UploadPasswordRequired
            | WebError::UploadPasswordWrong => (
                status,
                views::errors::page(status.code, "That did not work", &sentence(&self.0)),
            ),
            _ => error_page(status),
        };
        let mut response = page.respond_to(req)?;
        if let Some(seconds) = self.0.retry_after() {
            response.set_raw_header("Retry-After", seconds.to_string());
        }
        Ok(response)
    }
}

/// A message as a sentence for a page: capitalised, with a full stop.
fn sentence(e: &WebError) -> String {
    let message = e.public_message();
    let mut chars = message.chars();
    let mut out: String = chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

/// The page for a status, in words a visitor understands.
pub fn error_page(status: Status) -> (Status, maud::Markup) {
    let (heading, text) = match status.code {
        404 => (
            "Nothing here",
            "This link does not lead to a gallery. It may have been mistyped, or the gallery was deleted.",
        ),
        403 => (
            "Not here",
            "Photos are shown only inside their gallery. Open the gallery link you were given.",
        ),
        401 => (
            "Manage link needed",
            "Only the gallery's owner can do this. Open the manage link you were given and try again from there.",
        ),
        429 => (
            "Too many attempts",
            "Too many wrong passwords were tried from here. Wait a few minutes, then try again.",
        ),
        507 => (
            "Storage full",
            "This server has no room for new photos right now. Galleries already shared still work.",
        ),
        413 => (
            "Too large",
            "What was sent is larger than this server accepts.",
        ),
        400 | 422 => (
            "That did not work",
            "The request could not be understood. Please go back and try again.",
        ),
        _ => (
            "Something went wrong",
            "The server could not answer this request. Please try again in a moment.",
        ),
    };
    (status, views::errors::page(status.code, heading, text))
}
