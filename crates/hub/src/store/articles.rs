//! The knowledge base: saving and deleting articles (leads and admins), refusing a save
//! that would overwrite a change its console has not seen, keeping every version, the
//! full-text index on each engine (SQLite FTS5 ranked by bm25 over terms stemmed in the
//! article's language; PostgreSQL's text search in the language's configuration, ranked
//! by `ts_rank`, every word before any), search, and what customers did with articles.

use super::canned::overwrites_unseen;
use super::change_kind::ChangeKind;
use super::db::{placeholders, Connection, DbError, Engine, Row, Value};
use super::entities::emit_public;
use super::pool::WriteTx;
use super::{Result, Store, StoreError};
use crate::params;
use crate::policy::{self, Viewer};
use switchboard_protocol::articles::{
    self as kb, Article, ArticleHit, ArticleStatus, ArticleVersion, DeleteArticle, SaveArticle,
};
use switchboard_protocol::mutation::Outcome;
use switchboard_protocol::sync::Change;
use switchboard_protocol::{ErrorCode, Id, Timestamp};

/// The most articles a knowledge base holds.
pub const MAX_ARTICLES: i64 = 50_000;
/// The most hits one search answers.
pub const MAX_HITS: usize = 20;

const COLUMNS: &str = "id, key, title, body, tags, locale, collection, status, updated_by, updated_at, version";

fn article(r: &Row) -> Result<Article, DbError> {
    Ok(Article {
        id: r.int(0)?,
        key: r.text(1)?.to_owned(),
        title: r.text(2)?.to_owned(),
        body: r.text(3)?.to_owned(),
        tags: r.json(4)?,
        locale: r.text(5)?.to_owned(),
        collection: r.text(6)?.to_owned(),
        status: ArticleStatus::parse(r.text(7)?).unwrap_or_default(),
        updated_by: r.opt_int(8)?,
        updated_at: r.int(9)?,
        version: r.int(10)?,
    })
}

/// Every article, by collection and title.
pub fn all(c: &mut dyn Connection) -> Result<Vec<Article>> {
    let rows = c.query(&format!("SELECT {COLUMNS} FROM articles ORDER BY collection, title, id"), &[])?;
    Ok(rows.iter().map(article).collect::<Result<Vec<_>, _>>()?)
}

pub fn by_key(c: &mut dyn Connection, key: &str) -> Result<Option<Article>> {
    let row = c.query_opt(&format!("SELECT {COLUMNS} FROM articles WHERE key = ?"), params![key])?;
    Ok(row.as_ref().map(article).transpose()?)
}

pub fn by_id(c: &mut dyn Connection, id: Id) -> Result<Option<Article>> {
    let row = c.query_opt(&format!("SELECT {COLUMNS} FROM articles WHERE id = ?"), params![id])?;
    Ok(row.as_ref().map(article).transpose()?)
}

/// The PostgreSQL text-search configuration for a language (each is built into the server),
/// `simple` (no stemming) for the others.
pub fn pg_config(locale: &str) -> &'static str {
    match kb::language(locale) {
        "en" => "english",
        "fr" => "french",
        "es" => "spanish",
        "de" => "german",
        "it" => "italian",
        "pt" => "portuguese",
        "nl" => "dutch",
        "sv" => "swedish",
        "no" | "nb" | "nn" => "norwegian",
        "da" => "danish",
        "fi" => "finnish",
        "ru" => "russian",
        "ro" => "romanian",
        "hu" => "hungarian",
        "tr" => "turkish",
        "ar" => "arabic",
        "el" => "greek",
        _ => "simple",
    }
}

