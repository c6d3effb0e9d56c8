//! Knowledge-base articles: what one is, and the rules the hub and the console both apply
//! to them: a save's shape, the words an article is found by in its language, a Markdown
//! file's front matter, the safe HTML and the plain text of a body, and what a reply gets
//! when an agent inserts an article.

use crate::model::ChannelKind;
use crate::{Id, Timestamp};
use serde::{Deserialize, Serialize};

/// Whether customers may read an article.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ArticleStatus {
    /// Being written: agents see it, customers and the bot never do.
    #[default]
    Draft,
    /// In the help centre, offered by the widget and answered with by the bot.
    Published,
}

impl ArticleStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ArticleStatus::Draft => "draft",
            ArticleStatus::Published => "published",
        }
    }

    pub fn parse(s: &str) -> Option<ArticleStatus> {
        match s.trim() {
            "draft" => Some(ArticleStatus::Draft),
            "published" => Some(ArticleStatus::Published),
            _ => None,
        }
    }
}

/// A knowledge-base article. Its body is Markdown; raw HTML in it is shown as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Article {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub id: Id,
    /// Its address in the help centre (`/help/articles/{key}`) and its name as a file;
    /// chosen when it is created and never changed.
    pub key: String,
    pub title: String,
    pub body: String,
    pub tags: Vec<String>,
    /// A language tag such as `en` or `pt-BR`: the words it is found by are stemmed in it.
    pub locale: String,
    pub collection: String,
    pub status: ArticleStatus,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub updated_by: Option<Id>,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub updated_at: Timestamp,
    pub version: i64,
}

/// The help-centre page of the article with `key`, under the hub's public address
/// `base` (`https://hub.example.com`).
pub fn url(base: &str, key: &str) -> String {
    format!("{}/help/articles/{key}", base.trim_end_matches('/'))
}

/// One saved version of an article (`GET /api/v1/articles/{id}/versions`), newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ArticleVersion {
    pub version: i64,
    pub title: String,
    pub body: String,
    pub tags: Vec<String>,
    pub locale: String,
    pub collection: String,
    pub status: ArticleStatus,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub updated_by: Option<Id>,
    pub updated_by_name: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub updated_at: Timestamp,
}

/// An article found by a search, best first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ArticleHit {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub id: Id,
    pub key: String,
    pub title: String,
    pub collection: String,
    pub locale: String,
    pub status: ArticleStatus,
    /// The body's opening words, as plain text.
    pub snippet: String,
    pub url: Option<String>,
}

impl ArticleHit {
    /// An article as a search shows it: its opening words, and its page under the hub's
    /// public address `base` when customers may read it.
    pub fn of(a: &Article, base: Option<&str>) -> ArticleHit {
        ArticleHit {
            id: a.id,
            key: a.key.clone(),
            title: a.title.clone(),
            collection: a.collection.clone(),
            locale: a.locale.clone(),
            status: a.status,
            snippet: summary(&a.body),
            url: base.filter(|_| a.status == ArticleStatus::Published).map(|b| url(b, &a.key)),
        }
    }
}

/// Creates (with `new`) or changes the article with this `key`. Leads and admins only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SaveArticle {
    pub key: String,
    pub title: String,
    pub body: String,
    #[serde(default)]
    pub tags: Vec<String>,
    pub locale: String,
    #[serde(default)]
    pub collection: String,
    pub status: ArticleStatus,
    /// A new article: refused when the key is taken, rather than changing that article.
    #[serde(default)]
    pub new: bool,
}

/// Deletes the article with this `key`. Leads and admins only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeleteArticle {
    pub key: String,
}

pub const MAX_KEY: usize = 100;
pub const MAX_TITLE: usize = 200;
pub const MAX_TAGS: usize = 20;
pub const MAX_TAG: usize = 40;
pub const MAX_COLLECTION: usize = 80;
/// The longest article body, in bytes.
pub const MAX_ARTICLE_BODY: usize = crate::MAX_BODY;
/// The most words of a question that are looked up.
pub const MAX_QUERY_WORDS: usize = 32;
/// The longest summary the bot answers with, in characters.
pub const MAX_SUMMARY: usize = 300;

