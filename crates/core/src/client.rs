//! The hub's agent API over HTTP and WebSocket, as the console uses it. Every failure is
//! either `Offline` (the hub could not be reached: wait and retry) or the hub's own
//! `{code, message}`.

use crate::error::{CoreError, Result};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use std::time::Duration;
use switchboard_protocol::auth::{LoginRequest, LoginResponse};
use switchboard_protocol::campaign::{
    AudienceCheck, Campaign, CampaignAction, CampaignSpec, NewSegment, RecipientPage, RecipientState, Segment,
};
use switchboard_protocol::model::Attachment;
use switchboard_protocol::mutation::{MutationBatch, MutationResponse};
use switchboard_protocol::report::{Report, ReportQuery};
use switchboard_protocol::sync::{Bootstrap, ChangesPage, MessagesPage, StreamFrame};
use switchboard_protocol::version::CONSOLE_HEADER;
use switchboard_protocol::{ApiError, ErrorCode, Id};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

/// A signed-in connection to one hub.
#[derive(Debug, Clone)]
pub struct HubClient {
    base: String,
    token: String,
    http: reqwest::Client,
}

/// The largest attachment the console downloads, in bytes.
pub const MAX_DOWNLOAD_BYTES: u64 = 100 * 1024 * 1024;

/// The client every call to the hub goes through. It names the console's version
/// (`Switchboard-Console`) on every request, and follows a redirect only within the hub's
/// own origin, so the agent's token never goes anywhere else.
fn http_client() -> Result<reqwest::Client> {
    let mut named = reqwest::header::HeaderMap::new();
    named.insert(CONSOLE_HEADER, HeaderValue::from_static(crate::VERSION));
    reqwest::Client::builder()
        .default_headers(named)
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(120))
        .redirect(reqwest::redirect::Policy::custom(|attempt| {
            let first = attempt.previous().first().map(reqwest::Url::origin);
            if first.is_some_and(|o| o == attempt.url().origin()) && attempt.previous().len() < 5 {
                attempt.follow()
            } else {
                attempt.stop()
            }
        }))
        .build()
        .map_err(|e| CoreError::Offline(e.to_string()))
}

/// `s` with every byte but letters, digits and `-._~` written `%XX` (RFC 3986), as a
/// header carries a file's name.
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn transport(e: &reqwest::Error) -> CoreError {
    CoreError::Offline(if e.is_connect() {
        "connection refused".to_owned()
    } else if e.is_timeout() {
        "timed out".to_owned()
    } else {
        e.to_string()
    })
}

async fn answer<T: DeserializeOwned>(resp: reqwest::Response) -> Result<T> {
    let status = resp.status();
    let bytes = resp.bytes().await.map_err(|e| transport(&e))?;
    if status.is_success() {
        return serde_json::from_slice(&bytes).map_err(|e| CoreError::Protocol(e.to_string()));
    }
    match serde_json::from_slice::<ApiError>(&bytes) {
        Ok(e) => Err(CoreError::Hub(e)),
        Err(_) => {
            let code = if status.is_server_error() { ErrorCode::Unavailable } else { ErrorCode::Internal };
            Err(CoreError::Hub(ApiError::new(code, format!("the hub answered {status}"))))
        }
    }
}

impl HubClient {
    pub fn new(base: &str, token: &str) -> Result<HubClient> {
        Ok(HubClient { base: base.trim_end_matches('/').to_owned(), token: token.to_owned(), http: http_client()? })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Signs in with email and password.
    pub async fn login(base: &str, email: &str, password: &str) -> Result<LoginResponse> {
        let resp = http_client()?
            .post(format!("{}/api/v1/auth/login", base.trim_end_matches('/')))
            .json(&LoginRequest { email: email.to_owned(), password: password.to_owned() })
            .send()
            .await
            .map_err(|e| transport(&e))?;
        answer(resp).await
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| transport(&e))?;
        answer(resp).await
    }

