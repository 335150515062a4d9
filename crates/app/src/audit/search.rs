//! Searching the audit trail (§7, §8): for ethics-office auditors and the permission
//! administrator only, and every search is itself recorded — with the subject as its HMAC,
//! never in clear.

use jiff::Timestamp;
use querywarden_domain::NationalId;
use querywarden_domain::audit_event::{Actor, AuditAction, AuditEvent};
use querywarden_domain::org::{Account, Person, Role};
use querywarden_domain::roc_date::{RocDate, taipei_day_start_utc};
pub use querywarden_storage::StoredAuditRecord;
use querywarden_storage::{AuditFilter, Store};

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
    /// The page older than this sequence number.
    pub before: Option<u64>,
    /// The page newer than this sequence number (paging back).
    pub after: Option<u64>,
}

/// One page of a search, newest first, with how many records match in all and the cursors of
/// the pages on either side (`None` at either end of the trail).
#[derive(Debug, Clone, Default)]
pub struct AuditResults {
    pub records: Vec<StoredAuditRecord>,
    pub total: u64,
    /// Pass as [`AuditQuery::after`] for the newer page.
    pub newer: Option<u64>,
    /// Pass as [`AuditQuery::before`] for the older page.
    pub older: Option<u64>,
}

/// The most records one export holds; a wider search is refused with the advice to narrow it
/// (the page of a browser, and the memory of a small server, stay bounded).
pub const EXPORT_MAX: u64 = 10_000;

/// The storage filter and the subject digests a query stands for, or the refusal.
struct Prepared {
    filter: AuditFilter,
    /// A subject may appear under any HMAC key ever used: one search per digest.
    digests: Vec<Option<String>>,
}

async fn prepare(
    store: &Store,
    keys: &KeyRing,
    q: &AuditQuery,
) -> Result<Result<Prepared, AuthFailure>, AppError> {
    // A page cursor past the trail's sequence range is refused, never wrapped into a
    // negative number that would silently return nothing (or everything).
    if [q.before, q.after]
        .into_iter()
        .flatten()
        .any(|b| i64::try_from(b).is_err())
    {
        return Ok(Err(AuthFailure::new("audit.before", "分頁參數超出範圍")));
    }
    let mut filter = AuditFilter {
        limit: q.limit.clamp(1, 500),
        before_seq: q.before,
        after_seq: q.after.filter(|_| q.before.is_none()),
        action: q.action.clone().filter(|a| !a.is_empty()),
        ..Default::default()
    };
    if let Some(account) = &q.person {
        let Some(p) = store.person_by_account(account).await? else {
            return Ok(Err(AuthFailure::new("audit.unknown_person", "查無此帳號")));
        };
        filter.actor_person_id = Some(p.id.get());
    }
    filter.from = q.from.map(|d| taipei_day_start_utc(d).to_string());
    if let Some(d) = q.until {
        let next = d
            .civil()
            .tomorrow()
            .ok()
            .and_then(|c| RocDate::from_civil(c).ok());
        match next {
            Some(n) => filter.until = Some(taipei_day_start_utc(n).to_string()),
            None => return Ok(Err(AuthFailure::new("audit.date_range", "日期超出範圍"))),
        }
    }
    if let Some((t, id)) = &q.object {
        filter.object_type = Some(t.clone());
        filter.object_id = Some(id.clone());
    }
    let digests = match &q.subject {
        Some(id) => keys
            .subject_digests_all(id)
            .into_iter()
            .map(|d| Some(d.hex))
            .collect(),
        None => vec![None],
    };
    Ok(Ok(Prepared { filter, digests }))
}

impl Prepared {
    /// Records matching under any of the digests, newest first, at most `filter.limit`.
    async fn page(
        &self,
        store: &Store,
        filter: &AuditFilter,
    ) -> Result<Vec<StoredAuditRecord>, AppError> {
        let mut records = Vec::new();
        for d in &self.digests {
            let mut f = filter.clone();
            f.subject_hmac = d.clone();
            records.extend(store.audit_search(&f).await?);
        }
        records.sort_by_key(|r| std::cmp::Reverse(r.seq));
        let limit = filter.limit as usize;
        if filter.after_seq.is_some() {
            // Paging back: the records nearest above the cursor are the oldest ones.
            let skip = records.len().saturating_sub(limit);
            records.drain(..skip);
        } else {
            records.truncate(limit);
        }
        Ok(records)
    }

    async fn count(&self, store: &Store) -> Result<u64, AppError> {
        let mut total = 0;
        for d in &self.digests {
            let mut f = self.filter.clone();
            f.subject_hmac = d.clone();
            total += store.audit_count(&f).await?;
        }
        Ok(total)
    }

    /// Whether any record matches on the far side of `seq` (`older`: below it).
    async fn any_beyond(&self, store: &Store, seq: u64, older: bool) -> Result<bool, AppError> {
        let mut f = self.filter.clone();
        f.limit = 1;
        (f.before_seq, f.after_seq) = if older {
            (Some(seq), None)
        } else {
            (None, Some(seq))
        };
        Ok(!self.page(store, &f).await?.is_empty())
    }
}

