//! `querywarden init` (§2, §7): records the permission administrator (權限管理者) and a
//! deputy (代理人) on an installation that has none, and issues each a one-time enrolment
//! code, printed once. Nobody types a password for them: they enrol with their own card.
//!
//! Security-sensitive: this is the only way to create the first administrator, so it is
//! refused as soon as any administrator exists. National IDs are kept as keyed digest and
//! masked form only, plus the last four digits the card is checked against.

use std::collections::BTreeSet;

use jiff::Timestamp;
use querywarden_domain::NationalId;
use querywarden_domain::audit_event::{AuditAction, AuditEvent};
use querywarden_domain::enrolment::{CodePurpose, EnrolmentCode, EnrolmentRefusal};
use querywarden_domain::org::{Account, Role, StaffStatus, UnitId};
use querywarden_storage::{NewEnrolmentCode, NewPerson, PersonIdentity, Store};

use super::{CodeSettings, code_digest, new_code};
use crate::{AppError, KeyRing};

/// One officer as typed on the command line.
#[derive(Clone)]
pub struct NewOfficer {
    pub account: String,
    pub name: String,
    pub title: String,
    pub unit: String,
    pub national_id: String,
    pub egov_account: String,
}

impl std::fmt::Debug for NewOfficer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewOfficer")
            .field("account", &self.account)
            .field("unit", &self.unit)
            .finish_non_exhaustive()
    }
}

/// What `init` asks for.
#[derive(Debug, Clone)]
pub struct InitRequest {
    pub administrator: NewOfficer,
    pub deputy: NewOfficer,
}

/// A refusal of `init`: a stable code and a zh-TW message naming the field, never its value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} [{code}]")]
pub struct InitRefusal {
    pub code: String,
    pub message: String,
}

impl From<EnrolmentRefusal> for InitRefusal {
    fn from(r: EnrolmentRefusal) -> Self {
        Self {
            code: r.code().to_string(),
            message: r.to_string(),
        }
    }
}

/// The two codes, to be printed once.
#[derive(Debug)]
pub struct InitOutcome {
    pub administrator: (Account, EnrolmentCode),
    pub deputy: (Account, EnrolmentCode),
    pub expires_at: Timestamp,
}

struct Officer {
    account: Account,
    name: String,
    title: String,
    unit: UnitId,
    id: NationalId,
    egov_account: String,
}

fn invalid(field: &str, what: &str) -> InitRefusal {
    InitRefusal {
        code: "init.invalid".into(),
        message: format!("{field}：{what}"),
    }
}

fn text(field: &str, v: &str, max: usize) -> Result<String, InitRefusal> {
    let v = v.trim();
    if v.is_empty() || v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(invalid(field, &format!("須為 1 到 {max} 個字")));
    }
    Ok(v.to_string())
}

fn parse(who: &str, o: &NewOfficer, units: &[UnitId]) -> Result<Officer, InitRefusal> {
    let account = Account::parse(o.account.trim())
        .map_err(|e| invalid(&format!("{who} account"), &e.to_string()))?;
    let unit = UnitId::new(o.unit.trim())
        .ok()
        .filter(|u| units.contains(u))
        .ok_or_else(|| invalid(&format!("{who} unit"), "查無此單位代碼"))?;
    // The number itself never reaches a message or a log (§9).
    let id = NationalId::parse(&o.national_id)
        .map_err(|_| invalid(&format!("{who} national-id"), "身分證字號格式或檢查碼錯誤"))?;
    Ok(Officer {
        account,
        name: text(&format!("{who} name"), &o.name, 40)?,
        title: text(&format!("{who} title"), &o.title, 40)?,
        unit,
        id,
        egov_account: text(&format!("{who} egov-account"), &o.egov_account, 64)?,
    })
}

/// Records the first administrator and deputy. The inner `Err` is a refusal (audited;
/// nothing changed).
pub async fn init(
    store: &Store,
    keys: &KeyRing,
    settings: &CodeSettings,
    req: &InitRequest,
    now: Timestamp,
    request_id: &str,
) -> Result<Result<InitOutcome, InitRefusal>, AppError> {
    let event = AuditEvent::system(now, AuditAction::SystemInitialised, request_id)
        .on("installation", "administrator");
    let refuse = |r: InitRefusal| async {
        crate::audit::record_refusal(store, event.clone(), &r.code).await?;
        Ok::<_, AppError>(Err(r))
    };
    if store.administrator_exists().await? {
        return refuse(EnrolmentRefusal::AlreadyInitialised.into()).await;
    }
    let units: Vec<UnitId> = store.units().await?.into_iter().map(|u| u.id).collect();
    let officers = parse("administrator", &req.administrator, &units)
        .and_then(|a| parse("deputy", &req.deputy, &units).map(|d| (a, d)));
    let (admin, deputy) = match officers {
        Ok(v) => v,
        Err(r) => return refuse(r).await,
    };
    if admin.account == deputy.account || admin.id == deputy.id {
        return refuse(EnrolmentRefusal::SamePerson.into()).await;
    }
    for o in [&admin, &deputy] {
        if store.person_by_account(&o.account).await?.is_some() {
            return refuse(EnrolmentRefusal::AccountExists.into()).await;
        }
    }
    let expires_at = settings.expiry(now);
    let mut tx = store.begin().await?;
    let mut codes = Vec::new();
    for (o, roles) in [
        (&admin, vec![Role::PermissionAdministrator, Role::Staff]),
        (&deputy, vec![Role::Staff]),
    ] {
        let person = tx
            .insert_person(
                &NewPerson {
                    account: o.account.clone(),
                    name: o.name.clone(),
                    title: o.title.clone(),
                    unit: o.unit.clone(),
                    roles: roles.into_iter().collect::<BTreeSet<_>>(),
                    status: StaffStatus::Active,
                },
                &now.to_string(),
            )
            .await?;
        tx.set_person_id_last4(person, o.id.last4()).await?;
        let digest = keys.subject_digest(&o.id);
        tx.insert_person_identity(
            person,
            &PersonIdentity {
                national_id_hmac: digest.hex,
                hmac_key_id: digest.key_id,
                national_id_masked: o.id.masked(),
                egov_account: o.egov_account.clone(),
            },
        )
        .await?;
        let code = new_code()?;
        let hash = code_digest(&code);
        tx.insert_enrolment_code(&NewEnrolmentCode {
            person,
            code_hash: &hash,
            purpose: CodePurpose::Enrol,
            reason: "init",
            issued_by: None,
            issued_at: now,
            expires_at,
        })
        .await?;
        codes.push((o.account.clone(), code, person));
    }
    let mut codes = codes.into_iter();
    let (Some(a), Some(d)) = (codes.next(), codes.next()) else {
        return Err(AppError::Inconsistent {
            what: "init made no codes",
        });
    };
    tx.append_audit(
        &event
            .detail("administrator", a.2.get())
            .detail("deputy", d.2.get())
            .detail("codes_expire_at", expires_at.to_string()),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(InitOutcome {
        administrator: (a.0, a.1),
        deputy: (d.0, d.1),
        expires_at,
    }))
}
