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

use super::fhir as map;
use crate::config::{Config, Language};
use crate::error::Result;
use crate::keychain::Keychain;
use crate::source::fhir::{Answer, FhirSource};
use crate::source::{AnySource, SourceError};
use crate::store::{Delivery, OutboxRow};

/// Where ops go.
#[derive(Debug, Clone)]
pub enum Upstream {
    Fhir(FhirSource),
    /// The built-in demo clinic takes every change (so the whole flow can be tried).
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
            Some(AnySource::Fhir(s)) => Upstream::Fhir(s),
            Some(AnySource::Demo(_)) => Upstream::Demo,
            None => Upstream::None,
        })
    }
}

/// What one attempt produced, and how long the server asked us to wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub delivery: Delivery,
    pub retry_after: Option<Duration>,
}

impl Attempt {
    fn settled(delivery: Delivery) -> Attempt {
        Attempt {
            delivery,
            retry_after: None,
        }
    }

    fn done(upstream_ref: String, new_version: Option<String>) -> Attempt {
        Attempt::settled(Delivery::Done {
            upstream_ref,
            new_version,
        })
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
    fn transport(e: SourceError) -> Attempt {
        Attempt::settled(Delivery::Failed {
            code: e.code().to_owned(),
            status: None,
            text: e.to_string(),
        })
    }

    /// An answer that was not a success and has no special meaning for the op.
    fn refused(answer: &Answer) -> Attempt {
        let status = answer.status;
        let failed = |code: &str, text: String| Attempt {
            delivery: Delivery::Failed {
                code: code.to_owned(),
                status: Some(status),
                text,
            },
            retry_after: answer.retry_after,
        };
        match status {
            // The server's words stay out of this text: it travels to logs and terminals.
            408 | 429 | 500..=599 => failed(
                "source.server",
                format!("the server answered HTTP {status} (busy or failing); retrying"),
            ),
            // Not the op's fault: every op would get the same; fixed in the settings.
            401 | 403 => failed(
                "source.auth",
                format!("the server refused Tsunagi's credentials (HTTP {status})"),
            ),
            300..=399 => failed(
                "source.not_fhir",
                format!("a redirect (HTTP {status}): a login page or a proxy may be in the way"),
            ),
            _ => Attempt::settled(Delivery::Rejected {
                code: "outbox.rejected".to_owned(),
                status,
                text: answer.outcome_text(),
            }),
        }
    }

    /// A success status whose body is not the FHIR we asked for (a captive portal).
    fn not_fhir(answer: &Answer) -> Attempt {
        Attempt::settled(Delivery::Failed {
            code: "source.not_fhir".to_owned(),
            status: Some(answer.status),
            text: "the answer was not FHIR JSON; a login page or a proxy may be in the way"
                .to_owned(),
        })
    }
}

/// Deliver one op to a FHIR server.
pub async fn deliver(fhir: &FhirSource, op: &OutboxRow, language: Language) -> Attempt {
    match (map::created_type(op), map::created_resource(op, language)) {
        (Some(kind), Some(resource)) => create(fhir, op, kind, &resource).await,
        _ if op
            .op_kind()
            .is_some_and(super::OpKind::is_appointment_change) =>
        {
            update_appointment(fhir, op).await
        }
        _ => Attempt::settled(Delivery::Rejected {
            code: "outbox.unknown_kind".to_owned(),
            status: 0,
            text: format!("this Tsunagi cannot send a {:?}", op.kind),
        }),
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

/// The first resource of a searchset, if any.
fn first_match(answer: &Answer) -> Option<&Value> {
    answer.json.as_ref()?["entry"]
        .as_array()?
        .first()?
        .get("resource")
}

async fn create(fhir: &FhirSource, op: &OutboxRow, kind: &str, resource: &Value) -> Attempt {
    let search = map::identifier_search(&op.key);
    if op.attempts > 1 {
        // An earlier attempt may have reached the server; a server that ignores
        // If-None-Exist would otherwise make a second copy.
        match fhir.read(&format!("{kind}?{search}")).await {
            Ok(a) if a.is_success() => {
                if let Some(id) = first_match(&a).and_then(|r| r["id"].as_str()) {
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

async fn update_appointment(fhir: &FhirSource, op: &OutboxRow) -> Attempt {
    let Some(id) = op.target_id.as_deref() else {
        return Attempt::settled(Delivery::Rejected {
            code: "outbox.no_target".to_owned(),
            status: 0,
            text: "the change names no appointment".to_owned(),
        });
    };
    // The server's appointment as it was when the desk made its change.
    let path = match &op.base_version {
        Some(v) => format!("Appointment/{id}/_history/{v}"),
        None => format!("Appointment/{id}"),
    };
    let base = match fhir.read(&path).await {
        Ok(a) if a.is_success() => a,
        Ok(a) if matches!(a.status, 404 | 410) => return settle_moved(fhir, op, id).await,
        Ok(a) => return Attempt::refused(&a),
        Err(e) => return Attempt::transport(e),
    };
    let Some(mut resource) = base
        .json
        .clone()
        .filter(|j| j["resourceType"].as_str() == Some("Appointment"))
    else {
        return Attempt::not_fhir(&base);
    };
    let version = op.base_version.clone().or(base.version);
    map::apply_change(&mut resource, op);
    match fhir
        .update(&format!("Appointment/{id}"), &resource, version.as_deref())
        .await
    {
        Ok(a) if a.is_success() => Attempt::updated(id, a.version.clone()),
        Ok(a) if matches!(a.status, 409 | 412) => settle_moved(fhir, op, id).await,
        Ok(a) => Attempt::refused(&a),
        Err(e) => Attempt::transport(e),
    }
}

/// The server's appointment is no longer at the version the change was based on: either
/// this very op got there (its answer was lost) or someone else changed it — a conflict.
async fn settle_moved(fhir: &FhirSource, op: &OutboxRow, id: &str) -> Attempt {
    match fhir
        .read(&format!("Appointment/{id}/_history?_count=100"))
        .await
    {
        Ok(h) if h.is_success() => {
            let entries = h
                .json
                .as_ref()
                .and_then(|j| j["entry"].as_array().cloned())
                .unwrap_or_default();
            if let Some(ours) = entries
                .iter()
                .filter_map(|e| e.get("resource"))
                .find(|r| map::made_by(r, &op.key))
            {
                let v = ours["meta"]["versionId"].as_str().map(str::to_owned);
                return Attempt::updated(id, v);
            }
        }
        Ok(h) if h.status >= 500 || h.status == 429 => return Attempt::refused(&h),
        Ok(_) => {} // no history on this server: the current version has to tell
        Err(e) => return Attempt::transport(e),
    }
    match fhir.read(&format!("Appointment/{id}")).await {
        Ok(a) if matches!(a.status, 404 | 410) => Attempt::settled(Delivery::Conflict {
            server_version: None,
            server_state: serde_json::json!({ "deleted": true }),
        }),
        Ok(a) if a.is_success() => match &a.json {
            Some(current) if map::made_by(current, &op.key) => {
                Attempt::updated(id, a.version.clone())
            }
            Some(current) if current["resourceType"].as_str() == Some("Appointment") => {
                Attempt::settled(Delivery::Conflict {
                    server_version: a.version.clone(),
                    server_state: map::appointment_state(current),
                })
            }
            _ => Attempt::not_fhir(&a),
        },
        Ok(a) => Attempt::refused(&a),
        Err(e) => Attempt::transport(e),
    }
}
