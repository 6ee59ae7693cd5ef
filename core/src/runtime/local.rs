//! The local channel: how a window in another process follows the runtime (issue 18).
//!
//! The runtime runs in the tray process all day; the window is a process of its own,
//! started when it is needed. The window reads and writes the desk's database itself (as
//! `tsunagi-cli` does beside a runtime) and uses this channel for what only the runtime
//! has: its events as they happen, the line as the monitor sees it, 最新に更新, a probe
//! now, and a nudge after a write so the sender does not wait for its next look.
//!
//! Where: a Unix socket `runtime.sock` in the data folder (mode 0600 in a 0700 folder: the
//! desk's user only). On Windows a named pipe named after the data folder, refusing remote
//! clients. Only the process that holds the runtime's lock serves it, so a socket file
//! left by a crash is removed and served again.
//!
//! What travels: one JSON object per line, both ways.
//! - Up (window → runtime): `{"id": 7, "ask": "sync_now"}`; asks are [`Ask`]'s.
//! - Down: `{"event": RuntimeEvent}` as the runtime says it, and `{"reply": 7, "ok": …}`
//!   or `{"reply": 7, "error": {code, message}}`; `{"show": true}` to a window that said it
//!   is one (`window`): show yourself.
//!
//! Raising the window ([`Windows`]): the window there is asked to show itself; a new one is
//! started only when none is. A window that leaves (hidden past its grace period) says so
//! first (`leaving`); a raise from then on starts a new window once the old one's
//! connection is gone, and a raise sent before arrives ahead of the answer to `leaving`,
//! so the window sees it and stays.
//!
//! The window passes the events on to its page as they are: they are the same JSON the
//! in-process window has always sent.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::{broadcast, oneshot, watch};

use super::{Runtime, RuntimeEvent};
use crate::config::DataDir;
use crate::error::{CoreError, ErrorCode, ErrorPayload};
use crate::monitor::advice::LineView;

/// The socket's file name in the data folder.
const SOCKET: &str = "runtime.sock";

/// What a window asks of the runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ask {
    /// Show the window (a second launch asks the running tray).
    Show,
    /// This connection is a window: raise it with `{"show": true}` instead of starting
    /// another. Answers `null`.
    Window,
    /// This window is about to exit (hidden past its grace period): the next raise starts
    /// a new one once this connection is gone. Answers `null`, after any `show` sent to it.
    Leaving,
    /// 最新に更新: send what waits, then refresh the mirror. Answers a `MirrorStatus`.
    SyncNow,
    /// Check the line again now. Answers `null`.
    ProbeNow,
    /// The line as the monitor sees it, as screens show it. Answers a `LineView`.
    Line,
    /// The window wrote to the database or config.toml: look now (otherwise the runtime
    /// notices within its 2 s look). Answers `null`.
    Wrote,
}

#[derive(Serialize, Deserialize)]
struct Request {
    id: u64,
    ask: Ask,
}

/// A line down to the window.
#[derive(Serialize)]
#[serde(untagged)]
enum Down<'a> {
    Event { event: &'a RuntimeEvent },
    Ok { reply: u64, ok: Value },
    Error { reply: u64, error: ErrorPayload },
    Show { show: bool },
}

/// One of the install's programs (`tsunagi`, `tsunagi-tray`): the one named by the
/// environment variable `overridden_by` (another build: the IT helper's, the tests'), or
/// the one installed beside the running program.
pub fn program_beside_me(name: &str, overridden_by: &str) -> PathBuf {
    std::env::var_os(overridden_by)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let me = std::env::current_exe().unwrap_or_default();
            me.with_file_name(format!("{name}{}", std::env::consts::EXE_SUFFIX))
        })
}

/// Where this data folder's runtime listens.
pub fn address(data_dir: &DataDir) -> PathBuf {
    data_dir.root().join(SOCKET)
}

/// The windows that follow the runtime over the channel, and how one is raised (an
/// outage, the tray, a second launch): the window there is asked to show itself, and only
/// when there is none is a new one started. Clones share one registry.
#[derive(Clone)]
pub struct Windows {
    registry: Arc<Mutex<Registry>>,
    start: Arc<dyn Fn() + Send + Sync>,
}

#[derive(Default)]
struct Registry {
    next: u64,
    /// In the order they said they are windows; the newest is raised.
    followers: Vec<Follower>,
    /// A raise came while the only windows were leaving: start one when they are gone.
    start_when_gone: bool,
}

