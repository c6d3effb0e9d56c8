//! The knowledge base in the console: articles searched offline in the cache's full-text
//! index (each article's terms stemmed in its language, as the hub indexes them, ranked by
//! bm25), a lead's edits not yet confirmed laid over the synced copies, the articles that
//! match a customer's last message, and what a reply gets when the agent inserts one.

use crate::cache::{meta, rows, Cache};
use crate::error::{CoreError, Result};
use crate::outbox;
use rusqlite::{params, Connection, OptionalExtension};
use switchboard_protocol::articles::{self as kb, Article, ArticleHit, ArticleStatus, Insert, SaveArticle};
use switchboard_protocol::console::ArticleEntry;
use switchboard_protocol::model::{Agent, Role};
use switchboard_protocol::mutation::Mutation;
use switchboard_protocol::Id;

/// The most hits a search answers.
pub const MAX_HITS: usize = 50;
/// Articles suggested for a thread.
pub const SUGGESTED: usize = 3;

fn forbidden() -> CoreError {
    CoreError::Hub(switchboard_protocol::ApiError::new(
        switchboard_protocol::ErrorCode::Forbidden,
        "only leads and admins can change the knowledge base",
    ))
}

/// Whether `me` may write and change articles (the hub enforces it again).
pub fn may_edit(me: &Agent) -> bool {
    matches!(me.role, Role::Lead | Role::Admin)
}

/// Every cached article, by collection and title.
fn synced(c: &Connection) -> Result<Vec<Article>> {
    rows::json_rows(c, "SELECT json FROM articles ORDER BY json_extract(json, '$.collection'), title, id", [])
}

fn by_id(c: &Connection, id: Id) -> Result<Option<Article>> {
    let json: Option<String> =
        c.prepare_cached("SELECT json FROM articles WHERE id = ?1")?.query_row([id], |r| r.get(0)).optional()?;
    Ok(json.map(|j| serde_json::from_str(&j)).transpose()?)
}

/// The articles with the lead's unconfirmed edits applied in order: saves shown pending,
/// deletes gone.
pub fn overlay(synced: Vec<Article>, edits: &[(Mutation, i64, bool)], me: Id) -> Vec<ArticleEntry> {
    let mut list: Vec<ArticleEntry> =
        synced.into_iter().map(|article| ArticleEntry { article, pending: false }).collect();
    for (m, at, confirmed) in edits {
        match m {
            Mutation::DeleteArticle(d) => list.retain(|e| e.article.key != d.key),
            Mutation::SaveArticle(s) => {
                let existing = list.iter_mut().find(|e| e.article.key == s.key);
                let (id, version) = existing.as_ref().map_or((0, 0), |e| (e.article.id, e.article.version));
                let article = Article {
                    id,
                    key: s.key.clone(),
                    title: s.title.clone(),
                    body: s.body.clone(),
                    tags: s.tags.clone(),
                    locale: s.locale.clone(),
                    collection: s.collection.clone(),
                    status: s.status,
                    updated_by: Some(me),
                    updated_at: *at,
                    version,
                };
                let entry = ArticleEntry { article, pending: !confirmed };
                match existing {
                    Some(e) => *e = entry,
                    None => list.push(entry),
                }
            }
            _ => {}
        }
    }
    list
}

fn entries(c: &Connection) -> Result<Vec<ArticleEntry>> {
    let me = rows::me(c)?;
    let edits: Vec<(Mutation, i64, bool)> = outbox::unconfirmed_article_edits(c)?
        .into_iter()
        .map(|u| (u.mutation, u.created_at, u.state == switchboard_protocol::console::OutboxState::Acknowledged))
        .collect();
    let mut list = overlay(synced(c)?, &edits, me.id);
    list.sort_by(|a, b| (&a.article.collection, &a.article.title).cmp(&(&b.article.collection, &b.article.title)));
    Ok(list)
}

/// Where customers read articles: the hub's public address, or the one the console
/// reaches it at.
fn base(c: &Connection, hub: &str) -> Result<String> {
    Ok(meta(c, "public_url")?.filter(|u| !u.is_empty()).unwrap_or_else(|| hub.trim_end_matches('/').to_owned()))
}

