//! Stand-ins for the outside providers, on loopback, speaking their documented wire
//! formats: Twilio's Messages API and media URLs, Meta's Graph API send endpoints, its
//! media endpoint (`GET /{media-id}` names the file's URL, which wants the same token) and
//! CDN links, and an SMTP server.

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// One request a stand-in received.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
    pub body: String,
    /// When it arrived.
    pub at: std::time::Instant,
}

impl Request {
    pub fn form(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(self.body.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
    }

    pub fn field(&self, name: &str) -> Option<String> {
        self.form().into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// How the stand-in answers.
#[derive(Debug, Clone)]
pub enum Mode {
    Accept,
    /// Answer with this status and body.
    Refuse(u16, String),
    /// Answer only after this long.
    Hang(Duration),
}

#[derive(Clone)]
pub struct Provider {
    pub base: String,
    /// What was sent to the provider (every request but a media fetch).
    pub requests: Arc<Mutex<Vec<Request>>>,
    /// The media fetched from it (`GET`s).
    pub fetches: Arc<Mutex<Vec<Request>>>,
    pub mode: Arc<Mutex<Mode>>,
}

impl Provider {
    pub fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    pub fn fetches(&self) -> Vec<Request> {
        self.fetches.lock().unwrap().clone()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Twilio,
    Graph,
}

/// A provider API on 127.0.0.1:0.
pub async fn start(kind: Kind) -> Provider {
    let requests = Arc::new(Mutex::new(Vec::new()));
    let mode = Arc::new(Mutex::new(Mode::Accept));
    let counter = Arc::new(AtomicU64::new(0));
    let fetches = Arc::new(Mutex::new(Vec::new()));
    let (r, f, m) = (requests.clone(), fetches.clone(), mode.clone());
    let base = Arc::new(Mutex::new(String::new()));
    let base_in = base.clone();
    let app = axum::Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
        let (r, f, m, counter, base) = (r.clone(), f.clone(), m.clone(), counter.clone(), base_in.clone());
        async move {
            let req = Request {
                method: method.to_string(),
                path: uri.path().to_owned(),
                authorization: headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned),
                body: String::from_utf8_lossy(&body).into_owned(),
                at: std::time::Instant::now(),
            };
            if method == Method::GET {
                f.lock().unwrap().push(req.clone());
            } else {
                r.lock().unwrap().push(req.clone());
            }
            let mode = m.lock().unwrap().clone();
            match mode {
                Mode::Refuse(status, body) => return (StatusCode::from_u16(status).unwrap(), body).into_response(),
                Mode::Hang(d) => tokio::time::sleep(d).await,
                Mode::Accept => {}
            }
            if method == Method::GET {
                let base = base.lock().unwrap().clone();
                return media(kind, &req, &base);
            }
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            match kind {
                // Twilio's Message resource, as the Messages API answers a create.
                Kind::Twilio => (
                    StatusCode::CREATED,
                    axum::Json(serde_json::json!({
                        "account_sid": "AC0123456789abcdef0123456789abcdef",
                        "api_version": "2010-04-01",
                        "body": req.field("Body"),
                        "direction": "outbound-api",
                        "from": req.field("From"),
                        "to": req.field("To"),
                        "num_media": "0",
                        "sid": format!("SM{n:032x}"),
                        "status": "queued",
                        "error_code": null,
                        "error_message": null
                    })),
                )
                    .into_response(),
                Kind::Graph => {
                    let body = req.json();
                    if body["messaging_product"] == "whatsapp" {
                        axum::Json(serde_json::json!({
                            "messaging_product": "whatsapp",
                            "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                            "messages": [{"id": format!("wamid.OUT{n}")}]
                        }))
                        .into_response()
                    } else {
                        axum::Json(serde_json::json!({"recipient_id": body["recipient"]["id"], "message_id": format!("m_OUT{n}")})).into_response()
                    }
                }
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    *base.lock().unwrap() = format!("http://{addr}");
    tokio::spawn(async move { axum::serve(listener, app).await });
    Provider { base: format!("http://{addr}"), requests, fetches, mode }
}

/// The first bytes of a JPEG file: what every media stand-in serves.
pub const JPEG: &[u8] = b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01 a customer's photo";

/// A customer's media as the provider hands it over: Twilio's media URL (with the
/// account's Basic credentials), Graph's `GET /{media-id}` naming the file's URL and the
/// file itself (both with the access token), and a CDN link (Messenger) without any.
fn media(kind: Kind, req: &Request, base: &str) -> axum::response::Response {
    let jpeg = || ([(axum::http::header::CONTENT_TYPE, "image/jpeg")], JPEG).into_response();
    let auth = req.authorization.as_deref().unwrap_or("");
    match kind {
        Kind::Twilio if req.path.contains("/Media/") && auth.starts_with("Basic ") => jpeg(),
        Kind::Twilio => StatusCode::UNAUTHORIZED.into_response(),
        Kind::Graph => {
            let id = req.path.trim_start_matches('/');
            if id.chars().all(|c| c.is_ascii_digit()) && !id.is_empty() {
                if !auth.starts_with("Bearer ") {
                    return StatusCode::UNAUTHORIZED.into_response();
                }
                axum::Json(serde_json::json!({
                    "messaging_product": "whatsapp",
                    "url": format!("{base}/whatsapp-media/{id}"),
                    "mime_type": "image/jpeg",
                    "file_size": JPEG.len(),
                    "id": id
                }))
                .into_response()
            } else if req.path.starts_with("/whatsapp-media/") && !auth.starts_with("Bearer ") {
                StatusCode::UNAUTHORIZED.into_response()
            } else {
                jpeg()
            }
        }
    }
}

/// An SMTP server on 127.0.0.1:0 that accepts every message (RFC 5321, no TLS).
#[derive(Clone)]
pub struct Smtp {
    pub port: u16,
    pub messages: Arc<Mutex<Vec<String>>>,
}

pub async fn smtp() -> Smtp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let messages = Arc::new(Mutex::new(Vec::new()));
    let store = messages.clone();
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else { return };
            let store = store.clone();
            tokio::spawn(async move {
                let (rd, mut wr) = sock.into_split();
                let mut lines = BufReader::new(rd).lines();
                wr.write_all(b"220 mail.example.com ESMTP ready\r\n").await.unwrap();
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_ascii_uppercase();
                    if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        wr.write_all(b"250-mail.example.com\r\n250 8BITMIME\r\n").await.unwrap();
                    } else if upper.starts_with("DATA") {
                        wr.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await.unwrap();
                        let mut data = String::new();
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                            data.push_str(&l);
                            data.push_str("\r\n");
                        }
                        store.lock().unwrap().push(data);
                        wr.write_all(b"250 2.0.0 queued\r\n").await.unwrap();
                    } else if upper.starts_with("QUIT") {
                        wr.write_all(b"221 bye\r\n").await.unwrap();
                        return;
                    } else {
                        wr.write_all(b"250 OK\r\n").await.unwrap();
                    }
                }
            });
        }
    });
    Smtp { port, messages }
}
