//! The core's errors: a closed enum whose every case maps to the protocol's `{code, message}`
//! at the boundary, so the front end never matches on text. A full disk is its own case,
//! whichever file filled it, so the agent reads "the disk is full" rather than a database
//! error.

use switchboard_protocol::{ApiError, ErrorCode};

pub type Result<T, E = CoreError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CoreError {
    /// The local cache or outbox failed (permissions, corruption, a lock held too long).
    #[error("local database: {0}")]
    Db(rusqlite::Error),
    /// The disk holding the console's files is full: nothing more can be saved.
    #[error("the disk is full: free some space, then try again")]
    DiskFull,
    /// A file or folder of the console's could not be written or read.
    #[error("cannot {action}: {source}")]
    Io {
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// A local database file cannot be brought to this version's schema.
    #[error("{0}")]
    Schema(String),
    /// The hub could not be reached.
    #[error("the hub cannot be reached: {0}")]
    Offline(String),
    /// The hub answered with an error.
    #[error("{}", .0.message)]
    Hub(ApiError),
    /// The hub answered something this console cannot read.
    #[error("unexpected answer from the hub: {0}")]
    Protocol(String),
    /// The caller asked for something that does not exist in the cache.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The caller's request is malformed (empty reply, unknown outbox item...).
    #[error("{0}")]
    BadRequest(String),
    /// Nothing is synced yet: the console has not signed in to a hub.
    #[error("not signed in")]
    SignedOut,
}

impl CoreError {
    /// The `{code, message}` the front end sees.
    pub fn to_api(&self) -> ApiError {
        let code = match self {
            CoreError::Db(_) | CoreError::Io { .. } | CoreError::Schema(_) | CoreError::Protocol(_) => {
                ErrorCode::Internal
            }
            CoreError::DiskFull | CoreError::Offline(_) => ErrorCode::Unavailable,
            CoreError::Hub(e) => return e.clone(),
            CoreError::NotFound(_) => ErrorCode::NotFound,
            CoreError::BadRequest(_) => ErrorCode::BadRequest,
            CoreError::SignedOut => ErrorCode::Unauthorized,
        };
        ApiError::new(code, self.to_string())
    }

    /// A failed file operation, described by what the console was doing (`"save the
    /// attachment"`); a full disk becomes [`CoreError::DiskFull`].
    pub fn io(action: &'static str) -> impl FnOnce(std::io::Error) -> CoreError {
        move |source| {
            if source.kind() == std::io::ErrorKind::StorageFull {
                CoreError::DiskFull
            } else {
                CoreError::Io { action, source }
            }
        }
    }
}

impl From<rusqlite::Error> for CoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DiskFull) => CoreError::DiskFull,
            _ => CoreError::Db(e),
        }
    }
}

impl From<serde_json::Error> for CoreError {
    fn from(e: serde_json::Error) -> Self {
        CoreError::Protocol(e.to_string())
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        if !matches!(e, CoreError::Hub(_) | CoreError::BadRequest(_) | CoreError::NotFound(_)) {
            tracing::warn!("{e}");
        }
        e.to_api()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_reaches_the_front_end_with_its_code() {
        let full_db = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
            Some("database or disk is full".into()),
        );
        let locked = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY), None);
        let full_disk = std::io::Error::from(std::io::ErrorKind::StorageFull);
        let denied = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        let cases: Vec<(CoreError, ErrorCode, &str)> = vec![
            (full_db.into(), ErrorCode::Unavailable, "the disk is full: free some space, then try again"),
            (CoreError::io("save the attachment")(full_disk), ErrorCode::Unavailable, "the disk is full"),
            (locked.into(), ErrorCode::Internal, "local database: "),
            (CoreError::io("save the attachment")(denied), ErrorCode::Internal, "cannot save the attachment: "),
            (CoreError::Schema("the cache file was written by a newer version".into()), ErrorCode::Internal, "newer"),
            (CoreError::Offline("refused".into()), ErrorCode::Unavailable, "the hub cannot be reached"),
            (CoreError::NotFound("contact"), ErrorCode::NotFound, "contact not found"),
            (CoreError::BadRequest("write something first".into()), ErrorCode::BadRequest, "write something"),
            (CoreError::SignedOut, ErrorCode::Unauthorized, "not signed in"),
        ];
        for (error, code, text) in cases {
            let api = error.to_api();
            assert_eq!(api.code, code, "{error:?}");
            assert!(api.message.starts_with(text) || api.message.contains(text), "{error:?}: {}", api.message);
        }
    }
}