struct Follower {
    conversation: u64,
    lines: tokio::sync::mpsc::UnboundedSender<String>,
    leaving: bool,
}

impl Windows {
    /// `start` starts a window (the tray: the app's process); called with no lock held.
    pub fn new(start: impl Fn() + Send + Sync + 'static) -> Windows {
        Windows {
            registry: Arc::default(),
            start: Arc::new(start),
        }
    }

    /// Bring a window up: the one following the runtime, or a new one.
    pub fn raise(&self) {
        let mut registry = lock(&self.registry);
        let asked = registry
            .followers
            .iter()
            .rev()
            .filter(|w| !w.leaving)
            .any(|w| w.lines.send(show_line()).is_ok());
        if asked {
            return;
        }
        if !registry.followers.is_empty() {
            // Leaving, or its connection is closing: the new window once it is gone (two
            // windows of one desk at once would fight over the single-instance lock).
            registry.start_when_gone = true;
            return;
        }
        drop(registry);
        (self.start)();
    }

    fn conversation(&self) -> u64 {
        let mut registry = lock(&self.registry);
        registry.next += 1;
        registry.next
    }

    /// A conversation said it is a window (again, after a `leaving` it took back).
    fn follow(&self, conversation: u64, lines: &tokio::sync::mpsc::UnboundedSender<String>) {
        let mut registry = lock(&self.registry);
        registry
            .followers
            .retain(|w| w.conversation != conversation);
        // A raise that waited for a leaving window is this one's now.
        let raise = std::mem::take(&mut registry.start_when_gone);
        if raise {
            let _ = lines.send(show_line());
        }
        registry.followers.push(Follower {
            conversation,
            lines: lines.clone(),
            leaving: false,
        });
    }

    /// The window is about to exit. Under the registry's lock, so a raise either reached
    /// it before (and is ahead of the answer on its channel) or waits for it to be gone.
    fn leaving(&self, conversation: u64) {
        let mut registry = lock(&self.registry);
        for w in registry.followers.iter_mut() {
            if w.conversation == conversation {
                w.leaving = true;
            }
        }
    }

    /// A conversation ended (the window's process exited, or a second launch's ask done).
    fn gone(&self, conversation: u64) {
        let mut registry = lock(&self.registry);
        registry
            .followers
            .retain(|w| w.conversation != conversation);
        let start = registry.followers.is_empty() && std::mem::take(&mut registry.start_when_gone);
        drop(registry);
        if start {
            (self.start)();
        }
    }
}

impl std::fmt::Debug for Windows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Windows").finish_non_exhaustive()
    }
}

fn show_line() -> String {
    serde_json::to_string(&Down::Show { show: true }).expect("a show is JSON") + "\n"
}

/// Serve the channel for `runtime` until `stop` turns true. Call it in the process that
/// started the runtime (it holds the install's lock, so no other server is live).
pub async fn serve(
    runtime: Runtime,
    windows: Windows,
    stop: watch::Receiver<bool>,
) -> crate::Result<()> {
    let path = address(runtime.desk().data_dir());
    platform::serve(path, runtime, windows, stop).await
}

/// One window's conversation: events down as they come, answers to its asks.
async fn converse<R, W>(read: R, write: W, runtime: Runtime, windows: Windows)
where
    R: tokio::io::AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let conversation = windows.conversation();
    let (lines_tx, mut lines_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    // One writer, so an event and a reply never interleave within a line.
    let writer = tokio::spawn(async move {
        let mut write = write;
        while let Some(line) = lines_rx.recv().await {
            if write.write_all(line.as_bytes()).await.is_err() {
                break;
            }
        }
    });
    let mut events = runtime.subscribe();
    let mut lines = BufReader::new(read).lines();
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Ok(event) => send(&lines_tx, &Down::Event { event: &event }),
                // A window that fell behind refetches on the next whole status.
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "a window fell behind the runtime's events");
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
            line = lines.next_line() => match line {
                Ok(Some(line)) => {
                    let request: Request = match serde_json::from_str(&line) {
                        Ok(r) => r,
                        Err(e) => {
                            tracing::warn!("a window sent a line the runtime cannot read: {e}");
                            continue;
                        }
                    };
                    // Said in order: a window's `leaving` never overtakes its `window`.
                    match request.ask {
                        Ask::Window => windows.follow(conversation, &lines_tx),
                        Ask::Leaving => windows.leaving(conversation),
                        _ => {}
                    }
                    let (runtime, windows, lines_tx) =
                        (runtime.clone(), windows.clone(), lines_tx.clone());
                    // Asks run side by side: a 最新に更新 in flight never holds a probe up.
                    tokio::spawn(async move {
                        let reply = match answer(&runtime, &windows, request.ask).await {
                            Ok(ok) => Down::Ok { reply: request.id, ok },
                            Err(error) => Down::Error { reply: request.id, error },
                        };
                        send(&lines_tx, &reply);
                    });
                }
                // The window went away (or sent something that is not text).
                Ok(None) | Err(_) => break,
            },
        }
    }
    windows.gone(conversation);
    drop(lines_tx);
    let _ = writer.await;
}

