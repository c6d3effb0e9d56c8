//! The module-layering check: reads a crate's sources, finds which module refers to which
//! (`crate::…`, `super::…`, `self::…` paths, `use` groups included), and reports every
//! circle among sibling modules. Siblings are modules with the same parent: the crate's
//! top-level modules, the files of one folder. A module may always use its ancestors and
//! its own descendants; test modules (`#[cfg(test)]`) are left out, as they are not part of
//! the design.
//!
//! This reads text, not the compiler's name resolution: a path is attributed to the
//! longest module it names, and glob or re-exported imports count where they are written.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

/// A module's path inside its crate, `[]` for the crate root.
pub type ModPath = Vec<String>;

/// One reference from a module to another, with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub from: ModPath,
    pub to: ModPath,
    pub file: PathBuf,
    pub line: usize,
}

/// The modules of one crate and the references between them.
#[derive(Debug, Default)]
pub struct Graph {
    pub modules: BTreeSet<ModPath>,
    pub references: Vec<Reference>,
}

/// Children of `parent` that import each other in a circle: `tangled` are all the modules
/// that reach each other; `modules` is one circle through them (each refers to the next,
/// the last to the first), and `evidence` names one reference per step of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle {
    pub parent: ModPath,
    pub tangled: Vec<String>,
    pub modules: Vec<String>,
    pub evidence: Vec<Reference>,
}

impl fmt::Display for Cycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parent = if self.parent.is_empty() { "crate".to_owned() } else { self.parent.join("::") };
        writeln!(f, "in `{parent}`, {} reach each other; one circle:", self.tangled.join(", "))?;
        writeln!(f, "    {} -> {}", self.modules.join(" -> "), self.modules[0])?;
        for r in &self.evidence {
            writeln!(f, "    {}:{}: {} uses {}", r.file.display(), r.line, show(&r.from), show(&r.to))?;
        }
        Ok(())
    }
}

fn show(p: &ModPath) -> String {
    if p.is_empty() {
        "crate".to_owned()
    } else {
        p.join("::")
    }
}

/// Why a crate could not be read.
#[derive(Debug)]
pub struct ReadError(pub String);

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ReadError {}

/// Reads the crate whose root file is `root` (`src/lib.rs` or `src/main.rs`).
pub fn read_crate(root: &Path) -> Result<Graph, ReadError> {
    let mut graph = Graph::default();
    let mut files = Vec::new();
    collect(root, Vec::new(), true, &mut graph, &mut files)?;
    for (path, module, text) in files {
        for (to, line) in references(&text, &module) {
            let to = longest_module(&graph.modules, &to);
            graph.references.push(Reference { from: module.clone(), to, file: path.clone(), line });
        }
    }
    Ok(graph)
}

type Source = (PathBuf, ModPath, String);

/// Walks `mod x;` declarations from `file`, which holds `module`.
fn collect(
    file: &Path,
    module: ModPath,
    owns_dir: bool,
    graph: &mut Graph,
    files: &mut Vec<Source>,
) -> Result<(), ReadError> {
    let raw = std::fs::read_to_string(file).map_err(|e| ReadError(format!("{}: {e}", file.display())))?;
    let text = without_tests(&strip(&raw));
    let dir = if owns_dir {
        file.parent().map(Path::to_path_buf).unwrap_or_default()
    } else {
        let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        file.parent().map(|p| p.join(stem)).unwrap_or_default()
    };
    graph.modules.insert(module.clone());
    for child in declared_modules(&text) {
        let flat = dir.join(format!("{child}.rs"));
        let nested = dir.join(&child).join("mod.rs");
        let mut path = module.clone();
        path.push(child.clone());
        if flat.is_file() {
            collect(&flat, path, false, graph, files)?;
        } else if nested.is_file() {
            collect(&nested, path, true, graph, files)?;
        } else {
            return Err(ReadError(format!("{}: module `{child}` has no file", file.display())));
        }
    }
    files.push((file.to_path_buf(), module, text));
    Ok(())
}

