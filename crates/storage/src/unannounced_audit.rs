//! Storage of unannounced audits and their records, Form 4 (§8). Migration
//! `0008_unannounced_audits.sql`.
//!
//! Security-sensitive. Attached documents and their names arrive already sealed
//! ([`SealedBlob`]); this module never sees them in clear. State changes are conditional on
//! the state read before (`WHERE state = ?`), so two people acting at once cannot both move
//! the record; a reviewed record is read-only (triggers in the migration refuse changes).

use std::collections::BTreeMap;

use crate::DbRow;
use jiff::Timestamp;
use querywarden_domain::org::{PersonId, UnitId};
use querywarden_domain::oversight::unannounced_audit::{
    AuditCase, AuditId, AuditPlan, AuditState, Candidate, CaseOpinion, DirectorReview,
    OverallOpinion, SamplingMethod, SignOff, SignOffStep, UnannouncedAudit,
};
use querywarden_domain::registration::{RegistrationId, RegistrationNo};

use crate::SealedBlob;
use crate::decode::{blob, coded, decode, get, roc as date, roc_text as iso, ts};
use crate::error::StorageError;
use crate::fetch::{BindBlob, Change, Execute, Fetch};
use crate::sqlite::{Store, WriteTx};

/// A new audit: the checked plan, who opened it, the seed and the drawn cases.
#[derive(Debug, Clone)]
pub struct NewAudit {
    pub plan: AuditPlan,
    pub querier_unit: UnitId,
    pub opened_by: PersonId,
    pub opened_at: Timestamp,
    pub seed: u64,
    /// Every case the sample was drawn from, with its weight.
    pub candidates: Vec<(RegistrationId, u32)>,
    /// In draw order, with the weight each was drawn with.
    pub cases: Vec<(RegistrationId, u32)>,
}

/// A document to attach, sealed: name and content each under their own data key.
#[derive(Debug, Clone)]
pub struct NewAuditDocument {
    pub audit: AuditId,
    pub registration: RegistrationId,
    pub content_type: String,
    pub size_bytes: u64,
    pub sha256: String,
    pub uploaded_by: PersonId,
    pub uploaded_at: Timestamp,
    pub name: SealedBlob,
    pub content: SealedBlob,
}

/// An attached document as listed (its content is read separately).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditDocumentRow {
    pub id: i64,
    pub audit: AuditId,
    pub registration: RegistrationId,
    pub content_type: String,
    pub size_bytes: u64,
    pub sha256: String,
    pub uploaded_by: PersonId,
    pub uploaded_at: Timestamp,
    pub name: SealedBlob,
}

fn candidates_json(c: &[(RegistrationId, u32)]) -> String {
    let pairs: Vec<(i64, u32)> = c.iter().map(|(r, w)| (r.get(), *w)).collect();
    serde_json::to_string(&pairs).unwrap_or_else(|_| "[]".into())
}

fn candidates_from(s: &str) -> Result<Vec<(RegistrationId, u32)>, StorageError> {
    let pairs: Vec<(i64, u32)> = decode("candidates", serde_json::from_str(s))?;
    Ok(pairs
        .into_iter()
        .map(|(r, w)| (RegistrationId::new(r), w))
        .collect())
}

fn document_from(row: &DbRow) -> Result<AuditDocumentRow, StorageError> {
    let size: i64 = get(row, "size_bytes")?;
    Ok(AuditDocumentRow {
        id: get(row, "id")?,
        audit: AuditId::new(get(row, "audit_id")?),
        registration: RegistrationId::new(get(row, "registration_id")?),
        content_type: get(row, "content_type")?,
        size_bytes: decode("size", u64::try_from(size))?,
        sha256: get(row, "sha256")?,
        uploaded_by: PersonId::new(get(row, "uploaded_by")?),
        uploaded_at: ts(&get::<String>(row, "uploaded_at")?)?,
        name: blob(row, "name_")?,
    })
}

const DOCUMENT_COLUMNS: &str = "id, audit_id, registration_id, content_type, size_bytes, sha256, \
     uploaded_by, uploaded_at, name_sealed, name_nonce, name_wrapped_key, name_wrap_nonce, \
     name_master_key_id";

