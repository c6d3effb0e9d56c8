//! Web chat and in-app chat, the channels the hub itself provides, as they are on the
//! wire: an inbox's chat settings, the visitor token (`sbv1.<visitor id>.<64 hex>`, of
//! which the hub keeps only a hash), the HMAC with which a business's server vouches for a
//! signed-in user, which pages may embed the chat, and who a visit starts as. The routes
//! that speak it are [`crate::api`]'s (`/widget.js`, `/chat/v1`).

use super::signature;
use rand::RngCore;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use switchboard_protocol::model::ChannelKind;
use switchboard_protocol::visitor::VerifiedUser;
use switchboard_protocol::ErrorCode;

/// What a chat inbox's settings say about visitors.
#[derive(Debug, Default, Deserialize)]
pub struct ChatSettings {
    /// Pages allowed to embed the chat (`https://shop.example`); any when empty.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// The key the business's server signs user ids with ([`VerifiedUser::hash`]).
    pub identity_secret: Option<String>,
}

impl ChatSettings {
    /// An inbox's settings as stored.
    pub fn from_json(v: &serde_json::Value) -> Result<ChatSettings, serde_json::Error> {
        serde_json::from_value(v.clone())
    }
}

/// Whether a page from `origin` may use the inbox. Requests without an `Origin` (apps,
/// servers) are not browsers embedding the widget, and are allowed.
pub fn origin_allowed(allowed: &[String], origin: Option<&str>) -> bool {
    match origin {
        None => true,
        Some(o) => allowed.is_empty() || allowed.iter().any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(o)),
    }
}

/// Whether `hash` is the hex HMAC-SHA256 of `data` under `secret`, compared in constant time.
fn signed_by(secret: &str, data: &str, hash: &str) -> bool {
    signature::matches(&hash.to_ascii_lowercase(), &signature::hmac_sha256_hex(secret, data.as_bytes()))
}

/// Whether `user.hash` is the HMAC-SHA256 of `user.id` under `secret`, compared in
/// constant time.
pub fn user_verified(secret: &str, user: &VerifiedUser) -> bool {
    signed_by(secret, &user.id, &user.hash)
}

/// The user's email, if the business's server vouched for it too: `email_hash` is the
/// HMAC-SHA256 of the email as sent, under the same secret. Any other email is only a
/// claim.
pub fn vouched_email<'a>(secret: &str, user: &'a VerifiedUser) -> Option<&'a str> {
    let (email, hash) = (user.email.as_deref()?, user.email_hash.as_deref()?);
    signed_by(secret, email, hash).then_some(email)
}

/// What the hub keeps of a token's secret.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Whether `secret` is the one whose hash the hub kept, compared in constant time.
pub fn secret_matches(secret: &str, kept_hash: &str) -> bool {
    signature::matches(&secret_hash(secret), kept_hash)
}

/// `sbv1.<visitor id>.<64 hex>` → (id, secret).
pub fn parse_token(token: &str) -> Option<(i64, &str)> {
    let rest = token.strip_prefix("sbv1.")?;
    let (id, secret) = rest.split_once('.')?;
    let id = id.parse::<i64>().ok().filter(|i| *i > 0)?;
    (secret.len() == 64 && secret.bytes().all(|b| b.is_ascii_hexdigit())).then_some((id, secret))
}

/// A new visitor's token secret: 256 random bits.
#[derive(Debug)]
pub struct Minted {
    secret: String,
}

impl Default for Minted {
    fn default() -> Self {
        Minted::new()
    }
}

impl Minted {
    pub fn new() -> Minted {
        let mut secret = [0u8; 32];
        rand::rng().fill_bytes(&mut secret);
        Minted { secret: hex::encode(secret) }
    }

    /// What the hub stores.
    pub fn secret_hash(&self) -> String {
        secret_hash(&self.secret)
    }

    /// The token the visitor holds, once the hub has given them `visitor_id`.
    pub fn token_for(&self, visitor_id: i64) -> String {
        format!("sbv1.{visitor_id}.{}", self.secret)
    }
}

