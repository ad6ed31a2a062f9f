//! An HTTP server for tests (axum, on a thread of its own so sync and async tests can use it
//! alike): answers with a handler and records every request. Stops with the test process.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;

/// One request received by the server.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The path and query, as the request line has them.
    pub path: String,
    /// Names lowercase.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// What the server answers, after `delay`.
#[derive(Debug, Clone, Default)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    pub delay: Duration,
}

/// A running server: its port, and the requests it received so far, in order.
pub struct HttpServer {
    pub port: u16,
    pub requests: Arc<Mutex<Vec<Request>>>,
}

/// Answers a request; the count says how many requests (this one included) came so far.
pub type Handler = dyn Fn(&Request, usize) -> Reply + Send + Sync;

/// Serve `handler` on a free loopback port.
pub fn serve(handler: Arc<Handler>) -> Result<HttpServer, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let requests: Arc<Mutex<Vec<Request>>> = Arc::default();
    let log = requests.clone();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    std::thread::spawn(move || {
        runtime.block_on(async move {
            let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
            let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
                let (handler, log) = (handler.clone(), log.clone());
                async move { answer(&*handler, &log, req).await }
            });
            let _ = axum::serve(listener, app).await;
        });
    });
    Ok(HttpServer { port, requests })
}

async fn answer(handler: &Handler, log: &Mutex<Vec<Request>>, req: axum::extract::Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    let request = Request {
        method: parts.method.to_string(),
        path: parts.uri.path_and_query().map_or_else(|| parts.uri.path().to_string(), ToString::to_string),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).to_string()))
            .collect(),
        body: String::from_utf8_lossy(&body).to_string(),
    };
    let count = {
        let mut l = log.lock().unwrap_or_else(|p| p.into_inner());
        l.push(request.clone());
        l.len()
    };
    let reply = handler(&request, count);
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut response = Response::new(Body::from(reply.body));
    *response.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (k, v) in reply.headers {
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(k), HeaderValue::try_from(v)) {
            response.headers_mut().append(k, v);
        }
    }
    response
}

/// Answers a request of a [`http_server`] with a status and a JSON body.
pub type JsonHandler = dyn Fn(&Request) -> (u16, String) + Send + Sync;

/// A JSON server: `handler` returns the status and the body.
pub fn http_server(handler: Arc<JsonHandler>) -> Result<HttpServer, String> {
    serve(Arc::new(move |req: &Request, _| {
        let (status, body) = handler(req);
        Reply { status, headers: vec![("content-type", "application/json".into())], body, delay: Duration::ZERO }
    }))
}

/// A response read by [`call`].
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    /// The status line and the headers, as sent.
    pub head: String,
    pub body: String,
}

/// One HTTP/1.1 request to a server on loopback, the connection closed after it (so the body
/// is whatever the server sends until it closes), read within `timeout`. A `Host` among
/// `headers` replaces the default `127.0.0.1`. A server may answer and close before reading a
/// body it refuses: then what it said counts.
pub fn call(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &str, timeout: Duration) -> Answer {
    use std::io::{Read as _, Write as _};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(timeout)).expect("timeout");
    let mut req = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str("Host: 127.0.0.1\r\n");
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    let wrote = s.write_all(req.as_bytes());
    let mut resp = Vec::new();
    match s.read_to_end(&mut resp) {
        Ok(_) => {}
        // Refused mid-body: the connection may be reset after the answer arrived.
        Err(_) if wrote.is_err() && !resp.is_empty() => {}
        Err(e) => panic!("read the answer to {method} {path}: {e} (request written: {wrote:?})"),
    }
    let resp = String::from_utf8_lossy(&resp);
    let status = resp.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let (head, body) = resp.split_once("\r\n\r\n").unwrap_or((&resp, ""));
    Answer { status, head: head.to_string(), body: body.to_string() }
}
