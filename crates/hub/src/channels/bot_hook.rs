//! The calls to bots the hub does not run itself: for each customer message in a
//! conversation such a bot holds, the external bot's signed webhook (the shape of
//! Chatwoot's agent bots and Dialogflow-style fulfilment) or a model behind an
//! OpenAI-compatible chat-completions endpoint, grounded in the best articles. Each call is
//! claimed once across hubs; a bot that fails, answers nonsense or takes longer than its
//! inbox allows hands the conversation to people at once, so no customer is left waiting on
//! a bot.

use super::signature::hmac_sha256_hex;
use crate::config::Config;
use crate::store::bot::Call;
use crate::store::Store;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use switchboard_protocol::articles as kb;
use switchboard_protocol::bot::{BotAnswer, BotReply, BotSpeaker, HandoffReason};

/// The header carrying the webhook's signature: `t=<ms>,v1=<hex>`, the hex HMAC-SHA256 of
/// `<ms>.<body>` keyed with the inbox's bot secret.
pub const SIGNATURE_HEADER: &str = "x-switchboard-signature";
/// Calls one hub makes at once.
const AT_ONCE: usize = 32;
/// The largest answer read from a bot or a model.
const MAX_ANSWER_BYTES: usize = 256 * 1024;
/// What the model is told to answer when the articles do not answer the question.
pub const HANDOFF_WORD: &str = "HANDOFF";

/// The webhook's signature header for `body` sent at `at_ms`.
pub fn sign(secret: &str, at_ms: i64, body: &[u8]) -> String {
    let mut signed = format!("{at_ms}.").into_bytes();
    signed.extend_from_slice(body);
    format!("t={at_ms},v1={}", hmac_sha256_hex(secret, &signed))
}

/// The connector to an OpenAI-compatible chat-completions endpoint (`llm_url`,
/// `llm_model`, `llm_api_key` in the hub's settings).
#[derive(Debug, Clone)]
pub struct Llm {
    pub url: String,
    pub model: String,
    pub api_key: Option<String>,
}

impl Llm {
    pub fn of(config: &Config) -> Option<Llm> {
        Some(Llm { url: config.llm_url.clone()?, model: config.llm_model.clone(), api_key: config.llm_api_key.clone() })
    }
}

/// Starts the caller on the current runtime; it ends when `stopping` turns true.
pub fn start(
    store: Store,
    config: &Config,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let llm = Llm::of(config);
    tokio::spawn(async move {
        let Ok(http) = crate::outbound::client_without_redirects(Duration::from_secs(60)) else {
            tracing::error!("bots cannot be called: no HTTP client");
            return;
        };
        let slots = Arc::new(tokio::sync::Semaphore::new(AT_ONCE));
        let mut head = store.head();
        let mut sweep = tokio::time::interval(Duration::from_secs(1));
        loop {
            if *stopping.borrow() {
                return;
            }
            match store.claim_bot_calls(i64::try_from(AT_ONCE).unwrap_or(32)).await {
                Ok(calls) => {
                    for call in calls {
                        let Ok(permit) = slots.clone().acquire_owned().await else { return };
                        let (store, http, llm) = (store.clone(), http.clone(), llm.clone());
                        tokio::spawn(async move {
                            answer(&store, &http, llm.as_ref(), call).await;
                            drop(permit);
                        });
                    }
                }
                Err(e) => tracing::warn!("bot calls cannot be claimed: {e}"),
            }
            tokio::select! {
                _ = stopping.changed() => {}
                _ = head.changed() => {}
                _ = sweep.tick() => {
                    if let Err(e) = store.sweep_bot_waits().await {
                        tracing::warn!("bots' slow answers cannot be looked at: {e}");
                    }
                }
            }
        }
    })
}

