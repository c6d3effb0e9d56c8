//! Twilio SMS/MMS: inbound webhooks and status callbacks (form-encoded), and the Messages
//! API for replies.

use super::settings::Settings;
use super::{attachment_name, missing, Event, ParseError, SendError};
use crate::store::ingest::Inbound;
use crate::store::outbox::Outgoing;
use switchboard_protocol::model::{Attachment, Delivery};
use switchboard_protocol::Timestamp;

/// The value of form field `name`.
fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Parses an inbound message webhook (`From`, `To`, `Body`, `MessageSid`, `NumMedia`,
/// `MediaUrlN`, `MediaContentTypeN`, and whatever else Twilio adds).
pub fn parse_inbound(form: &[(String, String)], at: Timestamp) -> Result<Event, ParseError> {
    let from = field(form, "From").filter(|f| !f.is_empty()).ok_or(missing("the webhook", "From"))?;
    let sid = field(form, "MessageSid")
        .or_else(|| field(form, "SmsMessageSid"))
        .filter(|s| !s.is_empty())
        .ok_or(missing("the webhook", "MessageSid"))?;
    let body = field(form, "Body").unwrap_or("").to_owned();
    let media: usize = match field(form, "NumMedia") {
        None | Some("") => 0,
        Some(n) => n.parse().map_err(|_| ParseError::MediaCountNotANumber(n.to_owned()))?,
    };
    if media > 10 {
        return Err(ParseError::TooManyMedia(media));
    }
    let mut attachments = Vec::with_capacity(media);
    for i in 0..media {
        let url = field(form, &format!("MediaUrl{i}")).ok_or(ParseError::MissingMediaUrl(i))?;
        let mime = field(form, &format!("MediaContentType{i}")).unwrap_or("application/octet-stream");
        attachments.push(Attachment {
            name: attachment_name("media", mime, i + 1),
            mime: mime.to_owned(),
            size: 0,
            url: url.to_owned(),
        });
    }
    let mut msg = Inbound::text(0, from, &body, Some(sid), at);
    msg.attachments = attachments;
    msg.display_name = field(form, "ProfileName").map(str::to_owned);
    Ok(Event::Message(msg))
}

/// The query parameter a status callback URL carries the hub's reference for a send in.
pub const REFERENCE: &str = "sb_ref";

/// Parses a status callback (`MessageSid`, `MessageStatus`, `ErrorCode`), with the
/// reference its URL carried, if any: then even `queued` or `accepted` counts, as proof
/// that Twilio took the message.
pub fn parse_status(form: &[(String, String)], reference: Option<&str>) -> Result<Option<Event>, ParseError> {
    let sid =
        field(form, "MessageSid").or_else(|| field(form, "SmsSid")).ok_or(missing("the callback", "MessageSid"))?;
    let status = field(form, "MessageStatus")
        .or_else(|| field(form, "SmsStatus"))
        .ok_or(missing("the callback", "MessageStatus"))?;
    let delivery = match status {
        "sent" => Delivery::Sent,
        "delivered" => Delivery::Delivered,
        "read" => Delivery::Read,
        "failed" | "undelivered" => Delivery::Failed,
        "queued" | "accepted" | "sending" if reference.is_some() => Delivery::Sent,
        // queued, sending, accepted, scheduled…: nothing new for the agent.
        _ => return Ok(None),
    };
    let error = (delivery == Delivery::Failed).then(|| match field(form, "ErrorCode").filter(|c| !c.is_empty()) {
        Some(code) => format!("Twilio error {code}: the message was {status}"),
        None => format!("the message was {status}"),
    });
    Ok(Some(Event::Status { provider_id: sid.to_owned(), delivery, error, reference: reference.map(str::to_owned) }))
}

/// Sends a reply through the Messages API; returns Twilio's message SID.
pub async fn send(http: &reqwest::Client, s: &Settings, out: &Outgoing) -> Result<String, SendError> {
    let sid = s.need(&s.account_sid, "account_sid")?;
    let token = s.need(&s.auth_token, "auth_token")?;
    let base = s.base_url.as_deref().unwrap_or("https://api.twilio.com").trim_end_matches('/');
    let mut form = vec![("To", out.to.clone()), ("From", out.from.clone()), ("Body", out.body.clone())];
    for a in &out.attachments {
        form.push(("MediaUrl", a.url.clone()));
    }
    if let Some(cb) = &s.status_callback_url {
        // The reference comes back on every status callback for this message: how an
        // interrupted send is confirmed.
        let cb = match &out.reference {
            Some(r) => format!("{cb}{}{REFERENCE}={r}", if cb.contains('?') { '&' } else { '?' }),
            None => cb.clone(),
        };
        form.push(("StatusCallback", cb));
    }
    let resp = http
        .post(format!("{base}/2010-04-01/Accounts/{sid}/Messages.json"))
        .basic_auth(sid, Some(token))
        .form(&form)
        .send()
        .await
        .map_err(|e| SendError::transport(&e, format!("Twilio could not be reached: {e}")))?;
    let status = resp.status().as_u16();
    let body: serde_json::Value = resp.json().await.unwrap_or_default();
    if (200..300).contains(&status) {
        return body["sid"]
            .as_str()
            .map(str::to_owned)
            // Accepted: never sent again, even without an id to track it by.
            .ok_or_else(|| SendError::Final("Twilio accepted the message but gave no sid to track it".into()));
    }
    let reason = match (body["code"].as_i64(), body["message"].as_str()) {
        (Some(code), Some(msg)) => format!("Twilio {code}: {msg}"),
        _ => format!("Twilio answered HTTP {status}"),
    };
    Err(SendError::from_status(status, reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn inbound_table() {
        let ok = parse_inbound(
            &form(&[("From", "+14155550123"), ("Body", "hi"), ("MessageSid", "SM1"), ("NumMedia", "0")]),
            5,
        )
        .unwrap();
        let Event::Message(m) = ok else { panic!() };
        assert_eq!(
            (m.from.as_str(), m.body.as_str(), m.provider_id.as_deref(), m.at),
            ("+14155550123", "hi", Some("SM1"), 5)
        );
        let mms = parse_inbound(
            &form(&[
                ("From", "+1"),
                ("MessageSid", "MM1"),
                ("NumMedia", "1"),
                ("MediaUrl0", "https://m/1"),
                ("MediaContentType0", "image/jpeg"),
            ]),
            5,
        )
        .unwrap();
        let Event::Message(m) = mms else { panic!() };
        assert_eq!(m.attachments[0].name, "media-1.jpg");
        for bad in [
            form(&[("Body", "no from"), ("MessageSid", "SM1")]),
            form(&[("From", "+1"), ("Body", "no sid")]),
            form(&[("From", "+1"), ("MessageSid", "SM1"), ("NumMedia", "x")]),
            form(&[("From", "+1"), ("MessageSid", "SM1"), ("NumMedia", "1")]),
            form(&[("From", "+1"), ("MessageSid", "SM1"), ("NumMedia", "99")]),
        ] {
            assert!(parse_inbound(&bad, 0).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn status_table() {
        let cases = [
            ("sent", None, Some(Delivery::Sent)),
            ("delivered", None, Some(Delivery::Delivered)),
            ("read", None, Some(Delivery::Read)),
            ("undelivered", Some("30003"), Some(Delivery::Failed)),
            ("failed", Some("30007"), Some(Delivery::Failed)),
            ("queued", None, None),
            ("sending", None, None),
        ];
        for (status, code, want) in cases {
            let mut f = vec![("MessageSid", "SM1"), ("MessageStatus", status)];
            if let Some(c) = code {
                f.push(("ErrorCode", c));
            }
            let got = parse_status(&form(&f), None).unwrap();
            match (got, want) {
                (None, None) => {}
                (Some(Event::Status { delivery, error, .. }), Some(w)) => {
                    assert_eq!(delivery, w, "{status}");
                    assert_eq!(error.is_some(), w == Delivery::Failed, "{status}");
                    if let (Some(e), Some(c)) = (error, code) {
                        assert!(e.contains(c));
                    }
                }
                (g, w) => panic!("{status}: {g:?} vs {w:?}"),
            }
        }
        assert!(parse_status(&form(&[("MessageStatus", "sent")]), None).is_err());
        // With the hub's reference, Twilio taking the message is news: it was sent.
        let taken =
            parse_status(&form(&[("MessageSid", "SM2"), ("MessageStatus", "queued")]), Some("sbc-4-17")).unwrap();
        match taken {
            Some(Event::Status { delivery: Delivery::Sent, reference: Some(r), .. }) => assert_eq!(r, "sbc-4-17"),
            other => panic!("{other:?}"),
        }
    }
}
