//! Signing in: the hub address as an agent types it, turned into a base URL; the login
//! itself; and where each hub-and-agent pair keeps its cache, so two accounts never share
//! one.

use crate::client::HubClient;
use crate::error::{CoreError, Result};
use sha2::{Digest, Sha256};
use switchboard_protocol::console::SignIn;

/// Whether `authority` (`host[:port]`) is this computer: plain HTTP to it never crosses
/// a network.
fn is_loopback(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The hub's base URL from what the agent typed: `hub.example.com` means HTTPS, a
/// loopback address without a scheme means HTTP; a trailing `/` is dropped. Plain HTTP is
/// refused for any hub but this computer: the password and the token would cross the
/// network unencrypted.
pub fn hub_url(typed: &str) -> Result<String> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Err(CoreError::BadRequest("enter the hub's address".into()));
    }
    let (scheme, rest) = match typed.split_once("://") {
        Some((scheme @ ("http" | "https"), rest)) => (scheme, rest),
        Some(_) => return Err(CoreError::BadRequest(format!("`{typed}` is not an http or https address"))),
        None if ["localhost", "127.", "[::1]"].iter().any(|p| typed.starts_with(p)) => ("http", typed),
        None => ("https", typed),
    };
    let rest = rest.trim_end_matches('/');
    if rest.is_empty() || rest.starts_with('/') || rest.contains(char::is_whitespace) {
        return Err(CoreError::BadRequest(format!("`{typed}` is not a hub address")));
    }
    if scheme == "http" && !is_loopback(rest.split('/').next().unwrap_or(rest)) {
        return Err(CoreError::BadRequest(format!(
            "`{typed}` would carry your password and token unencrypted: use its https:// address \
             (plain http is only for a hub on this computer)"
        )));
    }
    let url = format!("{scheme}://{rest}");
    Ok(url)
}

/// The folder (inside the console's data directory) for one agent on one hub.
pub fn cache_folder(hub: &str, email: &str) -> String {
    let digest = Sha256::digest(format!("{}\n{}", hub, email.trim().to_lowercase()));
    format!("account-{}", &hex::encode(digest)[..16])
}

/// Signs in and returns the hub's base URL and the agent's token.
pub async fn sign_in(req: &SignIn) -> Result<(String, String)> {
    let hub = hub_url(&req.hub)?;
    if req.email.trim().is_empty() || req.password.is_empty() {
        return Err(CoreError::BadRequest("enter your email and password".into()));
    }
    let login = HubClient::login(&hub, req.email.trim(), &req.password).await?;
    Ok((hub, login.token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_addresses() {
        let cases = [
            ("hub.example.com", Some("https://hub.example.com")),
            ("https://hub.example.com/", Some("https://hub.example.com")),
            ("  https://10.0.0.5:8443 ", Some("https://10.0.0.5:8443")),
            // Finding: `http://` hubs other than this computer were accepted silently.
            ("  http://10.0.0.5:8080 ", None),
            ("http://hub.example.com", None),
            ("http://127.0.0.2:7300", Some("http://127.0.0.2:7300")),
            ("http://[::1]:7300", Some("http://[::1]:7300")),
            ("http://LOCALHOST:7300/", Some("http://LOCALHOST:7300")),
            ("http://localhost.evil.example", None),
            ("http://127.0.0.1.evil.example", None),
            ("127.0.0.1.evil.example", None),
            ("localhost:7300", Some("http://localhost:7300")),
            ("127.0.0.1:7300/", Some("http://127.0.0.1:7300")),
            ("", None),
            ("https://", None),
            ("hub example", None),
            ("ftp://hub.example.com", None),
        ];
        for (typed, want) in cases {
            assert_eq!(hub_url(typed).ok().as_deref(), want, "{typed:?}");
        }
        let refused = hub_url("http://10.0.0.5:8080").unwrap_err().to_string();
        assert!(refused.contains("unencrypted: use its https:// address"), "{refused}");
    }

    #[test]
    fn one_folder_per_agent_and_hub() {
        let a = cache_folder("https://hub.example.com", "maya@x.test");
        assert_eq!(a, cache_folder("https://hub.example.com", " Maya@X.test "));
        assert_ne!(a, cache_folder("https://hub.example.com", "tomas@x.test"));
        assert_ne!(a, cache_folder("http://127.0.0.1:7300", "maya@x.test"));
    }
}
