//! One-click unsubscribe (RFC 8058) for the customers' email: `POST /unsubscribe/{token}`
//! withdraws consent to the link's purpose at once (a mail client's one-click, or the
//! button on the page); `GET` only shows that page, since mail scanners follow links and
//! must not unsubscribe anyone. An unknown token is `404`, told the same way.

use super::{AppState, Failure};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use switchboard_protocol::consent::ConsentPurpose;
use switchboard_protocol::ApiError;

pub fn router() -> Router<AppState> {
    Router::new().route("/unsubscribe/{token}", get(page).post(unsubscribe))
}

/// A token is 48 hex digits; anything else names nothing.
fn well_formed(token: &str) -> bool {
    token.len() == 48 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

fn what(purpose: ConsentPurpose) -> &'static str {
    match purpose {
        ConsentPurpose::Service => "all messages",
        ConsentPurpose::Marketing => "offers and news",
    }
}

/// The address as the page shows it: enough to recognise, not enough to read off.
fn masked(address: &str) -> String {
    match address.split_once('@') {
        Some((user, domain)) => {
            let first: String = user.chars().take(2).collect();
            format!("{first}…@{domain}")
        }
        None => address.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect(),
    }
}

fn html(status: StatusCode, title: &str, body: &str) -> Response {
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{title}</title><style>body{{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}}\
         button{{font:inherit;padding:.5rem 1rem}}</style></head><body><h1>{title}</h1>{body}</body></html>"
    );
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], page)
        .into_response()
}

fn unknown() -> Response {
    html(StatusCode::NOT_FOUND, "Link not recognised", "<p>This unsubscribe link is not one we sent.</p>")
}

async fn page(State(s): State<AppState>, Path(token): Path<String>) -> Result<Response, Failure> {
    if !well_formed(&token) {
        return Ok(unknown());
    }
    let Some(link) = s.store.unsubscribe_link(token.clone()).await? else { return Ok(unknown()) };
    let body = format!(
        "<p>Stop receiving {} at {}?</p><form method=\"post\" action=\"/unsubscribe/{token}\">\
         <input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\"><button type=\"submit\">Unsubscribe</button></form>",
        what(link.purpose),
        masked(&link.address)
    );
    Ok(html(StatusCode::OK, "Unsubscribe", &body))
}

#[utoipa::path(
    post,
    path = "/unsubscribe/{token}",
    tag = "business",
    operation_id = "unsubscribe",
    summary = "One-click unsubscribe (RFC 8058)",
    description = "Withdraws consent to the purpose of the email the link came in, at once: a mail client's \
        one-click unsubscribe (`List-Unsubscribe-Post: List-Unsubscribe=One-Click`), or the button on the page that \
        `GET` shows. Answers a short HTML page; an unknown link gets `404` with a page saying so.",
    params(("token" = String, Path, description = "The link's token: 48 hexadecimal digits")),
    request_body(
        description = "`List-Unsubscribe=One-Click`, as RFC 8058 has mail clients send it; the hub does not read it",
        content_type = "application/x-www-form-urlencoded"
    ),
    responses(
        (status = 200, description = "Unsubscribed; a page says from what", body = String, content_type = "text/html"),
        (status = 404, description = "A link the hub did not send", body = String, content_type = "text/html"),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    )
)]
async fn unsubscribe(State(s): State<AppState>, Path(token): Path<String>) -> Result<Response, Failure> {
    if !well_formed(&token) {
        return Ok(unknown());
    }
    let Some(link) = s.store.unsubscribe(token).await? else { return Ok(unknown()) };
    let body = format!("<p>You will no longer receive {} at {}.</p>", what(link.purpose), masked(&link.address));
    Ok(html(StatusCode::OK, "You are unsubscribed", &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_addresses_as_the_page_treats_them() {
        assert!(well_formed(&"a1".repeat(24)));
        assert!(!well_formed("a1"));
        assert!(!well_formed(&"zz".repeat(24)));
        assert_eq!(masked("ana.silva@example.com"), "an…@example.com");
        assert_eq!(masked("+14155550123"), "0123");
    }
}
