//! Web booking stopped and reopened on a FHIR server, one Slot at a time (the design is in
//! docs/booking.md):
//!
//! - **Pause**: every free Slot starting in the pause's window becomes `busy-unavailable`,
//!   each PUT with If-Match on the version read and tagged with the pause's key. Before a
//!   request leaves, the Slot is written down here (`pausing`); the answer records the
//!   version the pause wrote (`paused`). A request whose answer was lost (or a process
//!   killed meanwhile) is settled on the next attempt from the server's own copy: the tag
//!   says whether the pause got there. So every Slot is closed once, and the desk knows
//!   exactly which.
//! - **Resume**: each of those Slots is made `free` again with If-Match on the version the
//!   pause wrote. A Slot the server changed since (booked by phone, closed by someone) is
//!   left as it is and listed. A lost answer is recognised by the resume's own tag.
//!
//! A failure of the line or the server stops the attempt; the op stays pending and the
//! next attempt goes on from what is written down.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::change::{BookingPauseOp, BookingResumeOp};
use super::fhir as map;
use super::sender::Attempt;
use crate::booking::{BookingSlot, SlotState};
use crate::clock::Clock;
use crate::error::Result;
use crate::source::fhir::{Answer, FhirSource, Searched};
use crate::store::{Delivery, OutboxRow, Store};

/// A Slot closed for web booking.
pub const SLOT_CLOSED: &str = "busy-unavailable";
pub const SLOT_FREE: &str = "free";

/// How many times a Slot changed between reading and writing it is read again.
const TRIES: usize = 3;

/// What the desk wrote down of one pause's Slots, on the blocking pool.
#[derive(Clone)]
pub struct SlotLedger {
    store: Store,
    clock: Arc<dyn Clock>,
}

