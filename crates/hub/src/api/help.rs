//! The public help centre: published articles as plain, accessible HTML pages (no script,
//! readable without JavaScript), grouped by collection, with search, and a "was this
//! helpful?" form whose answers, like each read, are counted for the lead's reports. Every
//! client address gets a steady rate of pages; past it, `429`.

use super::client::ClientAddr;
use super::limits::Shared;
use super::{AppState, Failure, Params};
use crate::store::articles::Use;
use crate::throttle::{client_key, Rate};
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use switchboard_protocol::articles::{self as kb, Article, ArticleHit};
use switchboard_protocol::{ApiError, ErrorCode};

/// Pages per client address: 120 at once, then 4 a second.
pub const PAGES_PER_CLIENT: Rate = Rate { burst: 120.0, per_sec: 4.0 };
/// Results one search page shows.
const RESULTS: usize = 20;

pub type Limits = Shared<String>;

pub fn limits() -> Limits {
    Shared::new("help", PAGES_PER_CLIENT, 100_000)
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/help", get(index))
        .route("/help/articles/{key}", get(page))
        .route("/help/articles/{key}/feedback", post(feedback))
}

/// Text made safe inside HTML, in elements and in quoted attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A query-string value, percent-encoded.
fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

const STYLE: &str = "body{font:16px/1.6 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1f2328;background:#fff}\
header{background:#0f3d5e;color:#fff;padding:1rem}header a{color:#fff;font-weight:600;text-decoration:none}\
form.search{margin-top:.75rem;display:flex;gap:.5rem;flex-wrap:wrap;align-items:center}\
form.search label{flex-basis:100%}input[type=search]{flex:1;min-width:12rem;font:inherit;padding:.5rem;border:1px solid #8c959f;border-radius:6px}\
button{font:inherit;padding:.45rem .9rem;border-radius:6px;border:1px solid #0f3d5e;background:#fff;color:#0f3d5e;cursor:pointer}\
main{max-width:46rem;margin:0 auto;padding:1rem 1.25rem 3rem}a{color:#0b62a4}a:focus,button:focus,input:focus{outline:3px solid #f2b600;outline-offset:2px}\
.snippet{margin:.1rem 0 1rem;color:#4b535c}.crumbs{font-size:.9rem}.feedback{margin-top:2.5rem;padding-top:1rem;border-top:1px solid #d0d7de}\
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;color:#000;padding:.5rem}\
pre,code{background:#f6f8fa;border-radius:4px}pre{padding:.75rem;overflow:auto}@media (prefers-color-scheme:dark){body{background:#0d1117;color:#e6edf3}a{color:#58a6ff}.snippet{color:#9da7b3}pre,code{background:#161b22}}";

/// A whole page: `lang` for screen readers and hyphenation, a skip link, the search form
/// (with `q` filled in) and `main`.
fn layout(lang: &str, title: &str, q: &str, locale: &str, main: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head><body>\
         <a class=\"skip\" href=\"#main\">Skip to content</a>\
         <header><a href=\"/help\">Help centre</a>\
         <form class=\"search\" role=\"search\" action=\"/help\" method=\"get\">\
         <label for=\"q\">Search the help centre</label>\
         <input id=\"q\" name=\"q\" type=\"search\" value=\"{q}\" maxlength=\"200\" autocomplete=\"off\">\
         <input type=\"hidden\" name=\"locale\" value=\"{locale}\"><button type=\"submit\">Search</button></form></header>\
         <main id=\"main\">{main}</main></body></html>",
        lang = escape(lang),
        title = escape(title),
        q = escape(q),
        locale = escape(locale),
    )
}

/// An HTML answer others may cache briefly, which runs no script and loads nothing.
fn html(status: StatusCode, body: String, cache: bool) -> Response {
    let mut r = (status, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    let cache = if cache { "public, max-age=60" } else { "no-store" };
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    r
}

async fn check_rate(s: &AppState, client: &ClientAddr) -> Result<(), Failure> {
    s.help_limits.check(&s.store, client_key(client.0)).await?.map_err(|wait| {
        let mut e = ApiError::new(ErrorCode::RateLimited, "too many pages from your address; try again in a moment");
        e.retry_after = Some(wait);
        Failure(e)
    })
}

#[derive(Debug, Deserialize)]
struct IndexQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    locale: Option<String>,
}

fn hit_list(hits: &[ArticleHit]) -> String {
    let mut out = String::from("<ul class=\"results\">");
    for h in hits {
        out.push_str(&format!(
            "<li><a href=\"/help/articles/{}\">{}</a><p class=\"snippet\">{}</p></li>",
            escape(&h.key),
            escape(&h.title),
            escape(&h.snippet)
        ));
    }
    out.push_str("</ul>");
    out
}

