//! A customer's media, fetched for an agent through the hub: which source an attachment
//! is (a file the hub keeps, or a provider's URL) and the credentials that source needs,
//! decided by a pure function; then the fetch itself, bounded in size and time. The agent's
//! own token never leaves the hub: the console asks the hub, and the hub calls the
//! provider with the inbox's credentials, only on the provider's own origin (a redirect to
//! another host, such as Twilio's to its file storage, is followed without them).

use super::settings::Settings;
use crate::outbound::origin;
use crate::store::blobs::blob_key;
use switchboard_protocol::model::{ChannelKind, Direction};

/// Redirects followed before a fetch gives up.
const MAX_REDIRECTS: usize = 3;

/// Where an attachment's bytes are, and how to ask for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A file the hub keeps (`/api/v1/blobs/{key}`).
    Blob(String),
    /// A provider's URL, asked with `credentials` while on `url`'s origin.
    Remote { url: String, credentials: Credentials },
    /// A WhatsApp media id: the Graph API names the file's URL, both asked with the token.
    MetaMedia { url: String, token: String },
}

/// What a provider wants with a media request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    None,
    /// Twilio: the account SID and auth token.
    Basic {
        user: String,
        password: String,
    },
}

/// Why media cannot be fetched.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MediaError {
    /// Not a file this hub keeps nor a URL its provider gave.
    #[error("the attachment is not a file the hub can fetch")]
    NotFetchable,
    #[error("the file is larger than {0} bytes")]
    TooLarge(u64),
    /// The provider could not be reached or refused; the reason is logged.
    #[error("the provider did not hand over the file: {0}")]
    Provider(String),
}

/// Where attachment `url` of a message on `channel` is and how to ask for it. A file the
/// hub keeps is a blob; a customer's media (inbound) is a provider's URL, asked with the
/// inbox's credentials only on the provider's own origin. Anything else (a reply naming
/// an outside URL) is not fetched at all.
pub fn source(
    url: &str,
    channel: ChannelKind,
    direction: Direction,
    settings: &Settings,
) -> Result<Source, MediaError> {
    if let Some(key) = blob_key(url) {
        return Ok(Source::Blob(key.to_owned()));
    }
    let from_customer = direction == Direction::Inbound;
    let Some(at) = origin(url).filter(|_| from_customer) else { return Err(MediaError::NotFetchable) };
    let provider = |default: &str| origin(settings.base_url.as_deref().unwrap_or(default));
    match channel {
        ChannelKind::Sms => {
            let credentials = match (&settings.account_sid, &settings.auth_token) {
                (Some(sid), Some(token)) if provider("https://api.twilio.com").as_ref() == Some(&at) => {
                    Credentials::Basic { user: sid.clone(), password: token.clone() }
                }
                _ => Credentials::None,
            };
            Ok(Source::Remote { url: url.to_owned(), credentials })
        }
        ChannelKind::Whatsapp => match &settings.access_token {
            Some(token) if provider("https://graph.facebook.com").as_ref() == Some(&at) => {
                Ok(Source::MetaMedia { url: url.to_owned(), token: token.clone() })
            }
            _ => Ok(Source::Remote { url: url.to_owned(), credentials: Credentials::None }),
        },
        // Messenger and Instagram hand over public links to their files.
        ChannelKind::Messenger | ChannelKind::Instagram => {
            Ok(Source::Remote { url: url.to_owned(), credentials: Credentials::None })
        }
        ChannelKind::Email | ChannelKind::Webchat | ChannelKind::InApp => Err(MediaError::NotFetchable),
    }
}

/// Fetched bytes and their type.
#[derive(Debug)]
pub struct Fetched {
    pub mime: Option<String>,
    pub data: Vec<u8>,
}

/// Asks a provider for a file: `credentials` go only to `url`'s origin, redirects are
/// followed (at most three) without them, and at most `max_bytes` are read.
pub async fn fetch(http: &reqwest::Client, source: &Source, max_bytes: u64) -> Result<Fetched, MediaError> {
    match source {
        Source::Blob(_) => Err(MediaError::NotFetchable),
        Source::Remote { url, credentials } => get(http, url, credentials, None, max_bytes).await,
        Source::MetaMedia { url, token } => {
            // The Graph API answers with the file's own URL, which wants the token too.
            let named = get(http, url, &Credentials::None, Some(token), 64 * 1024).await?;
            let json: serde_json::Value = serde_json::from_slice(&named.data)
                .map_err(|e| MediaError::Provider(format!("the Graph API answered something else: {e}")))?;
            let file =
                json["url"].as_str().ok_or_else(|| MediaError::Provider("the Graph API named no file".into()))?;
            get(http, file, &Credentials::None, Some(token), max_bytes).await
        }
    }
}

