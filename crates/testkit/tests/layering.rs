//! No crate of the workspace has modules that import each other in a circle: each concern
//! has one home, and the arrows between homes go one way.

use std::path::Path;
use switchboard_testkit::layering::{cycles, read_crate};

fn assert_acyclic(crate_dir: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(crate_dir).join("src");
    let root = if root.join("lib.rs").is_file() { root.join("lib.rs") } else { root.join("main.rs") };
    let graph = read_crate(&root).unwrap_or_else(|e| panic!("{crate_dir}: {e}"));
    assert!(graph.modules.len() > 3, "{crate_dir}: read only {} modules", graph.modules.len());
    let circles: Vec<String> = cycles(&graph).iter().map(ToString::to_string).collect();
    assert!(circles.is_empty(), "{crate_dir} has modules that import each other:\n{}", circles.concat());
}

#[test]
fn the_console_core_has_no_module_cycle() {
    assert_acyclic("crates/core");
}

#[test]
fn the_hub_has_no_module_cycle() {
    assert_acyclic("crates/hub");
}

#[test]
fn the_protocol_has_no_module_cycle() {
    assert_acyclic("crates/protocol");
}

#[test]
fn the_desktop_shell_has_no_module_cycle() {
    assert_acyclic("src-tauri");
}
