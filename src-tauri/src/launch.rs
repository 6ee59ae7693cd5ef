//! The app's own command-line flags (the autostart entry passes `--hidden`; tests and the
//! IT helper pass `--data-dir` and `--no-tray`).

use std::path::PathBuf;

pub const HIDDEN_FLAG: &str = "--hidden";
pub const NO_TRAY_FLAG: &str = "--no-tray";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LaunchArgs {
    /// `--data-dir DIR` or `TSUNAGI_DATA_DIR`; the OS app-data folder otherwise.
    pub data_dir: Option<PathBuf>,
    /// Start in the tray without showing the window (login autostart).
    pub hidden: bool,
    /// Run the desk's background work and the tray icon in this process instead of
    /// starting `tsunagi-tray` (what happens anyway where `tsunagi-tray` is not installed
    /// beside the app).
    pub no_tray: bool,
}

impl LaunchArgs {
    pub fn from_env() -> Self {
        let mut args = Self::parse(std::env::args().skip(1));
        if args.data_dir.is_none() {
            args.data_dir = std::env::var_os("TSUNAGI_DATA_DIR").map(PathBuf::from);
        }
        args
    }

    /// Unknown arguments are ignored: WebDriver and the OS add their own.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Self {
        let mut out = LaunchArgs::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            if arg == HIDDEN_FLAG {
                out.hidden = true;
            } else if arg == NO_TRAY_FLAG {
                out.no_tray = true;
            } else if arg == "--data-dir" {
                out.data_dir = args.next().map(PathBuf::from);
            } else if let Some(dir) = arg.strip_prefix("--data-dir=") {
                out.data_dir = Some(PathBuf::from(dir));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_read_and_strangers_ignored() {
        let a = LaunchArgs::parse(
            ["--hidden", "--data-dir", "/tmp/x", "--webdriver-thing"].map(String::from),
        );
        assert!(a.hidden);
        assert!(!a.no_tray);
        assert!(LaunchArgs::parse(["--no-tray".to_owned()]).no_tray);
        assert_eq!(a.data_dir, Some(PathBuf::from("/tmp/x")));
        let b = LaunchArgs::parse(["--data-dir=/d".to_owned()]);
        assert!(!b.hidden);
        assert_eq!(b.data_dir, Some(PathBuf::from("/d")));
    }
}