/// A fresh address for an anonymous visitor's conversations (`visitor-` and 96 random bits).
pub fn anonymous_address() -> String {
    let mut id = [0u8; 12];
    rand::rng().fill_bytes(&mut id);
    format!("visitor-{}", hex::encode(id))
}

/// The address a signed-in user's conversations are kept under.
pub fn user_address(user: &VerifiedUser) -> String {
    format!("user:{}", user.id)
}

/// Whether a visitor's message id is acceptable: 1 to 64 letters, digits, `-` or `_`.
pub fn client_id_ok(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// What a page or an app asks when a visit starts.
#[derive(Debug, Clone, Copy)]
pub struct VisitRequest<'a> {
    /// The inbox's channel (web chat or in-app) and id, and its settings.
    pub kind: ChannelKind,
    pub inbox_id: i64,
    pub settings: &'a ChatSettings,
    /// The page's `Origin`, when a browser sent one.
    pub origin: Option<&'a str>,
    /// The signed-in user the business's server vouches for, if any.
    pub user: Option<&'a VerifiedUser>,
    /// The visitor the request's token names, if the token is valid: their inbox and address.
    pub earlier: Option<(i64, &'a str)>,
}

/// How a visit starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VisitStart {
    /// The token's visitor comes back to their thread.
    Resume,
    /// A new visitor: under the signed-in user's address when there is one, else anonymous.
    New { user_address: Option<String> },
}

/// Why a visit may not start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VisitRefused {
    #[error("this site may not use the inbox's chat")]
    Origin,
    #[error("the user's hash does not match")]
    Hash,
    #[error("the user id must be 1 to 200 bytes")]
    UserId,
    #[error("this inbox has no identity secret to verify users with")]
    NoSecret,
    #[error("this inbox chats only with users the app has signed in")]
    SignInRequired,
}

impl VisitRefused {
    /// The code the visitor's request is answered with.
    pub fn code(self) -> ErrorCode {
        match self {
            VisitRefused::Origin | VisitRefused::Hash => ErrorCode::Forbidden,
            VisitRefused::UserId | VisitRefused::NoSecret => ErrorCode::BadRequest,
            VisitRefused::SignInRequired => ErrorCode::Unauthorized,
        }
    }
}

