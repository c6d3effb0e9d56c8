//! Email: inbound RFC 5322 messages posted by the mail provider (checked with a shared
//! secret), parsed with mail-parser (every charset it knows, East Asian ones included) and
//! threaded by Message-ID / In-Reply-To / References; replies go out over SMTP with the
//! thread's headers, so the customer's client threads them.
//!
//! `From:` is only a claim. The sender counts as verified when the inbox's own mail server
//! (its `authserv_id`) wrote an `Authentication-Results` header (RFC 8601) with DMARC
//! passing, or DKIM or SPF passing for the `From:` domain ([`sender_verdict`]). An
//! unverified email is flagged to agents and kept out of the customer's open conversation.

use super::settings::Settings;
use super::{missing, ParseError, SendError};
use crate::store::ingest::Inbound;
use crate::store::outbox::Outgoing;
use mail_parser::{HeaderValue, MessageParser, MimeHeaders};
use switchboard_protocol::model::Attachment;

/// An attachment's bytes, stored by the hub before the message is ingested.
#[derive(Debug, Clone)]
pub struct Part {
    pub name: String,
    pub mime: String,
    pub data: Vec<u8>,
}

fn ids(v: &HeaderValue<'_>) -> Vec<String> {
    match v {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    }
}

/// Whether the sender in `From:` is who they say, as the inbox's mail server found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sender {
    /// By this method (`dmarc`, `dkim` or `spf`).
    Verified(&'static str),
    /// Why not, for the agent.
    Unverified(String),
}

/// The domain of an address or of a `header.i`/`header.d`/`smtp.mailfrom` value.
fn domain_of(v: &str) -> String {
    v.rsplit('@').next().unwrap_or(v).trim().trim_end_matches('.').to_ascii_lowercase()
}

/// Whether `d` is `from` or a domain above it (relaxed alignment, as DMARC has it).
fn aligned(d: &str, from: &str) -> bool {
    !d.is_empty() && (from == d || from.ends_with(&format!(".{d}")) || d.ends_with(&format!(".{from}")))
}

/// Decides from the `Authentication-Results` header values (RFC 8601) whether the `From:`
/// domain `from_domain` was verified. Only headers whose authserv-id is `authserv_id` (the
/// inbox's own mail server) count: anyone can write such a header into a message they send.
pub fn sender_verdict(results: &[&str], authserv_id: Option<&str>, from_domain: &str) -> Sender {
    let Some(ours) = authserv_id.map(str::trim).filter(|a| !a.is_empty()) else {
        return Sender::Unverified("the inbox names no mail server (`authserv_id`) whose checks to trust".into());
    };
    let from = from_domain.to_ascii_lowercase();
    let mut seen = false;
    let mut found = Vec::new();
    for header in results {
        let mut parts = header.split(';');
        let id = parts.next().unwrap_or("").split_whitespace().next().unwrap_or("");
        if !id.eq_ignore_ascii_case(ours) {
            continue;
        }
        seen = true;
        for part in parts {
            // Comments in parentheses say nothing the checks rely on.
            let mut clean = String::new();
            let mut depth = 0u32;
            for ch in part.chars() {
                match ch {
                    '(' => depth += 1,
                    ')' => depth = depth.saturating_sub(1),
                    c if depth == 0 => clean.push(c),
                    _ => {}
                }
            }
            let mut words = clean.split_whitespace();
            let Some((method, result)) = words.next().and_then(|w| w.split_once('=')) else { continue };
            let (method, result) = (method.to_ascii_lowercase(), result.to_ascii_lowercase());
            let props: Vec<(String, String)> = words
                .filter_map(|w| w.split_once('='))
                .map(|(k, v)| (k.to_ascii_lowercase(), v.trim_matches('"').to_owned()))
                .collect();
            let prop =
                |names: &[&str]| props.iter().find(|(k, _)| names.contains(&k.as_str())).map(|(_, v)| domain_of(v));
            found.push(format!("{method}={result}"));
            if result != "pass" {
                continue;
            }
            match method.as_str() {
                "dmarc" if prop(&["header.from"]).is_none_or(|d| d == from) => return Sender::Verified("dmarc"),
                "dkim" if prop(&["header.d", "header.i"]).is_some_and(|d| aligned(&d, &from)) => {
                    return Sender::Verified("dkim")
                }
                "spf" if prop(&["smtp.mailfrom"]).is_some_and(|d| aligned(&d, &from)) => {
                    return Sender::Verified("spf")
                }
                _ => {}
            }
        }
    }
    if !seen {
        return Sender::Unverified(format!("{ours} did not check it (no Authentication-Results from it)"));
    }
    let what = if found.is_empty() { "no results".to_owned() } else { found.join(", ") };
    Sender::Unverified(format!("{ours} found no pass for {from}: {what}"))
}