/// Whether `key` may name an article: lower-case letters, digits and `-`, starting with a
/// letter or digit.
pub fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= MAX_KEY
        && key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !key.starts_with('-')
}

/// A key made from a title: `How do I return an item?` → `how-do-i-return-an-item`.
/// Letters outside ASCII lose their accents where they have one; the rest are dropped.
pub fn key_of(title: &str) -> String {
    let mut key = String::new();
    for c in title.chars().flat_map(fold_accent) {
        if c.is_ascii_alphanumeric() {
            key.push(c.to_ascii_lowercase());
        } else if !key.ends_with('-') && !key.is_empty() {
            key.push('-');
        }
        if key.len() >= 60 {
            break;
        }
    }
    let key = key.trim_end_matches('-').to_owned();
    if key.is_empty() {
        "article".into()
    } else {
        key
    }
}

fn fold_accent(c: char) -> impl Iterator<Item = char> {
    let folded: &str = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => "a",
        'ç' | 'Ç' => "c",
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => "i",
        'ñ' | 'Ñ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' => "o",
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => "u",
        'ß' => "ss",
        _ => "",
    };
    let own = folded.is_empty().then_some(c);
    folded.chars().chain(own)
}

/// A language tag as stored: the language in lower case, a region or script after `-`
/// as given (`pt-BR`). `None` when it does not look like one.
pub fn normalize_locale(locale: &str) -> Option<String> {
    let locale = locale.trim().replace('_', "-");
    let (lang, rest) = match locale.split_once('-') {
        Some((l, r)) => (l, Some(r)),
        None => (locale.as_str(), None),
    };
    let lang_ok = (2..=3).contains(&lang.len()) && lang.bytes().all(|b| b.is_ascii_alphabetic());
    let rest_ok = rest.is_none_or(|r| (2..=8).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_alphanumeric()));
    (lang_ok && rest_ok).then(|| match rest {
        Some(r) => format!("{}-{r}", lang.to_ascii_lowercase()),
        None => lang.to_ascii_lowercase(),
    })
}

/// The language part of a tag: `pt-BR` → `pt`.
pub fn language(locale: &str) -> &str {
    locale.split(['-', '_']).next().unwrap_or(locale)
}

