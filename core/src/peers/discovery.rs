//! Finding the paired desks on the LAN by themselves: mDNS / DNS-SD (`mdns-sd`), service
//! `_tsunagi._tcp.local.`. A desk announces itself under its random id (the instance name,
//! its host name `tsunagi-<id>.local.` and a TXT `id`), never under a person's or the
//! clinic's name, and listens for the others. Only while some desk is paired with it, as
//! its listener.
//!
//! What is found only says where to dial: the TLS handshake still accepts nothing but the
//! pinned certificate, so a false answer on the LAN costs a failed dial, not trust.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mdns_sd::{HostnameResolutionEvent, IfKind, ServiceDaemon, ServiceEvent, ServiceInfo};

use super::PeerError;

pub const SERVICE: &str = "_tsunagi._tcp.local.";
/// How long a question for one desk's address is asked on the LAN.
const ASK_FOR: Duration = Duration::from_secs(3);

/// Where each desk was last heard of on the LAN, by desk id.
type Found = Arc<Mutex<HashMap<String, Vec<IpAddr>>>>;

pub struct Discovery {
    daemon: ServiceDaemon,
    found: Found,
    me: String,
}

fn host_name(desk: &str) -> String {
    format!("tsunagi-{desk}.local.")
}

fn failed(e: mdns_sd::Error) -> PeerError {
    PeerError::Listen {
        address: "mDNS (UDP 5353)".into(),
        reason: e.to_string(),
    }
}

impl Discovery {
    /// Announce desk `me` (listening on `port`) and listen for the others. Inside a tokio
    /// runtime: the answers are taken by a task (the daemon has its own thread).
    pub fn start(me: &str, port: u16) -> Result<Discovery, PeerError> {
        let daemon = ServiceDaemon::new().map_err(failed)?;
        // IPv4: a clinic's LAN; an IPv6 link-local address would need its interface too.
        daemon.disable_interface(IfKind::IPv6).map_err(failed)?;
        let info = ServiceInfo::new(
            SERVICE,
            me,
            &host_name(me),
            "",
            port,
            &[("id", me), ("v", "1")][..],
        )
        .map_err(failed)?
        .enable_addr_auto();
        daemon.register(info).map_err(failed)?;
        let found = Found::default();
        let events = daemon.browse(SERVICE).map_err(failed)?;
        let (into, own) = (found.clone(), me.to_owned());
        tokio::spawn(async move {
            while let Ok(event) = events.recv_async().await {
                if let ServiceEvent::ServiceResolved(service) = event {
                    let Some(desk) = service.get_property_val_str("id") else {
                        continue;
                    };
                    if desk == own || !super::is_desk_id(desk) {
                        continue;
                    }
                    let mut addresses: Vec<IpAddr> = service
                        .get_addresses_v4()
                        .into_iter()
                        .map(IpAddr::V4)
                        .collect();
                    addresses.sort();
                    tracing::debug!(%desk, ?addresses, "a desk announced itself on the LAN");
                    into.lock()
                        .expect("no panic holds it")
                        .insert(desk.to_owned(), addresses);
                }
            }
        });
        Ok(Discovery {
            daemon,
            found,
            me: me.to_owned(),
        })
    }

    /// The addresses desk `desk` was last heard of at (none: not heard of).
    pub fn addresses(&self, desk: &str) -> Vec<IpAddr> {
        self.found
            .lock()
            .expect("no panic holds it")
            .get(desk)
            .cloned()
            .unwrap_or_default()
    }

    /// Ask the LAN where desk `desk` is now (a dial to it failed): the answer comes into
    /// [`Discovery::addresses`] within a few seconds, if the desk is there.
    pub fn ask(&self, desk: &str) {
        if desk == self.me || !super::is_desk_id(desk) {
            return;
        }
        let answers = match self
            .daemon
            .resolve_hostname(&host_name(desk), Some(ASK_FOR.as_millis() as u64))
        {
            Ok(a) => a,
            Err(e) => {
                tracing::debug!("cannot ask the LAN for a desk: {e}");
                return;
            }
        };
        let (into, desk) = (self.found.clone(), desk.to_owned());
        tokio::spawn(async move {
            while let Ok(answer) = answers.recv_async().await {
                match answer {
                    HostnameResolutionEvent::AddressesFound(_, found) => {
                        let mut addresses: Vec<IpAddr> = found
                            .iter()
                            .map(|a| a.to_ip_addr())
                            .filter(IpAddr::is_ipv4)
                            .collect();
                        addresses.sort();
                        addresses.dedup();
                        tracing::debug!(%desk, ?addresses, "a desk answered on the LAN");
                        into.lock()
                            .expect("no panic holds it")
                            .insert(desk.clone(), addresses);
                        break;
                    }
                    HostnameResolutionEvent::SearchTimeout(_)
                    | HostnameResolutionEvent::SearchStopped(_) => break,
                    _ => {}
                }
            }
        });
    }

    /// Say goodbye on the LAN and stop the daemon's thread.
    pub async fn stop(self) {
        match self.daemon.shutdown() {
            Ok(done) => {
                let _ = tokio::time::timeout(Duration::from_secs(2), done.recv_async()).await;
            }
            Err(e) => tracing::debug!("mDNS already stopped: {e}"),
        }
    }
}

impl Drop for Discovery {
    /// A discovery dropped without [`Discovery::stop`] (its service ended on an error)
    /// still ends the daemon's thread.
    fn drop(&mut self) {
        let _ = self.daemon.shutdown();
    }
}

/// Where to dial a paired desk: the address it paired from (or was last reached at), unless
/// the LAN says it is elsewhere now.
pub fn dial_address(stored: std::net::SocketAddr, found: &[IpAddr]) -> std::net::SocketAddr {
    match found.first() {
        Some(ip) if !found.contains(&stored.ip()) => std::net::SocketAddr::new(*ip, stored.port()),
        _ => stored,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_desk_is_dialled_where_the_lan_says_it_is_unless_it_is_still_where_it_was() {
        let stored: std::net::SocketAddr = "10.0.0.5:48620".parse().unwrap();
        let moved: IpAddr = "10.0.0.9".parse().unwrap();
        let also: IpAddr = "192.168.1.5".parse().unwrap();
        assert_eq!(dial_address(stored, &[]), stored, "not heard of: as paired");
        assert_eq!(
            dial_address(stored, &[stored.ip(), also]),
            stored,
            "still there (and elsewhere too)"
        );
        assert_eq!(
            dial_address(stored, &[moved]),
            "10.0.0.9:48620".parse().unwrap(),
            "moved: its new address, on the same port"
        );
    }
}
