//! What a crash prints. Rust's default panic message repeats the panic's payload, and a
//! payload can carry whatever the failing code held (a patient's name in an `expect`, a
//! row in a `Debug` dump). Tsunagi's hook prints where it failed and withholds the rest;
//! a backtrace (`RUST_BACKTRACE=1`) names code locations only.

use std::io::Write;

/// Set to 1 in the app's environment to let the window crash it on purpose (the privacy
/// scan does; nothing else should).
pub const DEBUG_PANIC_ENV: &str = "TSUNAGI_DEBUG_PANIC";

/// Crash while holding a patient's details: the worst a careless `expect` could do. The
/// privacy scan checks the crash output shows none of them.
pub async fn debug_panic(desk: &crate::Desk) -> crate::Result<()> {
    let view = desk.today(None).await?;
    let patient = view.appointments.iter().find_map(|a| a.patient.as_ref());
    panic!("debug panic while holding {patient:?}");
}

pub fn install_panic_hook(program: &'static str) {
    std::panic::set_hook(Box::new(move |info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_else(|| "an unknown place".to_owned());
        let mut err = std::io::stderr().lock();
        let _ = writeln!(
            err,
            "{program}: internal error at {location}; its details are withheld because they \
             may hold patient data. Please report this line to the Tsunagi team."
        );
        let trace = std::backtrace::Backtrace::capture();
        if trace.status() == std::backtrace::BacktraceStatus::Captured {
            let _ = writeln!(err, "{trace}");
        }
    }));
}
