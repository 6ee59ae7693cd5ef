interface Window {
  /** Set by the desktop shell before the page loads (see src-tauri/src/windows.rs). */
  __TSUNAGI_LANG__?: unknown;
}