/// Writes the article's entry in the full-text index.
fn index(c: &mut dyn Connection, id: Id, s: &SaveArticle) -> Result<()> {
    let tags = s.tags.join(" ");
    match c.engine() {
        Engine::Sqlite => {
            c.execute("DELETE FROM article_search WHERE rowid = ?", params![id])?;
            c.execute(
                "INSERT INTO article_search (rowid, title, tags, body) VALUES (?, ?, ?, ?)",
                params![
                    id,
                    kb::index_text(&s.locale, &s.title),
                    kb::index_text(&s.locale, &tags),
                    kb::index_text(&s.locale, &kb::plain_text(&s.body))
                ],
            )?;
        }
        Engine::Postgres => {
            let cfg = pg_config(&s.locale);
            c.execute(
                "UPDATE articles SET search = \
                 setweight(to_tsvector(CAST(CAST(? AS TEXT) AS regconfig), ?), 'A') || \
                 setweight(to_tsvector(CAST(CAST(? AS TEXT) AS regconfig), ?), 'B') || \
                 setweight(to_tsvector(CAST(CAST(? AS TEXT) AS regconfig), ?), 'C') WHERE id = ?",
                params![cfg, &s.title, cfg, tags, cfg, kb::plain_text(&s.body), id],
            )?;
        }
    }
    Ok(())
}

/// The ids of the articles best matching `question` in `locale`'s language, best first:
/// published ones only unless `drafts`. With `as_typed`, its last word may be unfinished.
pub fn search(
    c: &mut dyn Connection,
    locale: &str,
    question: &str,
    as_typed: bool,
    drafts: bool,
    limit: usize,
) -> Result<Vec<Id>> {
    let lang = kb::language(locale).to_owned();
    let limit = i64::try_from(limit.min(MAX_HITS)).unwrap_or(5);
    let status = if drafts { "" } else { " AND a.status = 'published'" };
    let rows = match c.engine() {
        Engine::Sqlite => {
            let Some(q) = kb::fts_query(locale, question, as_typed) else { return Ok(Vec::new()) };
            c.query(
                &format!(
                    "SELECT a.id FROM article_search s JOIN articles a ON a.id = s.rowid \
                     WHERE article_search MATCH ? AND (a.locale = ? OR a.locale LIKE ?){status} \
                     ORDER BY bm25(article_search, 5.0, 3.0, 1.0), a.id LIMIT ?"
                ),
                params![q, &lang, format!("{lang}-%"), limit],
            )?
        }
        Engine::Postgres => {
            // Articles holding every word first (few, so few to rank), then those holding
            // any, as far as the limit.
            let Some(all) = pg_query(question, as_typed, " & ") else { return Ok(Vec::new()) };
            let sql = format!(
                "SELECT a.id FROM articles a, to_tsquery(CAST(CAST(? AS TEXT) AS regconfig), ?) q \
                 WHERE a.search @@ q AND (a.locale = ? OR a.locale LIKE ?){status} \
                 ORDER BY ts_rank(a.search, q, 1) DESC, a.id LIMIT ?"
            );
            let cfg = pg_config(locale);
            let mut rows = c.query(&sql, params![cfg, all, &lang, format!("{lang}-%"), limit])?;
            let any = pg_query(question, as_typed, " | ").unwrap_or_default();
            if rows.len() < usize::try_from(limit).unwrap_or(0) && any.contains('|') {
                let found: Vec<i64> = rows.iter().map(|r| r.int(0)).collect::<Result<_, _>>()?;
                for r in c.query(&sql, params![cfg, any, &lang, format!("{lang}-%"), limit])? {
                    if !found.contains(&r.int(0)?) && rows.len() < usize::try_from(limit).unwrap_or(0) {
                        rows.push(r);
                    }
                }
            }
            rows
        }
    };
    Ok(rows.iter().map(|r| r.int(0)).collect::<Result<Vec<_>, _>>()?)
}

/// A `to_tsquery` text joining the question's words with `op` (`" & "`: every one, `" | "`:
/// any; the server stems them and drops its stop words); the last one as a prefix when it
/// may be unfinished. The words are letters and digits only, so nothing in the question is
/// read as query syntax.
fn pg_query(question: &str, as_typed: bool, op: &str) -> Option<String> {
    let words = kb::words(question, kb::MAX_QUERY_WORDS);
    if words.is_empty() {
        return None;
    }
    let unfinished = as_typed && question.ends_with(|c: char| c.is_alphanumeric());
    let last = words.len() - 1;
    let parts: Vec<String> = words
        .iter()
        .enumerate()
        .map(|(i, w)| if unfinished && i == last { format!("{w}:*") } else { w.clone() })
        .collect();
    Some(parts.join(op))
}