impl SlotLedger {
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> SlotLedger {
        SlotLedger { store, clock }
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    async fn slots(&self, pause_id: &str) -> Result<Vec<BookingSlot>> {
        let (store, id) = (self.store.clone(), pause_id.to_owned());
        crate::desk::blocking(move || store.booking_slots(&id)).await
    }

    async fn write(&self, pause_id: &str, slot: BookingSlot) -> Result<()> {
        let (store, id, at) = (self.store.clone(), pause_id.to_owned(), self.clock.now());
        crate::desk::blocking(move || store.booking_slot_set(&id, &slot, at)).await
    }

    async fn forget(&self, pause_id: &str, slot_id: &str) -> Result<()> {
        let (store, id, slot) = (self.store.clone(), pause_id.to_owned(), slot_id.to_owned());
        crate::desk::blocking(move || store.booking_slot_forget(&id, &slot)).await
    }
}

/// The end of one Slot's step: go on with the next, or stop the attempt here.
enum Step {
    Next,
    Stop(Attempt),
}

fn slot_start(slot: &Value) -> Option<DateTime<Utc>> {
    slot["start"]
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

fn slot_status(slot: &Value) -> Option<&str> {
    slot["status"].as_str()
}

fn slot_id(slot: &Value) -> Option<String> {
    slot["id"].as_str().map(str::to_owned)
}

fn version_of(slot: &Value) -> Option<String> {
    slot["meta"]["versionId"].as_str().map(str::to_owned)
}

/// The answer's Slot, if that is what it holds.
fn slot_of(answer: &Answer) -> Option<Value> {
    answer
        .json
        .clone()
        .filter(|j| j["resourceType"].as_str() == Some("Slot"))
}

/// Whether a Slot is one the pause closes: free, starting inside the window. Checked here
/// as well as asked of the server, which may ignore a search parameter it does not know.
fn in_pause(slot: &Value, pause: &BookingPauseOp) -> bool {
    slot_status(slot) == Some(SLOT_FREE)
        && slot_start(slot).is_some_and(|t| pause.from <= t && t < pause.until)
}

fn with_status(slot: &Value, status: &str, key: &str) -> Value {
    let mut next = slot.clone();
    next["status"] = status.into();
    map::tag_version(&mut next, key);
    next
}

/// A Slot as the server holds it now: `Ok(None)` when it is gone (404, 410); `Err` with
/// the attempt's end when the answer stops the attempt (the line, the server, not FHIR).
async fn read_slot(
    fhir: &FhirSource,
    path: &str,
) -> std::result::Result<Option<(Value, Option<String>)>, Attempt> {
    match fhir.read(path).await {
        Ok(a) if a.is_success() => match slot_of(&a) {
            Some(slot) => {
                let version = a.version.clone().or_else(|| version_of(&slot));
                Ok(Some((slot, version)))
            }
            None => Err(Attempt::not_fhir(&a)),
        },
        Ok(a) if matches!(a.status, 404 | 410) => Ok(None),
        Ok(a) => Err(Attempt::refused(&a)),
        Err(e) => Err(Attempt::transport(e)),
    }
}

/// A failure that stops the attempt (the line, the server, credentials), or `None` for a
/// refusal of this one Slot (another 4xx), which is written down and passed.
fn stopping(answer: &Answer) -> Option<Attempt> {
    let attempt = Attempt::refused(answer);
    match attempt.delivery {
        Delivery::Rejected { .. } => None,
        _ => Some(attempt),
    }
}

/// The search for the free Slots of the window.
fn free_slots_search(pause: &BookingPauseOp) -> Vec<(&'static str, String)> {
    let fmt = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    vec![
        ("status", SLOT_FREE.to_owned()),
        ("start", format!("ge{}", fmt(pause.from))),
        ("start", format!("lt{}", fmt(pause.until))),
        ("_count", "100".to_owned()),
    ]
}

/// Stop web booking: close every free Slot of the window, once.
pub async fn deliver_pause(
    fhir: &FhirSource,
    op: &OutboxRow,
    pause: &BookingPauseOp,
    ledger: &SlotLedger,
) -> Result<Attempt> {
    // First what an earlier attempt sent without learning the answer.
    for slot in ledger.slots(&pause.pause_id).await? {
        if slot.state != SlotState::Pausing {
            continue;
        }
        if let Step::Stop(a) = settle_pausing(fhir, op, pause, ledger, &slot).await? {
            return Ok(a);
        }
    }
    let known: HashSet<String> = ledger
        .slots(&pause.pause_id)
        .await?
        .into_iter()
        .map(|s| s.slot_id)
        .collect();
    if known.is_empty() && pause.until <= ledger.now() {
        // It reaches the server only after its end: every Slot it would close is in the
        // past. Nothing to send.
        return Ok(Attempt::done(
            "expired before it could be sent".to_owned(),
            None,
        ));
    }
    let found = match fhir.search_all("Slot", &free_slots_search(pause)).await {
        Ok(Searched::Found(found)) => found,
        Ok(Searched::Refused(answer)) => return Ok(Attempt::refused(&answer)),
        Err(e) => return Ok(Attempt::transport(e)),
    };
    for slot in found {
        let Some(id) = slot_id(&slot) else { continue };
        if known.contains(&id) || !in_pause(&slot, pause) {
            continue;
        }
        if let Step::Stop(a) = pause_one(fhir, op, pause, ledger, id, slot).await? {
            return Ok(a);
        }
    }
    Ok(Attempt::done(
        format!("Slot?_tag={}|{}", map::OP_TAG_SYSTEM, op.key),
        None,
    ))
}

/// Close one free Slot: written down first, then PUT on the version read.
async fn pause_one(
    fhir: &FhirSource,
    op: &OutboxRow,
    pause: &BookingPauseOp,
    ledger: &SlotLedger,
    id: String,
    mut current: Value,
) -> Result<Step> {
    let path = format!("Slot/{id}");
    for _ in 0..TRIES {
        let version = version_of(&current);
        ledger
            .write(
                &pause.pause_id,
                BookingSlot {
                    slot_id: id.clone(),
                    start: slot_start(&current),
                    paused_version: None,
                    state: SlotState::Pausing,
                    server_said: None,
                },
            )
            .await?;
        let closed = with_status(&current, SLOT_CLOSED, &op.key);
        let answer = match fhir.update(&path, &closed, version.as_deref()).await {
            Ok(a) => a,
            // The request may have landed: the next attempt reads the Slot to know.
            Err(e) => return Ok(Step::Stop(Attempt::transport(e))),
        };
        if answer.is_success() {
            let written = answer
                .version
                .clone()
                .or_else(|| slot_of(&answer).and_then(|s| version_of(&s)));
            let slot = paused(&id, &current, written);
            ledger.write(&pause.pause_id, slot).await?;
            return Ok(Step::Next);
        }
        if !matches!(answer.status, 409 | 412) {
            if let Some(stop) = stopping(&answer) {
                return Ok(Step::Stop(stop));
            }
            let slot = BookingSlot {
                slot_id: id.clone(),
                start: slot_start(&current),
                paused_version: None,
                state: SlotState::Refused,
                server_said: Some(refusal(&answer)),
            };
            ledger.write(&pause.pause_id, slot).await?;
            return Ok(Step::Next);
        }
        // Changed between the search and the update: read it again.
        match read_slot(fhir, &path).await {
            Ok(Some((now, version))) if map::made_by(&now, &op.key) => {
                ledger
                    .write(&pause.pause_id, paused(&id, &now, version))
                    .await?;
                return Ok(Step::Next);
            }
            Ok(Some((now, _))) if in_pause(&now, pause) => current = now,
            // Booked, closed or deleted meanwhile: nothing for the pause to close.
            Ok(_) => {
                ledger.forget(&pause.pause_id, &id).await?;
                return Ok(Step::Next);
            }
            Err(stop) => return Ok(Step::Stop(stop)),
        }
    }
    // A Slot that keeps changing under us is someone else's business right now.
    ledger.forget(&pause.pause_id, &id).await?;
    Ok(Step::Next)
}

fn paused(id: &str, slot: &Value, version: Option<String>) -> BookingSlot {
    BookingSlot {
        slot_id: id.to_owned(),
        start: slot_start(slot),
        paused_version: version,
        state: SlotState::Paused,
        server_said: None,
    }
}

fn refusal(answer: &Answer) -> String {
    let words = answer.outcome_text();
    if words.is_empty() {
        format!("HTTP {}", answer.status)
    } else {
        format!("HTTP {}: {words}", answer.status)
    }
}

/// A Slot whose pause request left without an answer: did it land?
async fn settle_pausing(
    fhir: &FhirSource,
    op: &OutboxRow,
    pause: &BookingPauseOp,
    ledger: &SlotLedger,
    slot: &BookingSlot,
) -> Result<Step> {
    let path = format!("Slot/{}", slot.slot_id);
    let now = match read_slot(fhir, &path).await {
        Ok(Some((now, _))) => now,
        Ok(None) => {
            ledger.forget(&pause.pause_id, &slot.slot_id).await?;
            return Ok(Step::Next);
        }
        Err(stop) => return Ok(Step::Stop(stop)),
    };
    if !map::made_by(&now, &op.key) {
        // It never got there: a free Slot is found again by the search, anything else is
        // not the pause's to close.
        ledger.forget(&pause.pause_id, &slot.slot_id).await?;
        return Ok(Step::Next);
    }
    // It got there. The version it wrote is the first one carrying its tag (someone may
    // have changed the Slot since, keeping the tag).
    let written = match first_tagged_version(fhir, &path, &op.key).await {
        Ok(Some(v)) => Some(v),
        Ok(None) => version_of(&now),
        Err(stop) => return Ok(Step::Stop(stop)),
    };
    ledger
        .write(&pause.pause_id, paused(&slot.slot_id, &now, written))
        .await?;
    Ok(Step::Next)
}

/// The oldest version of a resource tagged with `key`, from its history; `None` when the
/// server keeps none.
async fn first_tagged_version(
    fhir: &FhirSource,
    path: &str,
    key: &str,
) -> std::result::Result<Option<String>, Attempt> {
    match fhir.read(&format!("{path}/_history?_count=100")).await {
        Ok(h) if h.is_success() => {
            let mut tagged: Vec<(u64, String)> = map::versions_made_by(h.json.as_ref(), key)
                .iter()
                .filter_map(|r| {
                    let v = version_of(r)?;
                    Some((v.parse().unwrap_or(u64::MAX), v))
                })
                .collect();
            tagged.sort();
            Ok(tagged.into_iter().next().map(|(_, v)| v))
        }
        Ok(h) if h.status >= 500 || h.status == 429 => Err(Attempt::refused(&h)),
        Ok(_) => Ok(None),
        Err(e) => Err(Attempt::transport(e)),
    }
}

/// Reopen web booking: free again exactly the Slots the pause closed, each only if the
/// server still holds the version the pause wrote.
pub async fn deliver_resume(
    fhir: &FhirSource,
    op: &OutboxRow,
    resume: &BookingResumeOp,
    ledger: &SlotLedger,
) -> Result<Attempt> {
    for slot in ledger.slots(&resume.pause_id).await? {
        if slot.state != SlotState::Paused {
            continue;
        }
        if let Step::Stop(a) = resume_one(fhir, op, resume, ledger, &slot).await? {
            return Ok(a);
        }
    }
    Ok(Attempt::done(
        format!("Slot?_tag={}|{}", map::OP_TAG_SYSTEM, op.key),
        None,
    ))
}

async fn resume_one(
    fhir: &FhirSource,
    op: &OutboxRow,
    resume: &BookingResumeOp,
    ledger: &SlotLedger,
    slot: &BookingSlot,
) -> Result<Step> {
    let path = format!("Slot/{}", slot.slot_id);
    let settled = |state: SlotState, said: Option<String>| BookingSlot {
        state,
        server_said: said,
        ..slot.clone()
    };
    let now = match read_slot(fhir, &path).await {
        Ok(Some((now, _))) => now,
        Ok(None) => {
            let left = settled(SlotState::Left, Some("deleted".to_owned()));
            ledger.write(&resume.pause_id, left).await?;
            return Ok(Step::Next);
        }
        Err(stop) => return Ok(Step::Stop(stop)),
    };
    // An earlier attempt got there; its answer was lost.
    if map::made_by(&now, &op.key) {
        let resumed = settled(SlotState::Resumed, None);
        ledger.write(&resume.pause_id, resumed).await?;
        return Ok(Step::Next);
    }
    let untouched = match &slot.paused_version {
        Some(v) => version_of(&now).as_deref() == Some(v.as_str()),
        // A server without versions: still closed, and still by this pause (the pause's
        // id is its op's key, the tag it wrote).
        None => slot_status(&now) == Some(SLOT_CLOSED) && map::made_by(&now, &resume.pause_id),
    };
    if !untouched {
        let said = slot_status(&now).map(str::to_owned);
        ledger
            .write(&resume.pause_id, settled(SlotState::Left, said))
            .await?;
        return Ok(Step::Next);
    }
    let free = with_status(&now, SLOT_FREE, &op.key);
    match fhir
        .update(&path, &free, slot.paused_version.as_deref())
        .await
    {
        Ok(a) if a.is_success() => {
            let resumed = settled(SlotState::Resumed, None);
            ledger.write(&resume.pause_id, resumed).await?;
            Ok(Step::Next)
        }
        // Changed between the read and the update (or a lost answer of our own).
        Ok(a) if matches!(a.status, 409 | 412) => {
            let outcome = match read_slot(fhir, &path).await {
                Ok(Some((again, _))) if map::made_by(&again, &op.key) => {
                    settled(SlotState::Resumed, None)
                }
                Ok(Some((again, _))) => {
                    settled(SlotState::Left, slot_status(&again).map(str::to_owned))
                }
                Ok(None) => settled(SlotState::Left, Some("deleted".to_owned())),
                Err(stop) => return Ok(Step::Stop(stop)),
            };
            ledger.write(&resume.pause_id, outcome).await?;
            Ok(Step::Next)
        }
        Ok(a) => match stopping(&a) {
            Some(stop) => Ok(Step::Stop(stop)),
            None => {
                let left = settled(SlotState::Left, Some(refusal(&a)));
                ledger.write(&resume.pause_id, left).await?;
                Ok(Step::Next)
            }
        },
        Err(e) => Ok(Step::Stop(Attempt::transport(e))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn pause() -> BookingPauseOp {
        BookingPauseOp {
            pause_id: "p1".into(),
            from: Utc.with_ymd_and_hms(2026, 12, 2, 23, 0, 0).unwrap(),
            until: Utc.with_ymd_and_hms(2026, 12, 3, 15, 0, 0).unwrap(),
            staff: None,
        }
    }

    #[test]
    fn only_a_free_slot_starting_inside_the_window_is_closed_whatever_the_search_returned() {
        let slot = |status: &str, start: &str| json!({"resourceType": "Slot", "id": "s", "status": status, "start": start});
        assert!(in_pause(&slot("free", "2026-12-03T01:00:00Z"), &pause()));
        assert!(!in_pause(&slot("busy", "2026-12-03T01:00:00Z"), &pause()));
        assert!(!in_pause(&slot("free", "2026-12-02T22:59:59Z"), &pause()));
        assert!(!in_pause(&slot("free", "2026-12-03T15:00:00Z"), &pause()));
        assert!(!in_pause(
            &json!({"resourceType": "Slot", "status": "free"}),
            &pause()
        ));
    }

    #[test]
    fn a_closed_slot_keeps_everything_else_and_carries_the_ops_tag() {
        let slot = json!({"resourceType": "Slot", "id": "s1", "status": "free",
            "meta": {"versionId": "4", "tag": [{"system": "other", "code": "x"}]},
            "schedule": {"reference": "Schedule/d1"}, "start": "2026-12-03T01:00:00Z"});
        let closed = with_status(&slot, SLOT_CLOSED, "k1");
        assert_eq!(closed["status"], SLOT_CLOSED);
        assert_eq!(closed["schedule"]["reference"], "Schedule/d1");
        assert!(map::made_by(&closed, "k1"));
        assert!(closed["meta"].get("versionId").is_none());
        assert_eq!(closed["meta"]["tag"].as_array().unwrap().len(), 2);
    }
}
