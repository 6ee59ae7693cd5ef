//! The runtime's `peers` component: listens for paired desks, dials them, and keeps one
//! link per paired desk while both run. The desk with the lower id dials; the other
//! accepts (one link per pair, no race between two). Unpairing drops the link at once.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_rustls::{TlsAcceptor, TlsConnector};

use super::discovery::{self, Discovery};
use super::identity::{Pins, TLS_NAME};
use super::PeerError;
use crate::desk::Desk;
use crate::error::Result;

/// How often the paired desks are looked at (new pairings, unpairings, links to dial).
const LOOK: Duration = Duration::from_secs(1);
/// The longest a connection and its handshake may take.
const CONNECT: Duration = Duration::from_secs(5);
/// After a failed dial, wait this long before the next.
const REDIAL: Duration = Duration::from_secs(2);
/// After mDNS could not start (the port taken, say), try again this much later.
const REDISCOVER: Duration = Duration::from_secs(60);

/// Runs until `stop` says so; returns once every link stopped.
pub async fn run(desk: Arc<Desk>, mut stop: watch::Receiver<bool>) {
    if let Err(e) = serve(&desk, &mut stop).await {
        tracing::warn!(code = %e.code(), "the link to the other desks stopped: {e}");
    }
    tracing::debug!("peers stopped");
}