async fn get(
    http: &reqwest::Client,
    url: &str,
    credentials: &Credentials,
    bearer: Option<&str>,
    max_bytes: u64,
) -> Result<Fetched, MediaError> {
    let first = origin(url).ok_or(MediaError::NotFetchable)?;
    let mut url = url.to_owned();
    for _ in 0..=MAX_REDIRECTS {
        let mut req = http.get(&url);
        if origin(&url).as_ref() == Some(&first) {
            req = match credentials {
                Credentials::None => req,
                Credentials::Basic { user, password } => req.basic_auth(user, Some(password)),
            };
            if let Some(token) = bearer {
                req = req.bearer_auth(token);
            }
        }
        let mut resp = req.send().await.map_err(|e| MediaError::Provider(e.without_url().to_string()))?;
        let status = resp.status();
        if status.is_redirection() {
            let next = resp.headers().get(reqwest::header::LOCATION).and_then(|l| l.to_str().ok());
            let next = next
                .and_then(|l| resp.url().join(l).ok())
                .ok_or_else(|| MediaError::Provider(format!("HTTP {} without a place to go", status.as_u16())))?;
            url = next.to_string();
            continue;
        }
        if !status.is_success() {
            return Err(MediaError::Provider(format!("HTTP {}", status.as_u16())));
        }
        if resp.content_length().is_some_and(|n| n > max_bytes) {
            return Err(MediaError::TooLarge(max_bytes));
        }
        let mime = resp.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let mut data = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| MediaError::Provider(e.without_url().to_string()))? {
            if (data.len() + chunk.len()) as u64 > max_bytes {
                return Err(MediaError::TooLarge(max_bytes));
            }
            data.extend_from_slice(&chunk);
        }
        return Ok(Fetched { mime, data });
    }
    Err(MediaError::Provider(format!("more than {MAX_REDIRECTS} redirects")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(json: serde_json::Value) -> Settings {
        Settings::from_json(&json).unwrap()
    }

    #[test]
    fn origins() {
        for (url, want) in [
            ("https://api.twilio.com/2010-04-01/x", Some("https://api.twilio.com")),
            ("HTTPS://API.Twilio.com:443/x?y", Some("https://api.twilio.com:443")),
            ("http://127.0.0.1:9/x", Some("http://127.0.0.1:9")),
            ("https://user:pw@evil.example/x", None),
            ("ftp://files.example/x", None),
            ("/api/v1/blobs/3", None),
            ("https://", None),
        ] {
            assert_eq!(origin(url).as_deref(), want, "{url}");
        }
    }

    /// An attachment's URL, its message's channel and direction, the inbox's settings, and
    /// the source it is.
    type Case<'a> = (&'a str, ChannelKind, Direction, &'a Settings, Result<Source, MediaError>);

    /// Which source each attachment is, and who gets the inbox's credentials.
    #[test]
    fn source_table() {
        let twilio = settings(serde_json::json!({"account_sid": "AC1", "auth_token": "tok"}));
        let local_twilio =
            settings(serde_json::json!({"account_sid": "AC1", "auth_token": "tok", "base_url": "http://127.0.0.1:7"}));
        let meta = settings(serde_json::json!({"access_token": "EAAG"}));
        let basic = Credentials::Basic { user: "AC1".into(), password: "tok".into() };
        let remote = |url: &str, credentials: Credentials| Ok(Source::Remote { url: url.into(), credentials });
        use ChannelKind::*;
        use Direction::*;
        let twilio_media = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1";
        let key = "0123456789abcdef0123456789abcdef";
        let kept = format!("/api/v1/blobs/{key}");
        #[rustfmt::skip]
        let cases: Vec<Case<'_>> = vec![
            (&kept, Email, Inbound, &twilio, Ok(Source::Blob(key.into()))),
            (&kept, Sms, Outbound, &twilio, Ok(Source::Blob(key.into()))),
            // Sequential ids of earlier versions are no keys.
            ("/api/v1/blobs/12", Email, Inbound, &twilio, Err(MediaError::NotFetchable)),
            (twilio_media, Sms, Inbound, &twilio, remote(twilio_media, basic.clone())),
            ("http://127.0.0.1:7/media/1", Sms, Inbound, &local_twilio, remote("http://127.0.0.1:7/media/1", basic.clone())),
            ("https://elsewhere.example/m.jpg", Sms, Inbound, &twilio, remote("https://elsewhere.example/m.jpg", Credentials::None)),
            (twilio_media, Sms, Inbound, &local_twilio, remote(twilio_media, Credentials::None)),
            ("https://graph.facebook.com/v21.0/777", Whatsapp, Inbound, &meta,
                Ok(Source::MetaMedia { url: "https://graph.facebook.com/v21.0/777".into(), token: "EAAG".into() })),
            ("https://evil.example/777", Whatsapp, Inbound, &meta, remote("https://evil.example/777", Credentials::None)),
            ("https://cdn.fbsbx.example/p.png", Messenger, Inbound, &meta, remote("https://cdn.fbsbx.example/p.png", Credentials::None)),
            // A reply or note naming an outside URL is never fetched.
            ("https://attacker.example/x", Sms, Outbound, &twilio, Err(MediaError::NotFetchable)),
            ("https://attacker.example/x", Whatsapp, Note, &meta, Err(MediaError::NotFetchable)),
            ("https://attacker.example/x", Email, Inbound, &twilio, Err(MediaError::NotFetchable)),
            ("file:///etc/passwd", Sms, Inbound, &twilio, Err(MediaError::NotFetchable)),
        ];
        for (url, channel, direction, settings, want) in cases {
            assert_eq!(source(url, channel, direction, settings), want, "{url} {channel} {direction:?}");
        }
    }

    #[test]
    fn blob_paths_read_back() {
        use crate::store::blobs::blob_path;
        let key = crate::storage::new_key();
        assert_eq!(blob_key(&blob_path(&key)), Some(key.as_str()));
        for bad in [
            "/api/v1/blobs/",
            "/api/v1/blobs/x",
            "/api/v1/blobs/12",
            "/api/v1/blobs/../../x",
            "https://hub/api/v1/blobs/1",
        ] {
            assert_eq!(blob_key(bad), None, "{bad}");
        }
    }
}