async fn record_refusal(
    store: &Store,
    reader: &AuditReader,
    action: AuditAction,
    object_id: &str,
    f: &AuthFailure,
    now: Timestamp,
    request_id: &str,
) -> Result<(), AppError> {
    let mut event = AuditEvent::system(now, action, request_id).on("audit_trail", object_id);
    event.actor = reader.actor();
    crate::audit::record_refusal(store, event, &f.code).await?;
    Ok(())
}

/// The search's own record: what was looked for (the subject as its HMAC only).
fn searched_event(
    keys: &KeyRing,
    reader: &AuditReader,
    action: AuditAction,
    object_id: &str,
    q: &AuditQuery,
    rows: usize,
    (now, request_id): (Timestamp, &str),
) -> AuditEvent {
    let mut event = AuditEvent::system(now, action, request_id)
        .on("audit_trail", object_id)
        .detail("results", rows);
    event.actor = reader.actor();
    if let Some(a) = q.action.as_ref().filter(|a| !a.is_empty()) {
        event = event.detail("action", a.as_str());
    }
    if let Some(p) = &q.person {
        event = event.detail("person", p.as_str());
    }
    if let Some(id) = &q.subject {
        event.subject = Some(keys.subject_digest(id));
    }
    event
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
    Ok(search_page(store, keys, reader, q, now, request_id)
        .await?
        .map(|r| r.records))
}

/// [`search`], with the total that matches and the cursors of the pages either side, for the
/// search page (§7, §8: the auditor sees how much there is and can page both ways).
pub async fn search_page(
    store: &Store,
    keys: &KeyRing,
    reader: &AuditReader,
    q: &AuditQuery,
    now: Timestamp,
    request_id: &str,
) -> Result<Result<AuditResults, AuthFailure>, AppError> {
    let prepared = match prepare(store, keys, q).await? {
        Ok(p) => p,
        Err(f) => {
            record_refusal(
                store,
                reader,
                AuditAction::AuditTrailSearched,
                "search",
                &f,
                now,
                request_id,
            )
            .await?;
            return Ok(Err(f));
        }
    };
    let records = prepared.page(store, &prepared.filter).await?;
    let total = prepared.count(store).await?;
    let (newer, older) = match (records.first(), records.last()) {
        (Some(first), Some(last)) => (
            prepared
                .any_beyond(store, first.seq, false)
                .await?
                .then_some(first.seq),
            prepared
                .any_beyond(store, last.seq, true)
                .await?
                .then_some(last.seq),
        ),
        _ => (None, None),
    };
    let event = searched_event(
        keys,
        reader,
        AuditAction::AuditTrailSearched,
        "search",
        q,
        records.len(),
        (now, request_id),
    );
    crate::audit::record(store, &event).await?;
    Ok(Ok(AuditResults {
        records,
        total,
        newer,
        older,
    }))
}

/// Every record the query matches (cursors and limit aside), newest first, for an export;
/// recorded as `audit.trail.exported` with the count, the subject as its HMAC only. More than
/// [`EXPORT_MAX`] records are refused (and the refusal recorded) with the advice to narrow
/// the search.
pub async fn export(
    store: &Store,
    keys: &KeyRing,
    reader: &AuditReader,
    q: &AuditQuery,
    now: Timestamp,
    request_id: &str,
) -> Result<Result<Vec<StoredAuditRecord>, AuthFailure>, AppError> {
    let whole = AuditQuery {
        before: None,
        after: None,
        ..q.clone()
    };
    let refuse = |f: AuthFailure| async move {
        record_refusal(
            store,
            reader,
            AuditAction::AuditTrailExported,
            "export",
            &f,
            now,
            request_id,
        )
        .await?;
        Ok::<_, AppError>(Err(f))
    };
    let prepared = match prepare(store, keys, &whole).await? {
        Ok(p) => p,
        Err(f) => return refuse(f).await,
    };
    if prepared.count(store).await? > EXPORT_MAX {
        return refuse(AuthFailure::new(
            "audit.export_too_large",
            "符合的紀錄超過匯出上限；請縮小日期範圍或加上其他條件後再匯出",
        ))
        .await;
    }
    let mut filter = prepared.filter.clone();
    filter.limit = 500;
    let mut records: Vec<StoredAuditRecord> = Vec::new();
    loop {
        let page = prepared.page(store, &filter).await?;
        let Some(last) = page.last() else { break };
        filter.before_seq = Some(last.seq);
        let full = page.len() == filter.limit as usize;
        records.extend(page);
        if !full {
            break;
        }
    }
    let event = searched_event(
        keys,
        reader,
        AuditAction::AuditTrailExported,
        "export",
        &whole,
        records.len(),
        (now, request_id),
    )
    .detail("format", "csv");
    crate::audit::record(store, &event).await?;
    Ok(Ok(records))
}