impl SaveArticle {
    /// The save as it is stored: trimmed, tags in lower case without repeats, the locale
    /// normalised. Says what is wrong otherwise.
    pub fn normalized(&self) -> Result<SaveArticle, String> {
        let key = self.key.trim();
        if !valid_key(key) {
            return Err(format!(
                "an article's key must be 1 to {MAX_KEY} lower-case letters, digits and dashes, not starting with a dash"
            ));
        }
        let title = crate::text::clean(self.title.trim()).into_owned();
        if title.is_empty() || title.chars().count() > MAX_TITLE {
            return Err(format!("the title must be 1 to {MAX_TITLE} characters"));
        }
        let body = crate::text::clean(self.body.trim_end()).into_owned();
        if body.len() > MAX_ARTICLE_BODY {
            return Err(format!("the article is longer than {MAX_ARTICLE_BODY} bytes"));
        }
        let mut tags: Vec<String> = Vec::new();
        for t in &self.tags {
            let t = crate::text::clean(t.trim()).to_lowercase();
            if t.is_empty() {
                continue;
            }
            if t.chars().count() > MAX_TAG || t.contains(',') {
                return Err(format!("a tag must be at most {MAX_TAG} characters without commas"));
            }
            if !tags.contains(&t) {
                tags.push(t);
            }
        }
        if tags.len() > MAX_TAGS {
            return Err(format!("an article has at most {MAX_TAGS} tags"));
        }
        let locale = normalize_locale(&self.locale)
            .ok_or_else(|| format!("“{}” is not a language tag such as en or pt-BR", self.locale.trim()))?;
        let collection = crate::text::clean(self.collection.trim()).into_owned();
        if collection.chars().count() > MAX_COLLECTION {
            return Err(format!("the collection's name must be at most {MAX_COLLECTION} characters"));
        }
        if self.status == ArticleStatus::Published && body.trim().is_empty() {
            return Err("an article needs some text before it is published".into());
        }
        Ok(SaveArticle {
            key: key.to_owned(),
            title,
            body,
            tags,
            locale,
            collection,
            status: self.status,
            new: self.new,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Words an article is found by.

/// The words of `text` in lower case, split at anything that is not a letter or digit
/// (an apostrophe inside a word keeps it whole), at most [`MAX_QUERY_WORDS`] when asked.
pub fn words(text: &str, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    for w in text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’')) {
        let w = w.trim_matches(['\'', '’']).to_lowercase();
        let w: String = w.chars().filter(|c| c.is_alphanumeric()).collect();
        if w.is_empty() || w.chars().count() > 40 {
            continue;
        }
        out.push(w);
        if out.len() >= max {
            break;
        }
    }
    out
}

/// The Snowball stemmer for a language, if there is one.
fn stemmer(locale: &str) -> Option<rust_stemmers::Stemmer> {
    use rust_stemmers::Algorithm as A;
    let algorithm = match language(locale).to_ascii_lowercase().as_str() {
        "en" => A::English,
        "fr" => A::French,
        "es" => A::Spanish,
        "de" => A::German,
        "it" => A::Italian,
        "pt" => A::Portuguese,
        "nl" => A::Dutch,
        "sv" => A::Swedish,
        "no" | "nb" | "nn" => A::Norwegian,
        "da" => A::Danish,
        "fi" => A::Finnish,
        "ru" => A::Russian,
        "ro" => A::Romanian,
        "hu" => A::Hungarian,
        "tr" => A::Turkish,
        "ar" => A::Arabic,
        "el" => A::Greek,
        _ => return None,
    };
    Some(rust_stemmers::Stemmer::create(algorithm))
}

/// Words so common in a language that they find every article.
fn stop_words(locale: &str) -> &'static [&'static str] {
    match language(locale) {
        "en" => &[
            "a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "could", "did", "do", "does", "for", "from",
            "get", "had", "has", "have", "hello", "hey", "hi", "how", "i", "if", "in", "is", "it", "its", "me", "my",
            "of", "on", "or", "our", "please", "so", "that", "the", "their", "then", "there", "this", "to", "us",
            "was", "we", "what", "when", "where", "which", "who", "why", "will", "with", "would", "you", "your", "im",
            "thanks", "thank",
        ],
        "fr" => &[
            "a", "au", "aux", "avec", "bonjour", "ce", "ces", "comment", "dans", "de", "des", "du", "elle", "en",
            "est", "et", "il", "je", "la", "le", "les", "leur", "ma", "mais", "me", "mes", "mon", "ne", "nous", "on",
            "ou", "par", "pas", "pour", "qu", "que", "qui", "sa", "se", "ses", "son", "sur", "ta", "te", "tu", "un",
            "une", "vos", "votre", "vous", "merci",
        ],
        "es" => &[
            "a", "al", "como", "con", "cómo", "de", "del", "el", "en", "es", "esta", "está", "hola", "la", "las", "le",
            "lo", "los", "me", "mi", "mis", "no", "para", "por", "que", "qué", "se", "su", "sus", "te", "tu", "un",
            "una", "y", "yo", "gracias",
        ],
        _ => &[],
    }
}

/// The terms `text` is indexed and searched by in `locale`: its words without the
/// language's commonest ones, stemmed (`returns`, `returned` → `return`).
pub fn terms(locale: &str, text: &str, max: usize) -> Vec<String> {
    let stop = stop_words(locale);
    let stem = stemmer(locale);
    words(text, usize::MAX)
        .into_iter()
        .filter(|w| !stop.contains(&w.as_str()))
        .map(|w| match &stem {
            Some(s) => s.stem(&w).into_owned(),
            None => w,
        })
        .take(max)
        .collect()
}

/// The text an index keeps for `text`: its terms, space-separated.
pub fn index_text(locale: &str, text: &str) -> String {
    terms(locale, text, usize::MAX).join(" ")
}

/// An SQLite FTS5 query finding articles that hold any of the question's terms, ranked by
/// how many and how rare; with `as_typed`, the last word may be unfinished. `None` when the
/// question holds no term.
pub fn fts_query(locale: &str, question: &str, as_typed: bool) -> Option<String> {
    let mut ts = terms(locale, question, MAX_QUERY_WORDS);
    ts.dedup();
    if ts.is_empty() {
        return None;
    }
    let unfinished = as_typed && question.ends_with(|c: char| c.is_alphanumeric());
    let last = ts.len() - 1;
    let parts: Vec<String> = ts
        .iter()
        .enumerate()
        .map(|(i, t)| if unfinished && i == last { format!("\"{t}\"*") } else { format!("\"{t}\"") })
        .collect();
    Some(parts.join(" OR "))
}

// ---------------------------------------------------------------------------------------
// Files: an article as Markdown with front matter.

/// Reads an article file: front matter between `---` lines (`title`, `collection`, `tags`
/// comma-separated, `locale`, `status`), then the Markdown body. `key` is the file's name
/// without `.md`.
pub fn parse_file(key: &str, text: &str) -> Result<SaveArticle, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text).replace("\r\n", "\n");
    let rest = text.strip_prefix("---\n").ok_or("the file does not start with a `---` front-matter line")?;
    let (head, body) = match rest.find("\n---\n") {
        Some(at) => (&rest[..at], &rest[at + 5..]),
        None => match rest.strip_suffix("\n---") {
            Some(head) => (head, ""),
            None => return Err("the front matter has no closing `---` line".into()),
        },
    };
    let mut save = SaveArticle {
        key: key.to_owned(),
        title: String::new(),
        body: body.trim_start_matches('\n').to_owned(),
        tags: Vec::new(),
        locale: "en".into(),
        collection: String::new(),
        status: ArticleStatus::Published,
        new: false,
    };
    for (n, line) in head.lines().enumerate() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let (name, value) =
            line.split_once(':').ok_or_else(|| format!("front-matter line {} is not `name: value`", n + 2))?;
        let value = unquote(value.trim());
        match name.trim() {
            "title" => save.title = value.to_owned(),
            "collection" => save.collection = value.to_owned(),
            "tags" => {
                let list = value.trim_start_matches('[').trim_end_matches(']');
                save.tags = list.split(',').map(|t| unquote(t.trim()).to_owned()).filter(|t| !t.is_empty()).collect();
            }
            "locale" => save.locale = value.to_owned(),
            "status" => {
                save.status = ArticleStatus::parse(value)
                    .ok_or_else(|| format!("status is “{value}”; it must be draft or published"))?
            }
            other => return Err(format!("front-matter line {} names `{other}`, which articles do not have", n + 2)),
        }
    }
    save.normalized()
}

