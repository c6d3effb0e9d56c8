//! Where the hub keeps files (attachments): a local directory (the default), or a bucket of
//! an S3-compatible service (through `object_store`), chosen by configuration. Each file
//! is named by an unguessable key (128 random bits) and is whole before it has a name: in
//! a directory it is written to a temporary file, flushed and renamed; in a bucket it goes
//! up in 5 MiB parts of a multipart upload that only a completed upload turns into an
//! object, so a hub killed mid-upload leaves no half file under any key. Files are streamed
//! in and out, never held whole in memory. The database keeps only what a file is (its
//! name, type, size, digest and message), never its bytes; several hubs share a bucket
//! (or one shared directory).

use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use object_store::{ObjectStore, ObjectStoreExt};
use rand::RngCore;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;

/// Why a file cannot be kept or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    #[error("no file under that key")]
    NotFound,
    #[error("the file store cannot {action}: {source}")]
    Io { action: &'static str, source: std::io::Error },
    #[error("the bucket cannot {action}: {reason}")]
    Bucket { action: &'static str, reason: String },
    #[error("the file store is not usable: {0}")]
    Unusable(String),
}

/// What became of a streamed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Streamed {
    /// Kept whole: its size, digest and first bytes.
    Kept { size: u64, sha256: String, head: Vec<u8> },
    /// Longer than the limit: nothing is kept.
    TooLarge,
    /// The sender's stream broke off: nothing is kept.
    Broken(String),
}

/// A kept file opened for reading: its size, and its bytes as they arrive.
pub struct Opened {
    pub size: u64,
    pub body: BoxStream<'static, std::io::Result<bytes::Bytes>>,
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened").field("size", &self.size).finish_non_exhaustive()
    }
}

/// A bucket of an S3-compatible service, as the hub's settings name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    pub name: String,
    /// The service's address; `None`: AWS's own for `region`.
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
}

/// The size of each part of an upload to a bucket (S3's least, but for the last).
pub const PART_BYTES: usize = 5 * 1024 * 1024;
/// Parts of one upload in flight at once.
const PARTS_IN_FLIGHT: usize = 2;

