//! A slow line, as a tethered phone is: every packet held 300 ms ± 100 ms (uniform, each
//! way) before it is passed on. `tc netem` is not on the test kernels, so this does the
//! same in user space: a TUN device in each namespace and threads that carry each packet
//! from one to the other once its time has come. Packets may overtake each other, as
//! they do on such a line.

use std::collections::BinaryHeap;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The added delay each way: `BASE` ± `JITTER`.
pub const BASE: Duration = Duration::from_millis(300);
pub const JITTER: Duration = Duration::from_millis(100);

/// Both ends of the slow line; the forwarding stops and the devices go on drop.
pub struct DelayLine {
    pub desk_if: String,
    pub inet_if: String,
    pub desk_ip: Ipv4Addr,
    /// The internet side's address on this line (what the desk reaches as its router).
    pub gateway: Ipv4Addr,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

struct Due {
    at: Instant,
    packet: Vec<u8>,
}

impl PartialEq for Due {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at
    }
}
impl Eq for Due {}
impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Due {
    // The earliest first out of a max-heap.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other.at.cmp(&self.at)
    }
}

type Queue = Arc<(Mutex<BinaryHeap<Due>>, Condvar)>;

impl DelayLine {
    /// Open the TUN ends (`desk_if` in `desk_ns`, `inet_if` in `inet_ns`) and start
    /// carrying packets. Addresses and routes are the caller's (`ip addr`, `ip route`).
    pub fn start(
        desk_ns: &str,
        inet_ns: &str,
        desk_if: &str,
        inet_if: &str,
        desk_ip: Ipv4Addr,
        gateway: Ipv4Addr,
    ) -> DelayLine {
        let desk = Arc::new(open_tun(desk_ns, desk_if));
        let inet = Arc::new(open_tun(inet_ns, inet_if));
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for (from, to) in [(desk.clone(), inet.clone()), (inet, desk)] {
            let queue: Queue = Arc::new((Mutex::new(BinaryHeap::new()), Condvar::new()));
            threads.push(spawn_reader(from, queue.clone(), stop.clone()));
            threads.push(spawn_writer(to, queue, stop.clone()));
        }
        DelayLine {
            desk_if: desk_if.to_owned(),
            inet_if: inet_if.to_owned(),
            desk_ip,
            gateway,
            stop,
            threads,
        }
    }
}

impl Drop for DelayLine {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// A TUN device (layer 3, no packet info) created inside namespace `ns`.
fn open_tun(ns: &str, name: &str) -> OwnedFd {
    let path = format!("/var/run/netns/{ns}");
    let name = name.to_owned();
    std::thread::spawn(move || {
        let netns = std::fs::File::open(&path).expect("namespace file");
        // SAFETY: setns on this thread only, with a namespace fd we hold open.
        let rc = unsafe { libc::setns(netns.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
        let dev = std::ffi::CString::new("/dev/net/tun").unwrap();
        // SAFETY: open(2) with a valid C string.
        let fd = unsafe { libc::open(dev.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
        assert!(
            fd >= 0,
            "open /dev/net/tun: {}",
            std::io::Error::last_os_error()
        );
        // SAFETY: fd was just opened and is ours.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: ifreq is plain old data; zeroed is a valid value.
        let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
        for (i, b) in name.bytes().take(libc::IFNAMSIZ - 1).enumerate() {
            req.ifr_name[i] = b as libc::c_char;
        }
        req.ifr_ifru.ifru_flags = (libc::IFF_TUN | libc::IFF_NO_PI) as libc::c_short;
        // SAFETY: TUNSETIFF with a valid ifreq on a /dev/net/tun fd.
        let rc = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNSETIFF, &mut req) };
        assert_eq!(
            rc,
            0,
            "TUNSETIFF {name}: {}",
            std::io::Error::last_os_error()
        );
        fd
    })
    .join()
    .expect("TUN thread")
}

fn spawn_reader(from: Arc<OwnedFd>, queue: Queue, stop: Arc<AtomicBool>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut random = Random::seeded();
        let mut buf = vec![0u8; 65_536];
        while !stop.load(Ordering::SeqCst) {
            let mut poll = libc::pollfd {
                fd: from.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            let ready = unsafe { libc::poll(&mut poll, 1, 100) };
            if ready <= 0 {
                continue;
            }
            // SAFETY: reading into a buffer we own, no longer than it.
            let n = unsafe { libc::read(from.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if n <= 0 {
                continue;
            }
            let jitter = JITTER.as_micros() as u64;
            let micros = BASE.as_micros() as u64 - jitter + random.below(2 * jitter + 1);
            let due = Due {
                at: Instant::now() + Duration::from_micros(micros),
                packet: buf[..n as usize].to_vec(),
            };
            let (heap, ready) = &*queue;
            heap.lock().unwrap().push(due);
            ready.notify_one();
        }
    })
}

fn spawn_writer(to: Arc<OwnedFd>, queue: Queue, stop: Arc<AtomicBool>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let (heap, ready) = &*queue;
        let mut heap = heap.lock().unwrap();
        while !stop.load(Ordering::SeqCst) {
            let now = Instant::now();
            match heap.peek().map(|d| d.at) {
                Some(at) if at <= now => {
                    let due = heap.pop().unwrap();
                    // SAFETY: writing a buffer we own to the TUN fd.
                    unsafe {
                        libc::write(to.as_raw_fd(), due.packet.as_ptr().cast(), due.packet.len())
                    };
                }
                Some(at) => {
                    heap = ready.wait_timeout(heap, at - now).unwrap().0;
                }
                None => {
                    heap = ready
                        .wait_timeout(heap, Duration::from_millis(100))
                        .unwrap()
                        .0;
                }
            }
        }
    })
}

/// xorshift64*: enough for jitter, no extra crate.
struct Random(u64);

impl Random {
    fn seeded() -> Random {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos() as u64;
        Random(nanos | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1)
    }
}