/// Parses a raw message into an inbound message (attachments without URLs yet) and the
/// attachments' bytes, in the same order. `authserv_id` names the inbox's mail server,
/// whose `Authentication-Results` decide whether the sender is verified; an unverified
/// sender is marked on the message ([`Inbound::unverified`]).
pub fn parse(raw: &[u8], now: i64, authserv_id: Option<&str>) -> Result<(Inbound, Vec<Part>), ParseError> {
    let msg = MessageParser::default().parse(raw).ok_or(ParseError::NotRfc5322)?;
    let from = msg.from().and_then(|a| a.first()).ok_or(missing("the message", "From"))?;
    let address = from.address().ok_or(missing("the From header", "address"))?;
    let message_id = msg.message_id().ok_or(missing("the message", "Message-ID"))?;
    let at = msg.date().map_or(now, |d| d.to_timestamp() * 1_000);
    let text = msg.body_text(0).map(|b| b.to_string()).unwrap_or_default();
    let mut inbound = Inbound::text(0, address, &trim_quoted(&text), Some(message_id), at);
    inbound.display_name = from.name().map(str::to_owned);
    let results: Vec<&str> = msg
        .header_values("Authentication-Results")
        .filter_map(|v| match v {
            HeaderValue::Text(t) => Some(t.as_ref()),
            _ => None,
        })
        .collect();
    if let Sender::Unverified(why) = sender_verdict(&results, authserv_id, &domain_of(address)) {
        inbound.unverified = Some(why);
    }
    inbound.subject = msg.subject().map(str::to_owned);
    let mut refs = ids(msg.references());
    for r in ids(msg.in_reply_to()) {
        if !refs.contains(&r) {
            refs.push(r);
        }
    }
    inbound.thread_refs = refs;
    let mut parts = Vec::new();
    for (i, a) in msg.attachments().enumerate() {
        let mime = a
            .content_type()
            .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or("octet-stream")))
            .unwrap_or_else(|| "application/octet-stream".into());
        let name =
            a.attachment_name().map_or_else(|| super::attachment_name("attachment", &mime, i + 1), str::to_owned);
        let data = a.contents().to_vec();
        inbound.attachments.push(Attachment {
            name: name.clone(),
            mime: mime.clone(),
            size: data.len() as u64,
            url: String::new(),
        });
        parts.push(Part { name, mime, data });
    }
    Ok((inbound, parts))
}

fn is_attribution(line: &str, prev: Option<&str>) -> bool {
    let l = line.trim();
    let ends = ["wrote:", "a écrit :", "a écrit:", "schrieb:", "escribió:", "scritto:"].iter().any(|e| l.ends_with(e));
    ends && (l.starts_with("On ")
        || l.starts_with("Le ")
        || l.starts_with("Am ")
        || l.starts_with("El ")
        || l.starts_with("Il ")
        || prev.is_some_and(|p| p.trim().starts_with("On ")))
}

/// The new part of a reply: the text above the quoted history (an "On … wrote:" line, an
/// Outlook "Original Message" or From/Sent block, or a trailing block of `>` lines). The
/// whole text is kept if nothing would be left.
pub fn trim_quoted(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut cut = lines.len();
    for (i, line) in lines.iter().enumerate() {
        let l = line.trim();
        let prev = i.checked_sub(1).map(|p| lines[p]);
        let outlook = l.starts_with("From:")
            && lines
                .iter()
                .skip(i + 1)
                .take(3)
                .any(|n| n.trim_start().starts_with("Sent:") || n.trim_start().starts_with("Date:"));
        if l.starts_with("-----Original Message-----") || l.starts_with("________________________________") || outlook {
            cut = i;
            break;
        }
        if is_attribution(line, prev) {
            cut = if prev.is_some_and(|p| p.trim().starts_with("On ") && !p.trim().ends_with("wrote:")) {
                i - 1
            } else {
                i
            };
            break;
        }
        if l.starts_with('>') && lines[i..].iter().all(|n| n.trim().is_empty() || n.trim_start().starts_with('>')) {
            cut = i;
            break;
        }
    }
    let kept = lines[..cut].join("\n").trim_end().to_owned();
    if kept.trim().is_empty() {
        text.trim().to_owned()
    } else {
        kept
    }
}

