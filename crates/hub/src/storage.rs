//! Where the hub keeps files (email attachments): a directory, one file per blob, named
//! by an unguessable key (128 random bits), written whole before it is named (a crash
//! leaves no half file under a key) and read as a stream. The database keeps only what a
//! file is (its name, type, size, digest and message), never its bytes.

use rand::RngCore;
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

/// Why a file cannot be kept or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    #[error("no file under that key")]
    NotFound,
    #[error("the file store cannot {action}: {source}")]
    Io { action: &'static str, source: std::io::Error },
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

/// The files of one hub (or of several, on a shared directory).
#[derive(Debug, Clone)]
pub struct Storage {
    dir: PathBuf,
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

impl Storage {
    /// Files under `dir`, created when the first file is kept.
    pub fn new(dir: impl Into<PathBuf>) -> Storage {
        Storage { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, key: &str) -> Result<PathBuf, StorageError> {
        if !valid_key(key) {
            return Err(StorageError::NotFound);
        }
        Ok(self.dir.join(&key[..2]).join(key))
    }

    /// Keeps `data` under `key`: written to a temporary file, flushed to disk, then renamed.
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
    pub async fn put_stream<S, E>(&self, key: &str, mut chunks: S, limit: u64) -> Result<Streamed, StorageError>
    where
        S: futures_util::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        use futures_util::StreamExt;
        use sha2::Digest;
        let path = self.path(key)?;
        let io = |action| move |source| StorageError::Io { action, source };
        let parent = path.parent().unwrap_or(&self.dir);
        tokio::fs::create_dir_all(parent).await.map_err(io("create its directory"))?;
        let tmp = parent.join(format!(".{key}.{}.part", new_key()));
        let mut f = tokio::fs::File::create(&tmp).await.map_err(io("create a file"))?;
        let mut digest = sha2::Sha256::new();
        let mut head = Vec::new();
        let mut size: u64 = 0;
        let outcome = loop {
            let chunk = match chunks.next().await {
                None => break None,
                Some(Ok(c)) => c,
                Some(Err(e)) => break Some(Streamed::Broken(e.to_string())),
            };
            size += chunk.len() as u64;
            if size > limit {
                break Some(Streamed::TooLarge);
            }
            let room = switchboard_protocol::files::SNIFF_BYTES.saturating_sub(head.len());
            head.extend_from_slice(&chunk[..room.min(chunk.len())]);
            digest.update(&chunk);
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
        Ok(Streamed::Kept { size, sha256: hex::encode(digest.finalize()), head })
    }

    /// Forgets the file under `key` (a file already gone is no error).
    pub async fn remove(&self, key: &str) -> Result<(), StorageError> {
        let path = self.path(key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(StorageError::Io { action: "remove a file", source }),
        }
    }

    /// The file under `key`, opened for reading, and its size.
    pub async fn open(&self, key: &str) -> Result<(tokio::fs::File, u64), StorageError> {
        let path = self.path(key)?;
        let f = tokio::fs::File::open(&path).await.map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => StorageError::NotFound,
            _ => StorageError::Io { action: "open a file", source: e },
        })?;
        let len = f.metadata().await.map_err(|source| StorageError::Io { action: "read a file's size", source })?.len();
        Ok((f, len))
    }

    /// The whole file under `key`.
    pub async fn read(&self, key: &str) -> Result<Vec<u8>, StorageError> {
        let path = self.path(key)?;
        tokio::fs::read(&path).await.map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => StorageError::NotFound,
            _ => StorageError::Io { action: "read a file", source: e },
        })
    }
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
        let (_, len) = s.open(&key).await.unwrap();
        assert_eq!(len, 14);
        assert!(matches!(s.read("../hub.db").await, Err(StorageError::NotFound)));
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("files").join(&key[..2]))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(leftovers, vec![key], "no temporary file is left behind");
    }
}
