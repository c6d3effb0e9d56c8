//! A real S3-compatible server on loopback (`@20minutes/s3rver`, from the npm registry,
//! run by `crates/testkit/s3/serve.js`): it checks SigV4 signatures, multipart uploads and
//! presigned links' expiry as S3 does, so the hub's object storage is tested against the
//! wire protocol it speaks in production. Stopped when dropped.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The server's fixed credentials.
pub const ACCESS_KEY: &str = "S3RVER";
pub const SECRET_KEY: &str = "S3RVER";
pub const REGION: &str = "us-east-1";

/// A running server with one bucket.
pub struct S3 {
    child: Child,
    pub endpoint: String,
    pub bucket: String,
    /// Where it keeps objects.
    pub dir: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for S3 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tool_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("s3")
}

/// Starts a server holding the bucket `bucket`. Fails loudly when its npm package is not
/// installed (the test command installs it: `npm ci --prefix crates/testkit/s3`).
pub fn start(bucket: &str) -> S3 {
    let tools = tool_dir();
    assert!(
        tools.join("node_modules/@20minutes/s3rver").exists(),
        "the S3-compatible server is not installed: run `npm ci --prefix {}`",
        tools.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("objects");
    let mut child = Command::new("node")
        .arg(tools.join("serve.js"))
        .arg(&data)
        .arg(bucket)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node runs the S3-compatible server");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let port: u16 = line
        .strip_prefix("listening ")
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("the S3-compatible server did not start: {line:?}"));
    S3 { child, endpoint: format!("http://127.0.0.1:{port}"), bucket: bucket.to_owned(), dir: data, _dir: dir }
}

impl S3 {
    /// The objects the server holds under `bucket` (their keys), read from its own files:
    /// what a finished upload made, and nothing an unfinished one left.
    pub fn objects(&self) -> Vec<String> {
        let root = self.dir.join(&self.bucket);
        let mut found = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(d) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&d) else { continue };
            for e in entries.flatten() {
                let p = e.path();
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with("._S3rver") {
                    continue;
                }
                if p.is_dir() {
                    stack.push(p);
                } else if let Some(key) = name.strip_suffix("._S3rver_object") {
                    let parent = p.parent().unwrap().strip_prefix(&root).unwrap();
                    found.push(parent.join(key).to_string_lossy().into_owned());
                }
            }
        }
        found.sort();
        found
    }
}
