//! Whether the OS says the connection in use is metered (issue 17): a tethered phone, a
//! mobile router, a line billed by the byte. Tsunagi then spends little on it.
//!
//! - Linux: NetworkManager's `Metered` property (`org.freedesktop.NetworkManager`, on the
//!   system bus): yes and guessed-yes are metered, no and guessed-no are not.
//! - Windows: the internet connection profile's cost (`NetworkCostType` fixed or variable,
//!   roaming, or over its data limit). Written here, not built or run on these machines.
//! - macOS: not read yet (Network.framework's expensive and constrained paths); says
//!   unknown, and the route change alone tells a backup line there.
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

#[cfg(not(any(target_os = "linux", windows)))]
mod imp {
    use super::Metered;

    pub fn read(_bus: Option<&str>) -> Metered {
        Metered::Unknown
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn networkmanagers_values_read_as_metered_or_not() {
        assert_eq!(imp::from_nm(1), Metered::Yes);
        assert_eq!(imp::from_nm(3), Metered::Yes, "guessed yes");
        assert_eq!(imp::from_nm(2), Metered::No);
        assert_eq!(imp::from_nm(4), Metered::No, "guessed no");
        assert_eq!(imp::from_nm(0), Metered::Unknown);
    }
}
