//! Delivering one op to the upstream and reading what the answer means for it: done, a
//! failure that waiting can fix (network, 5xx, 429, a login page in the way), a rejection
//! by the server (4xx), or a conflict (the server's appointment moved on: 412).
//!
//! Exactly once: creates are conditional on the op's identifier (and, when a previous
//! attempt may have reached the server, looked up first); an appointment update is made
//! on the version the desk's change was based on, with If-Match, and tagged with the op's
//! key, so an update whose answer was lost is recognised in the server's history.

use std::time::Duration;

use serde_json::Value;

use super::change::ServerAppointment;
use super::fhir as map;
use crate::config::{Config, Language};
use crate::error::{ErrorCode, Result};
use crate::keychain::Keychain;
use crate::source::fhir::{Answer, FhirSource};
use crate::source::{AnySource, SourceError};
use crate::store::{Delivery, OutboxRow};

/// Where ops go now: the configured source. An op goes only to the upstream it was made
/// against (its `upstream` key); the rest wait for theirs.
#[derive(Debug, Clone)]
pub enum Upstream {
    Fhir {
        source: FhirSource,
        key: String,
    },
    /// ORCA: appointment changes through appointmodv2; the rest is kept on the desk.
    Orca {
        source: crate::source::orca::OrcaSource,
        key: String,
        calendar: crate::calendar::ClinicCalendar,
    },
    /// The built-in demo clinic: it takes the changes made on demo data (always, whatever
    /// the source is now), so the whole flow can be tried.
    Demo,
    /// CSV imports: there is no system to write to; ops wait for a person.
    None,
}

impl Upstream {
    pub fn for_config(
        config: &Config,
        keychain: &Keychain,
        http: &reqwest::Client,
    ) -> Result<Upstream> {
        Ok(match AnySource::for_config(config, keychain, http)? {
            Some(AnySource::Fhir(source)) => Upstream::Fhir {
                source,
                key: config.upstream_key()?,
            },
            Some(AnySource::Demo(_)) => Upstream::Demo,
            Some(AnySource::Orca(source)) => Upstream::Orca {
                source,
                key: config.upstream_key()?,
                calendar: config.calendar(),
            },
            None => Upstream::None,
        })
    }

    /// The key of the upstream this source sends to (besides the demo's own ops).
    pub fn key(&self) -> Option<&str> {
        match self {
            Upstream::Fhir { key, .. } | Upstream::Orca { key, .. } => Some(key),
            Upstream::Demo => Some(crate::source::demo::SOURCE_KEY),
            Upstream::None => None,
        }
    }
}

/// What one attempt produced, and how long the server asked us to wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub delivery: Delivery,
    pub retry_after: Option<Duration>,
}

impl Attempt {
    pub(super) fn settled(delivery: Delivery) -> Attempt {
        Attempt {
            delivery,
            retry_after: None,
        }
    }

    pub(super) fn done(upstream_ref: String, new_version: Option<String>) -> Attempt {
        Attempt::settled(Delivery::Done {
            upstream_ref,
            new_version,
        })
    }

    /// The demo clinic takes it (it has nowhere to keep it).
    pub fn demo(op: &OutboxRow) -> Attempt {
        Attempt::done(format!("demo:{}", op.kind().code()), None)
    }

    /// An appointment update landed, as version `version` (`Appointment/a1/_history/4`).
    fn updated(id: &str, version: Option<String>) -> Attempt {
        let reference = match &version {
            Some(v) => format!("Appointment/{id}/_history/{v}"),
            None => format!("Appointment/{id}"),
        };
        Attempt::done(reference, version)
    }

    /// No HTTP answer at all.
    pub(super) fn transport(e: SourceError) -> Attempt {
        Attempt::settled(Delivery::Failed {
            code: e.code(),
            status: None,
            retryable: e.is_retryable(),
            text: e.to_string(),
        })
    }