/// Makes one call and applies what came back; any failure hands over.
async fn answer(store: &Store, http: &reqwest::Client, llm: Option<&Llm>, call: Call) {
    let conv = call.conversation_id;
    let limit = Duration::from_millis(call.settings.answer_within_ms().unsigned_abs());
    let result = match call.settings.mode {
        crate::bot::Mode::Webhook => tokio::time::timeout(limit, webhook(http, &call)).await,
        crate::bot::Mode::Llm => match llm {
            Some(l) => tokio::time::timeout(limit, ask_model(http, l, &call)).await,
            None => Ok(Err(Failed::Bot("the hub has no llm_url".into()))),
        },
        crate::bot::Mode::Builtin => return,
    };
    let outcome = match result {
        Err(_) => Err(HandoffReason::BotTimedOut),
        Ok(Err(Failed::Bot(why))) => {
            tracing::warn!("the bot of inbox {} failed: {why}", call.inbox_id);
            Err(HandoffReason::BotFailed)
        }
        Ok(Ok(None)) => return, // It answers later, through the bot API.
        Ok(Ok(Some(answer))) => Ok(answer),
    };
    let applied = match outcome {
        Ok(a) => match store.bot_answer(conv, None, a).await {
            Ok(_) => Ok(()),
            // No longer the bot's (someone took it over meanwhile): nothing to do.
            Err(crate::store::StoreError::Refused(switchboard_protocol::ErrorCode::Conflict, _)) => Ok(()),
            Err(e) => {
                tracing::warn!("the bot's answer in conversation {conv} was refused: {e}");
                store.bot_failed(conv, HandoffReason::BotFailed).await.map(|_| ())
            }
        },
        Err(reason) => store.bot_failed(conv, reason).await.map(|_| ()),
    };
    if let Err(e) = applied {
        tracing::warn!("conversation {conv}: the bot's turn cannot be stored: {e}");
    }
}

#[derive(Debug)]
enum Failed {
    Bot(String),
}

impl From<reqwest::Error> for Failed {
    fn from(e: reqwest::Error) -> Self {
        Failed::Bot(e.to_string())
    }
}

/// Reads at most [`MAX_ANSWER_BYTES`] of a response.
async fn body_of(mut r: reqwest::Response) -> Result<Vec<u8>, Failed> {
    let mut out = Vec::new();
    while let Some(chunk) = r.chunk().await? {
        out.extend_from_slice(&chunk);
        if out.len() > MAX_ANSWER_BYTES {
            return Err(Failed::Bot(format!("answered more than {MAX_ANSWER_BYTES} bytes")));
        }
    }
    Ok(out)
}

/// Posts the signed event. A `2xx` with an empty body, or one without messages or handoff,
/// means the bot answers later through the API; a body carries its answer now.
async fn webhook(http: &reqwest::Client, call: &Call) -> Result<Option<BotAnswer>, Failed> {
    let (Some(url), Some(secret)) = (&call.settings.url, &call.settings.secret) else {
        return Err(Failed::Bot("no url or secret".into()));
    };
    let body = serde_json::to_vec(&call.event).map_err(|e| Failed::Bot(e.to_string()))?;
    let now = crate::clock::now_ms();
    let r = http
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, sign(secret, now, &body))
        .header("x-switchboard-event", "message_created")
        .header("x-switchboard-delivery", &call.event.id)
        .body(body)
        .send()
        .await?;
    let status = r.status();
    if !status.is_success() {
        return Err(Failed::Bot(format!("answered {status}")));
    }
    let bytes = body_of(r).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let answer: BotAnswer =
        serde_json::from_slice(&bytes).map_err(|e| Failed::Bot(format!("its answer is not a bot answer: {e}")))?;
    Ok((!answer.messages.is_empty() || answer.handoff.is_some()).then_some(answer))
}

