//! Logs for the IT helper, on stderr: `TSUNAGI_LOG` sets the filter (tracing's
//! `EnvFilter` syntax). They never carry patient data.

/// Log to stderr with `TSUNAGI_LOG`, or `default` when it is not set (`None`: no logs
/// unless asked, as the CLI, whose stdout and stderr are for people).
pub fn init(default: Option<&str>) {
    let Some(filter) = std::env::var("TSUNAGI_LOG")
        .ok()
        .or_else(|| default.map(str::to_owned))
    else {
        return;
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
