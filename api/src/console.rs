//! The web console (`clients/web`, ADR 0009): its compiled files are embedded in the binary
//! and served at `/` (the page) and `/assets/…` (scripts, styles), under a Content-Security-
//! Policy that allows nothing from elsewhere. The console talks to `/api/v1` like any client.

use actix_web::{
    HttpRequest, HttpResponse, get,
    http::header::{self, HeaderValue},
    web,
};

use crate::error::ApiError;

include!(concat!(env!("OUT_DIR"), "/console_assets.rs"));

/// Scripts, styles, connections and images only from this server; no framing, no plugins.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, extension)| extension) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        _ => "text/plain; charset=utf-8",
    }
}

/// Answers one embedded file, or 304 when the browser holds this version.
fn asset(req: &HttpRequest, path: &str) -> Result<HttpResponse, ApiError> {
    let Some((_, etag, bytes)) = ASSETS.iter().find(|(name, _, _)| *name == path) else {
        return Err(ApiError::not_found("route", req.path()));
    };
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .is_some_and(|held| held.as_bytes() == etag.as_bytes());
    let mut response = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, HeaderValue::from_static(etag)))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"));
    if fresh {
        return Ok(response.finish());
    }
    Ok(response.content_type(content_type(path)).body(&bytes[..]))
}

/// The console's page.
#[get("/")]
pub async fn index(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    asset(&req, "index.html")
}

/// The console's scripts and styles.
#[get("/assets/{path:.*}")]
pub async fn assets(req: HttpRequest, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    asset(&req, &path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_console_is_embedded_with_its_page_and_scripts() {
        let names: Vec<&str> = ASSETS.iter().map(|(name, _, _)| *name).collect();
        for expected in [
            "index.html",
            "app.js",
            "style.css",
            "vendor/openapi-fetch.js",
        ] {
            assert!(names.contains(&expected), "{expected} in {names:?}");
        }
        assert!(ASSETS.iter().all(|(_, _, bytes)| !bytes.is_empty()));
    }
}