fn send(lines: &tokio::sync::mpsc::UnboundedSender<String>, down: &Down<'_>) {
    match serde_json::to_string(down) {
        Ok(mut line) => {
            line.push('\n');
            let _ = lines.send(line);
        }
        Err(e) => tracing::warn!("an event could not be written for the window: {e}"),
    }
}

async fn answer(runtime: &Runtime, windows: &Windows, ask: Ask) -> Result<Value, ErrorPayload> {
    let json = |v: Result<Value, serde_json::Error>| {
        v.map_err(|e| ErrorPayload::new(ErrorCode::InternalStopped, e.to_string()))
    };
    match ask {
        Ask::Show => {
            windows.raise();
            Ok(Value::Null)
        }
        // Registered as the ask was read (see `converse`).
        Ask::Window | Ask::Leaving => Ok(Value::Null),
        Ask::SyncNow => json(serde_json::to_value(runtime.sync_now().await?)),
        Ask::ProbeNow => {
            runtime.probe_now().await;
            Ok(Value::Null)
        }
        Ask::Line => {
            // Worded as config.toml says now: the window may have changed the language a
            // moment ago, before its `wrote` arrives (one small file read).
            let config = runtime.desk().fresh_config().await;
            let view = LineView::new(runtime.line(), None, &config);
            json(serde_json::to_value(view))
        }
        Ask::Wrote => {
            let desk = runtime.desk();
            desk.fresh_config().await;
            desk.notice_writes_elsewhere().await;
            Ok(Value::Null)
        }
    }
}

/// A window's end of the channel. Clones share one connection.
#[derive(Clone)]
pub struct LocalClient {
    inner: Arc<ClientInner>,
}

struct ClientInner {
    lines: tokio::sync::mpsc::UnboundedSender<String>,
    pending: Arc<Mutex<Pending>>,
    events: broadcast::Sender<Value>,
    shows: watch::Receiver<u64>,
    closed: watch::Receiver<bool>,
}

#[derive(Default)]
struct Pending {
    next: u64,
    waiting: HashMap<u64, oneshot::Sender<Result<Value, ErrorPayload>>>,
}

impl std::fmt::Debug for LocalClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalClient").finish_non_exhaustive()
    }
}

impl LocalClient {
    /// Connect to the runtime serving `data_dir`; an error when none answers there.
    pub async fn connect(data_dir: &DataDir) -> crate::Result<LocalClient> {
        let path = address(data_dir);
        let (read, write) = platform::connect(&path)
            .await
            .map_err(|source| CoreError::Io {
                path: path.clone(),
                source,
            })?;
        Ok(LocalClient::over(read, write))
    }