fn unquote(s: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = s.strip_prefix(q).and_then(|s| s.strip_suffix(q)) {
            return inner;
        }
    }
    s
}

/// An article as a file [`parse_file`] reads back the same.
pub fn to_file(a: &Article) -> String {
    let one_line = |s: &str| s.replace(['\n', '\r'], " ");
    format!(
        "---\ntitle: {}\ncollection: {}\ntags: {}\nlocale: {}\nstatus: {}\n---\n{}\n",
        one_line(&a.title),
        one_line(&a.collection),
        a.tags.join(", "),
        a.locale,
        a.status.as_str(),
        a.body.trim_end()
    )
}

// ---------------------------------------------------------------------------------------
// Showing and inserting a body.

/// Whether a link may be followed from an article: web and mail addresses, and paths on
/// the same site. Anything else (`javascript:`, `data:`) is dropped.
fn safe_link(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    lower.starts_with("https://")
        || lower.starts_with("http://")
        || lower.starts_with("mailto:")
        || lower.starts_with('#')
        || (lower.starts_with('/') && !lower.starts_with("//"))
}

/// The body as HTML that is safe to show: raw HTML in the Markdown is shown as text,
/// images become links to them, and only web, mail and same-site links are kept.
pub fn render_html(markdown: &str) -> String {
    use pulldown_cmark::{CowStr, Event, LinkType, Options, Parser, Tag, TagEnd};
    let parser = Parser::new_ext(markdown, Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES);
    let events = parser.map(|e| match e {
        Event::Html(h) | Event::InlineHtml(h) => Event::Text(h),
        Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
            let dest = if safe_link(&dest_url) { dest_url } else { CowStr::from("") };
            Event::Start(Tag::Link { link_type, dest_url: dest, title, id })
        }
        Event::Start(Tag::Image { dest_url, title, id, .. }) => {
            let dest = if safe_link(&dest_url) { dest_url } else { CowStr::from("") };
            Event::Start(Tag::Link { link_type: LinkType::Inline, dest_url: dest, title, id })
        }
        Event::End(TagEnd::Image) => Event::End(TagEnd::Link),
        other => other,
    });
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