/// The files of one hub (or of several, on a shared directory or bucket).
#[derive(Clone)]
pub struct Storage {
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    Dir(PathBuf),
    Bucket {
        store: Arc<dyn ObjectStore>,
        name: String,
    },
    /// Settings that name a store the hub cannot use: every file fails, and says why.
    Unusable(Arc<str>),
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

/// A new blob key: 32 lower-case hex digits.
pub fn new_key() -> String {
    let mut k = [0u8; 16];
    rand::rng().fill_bytes(&mut k);
    hex::encode(k)
}

/// Whether `key` is one [`new_key`] makes (and so safe as a file name).
pub fn valid_key(key: &str) -> bool {
    key.len() == 32 && key.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn bucket_error(action: &'static str) -> impl Fn(object_store::Error) -> StorageError {
    move |e| match e {
        object_store::Error::NotFound { .. } => StorageError::NotFound,
        other => StorageError::Bucket { action, reason: other.to_string() },
    }
}

impl Storage {
    /// Files under `dir`, created when the first file is kept.
    pub fn new(dir: impl Into<PathBuf>) -> Storage {
        Storage { backend: Backend::Dir(dir.into()) }
    }

    /// Files in `bucket`. Calls that fail are tried again twice, within ten seconds, before
    /// the hub answers that the file store is unavailable.
    pub fn bucket(bucket: &Bucket) -> Result<Storage, StorageError> {
        let mut b = object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(&bucket.name)
            .with_region(&bucket.region)
            .with_virtual_hosted_style_request(false)
            .with_retry(object_store::RetryConfig {
                max_retries: 2,
                retry_timeout: std::time::Duration::from_secs(10),
                ..Default::default()
            })
            .with_client_options(
                object_store::ClientOptions::new()
                    .with_connect_timeout(std::time::Duration::from_secs(5))
                    .with_timeout(std::time::Duration::from_secs(60)),
            );
        if let Some(e) = &bucket.endpoint {
            b = b.with_endpoint(e).with_allow_http(e.starts_with("http://"));
        }
        if let Some(k) = &bucket.access_key_id {
            b = b.with_access_key_id(k);
        }
        if let Some(k) = &bucket.secret_access_key {
            b = b.with_secret_access_key(k);
        }
        let store = b.build().map_err(|e| StorageError::Unusable(e.to_string()))?;
        Ok(Storage { backend: Backend::Bucket { store: Arc::new(store), name: bucket.name.clone() } })
    }

    /// A store that refuses every file with `why` (settings that could not be used).
    pub fn unusable(why: impl Into<String>) -> Storage {
        Storage { backend: Backend::Unusable(why.into().into()) }
    }

    /// Whether the store can be used: a bucket answers a signed request for a key (that no
    /// file has) with "not found", not a refusal or silence.
    pub async fn check(&self) -> Result<(), StorageError> {
        match &self.backend {
            Backend::Dir(_) => Ok(()),
            Backend::Bucket { store, .. } => {
                match store.head(&object_store::path::Path::from("switchboard-check")).await {
                    Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                    Err(e) => Err(bucket_error("be reached")(e)),
                }
            }
            Backend::Unusable(why) => Err(StorageError::Unusable(why.to_string())),
        }
    }

    /// The store as a log line names it.
    pub fn describe(&self) -> String {
        match &self.backend {
            Backend::Dir(d) => format!("the directory {}", d.display()),
            Backend::Bucket { name, .. } => format!("the bucket {name}"),
            Backend::Unusable(why) => format!("no usable file store ({why})"),
        }
    }

    /// The directory files are kept in, when they are kept in one.
    pub fn dir(&self) -> Option<&Path> {
        match &self.backend {
            Backend::Dir(d) => Some(d),
            _ => None,
        }
    }

    fn path(dir: &Path, key: &str) -> Result<PathBuf, StorageError> {
        if !valid_key(key) {
            return Err(StorageError::NotFound);
        }
        Ok(dir.join(&key[..2]).join(key))
    }

    fn object(key: &str) -> Result<object_store::path::Path, StorageError> {
        if !valid_key(key) {
            return Err(StorageError::NotFound);
        }
        Ok(object_store::path::Path::from(format!("{}/{key}", &key[..2])))
    }

    /// Keeps `data` under `key`, whole or not at all.
    pub async fn put(&self, key: &str, data: &[u8]) -> Result<(), StorageError> {
        let mut one =
            futures_util::stream::iter([Ok::<_, std::convert::Infallible>(bytes::Bytes::copy_from_slice(data))]);
        match self.put_stream(key, &mut one, u64::MAX).await? {
            Streamed::Kept { .. } => Ok(()),
            Streamed::TooLarge | Streamed::Broken(_) => Err(StorageError::Io {
                action: "write a file",
                source: std::io::Error::other("the file was cut short"),
            }),
        }
    }

    /// Keeps the bytes `chunks` yields under `key`, as [`Storage::put`] does, without
    /// holding them whole: at most `limit` bytes (more is [`Streamed::TooLarge`], and
    /// nothing is kept). Returns the size, the SHA-256 digest and the first
    /// [`switchboard_protocol::files::SNIFF_BYTES`], by which the file's type is told.
    pub async fn put_stream<S, E>(&self, key: &str, chunks: S, limit: u64) -> Result<Streamed, StorageError>
    where
        S: futures_util::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        match &self.backend {
            Backend::Dir(dir) => put_in_dir(dir, key, chunks, limit).await,
            Backend::Bucket { store, .. } => put_in_bucket(store.as_ref(), key, chunks, limit).await,
            Backend::Unusable(why) => Err(StorageError::Unusable(why.to_string())),
        }
    }

    /// Forgets the file under `key` (a file already gone is no error).
    pub async fn remove(&self, key: &str) -> Result<(), StorageError> {
        match &self.backend {
            Backend::Dir(dir) => match tokio::fs::remove_file(Storage::path(dir, key)?).await {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(source) => Err(StorageError::Io { action: "remove a file", source }),
            },
            Backend::Bucket { store, .. } => match store.delete(&Storage::object(key)?).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(bucket_error("remove a file")(e)),
            },
            Backend::Unusable(why) => Err(StorageError::Unusable(why.to_string())),
        }
    }

