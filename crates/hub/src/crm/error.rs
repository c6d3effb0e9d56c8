//! Why a CRM call failed, worded for agents, and whether trying again later can help.

use std::time::Duration;

/// Why a CRM call failed. The message is what agents read in the sidebar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CrmError {
    #[error("{0} refused the credentials ({1}); an admin must update the CRM token")]
    Unauthorized(&'static str, String),
    #[error("{0} asked to slow down; trying again in {1} s")]
    RateLimited(&'static str, u64),
    #[error("{0} is not available ({1})")]
    Unavailable(&'static str, String),
    #[error("{0} did not answer within {1} ms")]
    Timeout(&'static str, u64),
    #[error("{0} refused the request: {1}")]
    Refused(&'static str, String),
    #[error("{0} answered something unexpected: {1}")]
    BadAnswer(&'static str, String),
    #[error("the CRM connector is misconfigured: {0}")]
    Config(String),
}

impl CrmError {
    /// Worth trying again later (the CRM may come back), as opposed to a refusal.
    pub fn is_transient(&self) -> bool {
        matches!(self, CrmError::RateLimited(..) | CrmError::Unavailable(..) | CrmError::Timeout(..))
    }

    /// How long a 429 asked to wait.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            CrmError::RateLimited(_, secs) => Some(Duration::from_secs(*secs)),
            _ => None,
        }
    }
}