/// `GET /help?q=&locale=`: the collections of articles in a language, or search results.
async fn index(
    State(s): State<AppState>,
    client: ClientAddr,
    Params(q): Params<IndexQuery>,
) -> Result<Response, Failure> {
    check_rate(&s, &client).await?;
    if q.q.len() > 200 {
        return Err(Failure(ApiError::new(ErrorCode::BadRequest, "a search is at most 200 bytes")));
    }
    let locale = q.locale.as_deref().and_then(kb::normalize_locale).unwrap_or_else(|| "en".into());
    let lang = kb::language(&locale).to_owned();
    let question = q.q.trim().to_owned();
    if !question.is_empty() {
        let hits = s.store.search_articles(locale.clone(), question.clone(), false, false, RESULTS, None).await?;
        let main = if hits.is_empty() {
            format!(
                "<h1>No articles match “{}”</h1><p>Try other words, or <a href=\"/help?locale={}\">browse every article</a>.</p>",
                escape(&question),
                encode(&locale)
            )
        } else {
            format!(
                "<h1>{} result{} for “{}”</h1>{}",
                hits.len(),
                if hits.len() == 1 { "" } else { "s" },
                escape(&question),
                hit_list(&hits)
            )
        };
        let title = format!("{question} · Help centre");
        return Ok(html(StatusCode::OK, layout(&lang, &title, &question, &locale, &main), true));
    }
    let all = s.store.published_articles().await?;
    let mut languages: Vec<String> = all.iter().map(|a| kb::language(&a.locale).to_owned()).collect();
    languages.sort();
    languages.dedup();
    let mut main = String::from("<h1>How can we help?</h1>");
    if languages.len() > 1 {
        main.push_str("<nav aria-label=\"Languages\"><ul class=\"languages\">");
        for l in &languages {
            let current = if *l == lang { " aria-current=\"page\"" } else { "" };
            main.push_str(&format!("<li><a href=\"/help?locale={}\"{current}>{}</a></li>", encode(l), escape(l)));
        }
        main.push_str("</ul></nav>");
    }
    let mut collection: Option<&str> = None;
    for a in all.iter().filter(|a| kb::language(&a.locale) == lang) {
        if collection != Some(a.collection.as_str()) {
            if collection.is_some() {
                main.push_str("</ul></section>");
            }
            let name = if a.collection.is_empty() { "Other questions" } else { &a.collection };
            main.push_str(&format!("<section><h2>{}</h2><ul>", escape(name)));
            collection = Some(&a.collection);
        }
        main.push_str(&format!("<li><a href=\"/help/articles/{}\">{}</a></li>", escape(&a.key), escape(&a.title)));
    }
    if collection.is_some() {
        main.push_str("</ul></section>");
    } else {
        main.push_str("<p>No articles yet.</p>");
    }
    Ok(html(StatusCode::OK, layout(&lang, "Help centre", "", &locale, &main), true))
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    #[serde(default)]
    thanks: Option<String>,
}

fn not_found() -> Response {
    let main = "<h1>We could not find that article</h1><p>It may have moved. <a href=\"/help\">Search the help centre</a>.</p>";
    html(StatusCode::NOT_FOUND, layout("en", "Not found · Help centre", "", "en", main), false)
}

/// `GET /help/articles/{key}`: one article, counted as read.
async fn page(
    State(s): State<AppState>,
    client: ClientAddr,
    Path(key): Path<String>,
    Params(q): Params<PageQuery>,
) -> Result<Response, Failure> {
    check_rate(&s, &client).await?;
    if !kb::valid_key(&key) {
        return Ok(not_found());
    }
    let Some(a) = s.store.published_article(key).await? else { return Ok(not_found()) };
    s.store.article_used(a.id, Use::View).await?;
    let thanked = q.thanks.is_some();
    Ok(html(StatusCode::OK, article_page(&a, thanked), !thanked))
}

/// An article's page: where it sits, the article, and the helpfulness question (or the
/// thanks for answering it).
pub fn article_page(a: &Article, thanked: bool) -> String {
    let lang = kb::language(&a.locale);
    let crumbs = if a.collection.is_empty() {
        String::new()
    } else {
        format!(
            "<nav class=\"crumbs\" aria-label=\"Breadcrumb\"><a href=\"/help?locale={}\">Help centre</a> › {}</nav>",
            encode(&a.locale),
            escape(&a.collection)
        )
    };
    let feedback = if thanked {
        "<section class=\"feedback\" role=\"status\"><p>Thanks for telling us.</p></section>".to_owned()
    } else {
        format!(
            "<section class=\"feedback\" aria-labelledby=\"fb\"><form method=\"post\" action=\"/help/articles/{}/feedback\">\
             <h2 id=\"fb\">Was this article helpful?</h2>\
             <button type=\"submit\" name=\"helpful\" value=\"yes\">Yes</button> \
             <button type=\"submit\" name=\"helpful\" value=\"no\">No</button></form></section>",
            escape(&a.key)
        )
    };
    let main =
        format!("{crumbs}<article><h1>{}</h1>{}</article>{feedback}", escape(&a.title), kb::render_html(&a.body));
    layout(lang, &format!("{} · Help centre", a.title), "", &a.locale, &main)
}

#[derive(Debug, Deserialize)]
struct Feedback {
    helpful: String,
}

/// `POST /help/articles/{key}/feedback` (`helpful=yes|no`): counted, then back to the
/// article with thanks.
async fn feedback(
    State(s): State<AppState>,
    client: ClientAddr,
    Path(key): Path<String>,
    Form(f): Form<Feedback>,
) -> Result<Response, Failure> {
    check_rate(&s, &client).await?;
    let what = match f.helpful.as_str() {
        "yes" => Use::Helpful,
        "no" => Use::NotHelpful,
        _ => return Err(Failure(ApiError::new(ErrorCode::BadRequest, "helpful must be yes or no"))),
    };
    if !kb::valid_key(&key) {
        return Ok(not_found());
    }
    let Some(a) = s.store.published_article(key).await? else { return Ok(not_found()) };
    s.store.article_used(a.id, what).await?;
    Ok(Redirect::to(&format!("/help/articles/{}?thanks=1", a.key)).into_response())
}