async fn serve(desk: &Arc<Desk>, stop: &mut watch::Receiver<bool>) -> Result<()> {
    let me = desk.desk_id().await?;
    let identity = desk.identity().await?;
    tracing::debug!(desk = %me, pin = %identity.fingerprint(), "this desk among the others");
    // Filled at the first look, from the same list of paired desks the look works on.
    let pins = Pins::default();
    let acceptor = TlsAcceptor::from(identity.server_config(pins.clone())?);
    let connector = TlsConnector::from(identity.client_config(pins.clone())?);
    let port = desk.config().peers.port;
    let mut listener: Option<TcpListener> = None;
    let mut links: HashMap<String, tokio::task::AbortHandle> = HashMap::new();
    let mut tasks: JoinSet<Option<String>> = JoinSet::new();
    let mut next_dial: HashMap<String, Instant> = HashMap::new();
    let mut known: Option<Vec<String>> = None;
    let mut discovery: Option<Discovery> = None;
    let mut next_discovery = Instant::now();
    let mut look = tokio::time::interval(LOOK);
    look.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        let accept = async {
            match &listener {
                Some(l) => l.accept().await.ok(),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = stop.changed() => break,
            Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                if let Ok(Some(peer)) = done {
                    // No link (any more): where is that desk now?
                    if let Some(d) = &discovery {
                        d.ask(&peer);
                    }
                    links.remove(&peer);
                    next_dial.insert(peer, Instant::now() + REDIAL);
                }
            }
            Some((stream, from)) = accept => {
                let (acceptor, desk, pins, stop) = (acceptor.clone(), desk.clone(), pins.clone(), stop.clone());
                let busy: HashSet<String> = links.keys().cloned().collect();
                tasks.spawn(async move {
                    let tls = match tokio::time::timeout(CONNECT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => tls,
                        Ok(Err(e)) => {
                            tracing::debug!(%from, "a desk was refused: {e}");
                            return None;
                        }
                        Err(_) => return None,
                    };
                    let cert = tls.get_ref().1.peer_certificates()?.first()?.to_vec();
                    let peer = pins.desk_of(&cert)?;
                    if busy.contains(&peer) {
                        return None;
                    }
                    tracing::debug!(%from, "a paired desk connected");
                    let recorded = desk.records_changed();
                    let paired = || pins.desk_of(&cert).as_deref() == Some(peer.as_str());
                    if let Err(e) = super::link::run(tls, &peer, &desk, recorded, stop, &paired).await {
                        tracing::debug!("link ended: {e}");
                    }
                    None
                });
            }
            _ = look.tick() => {
                let paired = desk.peers().await?;
                let ids: Vec<String> = paired.iter().map(|p| p.desk.clone()).collect();
                if known.as_ref() != Some(&ids) {
                    // Paired or unpaired since: the pins follow (a link to a desk no longer
                    // paired ends at its next message). A pin not in the keychain yet is
                    // looked for again at the next look.
                    let found = desk.peer_pins(&paired).await?;
                    tracing::debug!(?found, "the paired desks' pins");
                    if found.len() == ids.len() {
                        known = Some(ids);
                    } else {
                        tracing::debug!(
                            paired = ids.len(),
                            pinned = found.len(),
                            "a paired desk's pin is not in the keychain (yet)"
                        );
                    }
                    pins.set(found);
                }
                let keep: HashSet<&str> = paired.iter().map(|p| p.desk.as_str()).collect();
                links.retain(|peer, link| {
                    let kept = keep.contains(peer.as_str());
                    if !kept {
                        link.abort();
                    }
                    kept
                });
                // Listen (and announce this desk on the LAN) only while some desk is paired.
                if paired.is_empty() {
                    listener = None;
                    if let Some(d) = discovery.take() {
                        d.stop().await;
                    }
                } else if discovery.is_none()
                    && desk.config().peers.discovery
                    && Instant::now() >= next_discovery
                {
                    match Discovery::start(&me, port) {
                        Ok(d) => discovery = Some(d),
                        Err(e) => {
                            tracing::warn!(code = %e.code(), "desks are dialled where they paired from: {e}");
                            next_discovery = Instant::now() + REDISCOVER;
                        }
                    }
                }
                if !paired.is_empty() && listener.is_none() {
                    match TcpListener::bind(("0.0.0.0", port)).await {
                        Ok(l) => listener = Some(l),
                        Err(e) => tracing::warn!(
                            "{}",
                            PeerError::Listen { address: format!("port {port}"), reason: e.to_string() }
                        ),
                    }
                }
                for peer in &paired {
                    if me >= peer.desk || links.contains_key(&peer.desk) {
                        continue;
                    }
                    if next_dial.get(&peer.desk).is_some_and(|t| *t > Instant::now()) {
                        continue;
                    }
                    let Ok(stored) = peer.address.parse::<SocketAddr>() else { continue };
                    let found = discovery.as_ref().map(|d| d.addresses(&peer.desk)).unwrap_or_default();
                    let address = discovery::dial_address(stored, &found);
                    let (connector, desk, stop, pins) = (connector.clone(), desk.clone(), stop.clone(), pins.clone());
                    let name = peer.desk.clone();
                    let link = tasks.spawn(async move {
                        let dial = async {
                            let tcp = TcpStream::connect(address).await?;
                            let server = rustls::pki_types::ServerName::try_from(TLS_NAME)
                                .map_err(std::io::Error::other)?;
                            connector.connect(server, tcp).await
                        };
                        let tls = match tokio::time::timeout(CONNECT, dial).await {
                            Ok(Ok(tls)) => Some(tls),
                            Ok(Err(e)) => {
                                tracing::debug!(%address, "no link to a paired desk: {e}");
                                None
                            }
                            Err(_) => {
                                tracing::debug!(%address, "no link to a paired desk: timed out");
                                None
                            }
                        };
                        let cert = tls.as_ref().and_then(|t| t.get_ref().1.peer_certificates()?.first().map(|c| c.to_vec()));
                        if let (Some(tls), Some(cert)) = (tls, cert) {
                            if address != stored {
                                // The pinned certificate answered there: it moved.
                                tracing::debug!(%address, "a paired desk found at a new address");
                                if let Err(e) = desk.peer_moved(&name, address).await {
                                    tracing::warn!(code = %e.code(), "{e}");
                                }
                            }
                            let recorded = desk.records_changed();
                            let paired = || pins.desk_of(&cert).as_deref() == Some(name.as_str());
                            if let Err(e) = super::link::run(tls, &name, &desk, recorded, stop, &paired).await {
                                tracing::debug!("link ended: {e}");
                            }
                        }
                        Some(name)
                    });
                    links.insert(peer.desk.clone(), link);
                }
            }
        }
    }
    tasks.shutdown().await;
    if let Some(d) = discovery.take() {
        d.stop().await;
    }
    Ok(())
}
