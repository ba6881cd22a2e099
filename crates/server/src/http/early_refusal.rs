//! Refusals that come before the request body is read (credentials, rate limit, size) leave
//! the body unread; hyper then drops the connection after answering. A client that sent its
//! body a moment after its headers would otherwise reuse that dead connection for its next
//! request (Codat's SDK does, and loses a POST). Those answers say `Connection: close`.

use axum::extract::Request;
use axum::http::header::{CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

pub async fn close_after(req: Request, next: Next) -> Response {
    let has_body = req.headers().contains_key(TRANSFER_ENCODING)
        || req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|n| n > 0);
    let mut response = next.run(req).await;
    let early = matches!(
        response.status(),
        StatusCode::UNAUTHORIZED | StatusCode::PAYLOAD_TOO_LARGE | StatusCode::TOO_MANY_REQUESTS
    );
    if has_body && early {
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    response
}
