//! A knowledge base as a folder of Markdown files, one per article (`<key>.md`, front
//! matter then the body): read for an import, written for an export. The format is
//! [`switchboard_protocol::articles::parse_file`]'s.

use std::path::Path;
use switchboard_protocol::articles::{self as kb, Article, SaveArticle};

/// The most files one import reads.
pub const MAX_FILES: usize = 50_000;
/// The largest file read, in bytes.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Why a folder cannot be imported, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}: {why}")]
    Invalid { path: String, why: String },
    #[error("the folder holds more than {MAX_FILES} articles")]
    TooMany,
}

/// Every `*.md` file of `dir` as a save, in file-name order; other files are skipped.
pub fn read_folder(dir: &Path) -> Result<Vec<SaveArticle>, FolderError> {
    let io = |path: &Path, source| FolderError::Io { path: path.display().to_string(), source };
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "md") && p.is_file())
        .collect();
    if paths.len() > MAX_FILES {
        return Err(FolderError::TooMany);
    }
    paths.sort();
    let mut out = Vec::with_capacity(paths.len());
    for p in paths {
        let invalid = |why: String| FolderError::Invalid { path: p.display().to_string(), why };
        let len = std::fs::metadata(&p).map_err(|e| io(&p, e))?.len();
        if len > MAX_FILE_BYTES {
            return Err(invalid(format!("larger than {MAX_FILE_BYTES} bytes")));
        }
        let key = p.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
        if !kb::valid_key(&key) {
            return Err(invalid("the file's name must be lower-case letters, digits and dashes, then .md".into()));
        }
        let text = std::fs::read_to_string(&p).map_err(|e| io(&p, e))?;
        out.push(kb::parse_file(&key, &text).map_err(invalid)?);
    }
    Ok(out)
}

/// Writes each article to `dir/<key>.md` (creating the folder); returns how many.
pub fn write_folder(dir: &Path, articles: &[Article]) -> Result<usize, FolderError> {
    let io = |path: &Path, source| FolderError::Io { path: path.display().to_string(), source };
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    for a in articles {
        let p = dir.join(format!("{}.md", a.key));
        std::fs::write(&p, kb::to_file(a)).map_err(|e| io(&p, e))?;
    }
    Ok(articles.len())
}
