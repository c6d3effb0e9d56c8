//! Signed links by which a provider fetches a file the hub sends (an MMS picture, a
//! WhatsApp document, a Messenger image): `{public_url}/media/{key}?e={expiry}&s={mac}`,
//! valid for a day and only for that file. The MAC is HMAC-SHA256 under a secret every hub
//! on the database shares, so any hub behind the load balancer answers the fetch.

use super::signature::{hmac_sha256_hex, matches};

/// How long a provider may take to fetch a file (Twilio and Meta fetch within minutes;
/// a retried send a day later signs a new link).
pub const LINK_TTL_MS: i64 = 24 * 60 * 60 * 1000;

/// Why a link is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkRefusal {
    #[error("this link has expired")]
    Expired,
    #[error("this link is not one the hub made")]
    Forged,
}

fn mac(secret: &str, key: &str, expires_ms: i64) -> String {
    hmac_sha256_hex(secret, format!("media:{key}:{expires_ms}").as_bytes())
}

/// The hub key that signs these links.
pub const LINK_KEY: &str = "media_links";

/// The public link to the file under `key`, valid until `now_ms` plus [`LINK_TTL_MS`].
pub fn media_url(public_url: &str, secret: &str, key: &str, now_ms: i64) -> String {
    let expires = now_ms + LINK_TTL_MS;
    format!("{}/media/{key}?e={expires}&s={}", public_url.trim_end_matches('/'), mac(secret, key, expires))
}

/// Whether a link's expiry `e` and MAC `s` were made by [`media_url`] for `key` and are
/// still valid at `now_ms`. The MAC is checked first: a forged link learns nothing.
pub fn verify(secret: &str, key: &str, e: i64, s: &str, now_ms: i64) -> Result<(), LinkRefusal> {
    if !matches(s, &mac(secret, key, e)) {
        return Err(LinkRefusal::Forged);
    }
    if e < now_ms {
        return Err(LinkRefusal::Expired);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(url: &str) -> (String, i64, String) {
        let (path, query) = url.split_once('?').unwrap();
        let key = path.rsplit('/').next().unwrap().to_owned();
        let mut e = 0;
        let mut s = String::new();
        for kv in query.split('&') {
            match kv.split_once('=').unwrap() {
                ("e", v) => e = v.parse().unwrap(),
                ("s", v) => s = v.to_owned(),
                _ => {}
            }
        }
        (key, e, s)
    }

    #[test]
    fn a_link_opens_its_own_file_until_it_expires() {
        let key = "0123456789abcdef0123456789abcdef";
        let url = media_url("https://hub.example.com/", "secret", key, 1_000);
        assert!(url.starts_with("https://hub.example.com/media/0123456789abcdef0123456789abcdef?e="));
        let (k, e, s) = parts(&url);
        /// What is tried, the secret, the expiry, the MAC, when, and the answer.
        type Case<'a> = (&'a str, &'a str, i64, &'a str, i64, Result<(), LinkRefusal>);
        let cases: &[Case<'_>] = &[
            ("the link as made", "secret", e, &s, 1_000, Ok(())),
            ("the last moment", "secret", e, &s, 1_000 + LINK_TTL_MS, Ok(())),
            ("a moment late", "secret", e, &s, 1_001 + LINK_TTL_MS, Err(LinkRefusal::Expired)),
            ("a later expiry", "secret", e + 1, &s, 1_000, Err(LinkRefusal::Forged)),
            ("another hub's secret", "other", e, &s, 1_000, Err(LinkRefusal::Forged)),
            ("no MAC", "secret", e, "", 1_000, Err(LinkRefusal::Forged)),
        ];
        for (what, secret, e, s, now, want) in cases {
            assert_eq!(verify(secret, &k, *e, s, *now), *want, "{what}");
        }
        let other = "fedcba9876543210fedcba9876543210";
        assert_eq!(verify("secret", other, e, &s, 1_000), Err(LinkRefusal::Forged), "another file");
    }
}
