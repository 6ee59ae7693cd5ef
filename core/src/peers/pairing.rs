//! Pairing two desks once, by a one-time code a person reads on one desk and types on the
//! other. SPAKE2 over the code gives both desks one key that a listener cannot learn and a
//! guesser gets one try at; each desk then sends its certificate under a MAC with that
//! key, so each learns the other's real certificate, to pin for every later connection.
//!
//! The exchange (plain TCP; nothing secret or personal travels): the joining desk sends
//! its SPAKE2 message, the showing desk answers with its own, then each sends
//! [`Confirm`] (joining desk first). A wrong code fails the MAC: the showing desk voids the
//! code and both say so.

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use spake2::{Ed25519Group, Identity, Password, Spake2};
use tokio::net::{TcpListener, TcpStream};
use zeroize::Zeroizing;

use super::{wire, PeerError};

/// How long a code shown on a desk can be used.
pub const CODE_MINUTES: u32 = 5;
/// The most one step of the exchange may take.
const STEP: Duration = Duration::from_secs(10);

/// A fresh code: 8 random digits.
pub fn new_code() -> Zeroizing<String> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the OS's random numbers");
    let n = u64::from_le_bytes(bytes) % 100_000_000;
    Zeroizing::new(format!("{n:08}"))
}

/// A code as typed: digits only (spaces and dashes a person adds are dropped, full-width
/// digits read as digits).
pub fn normalise_code(typed: &str) -> Result<Zeroizing<String>, PeerError> {
    use unicode_normalization::UnicodeNormalization;
    let digits: String = typed.nfkc().filter(|c| !matches!(c, ' ' | '-')).collect();
    if digits.len() == 8 && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(Zeroizing::new(digits))
    } else {
        Err(PeerError::CodeInvalid)
    }
}

/// What a desk tells the other about itself once the code is proven.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeskCard {
    pub desk: String,
    /// The name staff gave the desk (受付1), shown on the other desks.
    pub name: String,
    /// Its certificate (DER, hex): pinned by the other desk.
    pub cert: String,
    /// Where it listens for the other desks.
    pub port: u16,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
enum PairMsg {
    Spake { msg: String },
    Confirm { card: DeskCard, mac: String },
}

/// The other desk, proven by the code: its card and the address it paired from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paired {
    pub card: DeskCard,
    pub address: std::net::IpAddr,
}

const HOST: &[u8] = b"tsunagi-pairing showing desk";
const JOIN: &[u8] = b"tsunagi-pairing joining desk";

fn mac(key: &[u8], side: &[u8], card: &DeskCard) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(side);
    m.update(&serde_json::to_vec(card).expect("a card is plain data"));
    hex::encode(m.finalize().into_bytes())
}

fn verify(key: &[u8], side: &[u8], card: &DeskCard, tag: &str) -> Result<(), PeerError> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(side);
    m.update(&serde_json::to_vec(card).expect("a card is plain data"));
    let tag = hex::decode(tag).map_err(|_| PeerError::CodeWrong)?;
    m.verify_slice(&tag).map_err(|_| PeerError::CodeWrong)
}

async fn step<T>(
    f: impl std::future::Future<Output = Result<T, PeerError>>,
) -> Result<T, PeerError> {
    tokio::time::timeout(STEP, f)
        .await
        .map_err(|_| PeerError::Protocol("the other desk stopped answering".into()))?
}

/// Show `code` and wait (until `within`) for one desk to pair with it. The first desk that
/// connects gets the one try: a wrong code voids it.
pub async fn host(
    listener: &TcpListener,
    code: &str,
    me: &DeskCard,
    within: Duration,
) -> Result<Paired, PeerError> {
    let (mut stream, from) = tokio::time::timeout(within, listener.accept())
        .await
        .map_err(|_| PeerError::CodeExpired {
            minutes: CODE_MINUTES,
        })?
        .map_err(|e| PeerError::Listen {
            address: listener
                .local_addr()
                .map(|a| a.to_string())
                .unwrap_or_default(),
            reason: e.to_string(),
        })?;
    let (state, outbound) = Spake2::<Ed25519Group>::start_a(
        &Password::new(code.as_bytes()),
        &Identity::new(JOIN),
        &Identity::new(HOST),
    );
    let PairMsg::Spake { msg } = step(wire::read(&mut stream)).await? else {
        return Err(PeerError::Protocol("pairing out of order".into()));
    };
    step(wire::write(
        &mut stream,
        &PairMsg::Spake {
            msg: hex::encode(outbound),
        },
    ))
    .await?;
    let theirs = hex::decode(msg).map_err(|e| PeerError::Protocol(e.to_string()))?;
    let key = Zeroizing::new(state.finish(&theirs).map_err(|_| PeerError::CodeWrong)?);
    let PairMsg::Confirm { card, mac: tag } = step(wire::read(&mut stream)).await? else {
        return Err(PeerError::Protocol("pairing out of order".into()));
    };
    verify(&key, JOIN, &card, &tag)?;
    check_card(&card, me)?;
    step(wire::write(
        &mut stream,
        &PairMsg::Confirm {
            card: me.clone(),
            mac: mac(&key, HOST, me),
        },
    ))
    .await?;
    Ok(Paired {
        card,
        address: from.ip(),
    })
}

/// Pair with the desk showing `code` at `address`.
pub async fn join(address: &str, code: &str, me: &DeskCard) -> Result<Paired, PeerError> {
    let unreachable = |e: std::io::Error| PeerError::Unreachable {
        address: address.to_owned(),
        reason: e.to_string(),
    };
    let mut stream = tokio::time::timeout(STEP, TcpStream::connect(address))
        .await
        .map_err(|_| unreachable(std::io::ErrorKind::TimedOut.into()))?
        .map_err(unreachable)?;
    let from = stream.peer_addr().map_err(unreachable)?;
    let (state, outbound) = Spake2::<Ed25519Group>::start_b(
        &Password::new(code.as_bytes()),
        &Identity::new(JOIN),
        &Identity::new(HOST),
    );
    step(wire::write(
        &mut stream,
        &PairMsg::Spake {
            msg: hex::encode(outbound),
        },
    ))
    .await?;
    let PairMsg::Spake { msg } = step(wire::read(&mut stream)).await? else {
        return Err(PeerError::Protocol("pairing out of order".into()));
    };
    let theirs = hex::decode(msg).map_err(|e| PeerError::Protocol(e.to_string()))?;
    let key = Zeroizing::new(state.finish(&theirs).map_err(|_| PeerError::CodeWrong)?);
    step(wire::write(
        &mut stream,
        &PairMsg::Confirm {
            card: me.clone(),
            mac: mac(&key, JOIN, me),
        },
    ))
    .await?;
    // A wrong code: the showing desk hangs up without its card.
    let PairMsg::Confirm { card, mac: tag } = step(wire::read(&mut stream))
        .await
        .map_err(|_| PeerError::CodeWrong)?
    else {
        return Err(PeerError::Protocol("pairing out of order".into()));
    };
    verify(&key, HOST, &card, &tag)?;
    check_card(&card, me)?;
    Ok(Paired {
        card,
        address: from.ip(),
    })
}

fn check_card(card: &DeskCard, me: &DeskCard) -> Result<(), PeerError> {
    if !super::is_desk_id(&card.desk) || card.desk == me.desk {
        return Err(PeerError::Protocol("the other desk's id".into()));
    }
    if hex::decode(&card.cert).map_or(true, |c| c.is_empty()) || card.name.chars().count() > 40 {
        return Err(PeerError::Protocol("the other desk's card".into()));
    }
    Ok(())
}
