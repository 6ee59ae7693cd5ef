//! Whether the OS says the connection in use is metered (issue 17): a tethered phone, a
//! mobile router, a line billed by the byte. Tsunagi then spends little on it.
//!
//! - Linux: NetworkManager's `Metered` property (`org.freedesktop.NetworkManager`, on the
//!   system bus): yes and guessed-yes are metered, no and guessed-no are not.
//! - Windows: the internet connection profile's cost (`NetworkCostType` fixed or variable,
//!   roaming, or over its data limit). Written here, not built or run on these machines.
//! - macOS: Network.framework's path: expensive (cellular, a phone's hotspot) or
//!   constrained (Low Data Mode) is metered. Written here, not built or run on these
//!   machines.
//!
//! Every read is blocking and short; callers run it off the async threads.

use serde::Serialize;
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Metered {
    Yes,
    No,
    /// The OS does not say (no NetworkManager, not asked yet, another OS).
    Unknown,
}

/// What the OS says now. `bus`: a D-Bus address to ask instead of the system bus (tests);
/// ignored off Linux.
pub fn read(bus: Option<&str>) -> Metered {
    imp::read(bus)
}

/// A Network.framework path: its status (`nw_path_status_t`: 1 satisfied, 2 unsatisfied,
/// 3 satisfiable) and whether it is expensive or constrained.
#[cfg_attr(not(any(test, target_os = "macos")), allow(dead_code))]
fn from_nw_path(status: i32, expensive: bool, constrained: bool) -> Metered {
    match status {
        1 if expensive || constrained => Metered::Yes,
        1 => Metered::No,
        // No path out (the line is down) or not yet known.
        _ => Metered::Unknown,
    }
}

#[cfg(target_os = "linux")]
mod imp {
    use super::Metered;
    use dbus::blocking::stdintf::org_freedesktop_dbus::Properties;
    use dbus::blocking::Connection;
    use std::time::Duration;

    pub const SERVICE: &str = "org.freedesktop.NetworkManager";
    pub const PATH: &str = "/org/freedesktop/NetworkManager";

    pub fn read(bus: Option<&str>) -> Metered {
        match ask(bus) {
            Ok(value) => from_nm(value),
            Err(e) => {
                tracing::debug!("NetworkManager's metered flag: {e}");
                Metered::Unknown
            }
        }
    }

    fn ask(bus: Option<&str>) -> Result<u32, dbus::Error> {
        let conn = match bus {
            None => Connection::new_system()?,
            Some(address) => {
                let mut channel = dbus::channel::Channel::open_private(address)?;
                channel.register()?;
                Connection::from(channel)
            }
        };
        let proxy = conn.with_proxy(SERVICE, PATH, Duration::from_millis(500));
        proxy.get(SERVICE, "Metered")
    }

    /// NMMetered: 0 unknown, 1 yes, 2 no, 3 guessed yes, 4 guessed no.
    pub fn from_nm(value: u32) -> Metered {
        match value {
            1 | 3 => Metered::Yes,
            2 | 4 => Metered::No,
            _ => Metered::Unknown,
        }
    }
}

#[cfg(windows)]
mod imp {
    use super::Metered;
    use windows::Networking::Connectivity::{NetworkCostType, NetworkInformation};

    pub fn read(_bus: Option<&str>) -> Metered {
        let cost = NetworkInformation::GetInternetConnectionProfile()
            .and_then(|profile| profile.GetConnectionCost());
        let Ok(cost) = cost else {
            // No internet profile (the line is down) or no answer.
            return Metered::Unknown;
        };
        let costly = cost.Roaming().unwrap_or(false) || cost.OverDataLimit().unwrap_or(false);
        match cost.NetworkCostType() {
            _ if costly => Metered::Yes,
            Ok(NetworkCostType::Fixed) | Ok(NetworkCostType::Variable) => Metered::Yes,
            Ok(NetworkCostType::Unrestricted) => Metered::No,
            _ => Metered::Unknown,
        }
    }
}

#[cfg(target_os = "macos")]
mod imp {
    //! Network.framework: a path monitor's first answer says whether the path in use is
    //! expensive (cellular, a phone's hotspot) or constrained (Low Data Mode).
    use super::Metered;
    use block2::RcBlock;
    use std::ffi::{c_char, c_void};
    use std::sync::mpsc;
    use std::time::Duration;

    type Object = *mut c_void;

    #[link(name = "Network", kind = "framework")]
    extern "C" {
        fn nw_path_monitor_create() -> Object;
        fn nw_path_monitor_set_queue(monitor: Object, queue: Object);
        fn nw_path_monitor_set_update_handler(
            monitor: Object,
            handler: &block2::Block<dyn Fn(Object)>,
        );
        fn nw_path_monitor_start(monitor: Object);
        fn nw_path_monitor_cancel(monitor: Object);
        fn nw_path_get_status(path: Object) -> i32;
        fn nw_path_is_expensive(path: Object) -> bool;
        fn nw_path_is_constrained(path: Object) -> bool;
        fn nw_release(object: Object);
    }

    // libdispatch is part of libSystem.
    extern "C" {
        fn dispatch_queue_create(label: *const c_char, attr: Object) -> Object;
        fn dispatch_release(object: Object);
    }

    pub fn read(_bus: Option<&str>) -> Metered {
        let (tx, rx) = mpsc::channel();
        // SAFETY: the monitor and queue are created, used and released here; the handler
        // reads the path only during its call (the path is valid for it) and sends plain
        // values. The monitor copies the block, so dropping ours after setting it is fine.
        unsafe {
            let queue = dispatch_queue_create(c"jp.tsunagi.metered".as_ptr(), std::ptr::null_mut());
            let monitor = nw_path_monitor_create();
            let handler = RcBlock::new(move |path: Object| {
                let _ = tx.send((
                    nw_path_get_status(path),
                    nw_path_is_expensive(path),
                    nw_path_is_constrained(path),
                ));
            });
            nw_path_monitor_set_queue(monitor, queue);
            nw_path_monitor_set_update_handler(monitor, &handler);
            nw_path_monitor_start(monitor);
            let first = rx.recv_timeout(Duration::from_millis(500));
            nw_path_monitor_cancel(monitor);
            nw_release(monitor);
            dispatch_release(queue);
            match first {
                Ok((status, expensive, constrained)) => {
                    super::from_nw_path(status, expensive, constrained)
                }
                Err(_) => Metered::Unknown,
            }
        }
    }
}

#[cfg(not(any(target_os = "linux", windows, target_os = "macos")))]
mod imp {
    use super::Metered;

    pub fn read(_bus: Option<&str>) -> Metered {
        Metered::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_macos_path_that_is_expensive_or_constrained_is_metered() {
        assert_eq!(
            from_nw_path(1, true, false),
            Metered::Yes,
            "a phone's hotspot"
        );
        assert_eq!(from_nw_path(1, false, true), Metered::Yes, "Low Data Mode");
        assert_eq!(from_nw_path(1, false, false), Metered::No);
        assert_eq!(
            from_nw_path(2, true, false),
            Metered::Unknown,
            "no path out"
        );
        assert_eq!(from_nw_path(0, false, false), Metered::Unknown);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn networkmanagers_values_read_as_metered_or_not() {
        assert_eq!(imp::from_nm(1), Metered::Yes);
        assert_eq!(imp::from_nm(3), Metered::Yes, "guessed yes");
        assert_eq!(imp::from_nm(2), Metered::No);
        assert_eq!(imp::from_nm(4), Metered::No, "guessed no");
        assert_eq!(imp::from_nm(0), Metered::Unknown);
    }
}
