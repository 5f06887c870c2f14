//! What no route answers: unmatched paths become plain 404s, and every error status a
//! route did not answer itself is said as JSON under `/api/` and as a page elsewhere.

use rocket::http::Status;
use rocket::{Request, catch};

use crate::web::error_response::{error_page, json_body};

/// Paths no other route takes are taken here last (rank 100) and sent to the catcher as
/// 404s: Rocket itself would log each such path, which may carry an id or a key.
pub fn unmatched() -> Vec<rocket::Route> {
    use rocket::http::Method;
    use rocket::route::{Handler, Outcome, Route};

    #[derive(Clone)]
    struct NotFound;

    #[rocket::async_trait]
    impl Handler for NotFound {
        async fn handle<'r>(&self, _: &'r Request<'_>, _: rocket::Data<'r>) -> Outcome<'r> {
            Outcome::Error(Status::NotFound)
        }
    }

    [
        Method::Get,
        Method::Post,
        Method::Put,
        Method::Patch,
        Method::Delete,
        Method::Options,
    ]
    .into_iter()
    .map(|method| Route::ranked(100, method, "/<_..>", NotFound))
    .collect()
}

/// Anything a route did not answer: JSON under `/api/`, a page elsewhere.
#[catch(default)]
pub fn catch_all(
    status: Status,
    req: &Request<'_>,
) -> (Status, (rocket::http::ContentType, String)) {
    if req.uri().path().starts_with("/api/") {
        let (code, message) = match status.code {
            404 => ("not_found", "no such API endpoint or resource".to_owned()),
            405 => ("method_not_allowed", "method not allowed".to_owned()),
            413 => ("request_too_large", "the request is too large".to_owned()),
            415 => (
                "unsupported_media_type",
                "unsupported content type".to_owned(),
            ),
            400 | 422 => (
                "bad_request",
                "the request could not be understood".to_owned(),
            ),
            _ => ("internal", "something went wrong on the server".to_owned()),
        };
        (
            status,
            (rocket::http::ContentType::JSON, json_body(code, &message)),
        )
    } else {
        let (status, markup) = error_page(status);
        (
            status,
            (rocket::http::ContentType::HTML, markup.into_string()),
        )
    }
}
