//! Why a pull failed, in terms a person can act on. Each kind has a stable code the UI
//! translates (認証エラー, サーバが応答しません, …) and says whether waiting can help.
//! Messages name the server's host and HTTP status, never patient data.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    #[error("the upstream is not set up: {0}")]
    NotConfigured(String),

    #[error("cannot connect to {host}: {reason}")]
    Unreachable { host: String, reason: String },

    #[error("{host} did not answer within {secs} s")]
    Timeout { host: String, secs: u64 },

    #[error("{host} refused Tsunagi's credentials (HTTP {status})")]
    Auth { host: String, status: u16 },

    #[error("{host} answered HTTP {status} (a problem on the server's side)")]
    Server { host: String, status: u16 },

    #[error("{host} answered HTTP {status}: {outcome}")]
    Rejected {
        host: String,
        status: u16,
        outcome: String,
    },

    #[error(
        "{host} did not answer with FHIR JSON (content type {content_type:?}); \
         a login page or a proxy may be in the way"
    )]
    NotFhir { host: String, content_type: String },

    #[error("the answer from {host} is not valid FHIR: {reason}")]
    Invalid { host: String, reason: String },

    #[error("the answer from {host} is larger than {limit} bytes")]
    TooLarge { host: String, limit: u64 },
}

impl SourceError {
    pub fn code(&self) -> &'static str {
        match self {
            SourceError::NotConfigured(_) => "source.not_configured",
            SourceError::Unreachable { .. } => "source.unreachable",
            SourceError::Timeout { .. } => "source.timeout",
            SourceError::Auth { .. } => "source.auth",
            SourceError::Server { .. } => "source.server",
            SourceError::Rejected { .. } => "source.rejected",
            SourceError::NotFhir { .. } => "source.not_fhir",
            SourceError::Invalid { .. } => "source.invalid",
            SourceError::TooLarge { .. } => "source.too_large",
        }
    }

    /// Whether the same request may succeed later without anyone changing anything.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            SourceError::Unreachable { .. }
                | SourceError::Timeout { .. }
                | SourceError::Server { .. }
        )
    }
}
