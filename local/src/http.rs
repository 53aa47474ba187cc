//! The HTTP front: hyper 1 over HTTP/1.1 with bounded headers and bodies. It turns a request into
//! a [`RawRequest`] and hands it to a [`Respond`]er.

use crate::server::{ApiError, Params, Reply, params::decode_urlencoded};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// The largest request body accepted; more is answered HTTP 413.
pub const MAX_BODY: usize = 1 << 20;
/// The read buffer of a connection, which bounds the request line and headers; more is answered
/// HTTP 431 by hyper.
pub const MAX_HEAD: usize = 64 << 10;

/// How long a client may take to send a request's head; slower ones are disconnected.
pub const HEADER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// A request as it arrived.
#[derive(Debug, Clone)]
pub struct RawRequest {
    /// Method.
    pub method: http::Method,
    /// Path, as sent.
    pub path: String,
    /// Raw query, without `?`.
    pub query: String,
    /// Headers.
    pub headers: http::HeaderMap,
    /// Body.
    pub body: Bytes,
}

impl RawRequest {
    /// A header as text, if present and visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Whether the body is a form.
    pub fn is_form(&self) -> bool {
        self.header("content-type").is_some_and(|c| {
            c.split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
        })
    }

    /// Decoded query pairs, then form pairs (a body of another type carries no parameters).
    pub fn pairs(&self) -> Result<Vec<(String, String)>, ApiError> {
        let bad =
            |why: String| ApiError::new(400, "InvalidParameter", format!("The request is malformed: {why}."));
        let mut pairs = decode_urlencoded(self.query.as_bytes()).map_err(bad)?;
        if self.is_form() {
            pairs.extend(decode_urlencoded(&self.body).map_err(bad)?);
            if pairs.len() > crate::server::params::MAX_PARAMS {
                return Err(ApiError::new(400, "InvalidParameter", "The request has too many parameters."));
            }
        }
        Ok(pairs)
    }

    /// Query and form parameters merged, the first of duplicates kept.
    pub fn params(&self) -> Result<Params, ApiError> {
        self.pairs().map(Params::from_pairs)
    }
}

/// Answers requests.
pub trait Respond: Send + Sync + 'static {
    /// The answer to one request.
    fn respond(&self, req: RawRequest) -> impl Future<Output = Reply> + Send;
}

fn to_response(reply: Reply) -> http::Response<Full<Bytes>> {
    let mut r = http::Response::new(Full::new(Bytes::from(reply.body)));
    *r.status_mut() =
        http::StatusCode::from_u16(reply.status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut()
        .insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json;charset=utf-8"));
    r
}

async fn handle<R: Respond>(responder: Arc<R>, req: http::Request<Incoming>) -> http::Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            let too_large = e.downcast_ref::<http_body_util::LengthLimitError>().is_some();
            let (status, code) =
                if too_large { (413, "RequestEntityTooLarge") } else { (400, "InvalidRequest") };
            let e = ApiError::new(status, code, format!("The request body could not be read: {e}."));
            return to_response(crate::server::error_reply(&crate::server::Context::for_tests(), e, false));
        }
    };
    let raw = RawRequest {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        headers: parts.headers,
        body,
    };
    to_response(responder.respond(raw).await)
}

/// Serves `listener` with `responder` until `shutdown` turns `true`.
pub async fn serve<R: Respond>(
    listener: TcpListener,
    responder: Arc<R>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => {
                    // Out of descriptors and the like: pause instead of spinning.
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => return,
        };
        let responder = responder.clone();
        let mut stop = shutdown.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let responder = responder.clone();
                async move { Ok::<_, std::convert::Infallible>(handle(responder, req).await) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .max_buf_size(MAX_HEAD)
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => return,
                _ = stop.changed() => {}
            }
            // Stopping: finish the request in flight, then close.
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(HEADER_TIMEOUT, conn).await;
        });
    }
}
