//! Issue 20, item 10: a stop asked for while the app starts is a clean stop too. Ctrl+C
//! (SIGINT) used to be taken only when the stop task first waited for it: one that came
//! during start was lost (a process started in the background ignores it until then) or
//! ended the process at once. Seen once in a full run: SIGINT after "the app is running"
//! was ignored for 20 s. Its own test binary: before the fix, the signal ends it.
#![cfg(unix)]

use std::time::Duration;
use tsunagi_core::runtime::StopSignals;

#[tokio::test]
async fn issue_20_a_ctrl_c_during_start_is_a_clean_stop() {
    let mut signals = StopSignals::listen().expect("take over the signals");
    // The stop comes before anything waits for it.
    // SAFETY: raise(3) on this process; no memory is involved.
    unsafe {
        libc_raise(2);
    }
    tokio::time::timeout(Duration::from_secs(5), signals.recv())
        .await
        .expect("the Ctrl+C that came during start stops the app");
}

extern "C" {
    #[link_name = "raise"]
    fn libc_raise(signal: i32) -> i32;
}