/// The body as plain text: headings and paragraphs on their own lines, list items after
/// `- `, each link's address after its words.
pub fn plain_text(markdown: &str) -> String {
    use pulldown_cmark::{Event, Parser, Tag, TagEnd};
    let mut out = String::new();
    let mut links: Vec<String> = Vec::new();
    for e in Parser::new(markdown) {
        match e {
            Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t) => out.push_str(&t),
            Event::SoftBreak => out.push(' '),
            Event::HardBreak => out.push('\n'),
            Event::Start(Tag::Item) => out.push_str("- "),
            Event::Start(Tag::Link { dest_url, .. }) | Event::Start(Tag::Image { dest_url, .. }) => {
                links.push(dest_url.to_string())
            }
            Event::End(TagEnd::Link) | Event::End(TagEnd::Image) => {
                if let Some(url) = links.pop().filter(|u| safe_link(u) && !out.ends_with(u.as_str())) {
                    out.push_str(&format!(" ({url})"));
                }
            }
            Event::End(TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::Item | TagEnd::CodeBlock)
                if !out.ends_with('\n') =>
            {
                out.push('\n');
            }
            Event::End(TagEnd::List(_)) | Event::Rule => out.push('\n'),
            _ => {}
        }
    }
    // Paragraphs apart; a list's items together.
    let mut text = String::new();
    let mut prev_item = false;
    for line in out.lines().map(str::trim_end).filter(|l| !l.is_empty()) {
        let item = line.starts_with("- ");
        if !text.is_empty() {
            text.push_str(if item && prev_item { "\n" } else { "\n\n" });
        }
        prev_item = item;
        text.push_str(line);
    }
    text
}

/// The article's short answer: the plain text of its first paragraph, at most
/// [`MAX_SUMMARY`] characters, cut at a word.
pub fn summary(markdown: &str) -> String {
    use pulldown_cmark::{Event, Parser, Tag, TagEnd};
    let mut text = String::new();
    let mut inside = false;
    for e in Parser::new(markdown) {
        match e {
            Event::Start(Tag::Paragraph) => inside = true,
            Event::End(TagEnd::Paragraph) if !text.trim().is_empty() => break,
            Event::End(TagEnd::Paragraph) => inside = false,
            Event::Text(t) | Event::Code(t) if inside => text.push_str(&t),
            Event::SoftBreak | Event::HardBreak if inside => text.push(' '),
            _ => {}
        }
    }
    cut_at_word(text.trim(), MAX_SUMMARY)
}

/// `text` cut to at most `max` characters at a word, with `…` when it was cut.
pub fn cut_at_word(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max.saturating_sub(1)).collect();
    let at = cut.rfind(char::is_whitespace).filter(|&i| i > max / 2).unwrap_or(cut.len());
    format!("{}…", cut[..at].trim_end_matches(|c: char| c.is_whitespace() || c.is_ascii_punctuation()))
}

/// What an agent inserts into a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Insert {
    /// The title and the help-centre link.
    Link,
    /// The article's text, without Markdown.
    Text,
}