    /// Given up because the route out changed while the request was on its way: it may
    /// have landed (the next attempt tells, as after a lost answer).
    pub fn route_changed() -> Attempt {
        Attempt::settled(Delivery::Failed {
            code: ErrorCode::SourceUnreachable,
            status: None,
            retryable: true,
            text: "the route to the server changed while the request was on its way; \
                   sending it again"
                .to_owned(),
        })
    }

    /// An answer that was not a success and has no special meaning for the op.
    pub(super) fn refused(answer: &Answer) -> Attempt {
        let status = answer.status;
        let failed = |code: ErrorCode, retryable: bool, text: String| Attempt {
            delivery: Delivery::Failed {
                code,
                status: Some(status),
                retryable,
                text,
            },
            retry_after: answer.retry_after,
        };
        match status {
            // The server's words stay out of this text: it travels to logs and terminals.
            408 | 429 | 500..=599 => failed(
                ErrorCode::SourceServer,
                true,
                format!("the server answered HTTP {status} (busy or failing); retrying"),
            ),
            // Not the op's fault: every op would get the same; fixed in the settings.
            401 | 403 => failed(
                ErrorCode::SourceAuth,
                false,
                format!("the server refused Tsunagi's credentials (HTTP {status})"),
            ),
            300..=399 => failed(
                ErrorCode::SourceNotFhir,
                true,
                format!("a redirect (HTTP {status}): a login page or a proxy may be in the way"),
            ),
            _ => Attempt::settled(Delivery::Rejected {
                code: ErrorCode::OutboxRejected,
                status,
                text: answer.outcome_text(),
            }),
        }
    }

    /// A success status whose body is not the FHIR we asked for (a captive portal).
    pub(super) fn not_fhir(answer: &Answer) -> Attempt {
        Attempt::settled(Delivery::Failed {
            code: ErrorCode::SourceNotFhir,
            status: Some(answer.status),
            retryable: true,
            text: "the answer was not FHIR JSON; a login page or a proxy may be in the way"
                .to_owned(),
        })
    }

    /// The server holds something else than what the change was made on: a person decides.
    fn conflict(answer: &Answer, current: &Value, code: Option<ErrorCode>) -> Attempt {
        Attempt::settled(Delivery::Conflict {
            server_version: answer.version.clone(),
            server_state: map::appointment_state(current),
            code,
        })
    }

    fn gone() -> Attempt {
        Attempt::settled(Delivery::Conflict {
            server_version: None,
            server_state: ServerAppointment::gone(),
            code: None,
        })
    }
}

/// Deliver one op to a FHIR server.
pub async fn deliver(fhir: &FhirSource, op: &OutboxRow, language: Language) -> Attempt {
    match (
        map::created_type(&op.change),
        map::created_resource(op, language),
    ) {
        (Some(kind), Some(resource)) => create(fhir, op, kind, &resource).await,
        _ => update_appointment(fhir, op).await,
    }
}

fn resource_id(answer: &Answer, kind: &str) -> Option<String> {
    if let Some(json) = &answer.json {
        if json["resourceType"].as_str() == Some(kind) {
            if let Some(id) = json["id"].as_str() {
                return Some(id.to_owned());
            }
        }
    }
    // `…/Invoice/123/_history/1` or `Invoice/123`.
    let location = answer.location.as_deref()?;
    let mut parts = location.split('/').skip_while(|p| *p != kind);
    parts.next()?;
    parts.next().map(str::to_owned)
}

