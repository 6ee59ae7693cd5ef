//! What can go wrong between desks, in words a person can act on.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum PeerError {
    #[error(
        "the pairing code did not match; it is void now: show a new code on the other desk \
         and type it again"
    )]
    CodeWrong,

    #[error("no desk paired with the code within {minutes} minutes; it is void now")]
    CodeExpired { minutes: u32 },

    #[error("a pairing code is 8 digits")]
    CodeInvalid,

    #[error("cannot reach the desk at {address}: {reason}")]
    Unreachable { address: String, reason: String },

    #[error("the other desk answered something this Tsunagi does not understand: {0}")]
    Protocol(String),

    #[error("no paired desk {0}")]
    NotPaired(String),

    #[error(
        "the desk {0} was unpaired from the clinic's desks and cannot be paired again as it \
         is; run `tsunagi-cli start-fresh` on it (a new desk), then pair that"
    )]
    Revoked(String),

    #[error("this desk's key for the other desks cannot be made or used: {0}")]
    Setup(String),

    #[error("cannot listen for other desks on {address}: {reason}")]
    Listen { address: String, reason: String },
}

impl PeerError {
    pub fn code(&self) -> crate::ErrorCode {
        use crate::ErrorCode as C;
        match self {
            PeerError::CodeWrong => C::PeersCodeWrong,
            PeerError::CodeExpired { .. } => C::PeersCodeExpired,
            PeerError::CodeInvalid => C::PeersCodeInvalid,
            PeerError::Unreachable { .. } => C::PeersUnreachable,
            PeerError::Protocol(_) => C::PeersProtocol,
            PeerError::NotPaired(_) => C::PeersNotPaired,
            PeerError::Revoked(_) => C::PeersRevoked,
            PeerError::Listen { .. } => C::PeersListen,
            PeerError::Setup(_) => C::PeersSetup,
        }
    }
}