/// The instructions and the articles the model answers from.
pub fn grounding(call: &Call, base: Option<&str>) -> String {
    let mut s = format!(
        "You are {name}, the support assistant of this business, writing to a customer on {channel}. \
         Answer only from the help-centre articles below, briefly and in plain text, and end with the link of \
         the article you used. If the articles do not answer the question, or you are not sure, answer with the \
         single word {HANDOFF_WORD} and nothing else.\n\nArticles:\n",
        name = call.settings.name,
        channel = call.event.inbox.channel.label(),
    );
    for a in &call.articles {
        let url = base.map_or_else(|| format!("/help/articles/{}", a.key), |b| kb::url(b, &a.key));
        let text = kb::cut_at_word(&kb::plain_text(&a.body), 3_000);
        s.push_str(&format!("\n## {}\nLink: {url}\n{text}\n", a.title));
    }
    if call.articles.is_empty() {
        s.push_str("\n(none match)\n");
    }
    s
}

#[derive(Debug, Deserialize)]
struct Completion {
    choices: Vec<CompletionChoice>,
}

#[derive(Debug, Deserialize)]
struct CompletionChoice {
    message: CompletionMessage,
}

#[derive(Debug, Deserialize)]
struct CompletionMessage {
    #[serde(default)]
    content: Option<String>,
}

/// What the model's reply means: an answer (with the articles whose links it holds), or a
/// handoff when it said so, said nothing, or had no article to go on.
pub fn read_completion(content: &str, call: &Call, base: Option<&str>) -> BotAnswer {
    let text = content.trim();
    if text.is_empty() || text.contains(HANDOFF_WORD) || call.articles.is_empty() {
        return BotAnswer { messages: Vec::new(), handoff: Some(Default::default()) };
    }
    let used: Vec<String> = call
        .articles
        .iter()
        .filter(|a| {
            let path = format!("/help/articles/{}", a.key);
            text.contains(&path) || base.is_some_and(|b| text.contains(&kb::url(b, &a.key)))
        })
        .map(|a| a.key.clone())
        .collect();
    let body =
        format!("{}\n\n{}", kb::cut_at_word(text, 3_500), crate::bot::feedback_question(call.event.inbox.channel));
    BotAnswer {
        messages: vec![BotReply {
            body,
            choices: crate::bot::feedback_choices(call.event.inbox.channel),
            articles: used,
        }],
        handoff: None,
    }
}

/// Asks the model, with the articles and the conversation so far.
async fn ask_model(http: &reqwest::Client, llm: &Llm, call: &Call) -> Result<Option<BotAnswer>, Failed> {
    let base = call.public_url.as_deref();
    let mut messages = vec![serde_json::json!({"role": "system", "content": grounding(call, base)})];
    for line in &call.event.history {
        let role = match line.from {
            BotSpeaker::Customer => "user",
            BotSpeaker::Bot => "assistant",
        };
        messages.push(serde_json::json!({"role": role, "content": line.body}));
    }
    messages.push(serde_json::json!({"role": "user", "content": call.event.message.body}));
    let request = serde_json::json!({"model": llm.model, "temperature": 0, "max_tokens": 500, "messages": messages});
    let mut req = http.post(&llm.url).json(&request);
    if let Some(key) = &llm.api_key {
        req = req.bearer_auth(key);
    }
    let r = req.send().await?;
    let status = r.status();
    if !status.is_success() {
        return Err(Failed::Bot(format!("the model answered {status}")));
    }
    let bytes = body_of(r).await?;
    let c: Completion =
        serde_json::from_slice(&bytes).map_err(|e| Failed::Bot(format!("not a chat completion: {e}")))?;
    let content = c.choices.into_iter().next().and_then(|c| c.message.content).unwrap_or_default();
    Ok(Some(read_completion(&content, call, base)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_covers_the_time_and_the_body() {
        let s = sign("0123456789abcdef", 1_700_000_000_000, b"{\"a\":1}");
        let expected = hmac_sha256_hex("0123456789abcdef", b"1700000000000.{\"a\":1}");
        assert_eq!(s, format!("t=1700000000000,v1={expected}"));
        assert_ne!(sign("0123456789abcdef", 1_700_000_000_001, b"{\"a\":1}"), s);
    }
}