async fn create(fhir: &FhirSource, op: &OutboxRow, kind: &str, resource: &Value) -> Attempt {
    let search = map::identifier_search(&op.key);
    if op.attempts > 1 || op.taken_from.is_some() {
        // An earlier attempt (or the desk this op was taken over from) may have reached
        // the server; a server that ignores If-None-Exist would otherwise make a second
        // copy.
        match fhir.read(&format!("{kind}?{search}")).await {
            Ok(a) if a.is_success() => {
                if let Some(id) = own_match(&a, kind, &op.key) {
                    return Attempt::done(format!("{kind}/{id}"), None);
                }
            }
            Ok(a) if a.status >= 500 || a.status == 429 => return Attempt::refused(&a),
            Ok(_) => {} // no search on this server: the conditional create still guards
            Err(e) => return Attempt::transport(e),
        }
    }
    match fhir.create(kind, resource, &search).await {
        Ok(a) if a.is_success() => match resource_id(&a, kind) {
            Some(id) => Attempt::done(format!("{kind}/{id}"), None),
            None => Attempt::not_fhir(&a),
        },
        Ok(a) => Attempt::refused(&a),
        Err(e) => Attempt::transport(e),
    }
}

/// The resource an earlier attempt of this op made, found by its identifier. Only a
/// resource of the right type that carries the op's own identifier counts: a server that
/// ignores an unknown search parameter answers with anything, and that is not ours.
fn own_match(answer: &Answer, kind: &str, key: &str) -> Option<String> {
    let ours = map::op_identifier(key);
    answer.json.as_ref()?["entry"]
        .as_array()?
        .iter()
        .filter(|e| e["search"]["mode"].as_str() != Some("outcome"))
        .filter_map(|e| e.get("resource"))
        .find(|r| {
            r["resourceType"].as_str() == Some(kind)
                && r["identifier"].as_array().is_some_and(|ids| {
                    ids.iter()
                        .any(|i| i["system"] == ours["system"] && i["value"] == ours["value"])
                })
        })
        .and_then(|r| r["id"].as_str().map(str::to_owned))
}

async fn update_appointment(fhir: &FhirSource, op: &OutboxRow) -> Attempt {
    let Some((id, _)) = op.change.appointment_change() else {
        return Attempt::settled(Delivery::Rejected {
            code: ErrorCode::OutboxUnknownKind,
            status: 0,
            text: format!("this Tsunagi cannot send a {}", op.kind().code()),
        });
    };
    // The server's appointment as it was when the desk made its change, and the version
    // to send it back on (If-Match).
    let (mut resource, if_match) = match &op.base_version {
        Some(v) => match fhir.read(&format!("Appointment/{id}/_history/{v}")).await {
            Ok(a) if a.is_success() => match appointment(&a) {
                Some(r) => (r, Some(v.clone())),
                None => return Attempt::not_fhir(&a),
            },
            // No reading of old versions on this server, or that version is gone: the
            // current one tells whether anything happened since.
            Ok(a) if matches!(a.status, 404 | 405 | 410 | 501) => {
                match fhir.read(&format!("Appointment/{id}")).await {
                    Ok(c) if c.is_success() => {
                        let Some(current) = appointment(&c) else {
                            return Attempt::not_fhir(&c);
                        };
                        if map::made_by(&current, &op.key) {
                            return Attempt::updated(id, c.version.clone());
                        }
                        if c.version.as_deref() != Some(v.as_str()) {
                            return settle_moved(fhir, op, id).await;
                        }
                        (current, Some(v.clone()))
                    }
                    Ok(c) if matches!(c.status, 404 | 410) => {
                        return settle_moved(fhir, op, id).await
                    }
                    Ok(c) => return Attempt::refused(&c),
                    Err(e) => return Attempt::transport(e),
                }
            }
            Ok(a) => return Attempt::refused(&a),
            Err(e) => return Attempt::transport(e),
        },
        // The mirror has no version for it (a server that keeps none): nothing for If-Match
        // to hold on to. The fields the desk changes must still be what the change was made
        // on; otherwise (or when that is not known) a person decides, once.
        None => match fhir.read(&format!("Appointment/{id}")).await {
            Ok(c) if c.is_success() => {
                let Some(current) = appointment(&c) else {
                    return Attempt::not_fhir(&c);
                };
                if map::made_by(&current, &op.key) {
                    return Attempt::updated(id, c.version.clone());
                }
                match &op.base_state {
                    Some(base) if map::unchanged_since(&current, base) => (current, None),
                    Some(_) => return Attempt::conflict(&c, &current, None),
                    None => {
                        return Attempt::conflict(&c, &current, Some(ErrorCode::OutboxNoVersions))
                    }
                }
            }
            Ok(c) if matches!(c.status, 404 | 410) => return Attempt::gone(),
            Ok(c) => return Attempt::refused(&c),
            Err(e) => return Attempt::transport(e),
        },
    };
    map::apply_change(&mut resource, op);
    match fhir
        .update(&format!("Appointment/{id}"), &resource, if_match.as_deref())
        .await
    {
        Ok(a) if a.is_success() => Attempt::updated(id, a.version.clone()),
        Ok(a) if matches!(a.status, 409 | 412) => settle_moved(fhir, op, id).await,
        Ok(a) => Attempt::refused(&a),
        Err(e) => Attempt::transport(e),
    }
}