    async fn post<B: serde::Serialize + ?Sized, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .map_err(|e| transport(&e))?;
        answer(resp).await
    }

    /// The campaigns a lead may see, newest first.
    pub async fn campaigns(&self) -> Result<Vec<Campaign>> {
        self.get("/api/v1/campaigns").await
    }

    pub async fn campaign(&self, id: Id) -> Result<Campaign> {
        self.get(&format!("/api/v1/campaigns/{id}")).await
    }

    /// What an audience holds for a campaign, nothing made.
    pub async fn check_campaign(&self, spec: &CampaignSpec) -> Result<AudienceCheck> {
        self.post("/api/v1/campaigns/check", spec).await
    }

    pub async fn create_campaign(&self, spec: &CampaignSpec) -> Result<Campaign> {
        self.post("/api/v1/campaigns", spec).await
    }

    pub async fn campaign_action(&self, id: Id, action: &CampaignAction) -> Result<Campaign> {
        self.post(&format!("/api/v1/campaigns/{id}/actions"), action).await
    }

    pub async fn campaign_recipients(
        &self,
        id: Id,
        state: Option<RecipientState>,
        after: u32,
    ) -> Result<RecipientPage> {
        let state = state.map(|s| format!("&state={}", s.as_str())).unwrap_or_default();
        self.get(&format!("/api/v1/campaigns/{id}/recipients?after={after}&limit=200{state}")).await
    }

    /// A campaign's results as the hub writes them (CSV).
    pub async fn campaign_export(&self, id: Id) -> Result<Vec<u8>> {
        let url = format!("{}/api/v1/campaigns/{id}/export", self.base);
        let resp = self.http.get(url).bearer_auth(&self.token).send().await.map_err(|e| transport(&e))?;
        if !resp.status().is_success() {
            return answer::<serde_json::Value>(resp).await.map(|_| Vec::new());
        }
        Ok(resp.bytes().await.map_err(|e| transport(&e))?.to_vec())
    }

    pub async fn segments(&self) -> Result<Vec<Segment>> {
        self.get("/api/v1/segments").await
    }

    pub async fn create_segment(&self, segment: &NewSegment) -> Result<Segment> {
        self.post("/api/v1/segments", segment).await
    }

    pub async fn delete_segment(&self, id: Id) -> Result<()> {
        let url = format!("{}/api/v1/segments/{id}", self.base);
        let resp = self.http.delete(url).bearer_auth(&self.token).send().await.map_err(|e| transport(&e))?;
        if resp.status().is_success() {
            return Ok(());
        }
        answer::<serde_json::Value>(resp).await.map(|_| ())
    }

    /// Uploads a file for a reply, under the idempotency key `key` (the same key gives the
    /// same file, so an upload repeated after a lost answer keeps one copy). The hub
    /// answers with its own name, type and path for it.
    pub async fn upload(&self, name: &str, mime: &str, bytes: Vec<u8>, key: &str) -> Result<Attachment> {
        let encoded = percent_encode(name);
        let resp = self
            .http
            .post(format!("{}/api/v1/uploads", self.base))
            .bearer_auth(&self.token)
            .header(reqwest::header::CONTENT_TYPE, mime)
            .header("x-file-name", encoded)
            .header("idempotency-key", key)
            .body(bytes)
            .send()
            .await
            .map_err(|e| transport(&e))?;
        answer(resp).await
    }

    /// Attachment `index` of message `message_id`, always from the hub: a file it keeps, or
    /// the customer's media it fetches from the provider. At most [`MAX_DOWNLOAD_BYTES`].
    pub async fn download_attachment(&self, message_id: Id, index: usize) -> Result<Vec<u8>> {
        let url = format!("{}/api/v1/messages/{message_id}/attachments/{index}", self.base);
        let mut resp = self.http.get(url).bearer_auth(&self.token).send().await.map_err(|e| transport(&e))?;
        if !resp.status().is_success() {
            return answer::<serde_json::Value>(resp).await.map(|_| Vec::new());
        }
        let too_large = || {
            CoreError::Hub(ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!("the file is larger than {} MB", MAX_DOWNLOAD_BYTES / (1024 * 1024)),
            ))
        };
        if resp.content_length().is_some_and(|n| n > MAX_DOWNLOAD_BYTES) {
            return Err(too_large());
        }
        let mut data = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| transport(&e))? {
            if (data.len() + chunk.len()) as u64 > MAX_DOWNLOAD_BYTES {
                return Err(too_large());
            }
            data.extend_from_slice(&chunk);
        }
        Ok(data)
    }

    /// A lead's report over a period and team.
    /// An article's saved versions, newest first.
    pub async fn article_versions(&self, id: Id) -> Result<Vec<switchboard_protocol::articles::ArticleVersion>> {
        self.get(&format!("/api/v1/articles/{id}/versions")).await
    }

    pub async fn report(&self, query: &ReportQuery) -> Result<Report> {
        let resp = self
            .http
            .get(format!("{}/api/v1/reports", self.base))
            .query(query)
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| transport(&e))?;
        answer(resp).await
    }

    pub async fn bootstrap(&self) -> Result<Bootstrap> {
        self.get("/api/v1/sync/bootstrap").await
    }

    pub async fn changes(&self, cursor: &str, limit: usize) -> Result<ChangesPage> {
        self.get(&format!("/api/v1/sync/changes?since={cursor}&limit={limit}")).await
    }

    pub async fn messages(&self, conversation: Id, before: Option<&str>, limit: usize) -> Result<MessagesPage> {
        let before = before.map(|b| format!("&before={b}")).unwrap_or_default();
        self.get(&format!("/api/v1/conversations/{conversation}/messages?limit={limit}{before}")).await
    }

    pub async fn mutations(&self, batch: &MutationBatch) -> Result<MutationResponse> {
        let resp = self
            .http
            .post(format!("{}/api/v1/mutations", self.base))
            .bearer_auth(&self.token)
            .json(batch)
            .send()
            .await
            .map_err(|e| transport(&e))?;
        answer(resp).await
    }

    pub async fn logout(&self) -> Result<()> {
        let resp = self
            .http
            .post(format!("{}/api/v1/auth/logout", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| transport(&e))?;
        if resp.status().is_success() {
            Ok(())
        } else {
            answer::<serde_json::Value>(resp).await.map(|_| ())
        }
    }

    /// Opens the live stream from `cursor`.
    pub async fn stream(&self, cursor: &str) -> Result<Stream> {
        let ws_base = if let Some(rest) = self.base.strip_prefix("https://") {
            format!("wss://{rest}")
        } else if let Some(rest) = self.base.strip_prefix("http://") {
            format!("ws://{rest}")
        } else {
            return Err(CoreError::BadRequest(format!("`{}` is not an http(s) URL", self.base)));
        };
        let mut req = format!("{ws_base}/api/v1/stream?since={cursor}")
            .into_client_request()
            .map_err(|e| CoreError::BadRequest(e.to_string()))?;
        let auth = HeaderValue::from_str(&format!("Bearer {}", self.token))
            .map_err(|e| CoreError::BadRequest(e.to_string()))?;
        req.headers_mut().insert("authorization", auth);
        req.headers_mut().insert(CONSOLE_HEADER, HeaderValue::from_static(crate::VERSION));
        match tokio_tungstenite::connect_async(req).await {
            Ok((ws, _)) => Ok(Stream { ws }),
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
                let body = resp.body().as_deref().unwrap_or_default();
                Err(match serde_json::from_slice::<ApiError>(body) {
                    Ok(e) => CoreError::Hub(e),
                    Err(_) => CoreError::Offline(format!("the stream was refused with {}", resp.status())),
                })
            }
            Err(e) => Err(CoreError::Offline(e.to_string())),
        }
    }
}

/// The live change stream.
#[derive(Debug)]
pub struct Stream {
    ws: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
}

impl Stream {
    /// The next frame; `Offline` when the socket ends.
    pub async fn next(&mut self) -> Result<StreamFrame> {
        use tokio_tungstenite::tungstenite::Message;
        loop {
            let msg = match self.ws.next().await {
                None => return Err(CoreError::Offline("the hub closed the stream".into())),
                Some(Err(e)) => return Err(CoreError::Offline(e.to_string())),
                Some(Ok(m)) => m,
            };
            match msg {
                Message::Text(t) => return Ok(serde_json::from_str(t.as_str())?),
                Message::Close(_) => return Err(CoreError::Offline("the hub closed the stream".into())),
                _ => {}
            }
        }
    }
}
