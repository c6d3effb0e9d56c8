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
        let path = self.path(key)?;
        let io = |action| move |source| StorageError::Io { action, source };
        let parent = path.parent().unwrap_or(&self.dir);
        tokio::fs::create_dir_all(parent).await.map_err(io("create its directory"))?;
        let tmp = parent.join(format!(".{key}.{}.part", new_key()));
        let mut f = tokio::fs::File::create(&tmp).await.map_err(io("create a file"))?;
        let written = async {
            f.write_all(data).await?;
            f.sync_all().await
        }
        .await;
        if let Err(source) = written {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(StorageError::Io { action: "write a file", source });
        }
        tokio::fs::rename(&tmp, &path).await.map_err(io("name a file"))
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