/// What suits a channel: the text on SMS, where a link costs the customer a browser and a
/// message of its own; a link everywhere else.
pub fn default_insert(channel: ChannelKind) -> Insert {
    match channel {
        ChannelKind::Sms => Insert::Text,
        _ => Insert::Link,
    }
}

/// The text inserted for `a`, its page under the hub's public address `base`. A link to an
/// article customers cannot open (a draft) inserts the text instead.
pub fn insertion(a: &Article, how: Insert, base: &str) -> String {
    match (how, a.status) {
        (Insert::Link, ArticleStatus::Published) => format!("{}: {}", a.title, url(base, &a.key)),
        _ => plain_text(&a.body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn article(body: &str, status: ArticleStatus) -> Article {
        Article {
            id: 1,
            key: "return-an-item".into(),
            title: "How do I return an item?".into(),
            body: body.into(),
            tags: vec!["returns".into()],
            locale: "en".into(),
            collection: "Orders".into(),
            status,
            updated_by: None,
            updated_at: 0,
            version: 1,
        }
    }

    #[test]
    fn terms_are_stemmed_in_the_articles_language_without_common_words() {
        let cases: [(&str, &str, &[&str]); 6] = [
            ("en", "How do I return my shoes?", &["return", "shoe"]),
            ("en", "Returned items and refunds", &["return", "item", "refund"]),
            ("fr", "Comment retourner mes articles ?", &["retourn", "articl"]),
            ("es", "¿Cómo devuelvo mis zapatos?", &["devuelv", "zapat"]),
            ("pt-BR", "devoluções", &["devolu"]),
            ("xx", "Unknown Language words", &["unknown", "language", "words"]),
        ];
        for (locale, text, want) in cases {
            assert_eq!(terms(locale, text, 10), want, "{locale}: {text}");
        }
    }

    #[test]
    fn queries_hold_only_quoted_terms() {
        let cases = [
            ("Where is my parcel", false, Some("\"parcel\"")),
            ("refund\" OR x NEAR(", false, Some("\"refund\" OR \"x\" OR \"near\"")),
            ("track my ord", true, Some("\"track\" OR \"ord\"*")),
            ("track my order ", true, Some("\"track\" OR \"order\"")),
            ("how do I", false, None),
            ("", true, None),
        ];
        for (q, typed, want) in cases {
            assert_eq!(fts_query("en", q, typed).as_deref(), want, "{q}");
        }
    }

    #[test]
    fn keys_come_from_titles() {
        let cases = [
            ("How do I return an item?", "how-do-i-return-an-item"),
            ("Où est ma commande ?", "ou-est-ma-commande"),
            ("  --  ", "article"),
            ("日本語", "article"),
        ];
        for (title, want) in cases {
            assert_eq!(key_of(title), want);
            assert!(valid_key(&key_of(title)));
        }
        for bad in ["", "-x", "Upper", "a/b", "a b", &"x".repeat(101)] {
            assert!(!valid_key(bad), "{bad}");
        }
    }

    #[test]
    fn locales_are_normalized_or_refused() {
        let cases = [("EN", Some("en")), ("pt_BR", Some("pt-BR")), ("en-", None), ("e", None), ("e1", None)];
        for (given, want) in cases {
            assert_eq!(normalize_locale(given).as_deref(), want, "{given}");
        }
    }

    #[test]
    fn a_save_is_normalized_or_refused_with_the_reason() {
        let ok = SaveArticle {
            key: "returns".into(),
            title: "  Returns ".into(),
            body: "Send it back.\n\n".into(),
            tags: vec!["Returns".into(), "returns".into(), " ".into(), "refund".into()],
            locale: "EN".into(),
            collection: " Orders ".into(),
            status: ArticleStatus::Published,
            new: true,
        };
        let n = ok.normalized().unwrap();
        assert_eq!((n.title.as_str(), n.body.as_str(), n.locale.as_str()), ("Returns", "Send it back.", "en"));
        assert_eq!(n.tags, ["returns", "refund"]);
        assert_eq!(n.collection, "Orders");
        let refused = |f: &dyn Fn(&mut SaveArticle), why: &str| {
            let mut s = ok.clone();
            f(&mut s);
            let e = s.normalized().unwrap_err();
            assert!(e.contains(why), "{e}");
        };
        refused(&|s| s.key = "Bad Key".into(), "key");
        refused(&|s| s.title = " ".into(), "title");
        refused(&|s| s.body = "x".repeat(MAX_ARTICLE_BODY + 1), "longer");
        refused(&|s| s.tags = (0..21).map(|i| i.to_string()).collect(), "tags");
        refused(&|s| s.locale = "english!".into(), "language tag");
        refused(&|s| s.body = " ".into(), "published");
    }

    #[test]
    fn a_file_reads_back_as_written() {
        let a = article("First line.\n\n## More\n\n- one\n- two", ArticleStatus::Published);
        let file = to_file(&a);
        let back = parse_file("return-an-item", &file).unwrap();
        assert_eq!(back.title, a.title);
        assert_eq!(back.body, a.body);
        assert_eq!(back.tags, a.tags);
        assert_eq!(back.status, ArticleStatus::Published);
        let cases = [
            ("no front matter", "title: x\n", "does not start"),
            ("unclosed", "---\ntitle: x\n", "closing"),
            ("unknown key", "---\ntitle: x\nauthor: me\n---\nx", "author"),
            ("bad status", "---\ntitle: x\nstatus: live\n---\nx", "draft or published"),
        ];
        for (what, text, why) in cases {
            let e = parse_file("k", text).unwrap_err();
            assert!(e.contains(why), "{what}: {e}");
        }
        let quoted = parse_file("k", "\u{feff}---\r\ntitle: \"Quoted: yes\"\r\ntags: [a, 'b']\r\n---\r\nBody").unwrap();
        assert_eq!((quoted.title.as_str(), quoted.tags.len(), quoted.body.as_str()), ("Quoted: yes", 2, "Body"));
    }

    #[test]
    fn html_never_carries_markup_or_scripts_from_the_body() {
        let cases = [
            ("<script>alert(1)</script>", "&lt;script&gt;"),
            ("[x](javascript:alert(1))", "<a href=\"\">x</a>"),
            ("![cat](https://e.com/c.png)", "<a href=\"https://e.com/c.png\">cat</a>"),
            ("**bold** and [ok](https://e.com)", "<strong>bold</strong> and <a href=\"https://e.com\">ok</a>"),
            ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"),
        ];
        for (md, want) in cases {
            let html = render_html(md);
            assert!(html.contains(want), "{md} → {html}");
            assert!(!html.contains("<script") && !html.contains("<img"), "{html}");
        }
    }

    #[test]
    fn plain_text_and_summary_drop_the_markdown() {
        let md =
            "You have **30 days** to [return it](https://n.example/returns).\n\n## Steps\n\n1. Pack it\n2. Ship it";
        assert_eq!(
            plain_text(md),
            "You have 30 days to return it (https://n.example/returns).\n\nSteps\n\n- Pack it\n- Ship it"
        );
        assert_eq!(summary(md), "You have 30 days to return it.");
        assert_eq!(summary("## Only a heading"), "");
        let long = "word ".repeat(100);
        let s = summary(&long);
        assert!(s.chars().count() <= MAX_SUMMARY && s.ends_with('…'), "{s}");
    }

    #[test]
    fn insertion_suits_the_channel() {
        let linked = article("Send it back within **30 days**.", ArticleStatus::Published);
        let draft = article("Send it back within **30 days**.", ArticleStatus::Draft);
        let cases = [
            (ChannelKind::Sms, &linked, "Send it back within 30 days."),
            (ChannelKind::Webchat, &linked, "How do I return an item?: https://h/help/articles/return-an-item"),
            (ChannelKind::Email, &linked, "How do I return an item?: https://h/help/articles/return-an-item"),
            (ChannelKind::Email, &draft, "Send it back within 30 days."),
        ];
        for (channel, a, want) in cases {
            assert_eq!(insertion(a, default_insert(channel), "https://h/"), want, "{channel:?}");
        }
    }
}