impl WriteTx {
    /// Inserts an audit, its auditors and its drawn cases, in state `documents`.
    pub async fn insert_unannounced_audit(
        &mut self,
        a: &NewAudit,
    ) -> Result<AuditId, StorageError> {
        let p = &a.plan;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO unannounced_audits (period_from, period_to, audit_date, querier_id, \
             querier_unit, auditing_unit, auditing_unit_phone, documents_deadline, \
             cases_requested, sampling, seed, candidates, opened_by, opened_at, state) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
        )
        .bind(iso(p.period_from))
        .bind(iso(p.period_to))
        .bind(iso(p.audit_date))
        .bind(p.querier.get())
        .bind(a.querier_unit.as_str())
        .bind(p.auditing_unit.as_str())
        .bind(&p.auditing_unit_phone)
        .bind(iso(p.documents_deadline))
        .bind(i64::from(p.cases))
        .bind(p.method.code())
        .bind(a.seed.to_string())
        .bind(candidates_json(&a.candidates))
        .bind(a.opened_by.get())
        .bind(a.opened_at.to_string())
        .bind(AuditState::Documents.code())
        .one_in(self).await?;
        for auditor in &p.auditors {
            sqlx::query(
                "INSERT INTO unannounced_audit_auditors (audit_id, person_id) VALUES ($1, $2)",
            )
            .bind(id)
            .bind(auditor.get())
            .execute_in(self)
            .await?;
        }
        for (i, (reg, weight)) in a.cases.iter().enumerate() {
            sqlx::query(
                "INSERT INTO unannounced_audit_cases (audit_id, registration_id, position, weight) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(reg.get())
            .bind(i as i64 + 1)
            .bind(i64::from(*weight))
            .execute_in(self)
            .await?;
        }
        Ok(AuditId::new(id))
    }