/// The answer's Appointment, if that is what it holds.
fn appointment(answer: &Answer) -> Option<Value> {
    answer
        .json
        .clone()
        .filter(|j| j["resourceType"].as_str() == Some("Appointment"))
}

/// The server's appointment is no longer at the version the change was based on: either
/// this very op got there (its answer was lost) or someone else changed it — a conflict.
async fn settle_moved(fhir: &FhirSource, op: &OutboxRow, id: &str) -> Attempt {
    match fhir
        .read(&format!("Appointment/{id}/_history?_count=100"))
        .await
    {
        Ok(h) if h.is_success() => {
            if let Some(ours) = map::versions_made_by(h.json.as_ref(), &op.key).first() {
                let v = ours["meta"]["versionId"].as_str().map(str::to_owned);
                return Attempt::updated(id, v);
            }
        }
        Ok(h) if h.status >= 500 || h.status == 429 => return Attempt::refused(&h),
        Ok(_) => {} // no history on this server: the current version has to tell
        Err(e) => return Attempt::transport(e),
    }
    match fhir.read(&format!("Appointment/{id}")).await {
        Ok(a) if matches!(a.status, 404 | 410) => Attempt::gone(),
        Ok(a) if a.is_success() => match appointment(&a) {
            Some(current) if map::made_by(&current, &op.key) => {
                Attempt::updated(id, a.version.clone())
            }
            Some(current) => Attempt::conflict(&a, &current, None),
            None => Attempt::not_fhir(&a),
        },
        Ok(a) => Attempt::refused(&a),
        Err(e) => Attempt::transport(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn searchset(entries: Value) -> Answer {
        Answer {
            status: 200,
            version: None,
            location: None,
            json: Some(json!({ "resourceType": "Bundle", "type": "searchset", "entry": entries })),
            retry_after: None,
        }
    }

    #[test]
    fn a_search_that_ignores_the_identifier_is_not_taken_for_our_earlier_create() {
        let key = "0193a000-0000-7000-8000-000000000001";
        // A server that ignores a search parameter it does not know answers with any
        // Invoice: another patient's receipt is not this op's.
        let lenient = searchset(json!([
            { "resource": { "resourceType": "Invoice", "id": "someone-else",
                            "identifier": [{ "system": "urn:ietf:rfc:3986",
                                             "value": "urn:uuid:0193a000-0000-7000-8000-00000000ffff" }] } },
            { "resource": { "resourceType": "OperationOutcome" }, "search": { "mode": "outcome" } }
        ]));
        assert_eq!(own_match(&lenient, "Invoice", key), None);
        let ours = searchset(json!([
            { "resource": { "resourceType": "Invoice", "id": "42",
                            "identifier": [map::op_identifier(key)] } }
        ]));
        assert_eq!(own_match(&ours, "Invoice", key).as_deref(), Some("42"));
        assert_eq!(own_match(&ours, "Communication", key), None);
    }
}