/// Source text with comments, string and character literals blanked out (line breaks
/// kept, so that line numbers still hold).
fn strip(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    let blank = |s: &[u8], out: &mut String| {
        for &c in s {
            out.push(if c == b'\n' { '\n' } else { ' ' });
        }
    };
    while i < b.len() {
        let rest = &b[i..];
        if rest.starts_with(b"//") {
            let end = rest.iter().position(|&c| c == b'\n').unwrap_or(rest.len());
            blank(&rest[..end], &mut out);
            i += end;
        } else if rest.starts_with(b"/*") {
            let mut depth = 0;
            let mut j = 0;
            while j < rest.len() {
                if rest[j..].starts_with(b"/*") {
                    depth += 1;
                    j += 2;
                } else if rest[j..].starts_with(b"*/") {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            blank(&rest[..j], &mut out);
            i += j;
        } else if (rest.starts_with(b"r\"") || rest.starts_with(b"r#") || rest.starts_with(b"br\""))
            && !prev_is_ident(b, i)
        {
            let start = if rest[0] == b'b' { 2 } else { 1 };
            let hashes = rest[start..].iter().take_while(|&&c| c == b'#').count();
            if rest.get(start + hashes) != Some(&b'"') {
                out.push(rest[0] as char);
                i += 1;
                continue;
            }
            let close: Vec<u8> = std::iter::once(b'"').chain(std::iter::repeat_n(b'#', hashes)).collect();
            let body = start + hashes + 1;
            let end = rest[body..]
                .windows(close.len())
                .position(|w| w == close.as_slice())
                .map_or(rest.len(), |p| body + p + close.len());
            blank(&rest[..end], &mut out);
            i += end;
        } else if rest[0] == b'"' {
            let mut j = 1;
            while j < rest.len() && rest[j] != b'"' {
                j += if rest[j] == b'\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(rest.len());
            blank(&rest[..end], &mut out);
            i += end;
        } else if rest[0] == b'\'' {
            // A character literal ('a', '\n', '\u{1F600}'), not a lifetime ('a).
            let len = if rest.get(1) == Some(&b'\\') {
                rest[2..].iter().position(|&c| c == b'\'').map(|p| p + 3)
            } else {
                let ch = src[i + 1..].chars().next().map_or(1, char::len_utf8);
                (rest.get(1 + ch) == Some(&b'\'')).then_some(ch + 2)
            };
            match len {
                Some(n) => {
                    blank(&rest[..n], &mut out);
                    i += n;
                }
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            let ch = src[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

fn prev_is_ident(b: &[u8], i: usize) -> bool {
    i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')
}

/// Blanks out every item marked `#[cfg(test)]` (a `mod tests { … }` block, or a
/// `mod tests;` declaration).
fn without_tests(text: &str) -> String {
    let mut out: Vec<u8> = text.as_bytes().to_vec();
    let mut from = 0;
    while let Some(p) = text[from..].find("#[cfg(test)]") {
        let start = from + p;
        let after = start + "#[cfg(test)]".len();
        let body_start = text[after..].find(['{', ';']).map(|q| after + q);
        let end = match body_start {
            Some(q) if text.as_bytes()[q] == b';' => q + 1,
            Some(q) => {
                let mut depth = 0usize;
                let mut end = text.len();
                for (k, c) in text[q..].bytes().enumerate() {
                    match c {
                        b'{' => depth += 1,
                        b'}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = q + k + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                end
            }
            None => text.len(),
        };
        for c in &mut out[start..end] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
        from = end;
    }
    String::from_utf8(out).unwrap_or_default()
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `mod x;` declarations (file modules) in stripped text.
fn declared_modules(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let tokens = tokenize(text);
    for w in tokens.windows(3) {
        if w[0].0 == "mod" && w[1].0.chars().all(is_ident) && w[2].0 == ";" {
            out.push(w[1].0.clone());
        }
    }
    out
}

/// Identifiers, `::` and single punctuation characters, each with its line (1-based).
fn tokenize(text: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut line = 1;
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if is_ident(c) || (c == '$' && chars.get(i + 1).is_some_and(|n| is_ident(*n))) {
            let start = i;
            i += 1;
            while i < chars.len() && is_ident(chars[i]) {
                i += 1;
            }
            out.push((chars[start..i].iter().collect(), line));
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            out.push(("::".to_owned(), line));
            i += 2;
        } else {
            out.push((c.to_string(), line));
            i += 1;
        }
    }
    out
}

/// Every path starting with `crate`, `super` or `self` in `module`'s text, resolved to
/// a path from the crate root, with its line.
fn references(text: &str, module: &ModPath) -> Vec<(ModPath, usize)> {
    let tokens = tokenize(text);
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let t = tokens[i].0.as_str();
        let starts = matches!(t, "crate" | "$crate" | "super" | "self");
        let joined = tokens.get(i + 1).is_some_and(|n| n.0 == "::");
        let continues = i > 0 && tokens[i - 1].0 == "::";
        if starts && joined && !continues {
            let base = match t {
                "crate" | "$crate" => Some(Vec::new()),
                _ => Some(module.clone()),
            };
            if let Some(base) = base {
                i = path_tree(&tokens, i, base, &mut out);
                continue;
            }
        }
        i += 1;
    }
    out
}

/// Reads one path (or `use` tree) from token `i`, pushing each leaf; returns the index
/// after it.
fn path_tree(tokens: &[(String, usize)], mut i: usize, mut base: ModPath, out: &mut Vec<(ModPath, usize)>) -> usize {
    let line = tokens[i].1;
    while let Some((t, _)) = tokens.get(i) {
        match t.as_str() {
            "crate" | "$crate" if base.is_empty() => {}
            "super" => {
                base.pop();
            }
            "self" => {}
            "{" => {
                i += 1;
                loop {
                    match tokens.get(i).map(|t| t.0.as_str()) {
                        None => return i,
                        Some("}") => return i + 1,
                        Some(",") => i += 1,
                        Some(_) => i = path_tree(tokens, i, base.clone(), out),
                    }
                }
            }
            s if s.chars().all(is_ident) => base.push(s.to_owned()),
            _ => break,
        }
        i += 1;
        if tokens.get(i).map(|t| t.0.as_str()) != Some("::") {
            break;
        }
        i += 1;
    }
    out.push((base, line));
    i
}

fn longest_module(modules: &BTreeSet<ModPath>, path: &ModPath) -> ModPath {
    (0..=path.len()).rev().map(|n| path[..n].to_vec()).find(|p| modules.contains(p)).unwrap_or_default()
}

/// The circles among sibling modules of `graph`.
pub fn cycles(graph: &Graph) -> Vec<Cycle> {
    // parent -> (child -> (child -> first reference))
    let mut levels: BTreeMap<ModPath, BTreeMap<String, BTreeMap<String, Reference>>> = BTreeMap::new();
    for r in &graph.references {
        let common = r.from.iter().zip(&r.to).take_while(|(a, b)| a == b).count();
        if common >= r.from.len() || common >= r.to.len() {
            continue; // the same module, an ancestor or a descendant
        }
        let parent = r.from[..common].to_vec();
        let edges = levels.entry(parent).or_default();
        edges.entry(r.from[common].clone()).or_default().entry(r.to[common].clone()).or_insert_with(|| r.clone());
    }
    let mut out = Vec::new();
    for (parent, edges) in levels {
        for component in strongly_connected(&edges) {
            if component.len() < 2 {
                continue;
            }
            let modules = circle(&edges, &component);
            let evidence = modules
                .iter()
                .zip(modules.iter().cycle().skip(1))
                .filter_map(|(a, b)| edges.get(a).and_then(|e| e.get(b)).cloned())
                .collect();
            out.push(Cycle { parent: parent.clone(), tangled: component, modules, evidence });
        }
    }
    out
}

/// Tarjan's strongly connected components.
fn strongly_connected(edges: &BTreeMap<String, BTreeMap<String, Reference>>) -> Vec<Vec<String>> {
    struct State<'a> {
        edges: &'a BTreeMap<String, BTreeMap<String, Reference>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        if let Some(next) = s.edges.get(v) {
            for w in next.keys() {
                if !s.index.contains_key(w.as_str()) {
                    visit(s, w);
                    let lw = s.low[w.as_str()];
                    let lv = s.low[v];
                    s.low.insert(v, lv.min(lw));
                } else if s.on_stack.contains(w.as_str()) {
                    let iw = s.index[w.as_str()];
                    let lv = s.low[v];
                    s.low.insert(v, lv.min(iw));
                }
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            component.sort();
            s.out.push(component);
        }
    }
    let mut s = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.out
}

/// One circle through every module of a strongly connected component (the shortest way
/// back to the first module, found breadth first).
fn circle(edges: &BTreeMap<String, BTreeMap<String, Reference>>, component: &[String]) -> Vec<String> {
    let start = &component[0];
    let inside: BTreeSet<&String> = component.iter().collect();
    let mut came_from: BTreeMap<&String, &String> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for w in edges.get(v).map(|e| e.keys().collect::<Vec<_>>()).unwrap_or_default() {
            if !inside.contains(w) {
                continue;
            }
            if w == start {
                let mut path = vec![v.clone()];
                let mut at = v;
                while at != start {
                    at = came_from[at];
                    path.push(at.clone());
                }
                path.reverse();
                return path;
            }
            if !came_from.contains_key(w) && w != start {
                came_from.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    component.to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, files: &[(&str, &str)]) {
        for (path, text) in files {
            let p = dir.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
    }

    fn names(cycles: &[Cycle]) -> Vec<(String, Vec<String>)> {
        cycles.iter().map(|c| (c.parent.join("::"), c.modules.clone())).collect()
    }

    #[test]
    fn finds_a_circle_between_top_level_modules_through_a_use_group() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            &[
                ("lib.rs", "pub mod cache;\npub mod outbox;\npub mod views;\n"),
                ("cache/mod.rs", "pub mod apply;\n"),
                ("cache/apply.rs", "use crate::{views::x, outbox};\n"),
                ("outbox.rs", "fn f() { crate::cache::apply::g(); }\n"),
                ("views.rs", "pub fn x() {}\n"),
            ],
        );
        let found = cycles(&read_crate(&dir.path().join("lib.rs")).unwrap());
        assert_eq!(names(&found), vec![(String::new(), vec!["cache".to_owned(), "outbox".to_owned()])]);
        assert_eq!(found[0].evidence.len(), 2);
        assert_eq!(found[0].evidence[0].line, 1);
        let text = found[0].to_string();
        assert!(text.contains("cache -> outbox -> cache"), "{text}");
    }

    #[test]
    fn finds_a_circle_inside_a_folder_through_super() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            &[
                ("lib.rs", "mod store;\n"),
                ("store/mod.rs", "mod feed;\nmod ingest;\n"),
                ("store/feed.rs", "use super::ingest::Inbound;\n"),
                ("store/ingest.rs", "\n\nfn f() { super::feed::emit(); }\n"),
            ],
        );
        let found = cycles(&read_crate(&dir.path().join("lib.rs")).unwrap());
        assert_eq!(names(&found), vec![("store".to_owned(), vec!["feed".to_owned(), "ingest".to_owned()])]);
        assert_eq!(found[0].evidence[1].line, 3);
    }

    #[test]
    fn ancestors_descendants_tests_comments_and_strings_make_no_circle() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            &[
                ("lib.rs", "pub mod a;\npub mod b;\nuse crate::a::inner;\n"),
                ("a.rs", "pub mod inner;\nuse crate::b::B;\nuse inner::X;\n"),
                ("a/inner.rs", "use super::super::a;\nuse crate::a::Y;\n"),
                (
                    "b.rs",
                    "// crate::a::x\nconst S: &str = \"crate::a::y\";\nconst R: &str = r#\"crate::a\"#;\n\
                     fn f<'a>(c: char) -> bool { c == '{' }\n\
                     #[cfg(test)]\nmod tests { use crate::a::inner; }\n",
                ),
            ],
        );
        let graph = read_crate(&dir.path().join("lib.rs")).unwrap();
        assert!(cycles(&graph).is_empty(), "{:?}", cycles(&graph));
        assert!(graph.references.iter().any(|r| r.from == ["a"] && r.to == ["b"]));
        assert!(!graph.references.iter().any(|r| r.from == ["b"]), "{:?}", graph.references);
    }

    #[test]
    fn a_missing_module_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &[("lib.rs", "mod gone;\n")]);
        assert!(read_crate(&dir.path().join("lib.rs")).is_err());
    }
}
