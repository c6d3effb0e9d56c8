//! The hub's OpenAPI description against the hub itself: it is OpenAPI 3.1; it describes
//! exactly the routes the sources of `src/api` declare, less those `UNDOCUMENTED` lists with
//! the reason; every `$ref` in it names a schema it holds; and a hub on 127.0.0.1 serves the
//! same document at `GET /openapi.json`.
#![allow(clippy::unwrap_used)]

mod common;

use common::{open, serve, sqlite_db};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use switchboard_hub::api::openapi::{self, UNDOCUMENTED};
use switchboard_hub::config::Config;

/// The methods an OpenAPI path item holds, as axum's method routers are named.
const METHODS: [&str; 8] = ["get", "post", "put", "patch", "delete", "head", "options", "trace"];

/// What a route's method router may call besides the methods: layers, which add none.
const NOT_METHODS: [&str; 2] = ["layer", "route_layer"];

fn document() -> Value {
    serde_json::from_str(&openapi::json()).unwrap()
}

/// The tail of a call whose opening parenthesis is already behind `text`: everything up to
/// its closing parenthesis (string literals skipped).
fn rest_of_call(text: &str) -> &str {
    let mut depth = 1;
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                while let Some((_, c)) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                if depth == 0 {
                    return &text[..i];
                }
            }
            _ => {}
        }
    }
    panic!("a call that does not close: {text:.80}")
}

/// The calls at the top level of a method-router expression (`get(a).post(b).layer(…)`), by
/// name: `get`, `post`, `layer`.
fn top_level_calls(expr: &str) -> Vec<String> {
    let mut calls = Vec::new();
    let mut depth = 0;
    let mut ident = String::new();
    let mut chars = expr.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '(' => {
                if depth == 0 && !ident.is_empty() {
                    calls.push(std::mem::take(&mut ident));
                }
                depth += 1;
            }
            '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            _ => {}
        }
        if c.is_alphanumeric() || c == '_' {
            ident.push(c);
        } else {
            ident.clear();
        }
    }
    calls
}

/// Every (METHOD, path) that a `.route("PATH", METHOD(…)[.METHOD(…)…])` in `src/api` declares.
fn routed() -> BTreeSet<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    assert!(files.len() > 5, "no sources in {}", dir.display());
    let mut routes = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        // Comment lines are prose, not routes.
        let code: Vec<&str> = text.lines().filter(|l| !l.trim_start().starts_with("//")).collect();
        let code = code.join("\n");
        let mut rest = code.as_str();
        const ROUTE: &str = ".route(\"";
        while let Some(at) = rest.find(ROUTE) {
            rest = &rest[at + ROUTE.len()..];
            let end = rest.find('"').unwrap();
            let path = rest[..end].to_owned();
            rest = &rest[end + 1..];
            let router = rest_of_call(rest);
            let mut methods = Vec::new();
            for call in top_level_calls(router) {
                if METHODS.contains(&call.as_str()) {
                    methods.push(call);
                } else {
                    assert!(
                        NOT_METHODS.contains(&call.as_str()),
                        "{}: the route `{path}` calls `{call}`, which this test cannot read as methods",
                        file.display()
                    );
                }
            }
            assert!(!methods.is_empty(), "{}: the route `{path}` names no method", file.display());
            for m in methods {
                assert!(routes.insert((m.to_uppercase(), path.clone())), "{m} {path} is routed twice");
            }
        }
    }
    routes
}

/// Every (METHOD, path) the document describes.
fn described(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys().filter(|k| METHODS.contains(&k.as_str())) {
            ops.insert((method.to_uppercase(), path.clone()));
        }
    }
    ops
}

fn references<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r),
                    _ => references(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, out)),
        _ => {}
    }
}

#[test]
fn the_document_is_openapi_3_1_with_the_three_bearer_schemes() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "Switchboard hub API");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(doc.get("servers").is_none(), "the hub does not know where it is reached");
    for name in ["session", "api_key", "visitor"] {
        let scheme = &doc["components"]["securitySchemes"][name];
        assert_eq!(scheme["type"], "http", "{name}");
        assert_eq!(scheme["scheme"], "bearer", "{name}");
        assert!(scheme["description"].as_str().is_some_and(|d| !d.is_empty()), "{name}");
    }
}

