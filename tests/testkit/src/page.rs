//! What a window test reads in the page itself, shared by the window tests that attach a
//! WebDriver session in different ways (tauri-driver starting the app, or WebKit's driver
//! attached to a window the tray process started).

/// The outage screen as a receptionist meets it, read in one go (a WebDriver `execute`
/// script returning an object):
/// - `tab`: the selected tab's test id;
/// - `rows`: patients in the call list; `visible`: how many of the first three are wholly
///   on screen and not covered;
/// - `focused`: the keyboard is on the first patient not yet reached, and `focusedSeen`:
///   that patient is on screen;
/// - `beside`: the checklist stands to the right of the list, its top on screen;
/// - `diagnosis`: the whole diagnosis is open (it waits for 「詳しく」);
/// - `namePx`: the patient names' font size; `height`: the page's height.
pub const OUTAGE_SCREEN: &str = "const h = window.innerHeight; \
     const rows = [...document.querySelectorAll('[data-testid=call-row]')]; \
     const seen = (el) => { const r = el.getBoundingClientRect(); \
       if (r.top < 0 || r.bottom > h) return false; \
       const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2); \
       return !!hit && el.contains(hit); }; \
     const list = document.querySelector('[data-testid=call-list]'); \
     const check = document.querySelector('[data-testid=checklist]'); \
     const first = document.querySelector('[data-testid=call-row]:not(.reached)'); \
     const name = rows[0]?.querySelector('.name'); \
     return { \
       tab: document.querySelector('[role=tab][aria-selected=true]')?.dataset.testid ?? null, \
       rows: rows.length, \
       visible: rows.slice(0, 3).filter(seen).length, \
       focused: !!first && document.activeElement === first, \
       focusedSeen: !!first && seen(first), \
       beside: !!list && !!check && check.getBoundingClientRect().left >= list.getBoundingClientRect().right \
         && check.getBoundingClientRect().top < h, \
       diagnosis: !!document.querySelector('[data-testid=diagnosis]'), \
       namePx: name ? parseFloat(getComputedStyle(name).fontSize) : 0, \
       height: h };";