    /// The file under `key`, opened for reading as a stream.
    pub async fn open(&self, key: &str) -> Result<Opened, StorageError> {
        match &self.backend {
            Backend::Dir(dir) => {
                let f = tokio::fs::File::open(Storage::path(dir, key)?).await.map_err(|e| match e.kind() {
                    std::io::ErrorKind::NotFound => StorageError::NotFound,
                    _ => StorageError::Io { action: "open a file", source: e },
                })?;
                let size = f
                    .metadata()
                    .await
                    .map_err(|source| StorageError::Io { action: "read a file's size", source })?
                    .len();
                Ok(Opened { size, body: tokio_util::io::ReaderStream::new(f).boxed() })
            }
            Backend::Bucket { store, .. } => {
                let got = store.get(&Storage::object(key)?).await.map_err(bucket_error("read a file"))?;
                let size = got.meta.size;
                let body = got.into_stream().map(|r| r.map_err(std::io::Error::other)).boxed();
                Ok(Opened { size, body })
            }
            Backend::Unusable(why) => Err(StorageError::Unusable(why.to_string())),
        }
    }

    /// The whole file under `key` (a file a provider send carries).
    pub async fn read(&self, key: &str) -> Result<Vec<u8>, StorageError> {
        match &self.backend {
            Backend::Dir(dir) => tokio::fs::read(Storage::path(dir, key)?).await.map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => StorageError::NotFound,
                _ => StorageError::Io { action: "read a file", source: e },
            }),
            Backend::Bucket { store, .. } => {
                let got = store.get(&Storage::object(key)?).await.map_err(bucket_error("read a file"))?;
                Ok(got.bytes().await.map_err(bucket_error("read a file"))?.to_vec())
            }
            Backend::Unusable(why) => Err(StorageError::Unusable(why.to_string())),
        }
    }
}

/// What a stream has shown so far: its size, digest and first bytes.
struct Tally {
    size: u64,
    digest: sha2::Sha256,
    head: Vec<u8>,
}

impl Tally {
    fn new() -> Tally {
        Tally { size: 0, digest: <sha2::Sha256 as sha2::Digest>::new(), head: Vec::new() }
    }

    /// Counts `chunk`; false when it takes the size past `limit`.
    fn add(&mut self, chunk: &[u8], limit: u64) -> bool {
        self.size += chunk.len() as u64;
        if self.size > limit {
            return false;
        }
        let room = switchboard_protocol::files::SNIFF_BYTES.saturating_sub(self.head.len());
        self.head.extend_from_slice(&chunk[..room.min(chunk.len())]);
        sha2::Digest::update(&mut self.digest, chunk);
        true
    }

    fn kept(self) -> Streamed {
        Streamed::Kept { size: self.size, sha256: hex::encode(sha2::Digest::finalize(self.digest)), head: self.head }
    }
}

async fn put_in_dir<S, E>(dir: &Path, key: &str, mut chunks: S, limit: u64) -> Result<Streamed, StorageError>
where
    S: futures_util::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let path = Storage::path(dir, key)?;
    let io = |action| move |source| StorageError::Io { action, source };
    let parent = path.parent().unwrap_or(dir);
    tokio::fs::create_dir_all(parent).await.map_err(io("create its directory"))?;
    let tmp = parent.join(format!(".{key}.{}.part", new_key()));
    let mut f = tokio::fs::File::create(&tmp).await.map_err(io("create a file"))?;
    let mut tally = Tally::new();
    let outcome = loop {
        let chunk = match chunks.next().await {
            None => break None,
            Some(Ok(c)) => c,
            Some(Err(e)) => break Some(Streamed::Broken(e.to_string())),
        };
        if !tally.add(&chunk, limit) {
            break Some(Streamed::TooLarge);
        }
        if let Err(source) = f.write_all(&chunk).await {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(StorageError::Io { action: "write a file", source });
        }
    };
    if let Some(refused) = outcome {
        drop(f);
        let _ = tokio::fs::remove_file(&tmp).await;
        return Ok(refused);
    }
    if let Err(source) = f.sync_all().await {
        let _ = tokio::fs::remove_file(&tmp).await;
        return Err(StorageError::Io { action: "write a file", source });
    }
    tokio::fs::rename(&tmp, &path).await.map_err(io("name a file"))?;
    Ok(tally.kept())
}

