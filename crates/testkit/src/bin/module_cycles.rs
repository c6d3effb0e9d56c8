//! `module-cycles CRATE_DIR...`: lists the circles among each crate's sibling modules
//! (see `switchboard_testkit::layering`) and fails when there is one.
//!
//! `cargo run -p switchboard-testkit --bin module-cycles -- crates/core crates/hub`

use std::path::Path;
use std::process::ExitCode;
use switchboard_testkit::layering::{cycles, read_crate};

fn main() -> ExitCode {
    let dirs: Vec<String> = std::env::args().skip(1).collect();
    if dirs.is_empty() {
        eprintln!("usage: module-cycles CRATE_DIR...");
        return ExitCode::from(2);
    }
    let mut found = 0;
    for dir in &dirs {
        let src = Path::new(dir).join("src");
        let root = if src.join("lib.rs").is_file() { src.join("lib.rs") } else { src.join("main.rs") };
        let graph = match read_crate(&root) {
            Ok(g) => g,
            Err(e) => {
                eprintln!("{dir}: {e}");
                return ExitCode::from(2);
            }
        };
        let circles = cycles(&graph);
        println!(
            "{dir}: {} modules, {} references, {} circles",
            graph.modules.len(),
            graph.references.len(),
            circles.len()
        );
        for c in &circles {
            print!("{c}");
        }
        found += circles.len();
    }
    if found == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
