//! Issue 17: whether the line is metered, as the OS says it. On Linux that is
//! NetworkManager's `Metered` property over D-Bus; here a service on a private bus answers
//! as NetworkManager does (the same name, object path, interface and property type).
#![cfg(target_os = "linux")]

use tsunagi_core::monitor::metered::{read, Metered};
use tsunagi_testkit::fake_nm::{session_bus, FakeNetworkManager};

#[test]
fn issue_17_the_metered_flag_is_read_from_networkmanager_over_dbus() {
    let session = tsunagi_testkit::Session::start();
    let bus = session_bus(&session);
    // No NetworkManager on the bus: the OS does not say.
    assert_eq!(read(Some(&bus)), Metered::Unknown);

    let nm = FakeNetworkManager::start(&bus, 1);
    assert_eq!(read(Some(&bus)), Metered::Yes, "a tethered phone");
    nm.set(4);
    assert_eq!(read(Some(&bus)), Metered::No, "guessed not metered");
    nm.set(3);
    assert_eq!(read(Some(&bus)), Metered::Yes, "guessed metered");
    nm.set(0);
    assert_eq!(read(Some(&bus)), Metered::Unknown);
    drop(nm);
    assert_eq!(read(Some(&bus)), Metered::Unknown, "NetworkManager gone");
    // No bus at all.
    assert_eq!(
        read(Some("unix:path=/nonexistent/tsunagi-bus")),
        Metered::Unknown
    );
}