    fn over<R, W>(read: R, write: W) -> LocalClient
    where
        R: tokio::io::AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let (lines, mut to_write) = tokio::sync::mpsc::unbounded_channel::<String>();
        let pending = Arc::new(Mutex::new(Pending::default()));
        let (events, _) = broadcast::channel(256);
        let (closed_tx, closed) = watch::channel(false);
        let (shows_tx, shows) = watch::channel(0u64);
        tokio::spawn(async move {
            let mut write = write;
            while let Some(line) = to_write.recv().await {
                if write.write_all(line.as_bytes()).await.is_err() {
                    break;
                }
            }
        });
        let reader = (pending.clone(), events.clone());
        tokio::spawn(async move {
            let (pending, events) = reader;
            let mut lines = BufReader::new(read).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let Ok(mut down) = serde_json::from_str::<Value>(&line) else {
                    tracing::warn!("the runtime sent a line the window cannot read");
                    continue;
                };
                if let Some(event) = down.get_mut("event") {
                    let _ = events.send(event.take());
                    continue;
                }
                if down.get("show").and_then(Value::as_bool) == Some(true) {
                    // Counted before any later reply is handed out (see `show_requests`).
                    shows_tx.send_modify(|n| *n += 1);
                    continue;
                }
                let Some(id) = down.get("reply").and_then(Value::as_u64) else {
                    continue;
                };
                let result = match down.get_mut("error") {
                    Some(error) => Err(serde_json::from_value(error.take()).unwrap_or_else(|_| {
                        ErrorPayload::new(ErrorCode::InternalStopped, "an unreadable error")
                    })),
                    None => Ok(down.get_mut("ok").map(Value::take).unwrap_or(Value::Null)),
                };
                let waiter = lock(&pending).waiting.remove(&id);
                if let Some(waiter) = waiter {
                    let _ = waiter.send(result);
                }
            }
            // The runtime went away: every ask still waiting fails, and so do new ones.
            lock(&pending).waiting.clear();
            let _ = closed_tx.send(true);
        });
        LocalClient {
            inner: Arc::new(ClientInner {
                lines,
                pending,
                events,
                shows,
                closed,
            }),
        }
    }

    /// Ask the runtime and wait for its answer. Fails with `internal.stopped` when the
    /// runtime went away (its process ended) before answering.
    pub async fn ask(&self, ask: Ask) -> Result<Value, ErrorPayload> {
        let (tx, rx) = oneshot::channel();
        let id = {
            let mut pending = lock(&self.inner.pending);
            pending.next += 1;
            let id = pending.next;
            pending.waiting.insert(id, tx);
            id
        };
        let line = serde_json::to_string(&Request { id, ask }).expect("a request is JSON") + "\n";
        if *self.inner.closed.borrow() || self.inner.lines.send(line).is_err() {
            lock(&self.inner.pending).waiting.remove(&id);
            return Err(CoreError::Stopped.payload());
        }
        rx.await
            .unwrap_or_else(|_| Err(CoreError::Stopped.payload()))
    }

    /// The runtime's events (`RuntimeEvent` as JSON), from now on.
    pub fn events(&self) -> broadcast::Receiver<Value> {
        self.inner.events.subscribe()
    }

    /// How many times the runtime asked this window to show itself (after it said it is a
    /// window). A show sent before the runtime heard `leaving` is counted here before the
    /// answer to `leaving` returns.
    pub fn show_requests(&self) -> watch::Receiver<u64> {
        self.inner.shows.clone()
    }

    /// Turns true once the runtime's end of the channel is gone.
    pub fn closed(&self) -> watch::Receiver<bool> {
        self.inner.closed.clone()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// What a window does once the runtime it followed is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterTheRuntime {
    /// It stopped (終了, the session ending): the window closes with it.
    Close,
    /// It ended without stopping (a crash, killed): the window starts it again and follows
    /// the new one, so the line stays watched and the desk keeps its screen.
    StartAgain,
}

/// A runtime that ends without stopping this soon after the window started it again is
/// left down: the window closes rather than start it in a loop.
pub const START_AGAIN_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// Decide, once the channel closed, from what the runtime left in the database: one that
/// stopped marked its run ended before it closed the channel. `started_again`: when this
/// window last started the runtime after a crash.
pub async fn after_the_runtime_left(
    desk: &crate::Desk,
    started_again: Option<std::time::Instant>,
) -> AfterTheRuntime {
    let stopped = match desk.last_runtime_stopped_cleanly().await {
        Ok(clean) => clean == Some(true),
        Err(e) => {
            tracing::warn!(code = %e.code(), "cannot tell how the runtime ended: {e}");
            false
        }
    };
    let again_too_soon = started_again.is_some_and(|at| at.elapsed() < START_AGAIN_AFTER);
    if stopped || again_too_soon {
        AfterTheRuntime::Close
    } else {
        AfterTheRuntime::StartAgain
    }
}

/// Ask the runtime serving `data_dir` to show its window: a second launch's whole job.
/// `false` when no runtime answered.
pub async fn ask_to_show(data_dir: &DataDir) -> bool {
    match LocalClient::connect(data_dir).await {
        Ok(client) => client.ask(Ask::Show).await.is_ok(),
        Err(_) => false,
    }
}

