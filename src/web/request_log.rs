//! Our request log, instead of Rocket's: Rocket prints every URI, and URIs carry gallery
//! ids, upload ids (a capability) and, after a mistake, keys. Ours prints the method, the
//! matched route's template (`/g/<id>`, never the path as sent), the status and the time
//! taken: enough to see what the server does, nothing to open a gallery with.

use std::time::Instant;

use rocket::fairing::{Fairing, Info, Kind};
use rocket::{Data, Request, Response};

/// The fairing; `on` is false when the log level is `critical` or `off`.
pub struct RequestLog {
    /// Whether to print.
    pub on: bool,
}

/// When the request arrived (a private type, so no other `local_cache` user collides).
struct Arrived(Instant);

/// How a request is written in the log: method, route template (or `-` when no route
/// matched: the path as sent is never printed), status, milliseconds.
pub fn line(method: &str, template: Option<&str>, status: u16, millis: f64) -> String {
    format!(
        "{method} {} {status} {millis:.1}ms",
        template.unwrap_or("-")
    )
}

#[rocket::async_trait]
impl Fairing for RequestLog {
    fn info(&self) -> Info {
        Info {
            name: "request log",
            kind: Kind::Request | Kind::Response,
        }
    }

    async fn on_request(&self, req: &mut Request<'_>, _: &mut Data<'_>) {
        if self.on {
            req.local_cache(|| Arrived(Instant::now()));
        }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        if !self.on {
            return;
        }
        let millis = req.local_cache(|| Arrived(Instant::now())).0.elapsed();
        let template = req.route().map(|route| route.uri.to_string());
        println!(
            "{}",
            line(
                req.method().as_str(),
                template.as_deref(),
                res.status().code,
                millis.as_secs_f64() * 1000.0
            )
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_names_the_route_never_the_path() {
        assert_eq!(
            line("GET", Some("/g/<id>"), 200, 1.25),
            "GET /g/<id> 200 1.2ms"
        );
        assert_eq!(line("GET", None, 404, 0.0), "GET - 404 0.0ms");
    }
}
