//! A stand-in for NetworkManager on a D-Bus bus: the same name, object path, interface
//! and property type, answering `Metered` (NMMetered: 0 unknown, 1 yes, 2 no, 3 guessed
//! yes, 4 guessed no) with what the test sets.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use dbus::arg::Variant;
use dbus::blocking::Connection;
use dbus::channel::MatchingReceiver;
use dbus::message::MatchRule;

const SERVICE: &str = "org.freedesktop.NetworkManager";
const PATH: &str = "/org/freedesktop/NetworkManager";

/// A stand-in for NetworkManager on `address`, answering `Metered` with what `value` holds.
pub struct FakeNetworkManager {
    value: Arc<AtomicU32>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeNetworkManager {
    pub fn start(address: &str, metered: u32) -> FakeNetworkManager {
        let value = Arc::new(AtomicU32::new(metered));
        let stop = Arc::new(AtomicBool::new(false));
        let (ready, up) = mpsc::channel();
        let thread = {
            let (value, stop, address) = (value.clone(), stop.clone(), address.to_owned());
            std::thread::spawn(move || {
                let mut channel = dbus::channel::Channel::open_private(&address).unwrap();
                channel.register().unwrap();
                let conn = Connection::from(channel);
                conn.request_name(SERVICE, false, true, true).unwrap();
                conn.start_receive(
                    MatchRule::new_method_call(),
                    Box::new(move |call, conn| {
                        let asked = call.path().is_some_and(|p| &*p == PATH)
                            && call.interface().as_deref()
                                == Some("org.freedesktop.DBus.Properties")
                            && call.member().as_deref() == Some("Get");
                        let wanted = call.read2::<&str, &str>().ok();
                        let reply = match (asked, wanted) {
                            (true, Some((SERVICE, "Metered"))) => call
                                .method_return()
                                .append1(Variant(value.load(Ordering::SeqCst))),
                            _ => call.error(
                                &"org.freedesktop.DBus.Error.UnknownProperty".into(),
                                c"no such property",
                            ),
                        };
                        let _ = dbus::channel::Sender::send(conn, reply);
                        true
                    }),
                );
                ready.send(()).unwrap();
                while !stop.load(Ordering::SeqCst) {
                    conn.process(Duration::from_millis(50)).unwrap();
                }
            })
        };
        up.recv_timeout(Duration::from_secs(10))
            .expect("the stand-in on the bus");
        FakeNetworkManager {
            value,
            stop,
            thread: Some(thread),
        }
    }

    pub fn set(&self, metered: u32) {
        self.value.store(metered, Ordering::SeqCst);
    }
}

impl Drop for FakeNetworkManager {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The session bus's address of a testkit [`crate::Session`].
pub fn session_bus(session: &crate::Session) -> String {
    session
        .env()
        .into_iter()
        .find(|(k, _)| k == "DBUS_SESSION_BUS_ADDRESS")
        .map(|(_, v)| v)
        .expect("the session's bus")
}