/// The articles with `ids` as hits, in that order, their pages under `base`.
pub fn hits(c: &mut dyn Connection, ids: &[Id], base: Option<&str>) -> Result<Vec<ArticleHit>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let values: Vec<Value> = ids.iter().map(|&i| Value::from(i)).collect();
    let rows =
        c.query(&format!("SELECT {COLUMNS} FROM articles WHERE id IN ({})", placeholders(ids.len())), &values)?;
    let found = rows.iter().map(article).collect::<Result<Vec<_>, _>>()?;
    Ok(ids.iter().filter_map(|id| found.iter().find(|a| a.id == *id)).map(|a| ArticleHit::of(a, base)).collect())
}

/// The console that last saved the article, for the conflict check.
fn last_client(c: &mut dyn Connection, id: Id) -> Result<Option<String>> {
    Ok(c.query_one("SELECT updated_client FROM articles WHERE id = ?", params![id])?.opt_text(0)?.map(str::to_owned))
}

fn keep_version(tx: &mut WriteTx<'_>, a: &Article) -> Result<()> {
    let tags = serde_json::to_string(&a.tags).map_err(|e| StoreError::BadRequest(e.to_string()))?;
    tx.conn.execute(
        "INSERT INTO article_versions (article_id, version, title, body, tags, locale, collection, status, updated_by, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params![a.id, a.version, &a.title, &a.body, tags, &a.locale, &a.collection, a.status.as_str(), a.updated_by, a.updated_at],
    )?;
    Ok(())
}

/// Creates or changes the article with the save's key, keeping the version, indexing it
/// and telling every console. With `expected` (the version the editor opened) the save is
/// refused with a conflict when another console changed it since, and with `not_found`
/// when it was deleted since; a `new` article is refused when its key is taken.
pub fn save(tx: &mut WriteTx<'_>, v: &Viewer, client: &str, s: &SaveArticle, expected: Option<i64>) -> Result<Outcome> {
    policy::may_edit_articles(v).map_err(|d| StoreError::denied(d, "article"))?;
    let s = s.normalized().map_err(StoreError::BadRequest)?;
    let stored = by_key(tx.conn, &s.key)?;
    let tags = serde_json::to_string(&s.tags).map_err(|e| StoreError::BadRequest(e.to_string()))?;
    // The command line's import is nobody's.
    let by = (v.agent_id > 0).then_some(v.agent_id);
    let id = match &stored {
        Some(a) => {
            if s.new {
                return Err(StoreError::BadRequest(format!(
                    "the address “{}” is taken by “{}”; choose another title",
                    s.key, a.title
                )));
            }
            let last = last_client(tx.conn, a.id)?;
            if overwrites_unseen(expected, a.version, last.as_deref(), client) {
                return Err(StoreError::Conflict(Box::new(Change::Article(a.clone()))));
            }
            tx.conn.execute(
                "UPDATE articles SET title = ?, body = ?, tags = ?, locale = ?, collection = ?, status = ?, \
                 updated_by = ?, updated_client = ?, updated_at = ?, version = version + 1 WHERE id = ?",
                params![&s.title, &s.body, tags, &s.locale, &s.collection, s.status.as_str(), by, client, tx.now, a.id],
            )?;
            a.id
        }
        None if expected.is_some() => {
            return Err(StoreError::Refused(
                ErrorCode::NotFound,
                "the article was deleted since it was opened; saving it again creates it".into(),
            ))
        }
        None => {
            if tx.conn.query_int("SELECT COUNT(*) FROM articles", &[])? >= MAX_ARTICLES {
                return Err(StoreError::BadRequest(format!(
                    "the knowledge base holds at most {MAX_ARTICLES} articles"
                )));
            }
            tx.conn.query_int(
                "INSERT INTO articles (key, title, body, tags, locale, collection, status, updated_by, updated_client, \
                 updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1) RETURNING id",
                params![&s.key, &s.title, &s.body, tags, &s.locale, &s.collection, s.status.as_str(), by, client, tx.now],
            )?
        }
    };
    index(tx.conn, id, &s)?;
    let saved = by_id(tx.conn, id)?.ok_or(StoreError::NotFound("article"))?;
    keep_version(tx, &saved)?;
    emit_public(tx, ChangeKind::Article, id, &Change::Article(saved));
    Ok(Outcome::Applied)
}

