//! Stand-ins for the bots a hub calls out to, on loopback: a business's external bot
//! receiving the hub's signed webhook (it keeps what it was sent, and answers as a test
//! tells it), and a model behind an OpenAI-compatible chat-completions endpoint (it keeps
//! each request and answers with the text a test gives it).

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One webhook the bot received.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub signature: Option<String>,
    pub body: String,
}

impl Delivery {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_default()
    }
}

/// How the bot answers a webhook.
#[derive(Debug, Clone)]
pub enum Answer {
    /// `200` and an empty body: it answers later through the bot API.
    Later,
    /// `200` with this JSON body (a bot answer).
    Now(serde_json::Value),
    /// This status.
    Fail(u16),
    /// Only after this long.
    Slow(Duration),
}

#[derive(Clone)]
pub struct Bot {
    pub url: String,
    pub deliveries: Arc<Mutex<Vec<Delivery>>>,
    pub answer: Arc<Mutex<Answer>>,
}

impl Bot {
    pub fn set(&self, a: Answer) {
        *self.answer.lock().unwrap_or_else(|e| e.into_inner()) = a;
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.deliveries.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Waits up to ten seconds for `n` deliveries.
    pub async fn wait_for(&self, n: usize) -> Vec<Delivery> {
        for _ in 0..200 {
            let got = self.deliveries();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the bot received {} webhooks, not {n}", self.deliveries().len())
    }
}

/// An external bot on 127.0.0.1:0, answering [`Answer::Later`] until told otherwise.
pub async fn bot() -> Bot {
    let deliveries = Arc::new(Mutex::new(Vec::new()));
    let answer = Arc::new(Mutex::new(Answer::Later));
    let (d, a) = (deliveries.clone(), answer.clone());
    let app = axum::Router::new().route(
        "/bot",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let (d, a) = (d.clone(), a.clone());
            async move {
                let signature = headers.get("x-switchboard-signature").and_then(|v| v.to_str().ok()).map(str::to_owned);
                d.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(Delivery { signature, body: String::from_utf8_lossy(&body).into_owned() });
                let now = a.lock().unwrap_or_else(|e| e.into_inner()).clone();
                match now {
                    Answer::Later => (StatusCode::OK, String::new()).into_response(),
                    Answer::Now(v) => (StatusCode::OK, v.to_string()).into_response(),
                    Answer::Fail(s) => {
                        (StatusCode::from_u16(s).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), "down").into_response()
                    }
                    Answer::Slow(t) => {
                        tokio::time::sleep(t).await;
                        (StatusCode::OK, String::new()).into_response()
                    }
                }
            }
        }),
    );
    let url = serve(app).await;
    Bot { url: format!("{url}/bot"), deliveries, answer }
}

/// One chat-completions request the model received.
#[derive(Debug, Clone)]
pub struct Asked {
    pub authorization: Option<String>,
    pub body: serde_json::Value,
}

#[derive(Clone)]
pub struct Model {
    /// The endpoint, `…/v1/chat/completions`.
    pub url: String,
    pub asked: Arc<Mutex<Vec<Asked>>>,
    /// What the model answers next.
    pub reply: Arc<Mutex<String>>,
}

impl Model {
    pub fn say(&self, text: &str) {
        *self.reply.lock().unwrap_or_else(|e| e.into_inner()) = text.to_owned();
    }

    pub fn asked(&self) -> Vec<Asked> {
        self.asked.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// A model on 127.0.0.1:0 answering in OpenAI's chat-completions format.
pub async fn model() -> Model {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let reply = Arc::new(Mutex::new(String::from("HANDOFF")));
    let (q, r) = (asked.clone(), reply.clone());
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let (q, r) = (q.clone(), r.clone());
            async move {
                let authorization = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned);
                let body: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                let model = body["model"].clone();
                q.lock().unwrap_or_else(|e| e.into_inner()).push(Asked { authorization, body });
                let content = r.lock().unwrap_or_else(|e| e.into_inner()).clone();
                axum::Json(serde_json::json!({
                    "id": "chatcmpl-standin",
                    "object": "chat.completion",
                    "created": 1_700_000_000,
                    "model": model,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
                }))
            }
        }),
    );
    let url = serve(app).await;
    Model { url: format!("{url}/v1/chat/completions"), asked, reply }
}

async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("bind: {e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("addr: {e}"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}
