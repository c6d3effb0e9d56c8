//! The core's errors: a closed enum whose every case maps to the protocol's `{code, message}`
//! at the boundary, so the front end never matches on text.

use switchboard_protocol::{ApiError, ErrorCode};

pub type Result<T, E = CoreError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CoreError {
    /// The local cache or outbox failed (disk full, permissions, corruption).
    #[error("local database: {0}")]
    Db(#[from] rusqlite::Error),
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
            CoreError::Db(_) | CoreError::Protocol(_) => ErrorCode::Internal,
            CoreError::Offline(_) => ErrorCode::Unavailable,
            CoreError::Hub(e) => return e.clone(),
            CoreError::NotFound(_) => ErrorCode::NotFound,
            CoreError::BadRequest(_) => ErrorCode::BadRequest,
            CoreError::SignedOut => ErrorCode::Unauthorized,
        };
        ApiError::new(code, self.to_string())
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