/// Deletes the article with the key, its history and its index entry. Deleting one
/// already gone is done; with `expected`, a change made since by another console is a
/// conflict.
pub fn delete(
    tx: &mut WriteTx<'_>,
    v: &Viewer,
    client: &str,
    d: &DeleteArticle,
    expected: Option<i64>,
) -> Result<Outcome> {
    policy::may_edit_articles(v).map_err(|d| StoreError::denied(d, "article"))?;
    if !kb::valid_key(d.key.trim()) {
        return Err(StoreError::BadRequest("that is not an article's key".into()));
    }
    let Some(a) = by_key(tx.conn, d.key.trim())? else { return Ok(Outcome::Applied) };
    let last = last_client(tx.conn, a.id)?;
    if overwrites_unseen(expected, a.version, last.as_deref(), client) {
        return Err(StoreError::Conflict(Box::new(Change::Article(a))));
    }
    tx.conn.execute("DELETE FROM articles WHERE id = ?", params![a.id])?;
    tx.conn.execute("DELETE FROM article_versions WHERE article_id = ?", params![a.id])?;
    if tx.conn.engine() == Engine::Sqlite {
        tx.conn.execute("DELETE FROM article_search WHERE rowid = ?", params![a.id])?;
    }
    emit_public(tx, ChangeKind::Article, a.id, &Change::ArticleRemoved { id: a.id });
    Ok(Outcome::Applied)
}

/// What a customer did with an article.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    View,
    Helpful,
    NotHelpful,
    Offered,
    Deflected,
}

impl Use {
    pub fn as_str(self) -> &'static str {
        match self {
            Use::View => "view",
            Use::Helpful => "helpful",
            Use::NotHelpful => "not_helpful",
            Use::Offered => "offered",
            Use::Deflected => "deflected",
        }
    }
}

