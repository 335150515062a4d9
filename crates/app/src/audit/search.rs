//! Searching the audit trail (§7, §8): for ethics-office auditors and the permission
//! administrator only, and every search is itself recorded — with the subject as its HMAC,
//! never in clear.

use jiff::Timestamp;
use querywarden_domain::NationalId;
use querywarden_domain::audit_event::{Actor, AuditAction, AuditEvent, Outcome};
use querywarden_domain::org::{Account, Person, Role};
use querywarden_domain::roc_date::{RocDate, taipei_day_start_utc};
use querywarden_storage::{AuditFilter, Store, StoredAuditRecord};

use crate::AppError;
use crate::auth::AuthFailure;
use crate::keys::KeyRing;

/// Proof that a person may read the audit trail: only [`AuditReader::for_person`] makes one,
/// and only for an ethics auditor (政風室稽核人員) or the permission administrator (權限管理者).
#[derive(Debug, Clone)]
pub struct AuditReader {
    actor: Actor,
}

impl AuditReader {
    pub fn for_person(p: &Person) -> Option<AuditReader> {
        [Role::EthicsAuditor, Role::PermissionAdministrator]
            .into_iter()
            .find(|r| p.has_role(*r))
            .map(|role| AuditReader {
                actor: Actor {
                    person: p.id,
                    role: Some(role),
                },
            })
    }

    /// The command line acts as the operator of the server itself.
    pub fn operator() -> AuditReader {
        AuditReader {
            actor: Actor {
                person: querywarden_domain::org::PersonId::new(0),
                role: None,
            },
        }
    }

    fn actor(&self) -> Option<Actor> {
        (self.actor.person.get() != 0).then_some(self.actor)
    }
}

/// What to look for; every field optional.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub person: Option<Account>,
    pub action: Option<String>,
    pub from: Option<RocDate>,
    /// Inclusive.
    pub until: Option<RocDate>,
    pub object: Option<(String, String)>,
    pub subject: Option<NationalId>,
    pub limit: u32,
    pub before: Option<u64>,
}

/// Runs the search and records it. The inner `Err` is a refusal shown to the person.
pub async fn search(
    store: &Store,
    keys: &KeyRing,
    reader: &AuditReader,
    q: &AuditQuery,
    now: Timestamp,
    request_id: &str,
) -> Result<Result<Vec<StoredAuditRecord>, AuthFailure>, AppError> {
    let limit = q.limit.clamp(1, 500);
    let refuse = |f: AuthFailure| async move {
        let mut event = AuditEvent::system(now, AuditAction::AuditTrailSearched, request_id)
            .on("audit_trail", "search")
            .outcome(Outcome::Refused(f.code.clone()));
        event.actor = reader.actor();
        let mut tx = store.begin().await?;
        tx.append_audit(&event).await?;
        tx.commit().await?;
        Ok::<_, AppError>(Err(f))
    };
    // A page cursor past the trail's sequence range is refused, never wrapped into a
    // negative number that would silently return nothing (or everything).
    if q.before.is_some_and(|b| i64::try_from(b).is_err()) {
        return refuse(AuthFailure::new("audit.before", "分頁參數超出範圍")).await;
    }
    let mut filter = AuditFilter {
        limit,
        before_seq: q.before,
        action: q.action.clone().filter(|a| !a.is_empty()),
        ..Default::default()
    };
    if let Some(account) = &q.person {
        let Some(p) = store.person_by_account(account).await? else {
            return refuse(AuthFailure::new("audit.unknown_person", "查無此帳號")).await;
        };
        filter.actor_person_id = Some(p.id.get());
    }
    filter.from = q.from.map(|d| taipei_day_start_utc(d).to_string());
    if let Some(d) = q.until {
        let next = d
            .civil()
            .tomorrow()
            .ok()
            .and_then(|c| RocDate::from_civil(c).ok())
            .ok_or_else(|| AuthFailure::new("audit.date_range", "日期超出範圍"));
        match next {
            Ok(n) => filter.until = Some(taipei_day_start_utc(n).to_string()),
            Err(f) => return refuse(f).await,
        }
    }
    if let Some((t, id)) = &q.object {
        filter.object_type = Some(t.clone());
        filter.object_id = Some(id.clone());
    }
    // A subject may appear under any HMAC key ever used.
    let digests: Vec<Option<String>> = match &q.subject {
        Some(id) => keys
            .subject_digests_all(id)
            .into_iter()
            .map(|d| Some(d.hex))
            .collect(),
        None => vec![None],
    };
    let mut records = Vec::new();
    for d in digests {
        filter.subject_hmac = d;
        records.extend(store.audit_search(&filter).await?);
    }
    records.sort_by_key(|r| std::cmp::Reverse(r.seq));
    records.truncate(limit as usize);
    let mut event = AuditEvent::system(now, AuditAction::AuditTrailSearched, request_id)
        .on("audit_trail", "search")
        .detail("results", records.len());
    event.actor = reader.actor();
    if let Some(a) = &filter.action {
        event = event.detail("action", a.as_str());
    }
    if let Some(p) = &q.person {
        event = event.detail("person", p.as_str());
    }
    if let Some(id) = &q.subject {
        event.subject = Some(keys.subject_digest(id));
    }
    let mut tx = store.begin().await?;
    tx.append_audit(&event).await?;
    tx.commit().await?;
    Ok(Ok(records))
}
