//! What the composer offers for a conversation: the channels the customer can be answered
//! on (the conversation's own first), each with its reply window and any reason a reply
//! would be refused; the inbox's approved templates; the agent's canned responses (filled
//! in by [`crate::canned::expand`]); and whether a first message to a customer can go as
//! drafted. The decisions are pure functions, tested by table.

use crate::cache::rows::{self, text_enum};
use crate::cache::Cache;
use crate::canned;
use crate::error::{CoreError, Result};
use rusqlite::{params, OptionalExtension};
use switchboard_protocol::console::{Composer, NewConversation, ReplyRoute, ReplyWindow, TemplateOption};
use switchboard_protocol::model::{ChannelKind, Identity, Inbox};
use switchboard_protocol::{ApiError, ErrorCode, Id, Timestamp};

/// The reply window of a conversation on `channel` whose window ends at `expires_at`.
/// A windowed channel with no end time has never heard from the customer: it is closed.
pub fn reply_window(channel: ChannelKind, expires_at: Option<Timestamp>, now: Timestamp) -> ReplyWindow {
    if !channel.has_reply_window() {
        return ReplyWindow::None;
    }
    match expires_at {
        Some(t) if t > now => ReplyWindow::Open { expires_at: t },
        closed_at => ReplyWindow::Closed { closed_at },
    }
}

/// Why a free-form reply on a route would be refused, if it would.
pub fn refusal(channel: ChannelKind, window: ReplyWindow, opted_out: bool) -> Option<ApiError> {
    if opted_out {
        return Some(ApiError::new(
            ErrorCode::OptedOut,
            format!(
                "the customer opted out of {} messages; nothing can be sent there until they opt in again",
                channel.label()
            ),
        ));
    }
    match window {
        ReplyWindow::Closed { .. } => Some(ApiError::new(
            ErrorCode::ReplyWindowClosed,
            format!("the 24-hour {} reply window has closed: send an approved template instead", channel.label()),
        )),
        ReplyWindow::None | ReplyWindow::Open { .. } => None,
    }
}

