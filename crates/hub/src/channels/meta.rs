//! Meta's messaging platforms: the WhatsApp Cloud API, Messenger and Instagram. They share
//! the webhook handshake and signature; their payloads and send APIs differ.

use super::settings::Settings;
use super::{attachment_name, missing, Event, ParseError, SendError};
use crate::store::ingest::{Answer, Inbound};
use crate::store::outbox::Outgoing;
use serde_json::{json, Value};
use switchboard_protocol::choices::{ChoiceStyle, Choices};
use switchboard_protocol::model::{Attachment, ChannelKind, Delivery};

const GRAPH: &str = "https://graph.facebook.com/v21.0";

/// The GET subscription handshake: the challenge to echo, if the token is ours.
pub fn handshake(query: &[(String, String)], verify_token: &str) -> Option<String> {
    let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let token_ok = get("hub.verify_token").is_some_and(|t| super::signature::matches(t, verify_token));
    (get("hub.mode") == Some("subscribe") && token_ok).then(|| get("hub.challenge").unwrap_or("").to_owned())
}

fn seconds(v: &Value) -> Option<i64> {
    match v {
        Value::String(s) => s.parse::<i64>().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
    .and_then(|s| s.checked_mul(1_000))
}

fn media(kind: &str, m: &Value, base: &str, n: usize) -> Attachment {
    let mime = m["mime_type"].as_str().unwrap_or("application/octet-stream");
    let id = m["id"].as_str().unwrap_or("");
    Attachment {
        name: m["filename"].as_str().map_or_else(|| attachment_name(kind, mime, n), str::to_owned),
        mime: mime.to_owned(),
        size: m["file_size"].as_u64().unwrap_or(0),
        // Media ids are fetched from the Graph API with the inbox's token.
        url: m["url"].as_str().map_or_else(|| format!("{base}/{id}"), str::to_owned),
    }
}

/// One WhatsApp message object as an inbound message.
fn whatsapp_message(m: &Value, names: &[(String, String)], base: &str, now: i64) -> Result<Inbound, ParseError> {
    let from = m["from"].as_str().ok_or(missing("a message", "`from`"))?;
    let id = m["id"].as_str().ok_or(missing("a message", "`id`"))?;
    let at = seconds(&m["timestamp"]).unwrap_or(now);
    let kind = m["type"].as_str().ok_or(missing("a message", "`type`"))?;
    let mut msg = Inbound::text(0, from, "", Some(id), at);
    msg.display_name = names.iter().find(|(wa, _)| wa == from).map(|(_, n)| n.clone());
    let body = &m[kind];
    match kind {
        "text" => msg.body = body["body"].as_str().ok_or(missing("a text message", "body"))?.to_owned(),
        "image" | "video" | "audio" | "document" => {
            msg.attachments.push(media(kind, body, base, 1));
            msg.body = body["caption"].as_str().unwrap_or("").to_owned();
        }
        "location" => {
            let (lat, lng) = (
                body["latitude"].as_f64().ok_or(missing("a location", "latitude"))?,
                body["longitude"].as_f64().ok_or(missing("a location", "longitude"))?,
            );
            let place =
                [body["name"].as_str(), body["address"].as_str()].into_iter().flatten().collect::<Vec<_>>().join(", ");
            msg.body =
                if place.is_empty() { format!("📍 {lat}, {lng}") } else { format!("📍 {place} ({lat}, {lng})") };
        }
        "contacts" => {
            let cards = body.as_array().ok_or(ParseError::NotAList("contacts"))?;
            let lines: Vec<String> = cards
                .iter()
                .map(|c| {
                    let name = c["name"]["formatted_name"].as_str().unwrap_or("(no name)");
                    let phones: Vec<&str> = c["phones"]
                        .as_array()
                        .map(|p| p.iter().filter_map(|x| x["phone"].as_str()).collect())
                        .unwrap_or_default();
                    if phones.is_empty() {
                        format!("Shared contact: {name}")
                    } else {
                        format!("Shared contact: {name}, {}", phones.join(", "))
                    }
                })
                .collect();
            msg.body = lines.join("\n");
        }
        // A tap on reply buttons or a list row: the answer, and the message it answers
        // (`context.id`, the id WhatsApp gave our message).
        "interactive" => {
            let reply = body
                .get("button_reply")
                .or_else(|| body.get("list_reply"))
                .ok_or(missing("an interactive message", "reply"))?;
            let title = reply["title"].as_str().ok_or(missing("an interactive reply", "title"))?;
            msg.body = title.to_owned();
            msg.answer = Some(Answer {
                id: reply["id"].as_str().unwrap_or(title).to_owned(),
                title: title.to_owned(),
                to_provider_id: m["context"]["id"].as_str().map(str::to_owned),
                to_message: None,
            });
        }
        // A template's quick-reply button: its payload is the answer.
        "button" => {
            let text = body["text"].as_str().ok_or(missing("a button reply", "text"))?;
            msg.body = text.to_owned();
            msg.answer = Some(Answer {
                id: body["payload"].as_str().unwrap_or(text).to_owned(),
                title: text.to_owned(),
                to_provider_id: m["context"]["id"].as_str().map(str::to_owned),
                to_message: None,
            });
        }
        "reaction" => {
            msg.body = match body["emoji"].as_str().filter(|e| !e.is_empty()) {
                Some(e) => format!("Reacted {e} to a message"),
                None => "Removed a reaction".to_owned(),
            };
        }
        other => msg.unsupported = Some(other.to_owned()),
    }
    Ok(msg)
}

fn status(s: &Value) -> Result<Option<Event>, ParseError> {
    let id = s["id"].as_str().ok_or(missing("a status", "`id`"))?;
    let delivery = match s["status"].as_str().ok_or(missing("a status", "`status`"))? {
        "sent" => Delivery::Sent,
        "delivered" => Delivery::Delivered,
        "read" => Delivery::Read,
        "failed" => Delivery::Failed,
        _ => return Ok(None),
    };
    let error = (delivery == Delivery::Failed).then(|| {
        let e = &s["errors"][0];
        let detail = e["error_data"]["details"]
            .as_str()
            .or(e["message"].as_str())
            .or(e["title"].as_str())
            .unwrap_or("no reason given");
        match e["code"].as_i64() {
            Some(code) => format!("WhatsApp {code}: {detail}"),
            None => format!("WhatsApp: {detail}"),
        }
    });
    let reference = s["biz_opaque_callback_data"].as_str().map(str::to_owned);
    Ok(Some(Event::Status { provider_id: id.to_owned(), delivery, error, reference }))
}

/// Parses a WhatsApp Cloud API webhook: `entry[].changes[].value.messages[]` and `.statuses[]`.
pub fn parse_whatsapp(body: &Value, base: &str, now: i64) -> Result<Vec<Event>, ParseError> {
    if body["object"].as_str() != Some("whatsapp_business_account") {
        return Err(ParseError::NotWhatsapp);
    }
    let mut out = Vec::new();
    for entry in body["entry"].as_array().ok_or(missing("the webhook", "entry list"))? {
        for change in entry["changes"].as_array().ok_or(missing("an entry", "changes list"))? {
            let value = &change["value"];
            let names: Vec<(String, String)> = value["contacts"]
                .as_array()
                .map(|cs| {
                    cs.iter()
                        .filter_map(|c| {
                            Some((c["wa_id"].as_str()?.to_owned(), c["profile"]["name"].as_str()?.to_owned()))
                        })
                        .collect()
                })
                .unwrap_or_default();
            for m in value["messages"].as_array().into_iter().flatten() {
                out.push(Event::Message(whatsapp_message(m, &names, base, now)?));
            }
            for s in value["statuses"].as_array().into_iter().flatten() {
                out.extend(status(s)?);
            }
        }
    }
    Ok(out)
}

/// Parses a Messenger (`object: page`) or Instagram (`object: instagram`) webhook:
/// `entry[].messaging[]` messages, deliveries and reads. The page's own echoes are skipped.
pub fn parse_messaging(body: &Value, channel: ChannelKind, now: i64) -> Result<Vec<Event>, ParseError> {
    let object = match channel {
        ChannelKind::Instagram => "instagram",
        _ => "page",
    };
    if body["object"].as_str() != Some(object) {
        return Err(ParseError::WrongObject(object));
    }
    let mut out = Vec::new();
    for entry in body["entry"].as_array().ok_or(missing("the webhook", "entry list"))? {
        for ev in entry["messaging"].as_array().into_iter().flatten() {
            let sender = ev["sender"]["id"].as_str().ok_or(missing("an event", "sender id"))?;
            let at = ev["timestamp"].as_i64().unwrap_or(now);
            if let Some(m) = ev.get("message") {
                if m["is_echo"].as_bool() == Some(true) {
                    continue;
                }
                let mid = m["mid"].as_str().ok_or(missing("a message", "mid"))?;
                let mut msg = Inbound::text(0, sender, m["text"].as_str().unwrap_or(""), Some(mid), at);
                // A quick reply tapped: its payload is the answer (Messenger does not say
                // which message offered it).
                if let Some(payload) = m["quick_reply"]["payload"].as_str() {
                    msg.answer = Some(Answer {
                        id: payload.to_owned(),
                        title: msg.body.clone(),
                        to_provider_id: m["reply_to"]["mid"].as_str().map(str::to_owned),
                        to_message: None,
                    });
                }
                if m.get("sticker_id").is_some() {
                    msg.unsupported = Some("sticker".into());
                }
                for (i, a) in m["attachments"].as_array().into_iter().flatten().enumerate() {
                    let kind = a["type"].as_str().unwrap_or("file");
                    let mime = match kind {
                        "image" => "image/*",
                        "video" => "video/*",
                        "audio" => "audio/*",
                        "file" => "application/octet-stream",
                        other => {
                            msg.unsupported.get_or_insert_with(|| other.to_owned());
                            continue;
                        }
                    };
                    let url = a["payload"]["url"].as_str().ok_or(missing("an attachment", "url"))?;
                    msg.attachments.push(Attachment {
                        name: attachment_name(kind, mime, i + 1),
                        mime: mime.into(),
                        size: 0,
                        url: url.into(),
                    });
                }
                if msg.body.is_empty() && msg.attachments.is_empty() && msg.unsupported.is_none() {
                    msg.unsupported = Some("empty message".into());
                }
                out.push(Event::Message(msg));
            } else if let Some(d) = ev.get("delivery") {
                for mid in d["mids"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                    out.push(Event::Status {
                        provider_id: mid.to_owned(),
                        delivery: Delivery::Delivered,
                        error: None,
                        reference: None,
                    });
                }
                if let Some(w) = d["watermark"].as_i64() {
                    out.push(Event::DeliveredUpTo { customer: sender.to_owned(), watermark: w });
                }
            } else if let Some(r) = ev.get("read") {
                // Messenger reads carry a watermark; Instagram's name the message read (and
                // with it everything sent before).
                match (r["watermark"].as_i64(), r["mid"].as_str()) {
                    (Some(w), _) => out.push(Event::ReadUpTo { customer: sender.to_owned(), watermark: w }),
                    (None, Some(mid)) => {
                        out.push(Event::Status {
                            provider_id: mid.to_owned(),
                            delivery: Delivery::Read,
                            error: None,
                            reference: None,
                        });
                        if let Some(at) = ev["timestamp"].as_i64() {
                            out.push(Event::ReadUpTo { customer: sender.to_owned(), watermark: at });
                        }
                    }
                    (None, None) => return Err(ParseError::ReadWithoutTarget),
                }
            }
        }
    }
    Ok(out)
}

/// The part of a webhook that is for this inbox: WhatsApp changes whose
/// `metadata.phone_number_id` is the inbox's `sender_id` (or whose display number is the
/// inbox's address), and Messenger or Instagram entries whose `id` is the inbox's page or
/// account (`sender_id`, else its address). Parts that name no number or page are kept,
/// for the parser to refuse as malformed. One Meta app signs the webhooks of all its
/// numbers and pages, so a valid signature alone does not say which inbox a payload is
/// for. Returns the kept payload and how many parts were left out.
pub fn for_inbox(body: &Value, kind: ChannelKind, sender_id: Option<&str>, address: &str) -> (Value, usize) {
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    let ours_id = sender_id.filter(|s| !s.is_empty()).unwrap_or(address);
    let mut kept = body.clone();
    let mut left_out = 0;
    let Some(entries) = kept.get_mut("entry").and_then(Value::as_array_mut) else { return (kept, 0) };
    match kind {
        ChannelKind::Whatsapp => {
            for entry in entries.iter_mut() {
                if let Some(changes) = entry.get_mut("changes").and_then(Value::as_array_mut) {
                    let before = changes.len();
                    changes.retain(|c| {
                        let m = &c["value"]["metadata"];
                        // A change that names no number is malformed: the parser refuses it.
                        m["phone_number_id"].is_null()
                            || m["phone_number_id"].as_str() == Some(ours_id)
                            || m["display_phone_number"]
                                .as_str()
                                .is_some_and(|n| !digits(n).is_empty() && digits(n) == digits(address))
                    });
                    left_out += before - changes.len();
                }
            }
            entries.retain(|e| e["changes"].as_array().is_some_and(|c| !c.is_empty()));
        }
        _ => {
            let before = entries.len();
            entries.retain(|e| e["id"].is_null() || e["id"].as_str() == Some(ours_id));
            left_out += before - entries.len();
        }
    }
    (kept, left_out)
}

/// The Graph API base URL for an inbox.
pub fn base(s: &Settings) -> String {
    s.base_url.as_deref().unwrap_or(GRAPH).trim_end_matches('/').to_owned()
}

async fn post(http: &reqwest::Client, url: &str, token: &str, body: &Value, who: &str) -> Result<Value, SendError> {
    let resp = http
        .post(url)
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .map_err(|e| SendError::transport(&e, format!("{who} could not be reached: {e}")))?;
    let status = resp.status().as_u16();
    let answer: Value = resp.json().await.unwrap_or_default();
    if (200..300).contains(&status) {
        return Ok(answer);
    }
    let e = &answer["error"];
    let reason = match (e["code"].as_i64(), e["message"].as_str()) {
        (Some(code), Some(msg)) => format!("{who} {code}: {msg}"),
        _ => format!("{who} answered HTTP {status}"),
    };
    Err(SendError::from_status(status, reason))
}

/// Sends a WhatsApp message (text, media by link, or an approved template).
pub async fn send_whatsapp(http: &reqwest::Client, s: &Settings, out: &Outgoing) -> Result<String, SendError> {
    let token = s.need(&s.access_token, "access_token")?;
    // The phone number *id* from WhatsApp Manager, not the number itself.
    let sender = s.need(&s.sender_id, "sender_id")?;
    let to = out.to.trim_start_matches('+');
    let mut body = json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": to});
    // Echoed in this message's status webhooks: how an interrupted send is confirmed.
    if let Some(r) = &out.reference {
        body["biz_opaque_callback_data"] = json!(r);
    }
    if let Some(t) = &out.template {
        let params: Vec<Value> = t.params.iter().map(|p| json!({"type": "text", "text": p})).collect();
        let components = if params.is_empty() { json!([]) } else { json!([{"type": "body", "parameters": params}]) };
        body["type"] = json!("template");
        body["template"] = json!({"name": t.name, "language": {"code": t.language}, "components": components});
    } else if let Some(c) = &out.choices {
        body["type"] = json!("interactive");
        body["interactive"] = whatsapp_interactive(&out.body, c);
    } else if let Some(a) = out.attachments.first() {
        let kind = if a.mime.starts_with("image/") {
            "image"
        } else if a.mime.starts_with("video/") {
            "video"
        } else if a.mime.starts_with("audio/") {
            "audio"
        } else {
            "document"
        };
        body["type"] = json!(kind);
        // Audio carries no caption; a document shows its file name.
        body[kind] = match kind {
            "audio" => json!({"link": a.url}),
            "document" => json!({"link": a.url, "caption": out.body, "filename": a.name}),
            _ => json!({"link": a.url, "caption": out.body}),
        };
        if out.body.trim().is_empty() {
            if let Some(media) = body[kind].as_object_mut() {
                media.remove("caption");
            }
        }
    } else {
        body["type"] = json!("text");
        body["text"] = json!({"preview_url": false, "body": out.body});
    }
    let answer = post(http, &format!("{}/{sender}/messages", base(s)), token, &body, "WhatsApp").await?;
    answer["messages"][0]["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| SendError::Final("WhatsApp accepted the message but gave no id to track it".into()))
}

/// A WhatsApp interactive message: reply buttons, or a list opened by its button.
fn whatsapp_interactive(text: &str, c: &Choices) -> Value {
    match c.style {
        ChoiceStyle::Buttons => {
            let buttons: Vec<Value> =
                c.options.iter().map(|o| json!({"type": "reply", "reply": {"id": o.id, "title": o.title}})).collect();
            json!({"type": "button", "body": {"text": text}, "action": {"buttons": buttons}})
        }
        ChoiceStyle::List => {
            let rows: Vec<Value> = c
                .options
                .iter()
                .map(|o| match &o.description {
                    Some(d) if !d.trim().is_empty() => json!({"id": o.id, "title": o.title, "description": d}),
                    _ => json!({"id": o.id, "title": o.title}),
                })
                .collect();
            json!({"type": "list", "body": {"text": text},
                   "action": {"button": c.button.as_deref().unwrap_or("Choose"), "sections": [{"title": "Options", "rows": rows}]}})
        }
    }
}

/// Sends a Messenger or Instagram message through the Send API.
pub async fn send_messaging(http: &reqwest::Client, s: &Settings, out: &Outgoing) -> Result<String, SendError> {
    let who = if out.channel == ChannelKind::Instagram { "Instagram" } else { "Messenger" };
    let token = s.need(&s.access_token, "access_token")?;
    let sender = s.sender_id.clone().unwrap_or_else(|| out.from.clone());
    let message = match (out.attachments.first(), &out.choices) {
        (Some(a), _) => {
            let kind = a.mime.split('/').next().filter(|k| ["image", "video", "audio"].contains(k)).unwrap_or("file");
            json!({"attachment": {"type": kind, "payload": {"url": a.url, "is_reusable": false}}})
        }
        // Quick replies: the text with a button for each option; a tap sends its payload.
        (None, Some(c)) => {
            let quick: Vec<Value> =
                c.options.iter().map(|o| json!({"content_type": "text", "title": o.title, "payload": o.id})).collect();
            json!({"text": out.body, "quick_replies": quick})
        }
        (None, None) => json!({"text": out.body}),
    };
    let body = json!({"recipient": {"id": out.to}, "messaging_type": "RESPONSE", "message": message});
    let answer = post(http, &format!("{}/{sender}/messages", base(s)), token, &body, who).await?;
    answer["message_id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| SendError::Final(format!("{who} accepted the message but gave no id to track it")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Finding: Meta webhooks were not bound to the inbox's number or page.
    #[test]
    fn only_the_inboxs_own_parts_are_kept() {
        let wa = serde_json::json!({"object": "whatsapp_business_account", "entry": [
            {"id": "1", "changes": [
                {"value": {"metadata": {"display_phone_number": "15550001111", "phone_number_id": "111"}}},
                {"value": {"metadata": {"display_phone_number": "15550002222", "phone_number_id": "222"}}}
            ]},
            {"id": "2", "changes": [{"value": {"metadata": {"phone_number_id": "333"}}}]}
        ]});
        let (kept, left) = for_inbox(&wa, ChannelKind::Whatsapp, Some("111"), "+15550001111");
        assert_eq!(left, 2);
        assert_eq!(kept["entry"].as_array().unwrap().len(), 1);
        assert_eq!(kept["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"], "111");
        let (by_number, left) = for_inbox(&wa, ChannelKind::Whatsapp, None, "+1 555 000 2222");
        assert_eq!(
            (by_number["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"].as_str(), left),
            (Some("222"), 2)
        );
        let (none, left) = for_inbox(&wa, ChannelKind::Whatsapp, Some("999"), "+19999999999");
        assert_eq!((none["entry"].as_array().unwrap().len(), left), (0, 3));

        let page = serde_json::json!({"object": "page", "entry": [{"id": "p1", "messaging": []}, {"id": "p2", "messaging": []}]});
        let (kept, left) = for_inbox(&page, ChannelKind::Messenger, None, "p2");
        assert_eq!(
            (kept["entry"].as_array().unwrap().len(), kept["entry"][0]["id"].as_str(), left),
            (1, Some("p2"), 1)
        );
        let (kept, _) = for_inbox(&page, ChannelKind::Instagram, Some("p1"), "ig-address");
        assert_eq!(kept["entry"][0]["id"], "p1");
    }

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn handshake_table() {
        let ok = q(&[("hub.mode", "subscribe"), ("hub.verify_token", "tok"), ("hub.challenge", "1158201444")]);
        assert_eq!(handshake(&ok, "tok").as_deref(), Some("1158201444"));
        assert_eq!(handshake(&ok, "other"), None);
        assert_eq!(handshake(&q(&[("hub.mode", "unsubscribe"), ("hub.verify_token", "tok")]), "tok"), None);
        assert_eq!(handshake(&q(&[("hub.mode", "subscribe")]), "tok"), None);
    }

    #[test]
    fn whatsapp_rejects_malformed() {
        for bad in [json!({}), json!({"object": "page"}), json!({"object": "whatsapp_business_account", "entry": 3})] {
            assert!(parse_whatsapp(&bad, GRAPH, 0).is_err(), "{bad}");
        }
        let no_from = json!({"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {"messages": [{"id": "x", "type": "text", "text": {"body": "b"}}]}}]}]});
        assert!(parse_whatsapp(&no_from, GRAPH, 0).is_err());
    }
}
