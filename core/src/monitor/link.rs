//! OS link events: a cable pulled, Wi-Fi dropped, an address or route changed. Each one
//! triggers a probe round at once instead of waiting for the next heartbeat.
//!
//! Linux: a netlink socket subscribed to link, address and route changes (a pulled cable
//! changes the link's carrier without removing its addresses, so address watching alone
//! would miss it). Windows and macOS: `netwatcher`, which uses the OS's own notifications.

use std::sync::Arc;

use tokio::sync::Notify;

/// Keeps the watch alive; dropping it stops the events.
pub struct LinkWatch {
    #[cfg(target_os = "linux")]
    task: tokio::task::JoinHandle<()>,
    #[cfg(not(target_os = "linux"))]
    _handle: netwatcher::WatchHandle,
}

impl Drop for LinkWatch {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        self.task.abort();
    }
}

/// Start watching; `changed` is notified on every event. `None` when the OS refuses (the
/// heartbeat still notices, only later).
pub fn watch(changed: Arc<Notify>) -> Option<LinkWatch> {
    match imp::watch(changed) {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::warn!("link events unavailable, relying on the heartbeat: {e}");
            None
        }
    }
}

#[cfg(target_os = "linux")]
mod imp {
    use super::*;
    use netlink_sys::{protocols::NETLINK_ROUTE, AsyncSocket, AsyncSocketExt, SocketAddr};

    const RTMGRP_LINK: u32 = 0x1;
    const RTMGRP_IPV4_IFADDR: u32 = 0x10;
    const RTMGRP_IPV4_ROUTE: u32 = 0x40;
    const RTMGRP_IPV6_IFADDR: u32 = 0x100;
    const RTMGRP_IPV6_ROUTE: u32 = 0x400;

    pub fn watch(changed: Arc<Notify>) -> std::io::Result<LinkWatch> {
        let mut socket = netlink_sys::TokioSocket::new(NETLINK_ROUTE)?;
        let groups = RTMGRP_LINK
            | RTMGRP_IPV4_IFADDR
            | RTMGRP_IPV4_ROUTE
            | RTMGRP_IPV6_IFADDR
            | RTMGRP_IPV6_ROUTE;
        socket.socket_mut().bind(&SocketAddr::new(0, groups))?;
        let task = tokio::spawn(async move {
            let mut buf = bytes::BytesMut::with_capacity(16 * 1024);
            loop {
                buf.clear();
                match socket.recv_from(&mut buf).await {
                    // What changed does not matter: the probes will tell.
                    Ok(_) => changed.notify_one(),
                    Err(e) => {
                        tracing::warn!("link events stopped: {e}");
                        break;
                    }
                }
            }
        });
        Ok(LinkWatch { task })
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use super::*;

    pub fn watch(changed: Arc<Notify>) -> Result<LinkWatch, netwatcher::Error> {
        let handle = netwatcher::watch_interfaces_with_callback(move |update| {
            if !update.is_initial {
                changed.notify_one();
            }
        })?;
        Ok(LinkWatch { _handle: handle })
    }
}