impl Cache {
    /// The composer's choices for a conversation, as of `now`.
    pub fn composer(&self, conversation_id: Id, now: Timestamp) -> Result<Composer> {
        self.read(|c| {
            let (contact_id, inbox_json): (Id, Option<String>) = c
                .prepare_cached(
                    "SELECT v.contact_id, i.json FROM conversations v LEFT JOIN inboxes i ON i.id = v.inbox_id \
                     WHERE v.id = ?1",
                )?
                .query_row([conversation_id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?
                .ok_or(CoreError::NotFound("conversation"))?;
            let opted_out: Vec<Identity> = match rows::contact(c, contact_id) {
                Ok(k) => k.opted_out,
                Err(CoreError::NotFound(_)) => Vec::new(),
                Err(e) => return Err(e),
            };
            // The conversation itself first, then the newest conversation per other
            // channel address of the same customer.
            let mut st = c.prepare_cached(
                "SELECT id, channel, customer_address, reply_window_expires_at FROM conversations \
                 WHERE contact_id = ?1 ORDER BY id = ?2 DESC, last_activity_at DESC, id DESC",
            )?;
            let rows = st.query_map(params![contact_id, conversation_id], |r| {
                Ok((r.get::<_, Id>(0)?, text_enum::<ChannelKind>(r, 1)?, r.get::<_, String>(2)?, r.get(3)?))
            })?;
            let mut routes: Vec<ReplyRoute> = Vec::new();
            for row in rows {
                let (id, channel, address, expires_at) = row?;
                if routes.iter().any(|r| r.channel == channel && r.address == address) {
                    continue;
                }
                let window = reply_window(channel, expires_at, now);
                let out = opted_out.iter().any(|i| i.channel == channel && i.address == address);
                routes.push(ReplyRoute {
                    conversation_id: id,
                    channel,
                    address,
                    window,
                    refusal: refusal(channel, window, out),
                });
            }
            let templates = inbox_json
                .and_then(|j| serde_json::from_str::<Inbox>(&j).ok())
                .map(|i| i.templates.into_iter().map(TemplateOption::from).collect())
                .unwrap_or_default();
            Ok(Composer { conversation_id, routes, templates, canned: canned::list(c)? })
        })
    }
}

/// Why a first message cannot be sent as drafted on `channel`, if it cannot: the hub
/// enforces the rest (opt-outs, reply windows, templates' values).
pub fn refuse_start(draft: &NewConversation, channel: ChannelKind) -> Option<String> {
    let has = |s: &Option<String>| s.as_deref().is_some_and(|t| !t.trim().is_empty());
    if matches!(channel, ChannelKind::Webchat | ChannelKind::InApp) {
        return Some(format!("on {} the customer starts the conversation", channel.label()));
    }
    if draft.contact_id.is_none() && !has(&draft.address) {
        return Some("choose a customer or enter a phone number or email address".into());
    }
    if draft.contact_id.is_none() && matches!(channel, ChannelKind::Messenger | ChannelKind::Instagram) {
        return Some(format!("on {} you can write only to a customer who has written before", channel.label()));
    }
    if channel == ChannelKind::Email && !has(&draft.subject) {
        return Some("an email needs a subject".into());
    }
    if draft.template.is_none() && draft.body.trim().is_empty() {
        return Some("write a message or choose a template".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_first_message_is_checked_before_it_is_queued() {
        use ChannelKind::*;
        let draft = |contact: Option<Id>, address: Option<&str>, subject: Option<&str>, body: &str, template: bool| {
            NewConversation {
                inbox_id: 1,
                contact_id: contact,
                address: address.map(str::to_owned),
                name: None,
                subject: subject.map(str::to_owned),
                body: body.into(),
                template: template.then(|| "order_update".to_owned()),
                params: vec![],
            }
        };
        let cases = [
            ("sms to a new number", Sms, draft(None, Some("+14155550100"), None, "Hi", false), None),
            ("a known customer", Whatsapp, draft(Some(3), None, None, "", true), None),
            ("email with a subject", Email, draft(None, Some("a@b.c"), Some("Invoice"), "Hi", false), None),
            ("nobody", Sms, draft(None, Some("  "), None, "Hi", false), Some("choose a customer")),
            ("email without a subject", Email, draft(Some(3), None, Some(" "), "Hi", false), Some("subject")),
            ("nothing to say", Sms, draft(Some(3), None, None, " \n", false), Some("write a message")),
            ("messenger to a new id", Messenger, draft(None, Some("245"), None, "Hi", false), Some("written before")),
            ("web chat", Webchat, draft(Some(3), None, None, "Hi", false), Some("starts the conversation")),
        ];
        for (name, channel, d, want) in cases {
            let got = refuse_start(&d, channel);
            match want {
                None => assert_eq!(got, None, "{name}"),
                Some(w) => assert!(got.as_deref().is_some_and(|g| g.contains(w)), "{name}: {got:?}"),
            }
        }
    }

    #[test]
    fn reply_windows() {
        let now = 1_000_000;
        let cases = [
            (ChannelKind::Sms, None, ReplyWindow::None),
            (ChannelKind::Email, Some(now - 1), ReplyWindow::None),
            (ChannelKind::Webchat, None, ReplyWindow::None),
            (ChannelKind::Whatsapp, Some(now + 1), ReplyWindow::Open { expires_at: now + 1 }),
            (ChannelKind::Whatsapp, Some(now), ReplyWindow::Closed { closed_at: Some(now) }),
            (ChannelKind::Messenger, Some(now - 5), ReplyWindow::Closed { closed_at: Some(now - 5) }),
            (ChannelKind::Instagram, None, ReplyWindow::Closed { closed_at: None }),
        ];
        for (channel, expires, want) in cases {
            assert_eq!(reply_window(channel, expires, now), want, "{channel} {expires:?}");
        }
    }

    #[test]
    fn refusals() {
        let open = ReplyWindow::Open { expires_at: 5 };
        let closed = ReplyWindow::Closed { closed_at: Some(5) };
        let cases = [
            (ChannelKind::Sms, ReplyWindow::None, false, None),
            (ChannelKind::Sms, ReplyWindow::None, true, Some(ErrorCode::OptedOut)),
            (ChannelKind::Whatsapp, open, false, None),
            (ChannelKind::Whatsapp, closed, false, Some(ErrorCode::ReplyWindowClosed)),
            (ChannelKind::Whatsapp, closed, true, Some(ErrorCode::OptedOut)),
        ];
        for (channel, window, opted_out, want) in cases {
            assert_eq!(refusal(channel, window, opted_out).map(|e| e.code), want, "{channel} {window:?} {opted_out}");
        }
        let why = refusal(ChannelKind::Sms, ReplyWindow::None, true).unwrap().message;
        assert!(why.contains("SMS"), "{why}");
    }
}
