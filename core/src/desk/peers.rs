//! This desk among the clinic's other desks (issue 16): its identity, pairing and
//! unpairing, the paired desks, and the shared log's exchange for the links.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::net::TcpListener;

use super::{blocking, Actor, Desk};
use crate::audit::AuditAction;
use crate::error::Result;
use crate::peers::identity::{fingerprint, Identity};
use crate::peers::pairing::{self, DeskCard, Paired};
use crate::peers::{
    pin_account, Accepted, DeskRow, DesksView, PairingCode, PeerError, PeerRow, Record, Vector,
};
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
        let (keychain, store) = (self.keychain.clone(), self.store.clone());
        blocking(move || {
            let vouched = store.vouched_pins()?;
            let mut pins = HashMap::new();
            for p in peers {
                let account = pin_account(&me, &p.desk);
                let pin = match keychain.get(&account)? {
                    Some(pin) => String::from_utf8_lossy(&pin).into_owned(),
                    // Paired through another desk: its pin joins the keychain now.
                    None => match vouched.get(&p.desk) {
                        Some(pin) => {
                            keychain.set(&account, pin.as_bytes())?;
                            pin.clone()
                        }
                        None => continue,
                    },
                };
                pins.insert(pin, p.desk);
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
            let pin = fingerprint(&cert);
            keychain.set(&pin_account(&me, &card.desk), pin.as_bytes())?;
            let told = crate::peers::PairedRecord {
                desk: card.desk,
                name: card.name,
                address,
                pin,
            };
            store.pair_peer(&told, now, &audit)
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
    /// Desk `desk` was reached at `address`, not where it was dialled before: from now on
    /// it is dialled there.
    pub async fn peer_moved(&self, desk: &str, address: std::net::SocketAddr) -> Result<()> {
        let (store, desk) = (self.store.clone(), desk.to_owned());
        blocking(move || store.peer_moved(&desk, &address.to_string())).await
    }

    /// Desk `desk` said its clock reads `theirs` (in its hello): its records are filed by
    /// their time on this desk's clock.
    pub async fn peer_clock(&self, desk: &str, theirs: DateTime<Utc>) -> Result<()> {
        let (store, now, desk) = (self.store.clone(), self.now(), desk.to_owned());
        blocking(move || store.peer_clock(&desk, theirs, now)).await
    }

    pub async fn peer_seen(&self, desk: &str, behind: Option<u64>) -> Result<()> {
        let (store, now, desk) = (self.store.clone(), self.now(), desk.to_owned());
        blocking(move || store.peer_seen(&desk, now, behind)).await
    }

    /// Ticks when this desk's log grew (its own record or one taken from another desk).
    pub fn records_changed(&self) -> tokio::sync::watch::Receiver<u64> {
        self.store.records_changed()
    }

    /// The 他の端末 screen: this desk's name and the paired desks, with their state.
    pub async fn desks_view(&self) -> Result<DesksView> {
        let config = self.config();
        let cal = config.calendar();
        let now = self.now();
        let today = cal.local(now).date_naive();
        let desks = self
            .peers()
            .await?
            .into_iter()
            .map(|p| DeskRow {
                connected: crate::peers::connected(&p, now),
                last_seen_label: p.last_seen.map(|t| {
                    let local = cal.local(t);
                    let format = if local.date_naive() == today {
                        "%H:%M"
                    } else {
                        "%-m/%-d %H:%M"
                    };
                    local.format(format).to_string()
                }),
                behind: p.behind,
                desk: p.desk,
                name: p.name,
                address: p.address,
            })
            .collect();
        Ok(DesksView {
            name: self.card().await?.name,
            port: config.peers.port,
            desks,
        })
    }

    /// Show a pairing code in the window: listen for the desk that types it (5 minutes, in
    /// the background), and tell every screen how it ended (`DeskEvent::PairingEnded`). A
    /// code shown before ends first.
    pub async fn show_pairing_code(self: &Arc<Self>, staff: Option<&str>) -> Result<PairingCode> {
        self.end_pairing_code();
        // The code shown before lets go of the port first.
        tokio::task::yield_now().await;
        let listener = self.bind_pairing_listener().await?;
        let code = pairing::new_code();
        let port = self.config().peers.pairing_port;
        let addresses = lan_addresses()
            .into_iter()
            .map(|ip| std::net::SocketAddr::new(ip, port).to_string())
            .collect();
        let mut ended = self.pairing.subscribe();
        ended.mark_unchanged();
        let (desk, staff, shown) = (self.clone(), staff.map(str::to_owned), code.clone());
        tokio::spawn(async move {
            let event = tokio::select! {
                paired = desk.pair_by_showing(&listener, &shown, staff.as_deref()) => match paired {
                    Ok(peer) => DeskEvent::PairingEnded { paired: Some(peer.name), error: None },
                    Err(e) => DeskEvent::PairingEnded { paired: None, error: Some(e.payload()) },
                },
                _ = ended.changed() => DeskEvent::PairingEnded { paired: None, error: None },
            };
            let _ = desk.events.send(event);
        });
        Ok(PairingCode {
            code: format!("{} {}", &code[..4], &code[4..]),
            minutes: pairing::CODE_MINUTES,
            addresses,
        })
    }

    /// End the pairing code shown in the window (the screen closed).
    pub fn end_pairing_code(&self) {
        self.pairing.send_modify(|n| *n += 1);
    }

    /// The pairing port, retried for a moment while a code shown before lets go of it.
    async fn bind_pairing_listener(&self) -> Result<TcpListener> {
        let mut tries = 0;
        loop {
            match self.pairing_listener().await {
                Err(_) if tries < 10 => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                found => return found,
            }
        }
    }
}

/// This PC's addresses on the clinic's LAN (IPv4, up, not loopback or link-local).
fn lan_addresses() -> Vec<std::net::IpAddr> {
    netdev::get_interfaces()
        .into_iter()
        .filter(|i| !i.is_loopback() && i.is_up())
        .flat_map(|i| i.ipv4.into_iter().map(|n| n.addr()))
        .filter(|a| !a.is_loopback() && !a.is_link_local())
        .map(std::net::IpAddr::V4)
        .collect()
}
