//! This desk among the clinic's other desks (issue 16): its identity, pairing and
//! unpairing, the paired desks, and the shared log's exchange for the links.

use std::collections::HashMap;
use std::time::Duration;

use tokio::net::TcpListener;

use super::{blocking, Actor, Desk};
use crate::audit::AuditAction;
use crate::error::Result;
use crate::peers::identity::{fingerprint, Identity};
use crate::peers::pairing::{self, DeskCard, Paired};
use crate::peers::{pin_account, Accepted, PeerError, PeerRow, Record, Vector};
use crate::view::DeskEvent;

impl Desk {
    /// This desk's id in the shared log.
    pub async fn desk_id(&self) -> Result<String> {
        let store = self.store.clone();
        blocking(move || store.desk_id()).await
    }

    /// This desk's key and certificate for the other desks (made on first use).
    pub async fn identity(&self) -> Result<Identity> {
        let store = self.store.clone();
        let (key, cert) = blocking(move || store.desk_identity(Identity::make)).await?;
        Ok(Identity::from_parts(key, cert))
    }

    /// The desks paired now.
    pub async fn peers(&self) -> Result<Vec<PeerRow>> {
        let store = self.store.clone();
        blocking(move || store.peers()).await
    }

    /// These paired desks' certificate pins (fingerprint → desk), from the keychain.
    pub async fn peer_pins(&self, peers: &[PeerRow]) -> Result<HashMap<String, String>> {
        let me = self.desk_id().await?;
        let peers = peers.to_vec();
        let keychain = self.keychain.clone();
        blocking(move || {
            let mut pins = HashMap::new();
            for p in peers {
                if let Some(pin) = keychain.get(&pin_account(&me, &p.desk))? {
                    pins.insert(String::from_utf8_lossy(&pin).into_owned(), p.desk);
                }
            }
            Ok(pins)
        })
        .await
    }

    /// What this desk tells a desk it pairs with.
    async fn card(&self) -> Result<DeskCard> {
        let identity = self.identity().await?;
        let desk = self.desk_id().await?;
        let config = self.config().peers;
        let name = match config.name.trim() {
            "" => format!("desk {}", &desk[..6]),
            name => name.to_owned(),
        };
        Ok(DeskCard {
            desk,
            name,
            cert: hex::encode(&identity.cert),
            port: config.port,
        })
    }

    /// Listen for a desk that will type `code` (the pairing port), for 5 minutes.
    pub async fn pairing_listener(&self) -> Result<TcpListener> {
        let port = self.config().peers.pairing_port;
        TcpListener::bind(("0.0.0.0", port)).await.map_err(|e| {
            PeerError::Listen {
                address: format!("port {port}"),
                reason: e.to_string(),
            }
            .into()
        })
    }

    /// Show `code` on `listener` and pair with the desk that types it.
    pub async fn pair_by_showing(
        &self,
        listener: &TcpListener,
        code: &str,
        staff: Option<&str>,
    ) -> Result<PeerRow> {
        let me = self.card().await?;
        let within = Duration::from_secs(u64::from(pairing::CODE_MINUTES) * 60);
        let paired = pairing::host(listener, code, &me, within).await?;
        self.keep_pairing(paired, staff).await
    }

    /// Pair with the desk at `address` (host or host:port) showing `code`.
    pub async fn pair_by_typing(
        &self,
        address: &str,
        code: &str,
        staff: Option<&str>,
    ) -> Result<PeerRow> {
        let code = pairing::normalise_code(code)?;
        let address = if address.contains(':') {
            address.to_owned()
        } else {
            format!("{address}:{}", self.config().peers.pairing_port)
        };
        let me = self.card().await?;
        let paired = pairing::join(&address, &code, &me).await?;
        self.keep_pairing(paired, staff).await
    }

    /// Pin the paired desk's certificate in the keychain and list it, with the audit row.
    async fn keep_pairing(&self, paired: Paired, staff: Option<&str>) -> Result<PeerRow> {
        let me = self.desk_id().await?;
        let card = paired.card;
        let cert = hex::decode(&card.cert).map_err(|e| PeerError::Protocol(e.to_string()))?;
        let address = std::net::SocketAddr::new(paired.address, card.port).to_string();
        let audit = self.audit_entry(
            Actor::Person(staff),
            AuditAction::PeerPair,
            Vec::new(),
            serde_json::json!({ "desk": card.desk, "name": card.name, "address": address }),
        );
        let (keychain, store, now) = (self.keychain.clone(), self.store.clone(), self.now());
        let desk = card.desk.clone();
        blocking(move || {
            keychain.set(&pin_account(&me, &card.desk), fingerprint(&cert).as_bytes())?;
            store.add_peer(&card.desk, &card.name, &address, now, &audit)
        })
        .await?;
        self.peers()
            .await?
            .into_iter()
            .find(|p| p.desk == desk)
            .ok_or_else(|| PeerError::NotPaired(desk).into())
    }

    /// Stop accepting a desk (lost, stolen, replaced): its pin leaves the keychain.
    pub async fn unpair(&self, desk: &str, staff: Option<&str>) -> Result<()> {
        let me = self.desk_id().await?;
        let audit = self.audit_entry(
            Actor::Person(staff),
            AuditAction::PeerUnpair,
            Vec::new(),
            serde_json::json!({ "desk": desk }),
        );
        let (keychain, store, now) = (self.keychain.clone(), self.store.clone(), self.now());
        let desk = desk.to_owned();
        blocking(move || {
            store.unpair_peer(&desk, now, &audit)?;
            keychain.delete(&pin_account(&me, &desk))
        })
        .await
    }

    /// How far this desk holds each desk's log.
    pub async fn vector(&self) -> Result<Vector> {
        let store = self.store.clone();
        blocking(move || store.vector()).await
    }

    /// What a desk at `theirs` lacks, at most `limit` records.
    pub async fn records_after(&self, theirs: &Vector, limit: usize) -> Result<Vec<Record>> {
        let (store, theirs) = (self.store.clone(), theirs.clone());
        blocking(move || store.records_after(&theirs, limit)).await
    }

    /// Take another desk's records; screens reload when something new came.
    pub async fn accept_records(&self, records: Vec<Record>) -> Result<Accepted> {
        let (store, now) = (self.store.clone(), self.now());
        let accepted = blocking(move || store.accept_records(&records, now)).await?;
        if accepted.stored > 0 {
            let _ = self.events.send(DeskEvent::SharedWork {});
        }
        Ok(accepted)
    }

    /// A paired desk was heard from.
    pub async fn peer_seen(&self, desk: &str, behind: Option<u64>) -> Result<()> {
        let (store, now, desk) = (self.store.clone(), self.now(), desk.to_owned());
        blocking(move || store.peer_seen(&desk, now, behind)).await
    }

    /// Ticks when this desk's log grew (its own record or one taken from another desk).
    pub fn records_changed(&self) -> tokio::sync::watch::Receiver<u64> {
        self.store.records_changed()
    }
}
