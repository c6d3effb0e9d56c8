//! The architecture page names real places: every repository path it gives in backticks
//! exists, and the README links it. A move that leaves the page behind fails here.

use std::path::Path;

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// The repository paths a Markdown text gives in backticks (`crates/hub/src/api/`), with
/// any `:line` or `#anchor` cut off.
fn paths_in(markdown: &str) -> Vec<String> {
    const ROOTS: [&str; 8] = ["crates/", "src-tauri/", "ui/", "docs/", "scripts/", "tests/", "icons/", ".ci/"];
    markdown
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|t| ROOTS.iter().any(|r| t.starts_with(r)) && !t.contains(char::is_whitespace))
        .map(|t| t.split([':', '#']).next().unwrap_or(t).trim_end_matches(['.', ',']).to_owned())
        .collect()
}

#[test]
fn every_path_on_the_architecture_page_exists() {
    let page = std::fs::read_to_string(repo().join("docs/architecture.md")).expect("docs/architecture.md exists");
    let paths = paths_in(&page);
    assert!(paths.len() > 30, "the page names only {} places", paths.len());
    let missing: Vec<&String> = paths.iter().filter(|p| !repo().join(p.trim_end_matches('/')).exists()).collect();
    assert!(missing.is_empty(), "docs/architecture.md names paths that do not exist: {missing:?}");
}

#[test]
fn the_readme_links_the_architecture_page() {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README.md exists");
    assert!(readme.contains("](docs/architecture.md)"), "the README links docs/architecture.md");
}

#[test]
fn paths_are_read_from_backticks_only() {
    let text = "See `crates/hub/src/api/` and `crates/core/src/lib.rs:12`, not crates/gone.rs, \
                nor `/api/v1/mutations` or `a b/c`; `ui/src/lib/api.ts#L3`.";
    assert_eq!(paths_in(text), ["crates/hub/src/api/", "crates/core/src/lib.rs", "ui/src/lib/api.ts"]);
}
