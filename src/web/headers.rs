//! Security headers on every response.

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::Header;
use rocket::{Request, Response};

/// Strict CSP (no inline script or style, nothing from other origins but the bucket's for
/// images under redirect delivery), no framing, no MIME sniffing, no Referer leaving the
/// site.
pub struct SecurityHeaders {
    csp: String,
}

impl SecurityHeaders {
    /// The headers, with images allowed from `image_origin` too when there is one.
    pub fn new(image_origin: Option<&str>) -> SecurityHeaders {
        let extra = image_origin.map(|o| format!(" {o}")).unwrap_or_default();
        SecurityHeaders {
            csp: format!(
                "default-src 'none'; script-src 'self'; style-src 'self'; \
                 img-src 'self' blob: data:{extra}; connect-src 'self'; font-src 'self'; \
                 manifest-src 'self'; form-action 'self'; frame-ancestors 'none'; \
                 base-uri 'none'"
            ),
        }
    }
}

#[rocket::async_trait]
impl Fairing for SecurityHeaders {
    fn info(&self) -> Info {
        Info {
            name: "security headers",
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        // A request with both lengths is how request smuggling starts (RFC 9112 §6.1):
        // answer it, then close, so nothing after it on this connection is read.
        let headers = req.headers();
        if headers.contains("Content-Length") && headers.contains("Transfer-Encoding") {
            res.set_header(Header::new("Connection", "close"));
        }
        res.set_header(Header::new("Content-Security-Policy", self.csp.clone()));
        res.set_header(Header::new("X-Content-Type-Options", "nosniff"));
        res.set_header(Header::new("X-Frame-Options", "DENY"));
        res.set_header(Header::new("Referrer-Policy", "no-referrer"));
        res.set_header(Header::new("Cross-Origin-Opener-Policy", "same-origin"));
        res.set_header(Header::new("Cross-Origin-Resource-Policy", "same-origin"));
        res.set_header(Header::new(
            "Permissions-Policy",
            "camera=(), microphone=(), geolocation=(), interest-cohort=()",
        ));
        if !res.headers().contains("Cache-Control") {
            res.set_header(Header::new("Cache-Control", "no-store"));
        }
    }
}