/// The ids of the cached articles best matching `question`, best first: in each language
/// the knowledge base holds, its terms stemmed in that language.
fn ranked(c: &Connection, question: &str, published_only: bool, as_typed: bool, limit: usize) -> Result<Vec<Id>> {
    let languages: Vec<String> = {
        let mut st = c.prepare_cached("SELECT DISTINCT locale FROM articles")?;
        let rows = st.query_map([], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for l in rows {
            let l = kb::language(&l?).to_owned();
            if !out.contains(&l) {
                out.push(l);
            }
        }
        out
    };
    let status = if published_only { " AND a.status = 'published'" } else { "" };
    let mut found: Vec<(f64, Id)> = Vec::new();
    for lang in &languages {
        let Some(q) = kb::fts_query(lang, question, as_typed) else { continue };
        let mut st = c.prepare_cached(&format!(
            "SELECT bm25(article_search, 5.0, 3.0, 1.0), a.id FROM article_search s JOIN articles a ON a.id = s.rowid \
             WHERE article_search MATCH ?1 AND (a.locale = ?2 OR a.locale LIKE ?3){status} \
             ORDER BY bm25(article_search, 5.0, 3.0, 1.0) LIMIT ?4"
        ))?;
        let rows = st.query_map(params![q, lang, format!("{lang}-%"), limit as i64], |r| {
            Ok((r.get::<_, f64>(0)?, r.get::<_, Id>(1)?))
        })?;
        for r in rows {
            found.push(r?);
        }
    }
    found.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    Ok(found.into_iter().map(|(_, id)| id).take(limit).collect())
}

impl Cache {
    /// Articles for the knowledge-base screen and the composer's `#`: with no words, every
    /// article (edits not yet confirmed included); otherwise the best matches, drafts
    /// included unless `published_only`.
    pub fn articles(&self, question: &str, published_only: bool, hub: &str) -> Result<Vec<ArticleHit>> {
        if question.len() > 1_000 {
            return Err(CoreError::BadRequest("a search is at most 1000 bytes".into()));
        }
        self.read(|c| {
            let base = base(c, hub)?;
            if question.trim().is_empty() {
                return Ok(entries(c)?
                    .iter()
                    .filter(|e| !published_only || e.article.status == ArticleStatus::Published)
                    .map(|e| ArticleHit::of(&e.article, Some(&base)))
                    .collect());
            }
            let mut out = Vec::new();
            for id in ranked(c, question, published_only, true, MAX_HITS)? {
                if let Some(a) = by_id(c, id)? {
                    out.push(ArticleHit::of(&a, Some(&base)));
                }
            }
            Ok(out)
        })
    }

    /// One article, with a lead's unconfirmed edit laid over it.
    pub fn article(&self, key: &str) -> Result<Option<ArticleEntry>> {
        self.read(|c| Ok(entries(c)?.into_iter().find(|e| e.article.key == key)))
    }

    /// Published articles matching the customer's last message in a conversation.
    pub fn suggested_articles(&self, conversation_id: Id, hub: &str) -> Result<Vec<ArticleHit>> {
        self.read(|c| {
            let last: Option<String> = c
                .prepare_cached(
                    "SELECT body FROM messages WHERE conversation_id = ?1 AND direction = 'inbound' ORDER BY id DESC LIMIT 1",
                )?
                .query_row([conversation_id], |r| r.get(0))
                .optional()?;
            let Some(text) = last else { return Ok(Vec::new()) };
            let base = base(c, hub)?;
            let mut out = Vec::new();
            for id in ranked(c, &text, true, false, SUGGESTED)? {
                if let Some(a) = by_id(c, id)? {
                    out.push(ArticleHit::of(&a, Some(&base)));
                }
            }
            Ok(out)
        })
    }

    /// The text inserted into a reply on `conversation_id` for article `article_id`: `how`,
    /// or what suits the conversation's channel.
    pub fn article_insertion(
        &self,
        conversation_id: Id,
        article_id: Id,
        how: Option<Insert>,
        hub: &str,
    ) -> Result<String> {
        self.read(|c| {
            let channel: String = c
                .prepare_cached("SELECT channel FROM conversations WHERE id = ?1")?
                .query_row([conversation_id], |r| r.get(0))
                .optional()?
                .ok_or(CoreError::NotFound("conversation"))?;
            let channel = channel.parse().map_err(CoreError::BadRequest)?;
            let a = by_id(c, article_id)?.ok_or(CoreError::NotFound("article"))?;
            Ok(kb::insertion(&a, how.unwrap_or_else(|| kb::default_insert(channel)), &base(c, hub)?))
        })
    }

    /// A lead's save, checked as the hub checks it; a new article's key is made from its
    /// title, unique among the articles the console knows.
    pub fn check_article_save(&self, mut save: SaveArticle) -> Result<SaveArticle> {
        self.read(|c| {
            if !may_edit(&rows::me(c)?) {
                return Err(forbidden());
            }
            let taken: Vec<String> = entries(c)?.into_iter().map(|e| e.article.key).collect();
            if save.new {
                let stem = kb::key_of(&save.title);
                let mut key = stem.clone();
                let mut n = 2;
                while taken.contains(&key) {
                    key = format!("{stem}-{n}");
                    n += 1;
                }
                save.key = key;
            } else if !taken.contains(&save.key) {
                return Err(CoreError::NotFound("article"));
            }
            save.normalized().map_err(CoreError::BadRequest)
        })
    }

    /// Checks that a lead may delete the article with `key`.
    pub fn check_article_delete(&self, key: &str) -> Result<()> {
        self.read(|c| {
            if !may_edit(&rows::me(c)?) {
                return Err(forbidden());
            }
            if !kb::valid_key(key) {
                return Err(CoreError::BadRequest("that is not an article's key".into()));
            }
            Ok(())
        })
    }
}