/// Sends a reply over SMTP; returns the Message-ID it carried (without angle brackets).
/// `List-Unsubscribe: <https://…>` (RFC 2369).
#[derive(Debug, Clone)]
struct ListUnsubscribe(String);

impl lettre::message::header::Header for ListUnsubscribe {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(s.to_owned()))
    }
    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058): the link unsubscribes
/// with one POST, no page to read.
#[derive(Debug, Clone)]
struct ListUnsubscribePost;

impl lettre::message::header::Header for ListUnsubscribePost {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribePost)
    }
    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

/// `unsubscribe`: the one-click unsubscribe link an email that starts a thread carries
/// (`List-Unsubscribe` with `List-Unsubscribe-Post`, RFC 8058).
pub async fn send(
    s: &Settings,
    out: &Outgoing,
    timeout: std::time::Duration,
    unsubscribe: Option<&str>,
    files: &[Part],
) -> Result<String, SendError> {
    use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

    let host = s.need(&s.smtp_host, "smtp_host")?;
    let from: Mailbox = format!("{} <{}>", s.from_name.as_deref().unwrap_or("Support"), out.from)
        .parse()
        .map_err(|e| SendError::Final(format!("the inbox address {} is not an email address: {e}", out.from)))?;
    let to: Mailbox = format!("{} <{}>", out.contact_name.replace(['<', '>', '"'], ""), out.to)
        .parse()
        .or_else(|_| out.to.parse())
        .map_err(|e| SendError::Final(format!("{} is not an email address: {e}", out.to)))?;
    let domain = out.from.rsplit('@').next().unwrap_or("switchboard.invalid");
    let mut rand = [0u8; 8];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut rand);
    let message_id = format!("sb.{}.{}@{domain}", out.message_id, hex::encode(rand));
    // A reply says so; the message that starts a thread keeps its subject as written.
    let subject = match (&out.subject, &out.in_reply_to) {
        (Some(s), None) => s.clone(),
        (Some(s), Some(_)) if s.to_ascii_lowercase().starts_with("re:") => s.clone(),
        (Some(s), Some(_)) => format!("Re: {s}"),
        (None, _) => "Your message".to_owned(),
    };
    let mut b =
        lettre::Message::builder().from(from).to(to).subject(subject).message_id(Some(format!("<{message_id}>")));
    if let Some(r) = &out.in_reply_to {
        b = b.in_reply_to(format!("<{r}>"));
    }
    if !out.references.is_empty() {
        b = b.references(out.references.iter().map(|r| format!("<{r}>")).collect::<Vec<_>>().join(" "));
    }
    if let Some(url) = unsubscribe {
        b = b.header(ListUnsubscribe(format!("<{url}>"))).header(ListUnsubscribePost);
    }
    let built = if files.is_empty() {
        b.header(ContentType::TEXT_PLAIN).body(out.body.clone())
    } else {
        // The text first, then each file as an attachment part (RFC 2183).
        let mut mixed = MultiPart::mixed().singlepart(SinglePart::plain(out.body.clone()));
        for f in files {
            let kind = ContentType::parse(&f.mime)
                .map_err(|e| SendError::Final(format!("`{}` has a type email cannot name: {e}", f.name)))?;
            // Always base64: a file is bytes, and a 7-bit part would have its line ends
            // rewritten on the way.
            let body = lettre::message::Body::new_with_encoding(
                f.data.clone(),
                lettre::message::header::ContentTransferEncoding::Base64,
            )
            .map_err(|_| SendError::Final(format!("`{}` cannot be encoded for email", f.name)))?;
            mixed = mixed.singlepart(lettre::message::Attachment::new(f.name.clone()).body(body, kind));
        }
        b.multipart(mixed)
    };
    let email = built.map_err(|e| SendError::Final(format!("cannot build the email: {e}")))?;

    let port = s.smtp_port;
    let builder = match s.smtp_tls.as_deref().unwrap_or("starttls") {
        "none" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
        "tls" => {
            AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(|e| SendError::Final(format!("SMTP: {e}")))?
        }
        _ => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
            .map_err(|e| SendError::Final(format!("SMTP: {e}")))?,
    };
    let mut builder = builder.timeout(Some(timeout.min(std::time::Duration::from_secs(20))));
    if let Some(p) = port {
        builder = builder.port(p);
    }
    if let (Some(u), Some(p)) = (&s.smtp_username, &s.smtp_password) {
        builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
    }
    match builder.build().send(email).await {
        Ok(_) => Ok(message_id),
        Err(e) if e.is_permanent() => Err(SendError::Final(format!("the mail server refused the reply: {e}"))),
        Err(e) => Err(SendError::Retry(format!("the mail server could not take the reply: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn senders_are_verified_only_by_the_inboxs_own_server() {
        let ours = Some("mx.northwind.test");
        let v = |m| Sender::Verified(m);
        let unverified = |r: Sender| matches!(r, Sender::Unverified(_));
        for (name, headers, from, want) in [
            ("dmarc pass", vec!["mx.northwind.test; dmarc=pass (p=reject) header.from=example.com"], "example.com", Some(v("dmarc"))),
            ("dkim aligned", vec!["mx.northwind.test; dkim=pass header.d=example.com header.s=s1"], "example.com", Some(v("dkim"))),
            ("dkim parent domain", vec!["mx.northwind.test; dkim=pass header.i=@example.com"], "mail.example.com", Some(v("dkim"))),
            ("spf aligned", vec!["mx.northwind.test; spf=pass smtp.mailfrom=bounce@example.com"], "example.com", Some(v("spf"))),
            ("case and comments", vec!["MX.Northwind.Test 1; SPF=Pass (sender is ok) smtp.mailfrom=a@EXAMPLE.com"], "example.com", Some(v("spf"))),
            ("several methods, one passes", vec!["mx.northwind.test; spf=fail smtp.mailfrom=x@evil.test; dkim=pass header.d=example.com"], "example.com", Some(v("dkim"))),
            ("dkim of another domain", vec!["mx.northwind.test; dkim=pass header.d=evil.test"], "example.com", None),
            ("dkim of a lookalike", vec!["mx.northwind.test; dkim=pass header.d=notexample.com"], "example.com", None),
            ("dmarc for another From", vec!["mx.northwind.test; dmarc=pass header.from=evil.test"], "example.com", None),
            ("all fail", vec!["mx.northwind.test; dkim=fail header.d=example.com; spf=softfail smtp.mailfrom=example.com; dmarc=fail"], "example.com", None),
            ("none", vec!["mx.northwind.test; none"], "example.com", None),
            ("forged by the sender", vec!["mx.evil.test; dmarc=pass header.from=example.com"], "example.com", None),
            ("pass inside a comment", vec!["mx.northwind.test; dkim=fail (dkim=pass header.d=example.com) header.d=example.com"], "example.com", None),
            ("no header", vec![], "example.com", None),
        ] {
            let got = sender_verdict(&headers, ours, from);
            match want {
                Some(w) => assert_eq!(got, w, "{name}"),
                None => assert!(unverified(got.clone()), "{name}: {got:?}"),
            }
        }
        let any = ["mx.northwind.test; dmarc=pass header.from=example.com"];
        assert!(matches!(sender_verdict(&any, None, "example.com"), Sender::Unverified(_)), "no authserv_id, no trust");
    }

    #[test]
    fn trim_quoted_table() {
        let cases = [
            ("plain", "Thanks, that fixed it!", "Thanks, that fixed it!"),
            (
                "gmail",
                "Yes please.\n\nOn Mon, 3 Nov 2026 at 10:02, Support <help@x.test> wrote:\n> Shall we send a new one?",
                "Yes please.",
            ),
            (
                "gmail wrapped",
                "Yes.\n\nOn Mon, 3 Nov 2026 at 10:02, Northwind Support\n<help@x.test> wrote:\n> old",
                "Yes.",
            ),
            ("outlook", "Got it\n\n-----Original Message-----\nFrom: Support\nSent: Monday", "Got it"),
            (
                "outlook block",
                "See attached.\n\nFrom: Support <help@x.test>\nSent: Monday, 3 November 2026 10:02\nTo: me",
                "See attached.",
            ),
            ("trailing quote", "ok\n> previous\n>> older", "ok"),
            (
                "inline quote kept",
                "> you said\nI disagree\n> and this\nagain",
                "> you said\nI disagree\n> and this\nagain",
            ),
            ("french", "Merci !\n\nLe lun. 3 nov. 2026 à 10:02, Support <help@x.test> a écrit :\n> Bonjour", "Merci !"),
            ("only quote kept whole", "> only quoted", "> only quoted"),
        ];
        for (name, input, want) in cases {
            assert_eq!(trim_quoted(input), want, "{name}");
        }
    }
}