/// Records one use of an article (for the reports), in the team it happened for if any.
pub fn record_use(c: &mut dyn Connection, article_id: Id, what: Use, team_id: Option<Id>, at: Timestamp) -> Result<()> {
    c.execute(
        "INSERT INTO article_events (article_id, kind, team_id, at) VALUES (?, ?, ?, ?)",
        params![article_id, what.as_str(), team_id, at],
    )?;
    Ok(())
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Imported {
    pub created: usize,
    pub changed: usize,
    pub unchanged: usize,
}

impl Store {
    /// Searches published articles (drafts too with `drafts`) for the help centre, the
    /// widget and the bot: hits best first, their pages under `base`.
    pub async fn search_articles(
        &self,
        locale: String,
        question: String,
        as_typed: bool,
        drafts: bool,
        limit: usize,
        base: Option<String>,
    ) -> Result<Vec<ArticleHit>> {
        if question.len() > 1_000 {
            return Err(StoreError::BadRequest("the question is longer than 1000 bytes".into()));
        }
        self.pool()
            .read(move |c| {
                let ids = search(c, &locale, &question, as_typed, drafts, limit)?;
                hits(c, &ids, base.as_deref())
            })
            .await
    }

    /// The published article with `key`, for the help centre.
    pub async fn published_article(&self, key: String) -> Result<Option<Article>> {
        self.pool().read(move |c| Ok(by_key(c, &key)?.filter(|a| a.status == ArticleStatus::Published))).await
    }

    /// Every published article, for the help centre's index.
    pub async fn published_articles(&self) -> Result<Vec<Article>> {
        self.pool().read(|c| Ok(all(c)?.into_iter().filter(|a| a.status == ArticleStatus::Published).collect())).await
    }

    /// Every article, drafts included (for export).
    pub async fn articles(&self) -> Result<Vec<Article>> {
        self.pool().read(all).await
    }

    /// The saved versions of an article, newest first, with who saved each.
    pub async fn article_versions(&self, id: Id) -> Result<Vec<ArticleVersion>> {
        self.pool()
            .read(move |c| {
                let rows = c.query(
                    "SELECT v.version, v.title, v.body, v.tags, v.locale, v.collection, v.status, v.updated_by, a.name, v.updated_at \
                     FROM article_versions v LEFT JOIN agents a ON a.id = v.updated_by WHERE v.article_id = ? \
                     ORDER BY v.version DESC LIMIT 200",
                    params![id],
                )?;
                if rows.is_empty() && by_id(c, id)?.is_none() {
                    return Err(StoreError::NotFound("article"));
                }
                rows.iter()
                    .map(|r| {
                        Ok(ArticleVersion {
                            version: r.int(0)?,
                            title: r.text(1)?.to_owned(),
                            body: r.text(2)?.to_owned(),
                            tags: r.json(3)?,
                            locale: r.text(4)?.to_owned(),
                            collection: r.text(5)?.to_owned(),
                            status: ArticleStatus::parse(r.text(6)?).unwrap_or_default(),
                            updated_by: r.opt_int(7)?,
                            updated_by_name: r.opt_text(8)?.map(str::to_owned),
                            updated_at: r.int(9)?,
                        })
                    })
                    .collect()
            })
            .await
    }

    /// Records that a reader of the help centre read an article, or said it helped.
    pub async fn article_used(&self, id: Id, what: Use) -> Result<()> {
        self.pool()
            .write(move |tx| {
                if by_id(tx.conn, id)?.is_none_or(|a| a.status != ArticleStatus::Published) {
                    return Err(StoreError::NotFound("article"));
                }
                record_use(tx.conn, id, what, None, tx.now)
            })
            .await
    }

    /// Counts a visitor's question answered by an article before they wrote, once per
    /// visitor and article.
    pub async fn deflected(&self, visitor_id: Id, article_id: Id) -> Result<()> {
        self.pool()
            .write(move |tx| {
                if by_id(tx.conn, article_id)?.is_none_or(|a| a.status != ArticleStatus::Published) {
                    return Err(StoreError::NotFound("article"));
                }
                let new = tx.conn.execute(
                    "INSERT INTO deflections (visitor_id, article_id, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    params![visitor_id, article_id, tx.now],
                )?;
                if new > 0 {
                    record_use(tx.conn, article_id, Use::Deflected, None, tx.now)?;
                }
                Ok(())
            })
            .await
    }

    /// Saves the articles of a folder as `v` (an admin's or lead's import; `None`: the
    /// command line): each file creates its article or changes it when its text differs.
    pub async fn import_articles(&self, v: Viewer, saves: Vec<SaveArticle>) -> Result<Imported> {
        self.pool()
            .write(move |tx| {
                let mut done = Imported::default();
                for s in &saves {
                    let s = s.normalized().map_err(|e| StoreError::BadRequest(format!("{}: {e}", s.key)))?;
                    match by_key(tx.conn, &s.key)? {
                        Some(a)
                            if a.title == s.title
                                && a.body == s.body
                                && a.tags == s.tags
                                && a.locale == s.locale
                                && a.collection == s.collection
                                && a.status == s.status =>
                        {
                            done.unchanged += 1;
                            continue;
                        }
                        Some(_) => done.changed += 1,
                        None => done.created += 1,
                    }
                    save(tx, &v, "import", &SaveArticle { new: false, ..s }, None)?;
                }
                Ok(done)
            })
            .await
    }
}