#[test]
fn the_document_describes_every_route_but_those_undocumented() {
    let routed = routed();
    let described = described(&document());
    let mut left_out = BTreeSet::new();
    for (method, path, why) in UNDOCUMENTED {
        assert!(!why.trim().is_empty(), "{method} {path} is left out without a reason");
        assert!(left_out.insert((method.to_uppercase(), (*path).to_owned())), "{method} {path} is listed twice");
    }
    let stale: Vec<_> = left_out.difference(&routed).collect();
    assert!(stale.is_empty(), "UNDOCUMENTED lists routes the router does not have: {stale:?}");
    let both: Vec<_> = left_out.intersection(&described).collect();
    assert!(both.is_empty(), "described although UNDOCUMENTED: {both:?}");
    let expected: BTreeSet<_> = routed.difference(&left_out).cloned().collect();
    let missing: Vec<_> = expected.difference(&described).collect();
    let unrouted: Vec<_> = described.difference(&expected).collect();
    assert!(
        missing.is_empty() && unrouted.is_empty(),
        "routed but not described (annotate the handler and list it in api/openapi.rs, or list it in \
         UNDOCUMENTED): {missing:?}\ndescribed but not routed: {unrouted:?}"
    );
}

#[test]
fn every_operation_has_a_tag_a_unique_id_and_its_answers() {
    let doc = document();
    let tags: BTreeSet<&str> = doc["tags"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    let schemes: BTreeSet<&str> =
        doc["components"]["securitySchemes"].as_object().unwrap().keys().map(String::as_str).collect();
    let mut ids = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap().iter().filter(|(k, _)| METHODS.contains(&k.as_str())) {
            let at = format!("{method} {path}");
            let op_tags = op["tags"].as_array().unwrap();
            assert_eq!(op_tags.len(), 1, "{at}: {op_tags:?}");
            assert!(tags.contains(op_tags[0].as_str().unwrap()), "{at}: an undeclared tag");
            let id = op["operationId"].as_str().unwrap();
            if let Some(other) = ids.insert(id.to_owned(), at.clone()) {
                panic!("{at} and {other} are both `{id}`");
            }
            assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()), "{at}: no summary");
            let answers = op["responses"].as_object().unwrap();
            assert!(answers.keys().any(|s| s.starts_with('2') || s == "101"), "{at}: no success answer");
            for requirement in op.get("security").and_then(Value::as_array).into_iter().flatten() {
                for name in requirement.as_object().unwrap().keys() {
                    assert!(schemes.contains(name.as_str()), "{at}: no security scheme `{name}`");
                }
            }
        }
    }
}

#[test]
fn every_reference_names_a_schema_of_the_document() {
    let doc = document();
    let mut refs = Vec::new();
    references(&doc, &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("`{r}` points outside the document"));
        assert!(pointer.starts_with("/components/schemas/"), "`{r}` is not a schema");
        assert!(doc.pointer(pointer).is_some(), "`{r}` names no schema of the document");
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    // The WebSockets' frames, which the sockets' descriptions name.
    for name in ["StreamFrame", "VisitorFrame", "ApiError", "Change"] {
        assert!(schemas.contains_key(name), "no schema `{name}`");
    }
    // A schema named after a Rust type is a field the derive did not see through (an `Id` or
    // `Timestamp` without its `value_type`).
    for name in ["i64", "i32", "u64", "u32", "usize", "String", "bool"] {
        assert!(!schemas.contains_key(name), "a schema is named `{name}`");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_serves_the_same_document() {
    let db = sqlite_db();
    let hub = serve(open(&db), Config::default()).await;
    let resp = reqwest::get(format!("{}/openapi.json", hub.base)).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let served: Value = resp.json().await.unwrap();
    assert_eq!(served, document());
}