/// A file up to one part goes in one request; a longer one as a multipart upload, a part
/// at a time, completed only once the last byte is in (and abandoned otherwise: S3 keeps
/// no object for an upload never completed).
async fn put_in_bucket<S, E>(
    store: &dyn ObjectStore,
    key: &str,
    mut chunks: S,
    limit: u64,
) -> Result<Streamed, StorageError>
where
    S: futures_util::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let path = Storage::object(key)?;
    let mut tally = Tally::new();
    let mut first: Vec<u8> = Vec::new();
    let mut upload: Option<object_store::WriteMultipart> = None;
    let refused = loop {
        let chunk = match chunks.next().await {
            None => break None,
            Some(Ok(c)) => c,
            Some(Err(e)) => break Some(Streamed::Broken(e.to_string())),
        };
        if !tally.add(&chunk, limit) {
            break Some(Streamed::TooLarge);
        }
        match upload.as_mut() {
            Some(w) => {
                w.wait_for_capacity(PARTS_IN_FLIGHT).await.map_err(bucket_error("write a file"))?;
                w.write(&chunk);
            }
            None => {
                first.extend_from_slice(&chunk);
                if first.len() >= PART_BYTES {
                    let parts = store.put_multipart(&path).await.map_err(bucket_error("start an upload"))?;
                    let mut w = object_store::WriteMultipart::new_with_chunk_size(parts, PART_BYTES);
                    w.write(&std::mem::take(&mut first));
                    upload = Some(w);
                }
            }
        }
    };
    if let Some(refused) = refused {
        if let Some(w) = upload {
            // Best effort: an upload never completed makes no object either way.
            if let Err(e) = w.abort().await {
                tracing::debug!("an abandoned upload could not be aborted: {e}");
            }
        }
        return Ok(refused);
    }
    match upload {
        Some(w) => {
            w.finish().await.map_err(bucket_error("finish an upload"))?;
        }
        None => {
            store.put(&path, first.into()).await.map_err(bucket_error("write a file"))?;
        }
    }
    Ok(tally.kept())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_hex_and_nothing_else_names_a_file() {
        let (a, b) = (new_key(), new_key());
        assert!(valid_key(&a) && valid_key(&b) && a != b);
        for bad in ["", "12", "../../etc/passwd", &"A".repeat(32), &"g".repeat(32), &"0".repeat(33), "0/1"] {
            assert!(!valid_key(bad), "{bad}");
        }
    }

    #[tokio::test]
    async fn a_streamed_file_is_kept_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::new(dir.path().join("files"));
        let chunks = |parts: Vec<&'static [u8]>| {
            futures_util::stream::iter(parts.into_iter().map(|p| Ok::<_, std::io::Error>(bytes::Bytes::from_static(p))))
        };
        let key = new_key();
        let kept = s.put_stream(&key, chunks(vec![b"%PDF-", b"1.7 body"]), 13).await.unwrap();
        let Streamed::Kept { size, sha256, head } = kept else { panic!("{kept:?}") };
        assert_eq!((size, head.as_slice()), (13, &b"%PDF-1.7 body"[..]));
        assert_eq!(sha256, hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b"%PDF-1.7 body")));
        assert_eq!(s.read(&key).await.unwrap(), b"%PDF-1.7 body");

        let big = new_key();
        assert_eq!(s.put_stream(&big, chunks(vec![b"0123456789", b"0123"]), 13).await.unwrap(), Streamed::TooLarge);
        assert!(matches!(s.open(&big).await, Err(StorageError::NotFound)));
        let broken = futures_util::stream::iter(vec![
            Ok(bytes::Bytes::from_static(b"part")),
            Err(std::io::Error::other("connection reset")),
        ]);
        let cut = new_key();
        assert!(matches!(s.put_stream(&cut, broken, 100).await.unwrap(), Streamed::Broken(_)));
        assert!(matches!(s.open(&cut).await, Err(StorageError::NotFound)));
        let left: Vec<_> = std::fs::read_dir(dir.path().join("files").join(&big[..2]))
            .map(|d| d.map(|e| e.unwrap().file_name().into_string().unwrap()).collect())
            .unwrap_or_default();
        assert!(left.iter().all(|n| !n.ends_with(".part")), "{left:?}");
        s.remove(&key).await.unwrap();
        s.remove(&key).await.unwrap();
        assert!(matches!(s.open(&key).await, Err(StorageError::NotFound)));
    }

    #[tokio::test]
    async fn files_are_kept_whole_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::new(dir.path().join("files"));
        let key = new_key();
        assert!(matches!(s.open(&key).await, Err(StorageError::NotFound)));
        s.put(&key, b"%PDF-1.4 hello").await.unwrap();
        assert_eq!(s.read(&key).await.unwrap(), b"%PDF-1.4 hello");
        assert_eq!(s.open(&key).await.unwrap().size, 14);
        assert!(matches!(s.read("../hub.db").await, Err(StorageError::NotFound)));
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("files").join(&key[..2]))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(leftovers, vec![key], "no temporary file is left behind");
    }
}