#[cfg(unix)]
mod platform {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use tokio::net::{UnixListener, UnixStream};

    pub(super) async fn serve(
        path: PathBuf,
        runtime: Runtime,
        windows: Windows,
        mut stop: watch::Receiver<bool>,
    ) -> crate::Result<()> {
        let io = |source| CoreError::Io {
            path: path.clone(),
            source,
        };
        // Left by a process that ended without removing it: this process holds the
        // runtime's lock, so nobody serves it.
        match std::fs::remove_file(&path) {
            Ok(()) => tracing::info!("a stale runtime socket was removed"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(e)),
        }
        let listener = UnixListener::bind(&path).map_err(io)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
        let _remove = RemoveOnDrop(path.clone());
        // Who may talk: the user this process runs as, who owns the socket file it made.
        let owner = std::fs::metadata(&path).map_err(io)?.uid();
        let mut conversations = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        if !same_user(&stream, owner) {
                            tracing::warn!("a process of another user was refused the runtime's channel");
                            continue;
                        }
                        let (read, write) = stream.into_split();
                        conversations.spawn(converse(read, write, runtime.clone(), windows.clone()));
                    }
                    Err(e) => {
                        tracing::warn!("the runtime's channel could not take a window: {e}");
                        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                    }
                },
                _ = stop.changed() => break,
                Some(_) = conversations.join_next(), if !conversations.is_empty() => {}
            }
            if *stop.borrow() {
                break;
            }
        }
        conversations.shutdown().await;
        Ok(())
    }

    /// The file mode keeps others out; the peer's uid is checked as well (a socket file
    /// whose mode was widened by hand lets nobody else in either).
    fn same_user(stream: &UnixStream, owner: u32) -> bool {
        stream.peer_cred().is_ok_and(|cred| cred.uid() == owner)
    }

    struct RemoveOnDrop(PathBuf);

    impl Drop for RemoveOnDrop {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    pub(super) async fn connect(
        path: &Path,
    ) -> std::io::Result<(
        tokio::net::unix::OwnedReadHalf,
        tokio::net::unix::OwnedWriteHalf,
    )> {
        Ok(UnixStream::connect(path).await?.into_split())
    }
}

#[cfg(windows)]
mod platform {
    //! A named pipe per data folder. Remote clients are refused; the pipe's default
    //! security gives full access to its creator (the desk's user), SYSTEM and
    //! administrators. Not run on these machines (no Windows here): see docs/runtime.md.
    use super::*;
    use tokio::net::windows::named_pipe::{ClientOptions, ServerOptions};

    fn pipe_name(path: &Path) -> String {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        path.hash(&mut hasher);
        format!(r"\\.\pipe\tsunagi-runtime-{:016x}", hasher.finish())
    }

    pub(super) async fn serve(
        path: PathBuf,
        runtime: Runtime,
        windows: Windows,
        mut stop: watch::Receiver<bool>,
    ) -> crate::Result<()> {
        let name = pipe_name(&path);
        let io = |source| CoreError::Io {
            path: path.clone(),
            source,
        };
        let mut server = ServerOptions::new()
            .first_pipe_instance(true)
            .reject_remote_clients(true)
            .create(&name)
            .map_err(io)?;
        let mut conversations = tokio::task::JoinSet::new();
        loop {
            let connected = tokio::select! {
                connected = server.connect() => Some(connected.is_ok()),
                _ = stop.changed() => break,
                Some(_) = conversations.join_next(), if !conversations.is_empty() => None,
            };
            if connected == Some(true) {
                // The next window waits on a new instance of the pipe.
                let next = ServerOptions::new()
                    .reject_remote_clients(true)
                    .create(&name)
                    .map_err(io)?;
                let stream = std::mem::replace(&mut server, next);
                let (read, write) = tokio::io::split(stream);
                conversations.spawn(converse(read, write, runtime.clone(), windows.clone()));
            }
            if *stop.borrow() {
                break;
            }
        }
        conversations.shutdown().await;
        Ok(())
    }

    pub(super) async fn connect(
        path: &Path,
    ) -> std::io::Result<(
        tokio::io::ReadHalf<tokio::net::windows::named_pipe::NamedPipeClient>,
        tokio::io::WriteHalf<tokio::net::windows::named_pipe::NamedPipeClient>,
    )> {
        let client = ClientOptions::new().open(pipe_name(path))?;
        Ok(tokio::io::split(client))
    }
}