    /// Moves the audit from `from` to `to`; false if it was no longer in `from`.
    pub async fn set_audit_state(
        &mut self,
        id: AuditId,
        from: AuditState,
        to: AuditState,
    ) -> Result<bool, StorageError> {
        let r =
            sqlx::query("UPDATE unannounced_audits SET state = $1 WHERE id = $2 AND state = $3")
                .bind(to.code())
                .bind(id.get())
                .bind(from.code())
                .execute_in(self)
                .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Records (or replaces) the opinion on one sampled case.
    pub async fn set_case_opinion(
        &mut self,
        id: AuditId,
        registration: RegistrationId,
        opinion: &CaseOpinion,
        at: Timestamp,
    ) -> Result<bool, StorageError> {
        sqlx::query(
            "UPDATE unannounced_audit_cases SET opinion_conforms = $1, opinion_text = $2, \
             opinion_by = $3, opinion_at = $4 WHERE audit_id = $5 AND registration_id = $6",
        )
        .bind(i64::from(opinion.conforms))
        .bind(&opinion.text)
        .bind(opinion.by.get())
        .bind(at.to_string())
        .bind(id.get())
        .bind(registration.get())
        .changed_in(self)
        .await
    }

    /// Records the overall opinion and moves the audit from `from` to `to` in one statement.
    pub async fn set_overall_opinion(
        &mut self,
        id: AuditId,
        opinion: &OverallOpinion,
        at: Timestamp,
        from: AuditState,
        to: AuditState,
    ) -> Result<bool, StorageError> {
        sqlx::query(
            "UPDATE unannounced_audits SET overall_violation = $1, overall_text = $2, \
             overall_by = $3, overall_at = $4, state = $5 WHERE id = $6 AND state = $7",
        )
        .bind(i64::from(opinion.violation_found))
        .bind(&opinion.text)
        .bind(opinion.by.get())
        .bind(at.to_string())
        .bind(to.code())
        .bind(id.get())
        .bind(from.code())
        .changed_in(self)
        .await
    }

    /// Records a sign-off.
    pub async fn insert_audit_sign_off(
        &mut self,
        id: AuditId,
        s: &SignOff,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO unannounced_audit_sign_offs (audit_id, step, person_id, at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(id.get())
        .bind(s.step.code())
        .bind(s.by.get())
        .bind(s.at.to_string())
        .execute_in(self)
        .await?;
        Ok(())
    }

    /// Records the director's review; the audit becomes read-only. False if it was not
    /// awaiting review.
    pub async fn set_audit_review(
        &mut self,
        id: AuditId,
        review: &DirectorReview,
    ) -> Result<bool, StorageError> {
        sqlx::query(
            "UPDATE unannounced_audits SET reviewed_by = $1, reviewed_at = $2, review_comment = $3, \
             state = $4 WHERE id = $5 AND state = $6",
        )
        .bind(review.by.get())
        .bind(review.at.to_string())
        .bind(review.comment.as_deref())
        .bind(AuditState::Reviewed.code())
        .bind(id.get())
        .bind(AuditState::AwaitingReview.code())
        .changed_in(self)
.await
    }

    /// Stores an attached document; returns its id.
    pub async fn insert_audit_document(
        &mut self,
        d: &NewAuditDocument,
    ) -> Result<i64, StorageError> {
        let size = i64::try_from(d.size_bytes)
            .map_err(|_| StorageError::Constraint("document too large".into()))?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO unannounced_audit_documents (audit_id, registration_id, content_type, \
             size_bytes, sha256, uploaded_by, uploaded_at, name_sealed, name_nonce, \
             name_wrapped_key, name_wrap_nonce, name_master_key_id, sealed, nonce, wrapped_key, \
             wrap_nonce, master_key_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
             RETURNING id",
        )
        .bind(d.audit.get())
        .bind(d.registration.get())
        .bind(&d.content_type)
        .bind(size)
        .bind(&d.sha256)
        .bind(d.uploaded_by.get())
        .bind(d.uploaded_at.to_string())
        .bind_blob(&d.name)
        .bind_blob(&d.content)
        .one_in(self).await?;
        Ok(id)
    }
}

const AUDIT_COLUMNS: &str = "id, period_from, period_to, audit_date, querier_id, querier_unit, \
     auditing_unit, auditing_unit_phone, documents_deadline, cases_requested, sampling, seed, \
     candidates, \
     opened_by, opened_at, state, overall_violation, overall_text, overall_by, overall_at, \
     reviewed_by, reviewed_at, review_comment";

impl Store {
    async fn load_audit(&self, row: &DbRow) -> Result<UnannouncedAudit, StorageError> {
        let id: i64 = get(row, "id")?;
        let auditors: Vec<PersonId> = sqlx::query_as(
            "SELECT person_id FROM unannounced_audit_auditors WHERE audit_id = $1 ORDER BY person_id",
        )
        .bind(id)
        .all(&self.reader, |(p,)| Ok(PersonId::new(p)))
        .await?;
        let cases = sqlx::query(
            "SELECT c.registration_id, r.reg_no, c.position, c.weight, c.opinion_conforms, \
             c.opinion_text, c.opinion_by FROM unannounced_audit_cases c \
             JOIN registrations r ON r.id = c.registration_id \
             WHERE c.audit_id = $1 ORDER BY c.position",
        )
        .bind(id)
        .all(&self.reader, |c| {
            let conforms: Option<i64> = get(&c, "opinion_conforms")?;
            let text: Option<String> = get(&c, "opinion_text")?;
            let by: Option<i64> = get(&c, "opinion_by")?;
            let position: i64 = get(&c, "position")?;
            let weight: i64 = get(&c, "weight")?;
            Ok(AuditCase {
                registration: RegistrationId::new(get(&c, "registration_id")?),
                no: decode(
                    "reg_no",
                    RegistrationNo::parse(&get::<String>(&c, "reg_no")?),
                )?,
                position: decode("position", u32::try_from(position))?,
                weight: decode("weight", u32::try_from(weight))?,
                opinion: match (conforms, text, by) {
                    (Some(c), Some(text), Some(by)) => Some(CaseOpinion {
                        conforms: c == 1,
                        text,
                        by: PersonId::new(by),
                    }),
                    _ => None,
                },
            })
        })
        .await?;
        let mut sign_offs: Vec<SignOff> = sqlx::query_as(
            "SELECT step, person_id, at FROM unannounced_audit_sign_offs WHERE audit_id = $1",
        )
        .bind(id)
        .all(&self.reader, |(step, by, at): (String, _, String)| {
            Ok(SignOff {
                step: coded("sign-off step", &step, SignOffStep::parse_code)?,
                by: PersonId::new(by),
                at: ts(&at)?,
            })
        })
        .await?;
        sign_offs.sort_by_key(|s| s.step);
        let state: String = get(row, "state")?;
        let sampling: String = get(row, "sampling")?;
        let seed: String = get(row, "seed")?;
        let cases_requested: i64 = get(row, "cases_requested")?;
        let overall_violation: Option<i64> = get(row, "overall_violation")?;
        let overall_text: Option<String> = get(row, "overall_text")?;
        let overall_by: Option<i64> = get(row, "overall_by")?;
        let reviewed_by: Option<i64> = get(row, "reviewed_by")?;
        let reviewed_at: Option<String> = get(row, "reviewed_at")?;
        Ok(UnannouncedAudit {
            id: AuditId::new(id),
            plan: AuditPlan {
                period_from: date(&get::<String>(row, "period_from")?)?,
                period_to: date(&get::<String>(row, "period_to")?)?,
                audit_date: date(&get::<String>(row, "audit_date")?)?,
                querier: PersonId::new(get(row, "querier_id")?),
                auditing_unit: decode("unit", UnitId::new(get::<String>(row, "auditing_unit")?))?,
                auditing_unit_phone: get(row, "auditing_unit_phone")?,
                auditors,
                documents_deadline: date(&get::<String>(row, "documents_deadline")?)?,
                cases: decode("cases", u32::try_from(cases_requested))?,
                method: coded("sampling", &sampling, SamplingMethod::parse_code)?,
            },
            querier_unit: decode("unit", UnitId::new(get::<String>(row, "querier_unit")?))?,
            opened_by: PersonId::new(get(row, "opened_by")?),
            opened_at: ts(&get::<String>(row, "opened_at")?)?,
            seed: decode("seed", seed.parse::<u64>())?,
            candidates: candidates_from(&get::<String>(row, "candidates")?)?,
            cases,
            state: coded("audit state", &state, AuditState::parse_code)?,
            overall: match (overall_violation, overall_text, overall_by) {
                (Some(v), Some(text), Some(by)) => Some(OverallOpinion {
                    violation_found: v == 1,
                    text,
                    by: PersonId::new(by),
                }),
                _ => None,
            },
            sign_offs,
            review: match (reviewed_by, reviewed_at) {
                (Some(by), Some(at)) => Some(DirectorReview {
                    by: PersonId::new(by),
                    at: ts(&at)?,
                    comment: get(row, "review_comment")?,
                }),
                _ => None,
            },
        })
    }

    /// One audit with its cases, opinions, sign-offs and review.
    pub async fn unannounced_audit(
        &self,
        id: AuditId,
    ) -> Result<Option<UnannouncedAudit>, StorageError> {
        let sql = format!("SELECT {AUDIT_COLUMNS} FROM unannounced_audits WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id.get())
            .optional(&self.reader, Ok)
            .await?;
        match row {
            Some(r) => Ok(Some(self.load_audit(&r).await?)),
            None => Ok(None),
        }
    }

    /// Every audit, newest first (`state`: only those in it).
    pub async fn unannounced_audits(
        &self,
        state: Option<AuditState>,
    ) -> Result<Vec<UnannouncedAudit>, StorageError> {
        let sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM unannounced_audits WHERE (CAST($1 AS TEXT) IS NULL OR state = $1) \
             ORDER BY id DESC"
        );
        let rows: Vec<DbRow> = sqlx::query(&sql)
            .bind(state.map(AuditState::code))
            .all(&self.reader, Ok)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(self.load_audit(r).await?);
        }
        Ok(out)
    }

    /// The documents attached to an audit, in the order attached (names sealed).
    pub async fn audit_documents(
        &self,
        id: AuditId,
    ) -> Result<Vec<AuditDocumentRow>, StorageError> {
        let sql = format!(
            "SELECT {DOCUMENT_COLUMNS} FROM unannounced_audit_documents WHERE audit_id = $1 \
             ORDER BY id"
        );
        sqlx::query(&sql)
            .bind(id.get())
            .all(&self.reader, |r| document_from(&r))
            .await
    }

    /// One attached document of `audit` with its sealed content.
    pub async fn audit_document(
        &self,
        audit: AuditId,
        document: i64,
    ) -> Result<Option<(AuditDocumentRow, SealedBlob)>, StorageError> {
        let sql = format!(
            "SELECT {DOCUMENT_COLUMNS}, sealed, nonce, wrapped_key, wrap_nonce, master_key_id \
             FROM unannounced_audit_documents WHERE audit_id = $1 AND id = $2"
        );
        sqlx::query(&sql)
            .bind(audit.get())
            .bind(document)
            .optional(&self.reader, |r| Ok((document_from(&r)?, blob(&r, "")?)))
            .await
    }

    /// §8: the cases an audit of `querier` may sample: every registration with an execution
    /// by them sent in `[from, until)`, with its approving unit and approvers (weight 1).
    pub async fn audit_candidates(
        &self,
        querier: PersonId,
        from: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<Candidate>, StorageError> {
        let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
            "SELECT r.id, r.reg_no, r.approving_unit, e.sent_at FROM executions e \
             JOIN registrations r ON r.id = e.registration_id WHERE e.querier_id = $1 \
             ORDER BY r.id",
        )
        .bind(querier.get())
        .all(&self.reader, Ok)
        .await?;
        let mut out: BTreeMap<i64, Candidate> = BTreeMap::new();
        for (id, no, unit, sent) in rows {
            let at = ts(&sent)?;
            if at < from || at >= until || out.contains_key(&id) {
                continue;
            }
            out.insert(
                id,
                Candidate {
                    registration: RegistrationId::new(id),
                    no: decode("reg_no", RegistrationNo::parse(&no))?,
                    approving_unit: decode("unit", UnitId::new(unit))?,
                    approvers: Vec::new(),
                    weight: 1,
                },
            );
        }
        let approvals: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT d.registration_id, d.person_id FROM registration_decisions d \
             JOIN registrations r ON r.id = d.registration_id \
             WHERE r.querier_id = $1 AND d.kind IN ('approve_first', 'approve') ORDER BY d.id",
        )
        .bind(querier.get())
        .all(&self.reader, Ok)
        .await?;
        for (reg, person) in approvals {
            if let Some(c) = out.get_mut(&reg) {
                c.approvers.push(PersonId::new(person));
            }
        }
        Ok(out.into_values().collect())
    }
}