/// Who a visit starts as. The page must be allowed to embed the chat. A user is taken only
/// with a hash the inbox's secret verifies; an in-app inbox with a secret chats only with
/// such users. A token resumes its visitor when it is for this inbox and, with a user, is
/// that user's; any other token starts a new visitor rather than failing.
pub fn plan_start(r: &VisitRequest<'_>) -> Result<VisitStart, VisitRefused> {
    if !origin_allowed(&r.settings.allowed_origins, r.origin) {
        return Err(VisitRefused::Origin);
    }
    let user = match (r.user, r.settings.identity_secret.as_deref()) {
        (Some(u), Some(secret)) if user_verified(secret, u) => {
            if u.id.is_empty() || u.id.len() > 200 {
                return Err(VisitRefused::UserId);
            }
            Some(u)
        }
        (Some(_), Some(_)) => return Err(VisitRefused::Hash),
        (Some(_), None) => return Err(VisitRefused::NoSecret),
        (None, Some(_)) if r.kind == ChannelKind::InApp => return Err(VisitRefused::SignInRequired),
        (None, _) => None,
    };
    let user_address = user.map(user_address);
    match r.earlier {
        Some((inbox_id, address)) if inbox_id == r.inbox_id && user_address.as_deref().is_none_or(|a| a == address) => {
            Ok(VisitStart::Resume)
        }
        _ => Ok(VisitStart::New { user_address }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        let none: Vec<String> = Vec::new();
        let shop = vec!["https://shop.example/".to_owned()];
        assert!(origin_allowed(&none, Some("https://anything.example")));
        assert!(origin_allowed(&shop, Some("https://shop.example")));
        assert!(origin_allowed(&shop, Some("HTTPS://SHOP.EXAMPLE")));
        assert!(!origin_allowed(&shop, Some("https://evil.example")));
        assert!(!origin_allowed(&shop, Some("null")));
        assert!(origin_allowed(&shop, None), "an app, not a browser page");
    }

    #[test]
    fn tokens() {
        let secret = "ab".repeat(32);
        assert_eq!(parse_token(&format!("sbv1.7.{secret}")), Some((7, secret.as_str())));
        for bad in ["", "sbv1.", "sbv1.7", "sbv1.0.".to_owned().as_str(), "sb1.7.ab", "sbv1.-3.ab", "sbv1.7.xyz"] {
            assert_eq!(parse_token(bad), None, "{bad}");
        }
        assert_eq!(parse_token(&format!("sbv1.7.{}", "zz".repeat(32))), None);
    }

    #[test]
    fn user_hashes() {
        // HMAC-SHA256 of "user-42" keyed with "secret", computed with Python's hmac module.
        let real = "e286b7b944100ab478fe553b39122922de0000aee1d04087dc3e96eefc3a8d47";
        let user = |hash: &str| VerifiedUser {
            id: "user-42".into(),
            hash: hash.into(),
            name: None,
            email: None,
            email_hash: None,
        };
        assert!(user_verified("secret", &user(real)));
        assert!(user_verified("secret", &user(&real.to_uppercase())));
        assert!(!user_verified("other", &user(real)));
        assert!(!user_verified("secret", &user("")));
    }

    #[test]
    fn client_ids() {
        assert!(client_id_ok("m-1_a"));
        assert!(!client_id_ok(""));
        assert!(!client_id_ok("has space"));
        assert!(!client_id_ok(&"x".repeat(65)));
    }

    fn signed(secret: &str, id: &str) -> VerifiedUser {
        VerifiedUser {
            id: id.into(),
            hash: signature::hmac_sha256_hex(secret, id.as_bytes()),
            name: None,
            email: None,
            email_hash: None,
        }
    }

    /// A name, the inbox's channel and settings, the page, the user, the token's visitor,
    /// and what the visit is.
    type Case<'a> = (
        &'a str,
        ChannelKind,
        &'a ChatSettings,
        Option<&'a str>,
        Option<&'a VerifiedUser>,
        Option<(i64, &'a str)>,
        Result<VisitStart, VisitRefused>,
    );

    /// The identity matrix: the page, the user and the inbox's secret, then the token.
    #[test]
    fn visit_start_table() {
        let open = ChatSettings::default();
        let shop_only = ChatSettings { allowed_origins: vec!["https://shop.example".into()], identity_secret: None };
        let secured = ChatSettings { allowed_origins: vec![], identity_secret: Some("s3cret".into()) };
        let ada = signed("s3cret", "ada");
        let forged = VerifiedUser { hash: "00".repeat(32), ..ada.clone() };
        let nameless = signed("s3cret", "");
        let too_long = signed("s3cret", &"x".repeat(201));
        let new = |a: Option<&str>| Ok(VisitStart::New { user_address: a.map(str::to_owned) });
        use ChannelKind::{InApp, Webchat};
        #[rustfmt::skip]
        let cases: Vec<Case<'_>> = vec![
            ("anonymous on an open chat", Webchat, &open, Some("https://any.example"), None, None, new(None)),
            ("an app without Origin", Webchat, &shop_only, None, None, None, new(None)),
            ("an allowed page", Webchat, &shop_only, Some("https://shop.example"), None, None, new(None)),
            ("another page", Webchat, &shop_only, Some("https://evil.example"), None, None, Err(VisitRefused::Origin)),
            ("the page is checked before the user", Webchat, &shop_only, Some("https://evil.example"), Some(&forged), None,
                Err(VisitRefused::Origin)),
            ("a verified user", InApp, &secured, None, Some(&ada), None, new(Some("user:ada"))),
            ("a forged hash", InApp, &secured, None, Some(&forged), None, Err(VisitRefused::Hash)),
            ("an empty user id", InApp, &secured, None, Some(&nameless), None, Err(VisitRefused::UserId)),
            ("a user id too long", Webchat, &secured, None, Some(&too_long), None, Err(VisitRefused::UserId)),
            ("a user with no secret to check", Webchat, &open, None, Some(&ada), None, Err(VisitRefused::NoSecret)),
            ("in-app needs a user", InApp, &secured, None, None, None, Err(VisitRefused::SignInRequired)),
            ("web chat with a secret takes anonymous visitors", Webchat, &secured, None, None, None, new(None)),
            ("in-app without a secret takes anonymous visitors", InApp, &open, None, None, None, new(None)),
            ("a token for this inbox resumes", Webchat, &open, None, None, Some((7, "visitor-ab")), Ok(VisitStart::Resume)),
            ("a token for another inbox starts anew", Webchat, &open, None, None, Some((8, "visitor-ab")), new(None)),
            ("the user's own token resumes", InApp, &secured, None, Some(&ada), Some((7, "user:ada")), Ok(VisitStart::Resume)),
            ("another visitor's token does not carry over to a user", InApp, &secured, None, Some(&ada),
                Some((7, "visitor-ab")), new(Some("user:ada"))),
            ("another user's token does not either", InApp, &secured, None, Some(&ada), Some((7, "user:bob")),
                new(Some("user:ada"))),
            ("a refused user does not resume", InApp, &secured, None, Some(&forged), Some((7, "user:ada")),
                Err(VisitRefused::Hash)),
        ];
        for (name, kind, settings, origin, user, earlier, want) in cases {
            let got = plan_start(&VisitRequest { kind, inbox_id: 7, settings, origin, user, earlier });
            assert_eq!(got, want, "{name}");
        }
        assert_eq!(VisitRefused::Origin.code(), ErrorCode::Forbidden);
        assert_eq!(VisitRefused::Hash.code(), ErrorCode::Forbidden);
        assert_eq!(VisitRefused::UserId.code(), ErrorCode::BadRequest);
        assert_eq!(VisitRefused::NoSecret.code(), ErrorCode::BadRequest);
        assert_eq!(VisitRefused::SignInRequired.code(), ErrorCode::Unauthorized);
    }

    /// Finding: an email a visitor typed merged them into whoever had it. Only an email the
    /// business's server signed is taken as the user's.
    #[test]
    fn only_a_signed_email_is_vouched_for() {
        let ada = signed("s3cret", "ada");
        let sign = |email: &str| signed("s3cret", email).hash;
        let with = |email: Option<&str>, hash: Option<String>| VerifiedUser {
            email: email.map(str::to_owned),
            email_hash: hash,
            ..ada.clone()
        };
        let cases = [
            (with(Some("ada@example.com"), Some(sign("ada@example.com"))), Some("ada@example.com")),
            (with(Some("ada@example.com"), Some(sign("ada@example.com").to_uppercase())), Some("ada@example.com")),
            (with(Some("ada@example.com"), None), None),
            (with(Some("ada@example.com"), Some(sign("alice@example.com"))), None),
            (with(Some("ada@example.com"), Some(ada.hash.clone())), None),
            (with(Some("ada@example.com"), Some(signed("other", "ada@example.com").hash)), None),
            (with(None, Some(sign("ada@example.com"))), None),
        ];
        for (user, want) in cases {
            assert_eq!(vouched_email("s3cret", &user), want, "{user:?}");
        }
    }

    #[test]
    fn a_minted_token_reads_back_and_only_its_secret_matches() {
        let minted = Minted::new();
        let token = minted.token_for(42);
        let (id, secret) = parse_token(&token).unwrap();
        assert_eq!(id, 42);
        assert!(secret_matches(secret, &minted.secret_hash()));
        assert!(!secret_matches(secret, &Minted::new().secret_hash()));
        assert!(anonymous_address().starts_with("visitor-"));
        assert_ne!(anonymous_address(), anonymous_address());
    }
}
