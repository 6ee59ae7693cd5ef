//! Why a pull failed, in terms a person can act on. Each kind has a stable code the UI
//! translates (認証エラー, サーバが応答しません, …) and says whether waiting can help.
//! Messages name the server's host and HTTP status, never patient data.

use crate::ErrorCode;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    #[error("the upstream is not set up: {0}")]
    NotConfigured(String),

    #[error("cannot connect to {host}: {reason}")]
    Unreachable { host: String, reason: String },

    #[error(
        "the certificate of {host} cannot be trusted ({reason}); Tsunagi did not connect. \
         Check the server address, or ask whoever runs the server to renew or fix it"
    )]
    Certificate { host: String, reason: String },

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

    #[error(
        "ORCA at {host} answered {api} with Api_Result {code}: {words} (ORCA: {orca_message})"
    )]
    OrcaResult {
        host: String,
        api: &'static str,
        code: String,
        words: String,
        orca_message: String,
    },
}

/// A certificate the TLS layer refused, in words an IT helper can act on; `None` when the
/// failure was something else. Certificates are never bypassed: the connection is refused.
pub fn certificate_problem(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    use rustls::CertificateError as C;
    let mut cause = Some(e);
    while let Some(err) = cause {
        // reqwest's connector wraps rustls' error in io::Errors (two deep), whose `source`
        // skips the wrapped error itself.
        let mut inner: &(dyn std::error::Error + 'static) = err;
        while let Some(wrapped) = inner
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            inner = wrapped;
        }
        if let Some(rustls::Error::InvalidCertificate(c)) = inner.downcast_ref::<rustls::Error>() {
            return Some(
                match c {
                    C::Expired | C::ExpiredContext { .. } => "it has expired",
                    C::NotValidYet | C::NotValidYetContext { .. } => "it is not valid yet",
                    C::NotValidForName | C::NotValidForNameContext { .. } => {
                        "it was issued for another server name"
                    }
                    C::UnknownIssuer => "it was not issued by an authority this computer trusts",
                    C::Revoked => "it has been revoked",
                    C::BadSignature | C::BadEncoding => "it is malformed or its signature is bad",
                    _ => "it was refused",
                }
                .to_owned(),
            );
        }
        if err.to_string().to_ascii_lowercase().contains("certificate") {
            return Some(err.to_string());
        }
        cause = err.source();
    }
    None
}

impl SourceError {
    /// A request to `host` that got no answer: a timeout, a refused certificate, or the
    /// innermost cause (refused, reset, unknown host; reqwest's own text repeats the URL).
    pub fn from_transport(host: String, timeout: std::time::Duration, e: &reqwest::Error) -> Self {
        if e.is_timeout() {
            SourceError::Timeout {
                host,
                secs: timeout.as_secs(),
            }
        } else if let Some(reason) = certificate_problem(e) {
            SourceError::Certificate { host, reason }
        } else {
            let mut cause: &dyn std::error::Error = e;
            while let Some(next) = cause.source() {
                cause = next;
            }
            SourceError::Unreachable {
                host,
                reason: cause.to_string(),
            }
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            SourceError::NotConfigured(_) => ErrorCode::SourceNotConfigured,
            SourceError::Unreachable { .. } => ErrorCode::SourceUnreachable,
            SourceError::Certificate { .. } => ErrorCode::SourceCertificate,
            SourceError::Timeout { .. } => ErrorCode::SourceTimeout,
            SourceError::Auth { .. } => ErrorCode::SourceAuth,
            SourceError::Server { .. } => ErrorCode::SourceServer,
            SourceError::Rejected { .. } => ErrorCode::SourceRejected,
            SourceError::NotFhir { .. } => ErrorCode::SourceNotFhir,
            SourceError::Invalid { .. } => ErrorCode::SourceInvalid,
            SourceError::TooLarge { .. } => ErrorCode::SourceTooLarge,
            SourceError::OrcaResult { .. } => ErrorCode::SourceOrcaResult,
        }
    }

    /// Whether the same request may succeed later without anyone changing anything.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            SourceError::Unreachable { .. }
                | SourceError::Timeout { .. }
                | SourceError::Server { .. }
        ) || matches!(self, SourceError::OrcaResult { code, .. } if code == "90")
    }
}
