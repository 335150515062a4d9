//! Binding a staff member's citizen certificate to their account (§2, §3): the permission
//! administrator binds the card when the Form 1 application is approved, and binds the new
//! card on renewal (which replaces the old binding and ends the person's sessions).
//!
//! Security-sensitive: a binding decides whose card opens which account. The certificate must
//! chain to the configured trust anchors, be valid now, and name the staff member (subject CN
//! equal to their name; the last four ID digits equal to their staff record when it has them).

use jiff::Timestamp;
use querywarden_domain::audit_event::{Actor, AuditAction, AuditEvent};
use querywarden_domain::org::{Account, Role};
use querywarden_domain::permission::AdministratorDesk;
use querywarden_pki::CitizenCertificate;
use querywarden_storage::{CertificateBinding, Store};

use crate::AppError;
use crate::auth::{AuthContext, AuthFailure};

/// The stored identity of a verified certificate.
pub fn binding_of(cert: &CitizenCertificate) -> CertificateBinding {
    CertificateBinding {
        issuer_dn: cert.issuer_dn.clone(),
        issuer_key_id: cert.issuer_key_id.clone().unwrap_or_default(),
        serial_hex: cert.serial_hex.clone(),
        subject_cn: cert.subject_cn.clone(),
        id_last4: cert.id_last4.clone(),
        fingerprint_sha256: cert.fingerprint_sha256.clone(),
        not_after: cert.not_after,
    }
}

fn refused(code: &str, zh: &str) -> AuthFailure {
    AuthFailure::new(code, zh)
}

/// Binds (or re-binds) `account`'s card. The inner `Err` is a refusal for the administrator
/// (audited); nothing is changed then.
pub async fn bind_card(
    store: &Store,
    ctx: &AuthContext,
    desk: &AdministratorDesk,
    account: &Account,
    certificate: &[u8],
    now: Timestamp,
    request_id: &str,
) -> Result<Result<CertificateBinding, AuthFailure>, AppError> {
    let actor = Actor {
        person: desk.person(),
        role: Some(Role::PermissionAdministrator),
    };
    let event = crate::permission::as_desk(
        desk,
        AuditEvent::system(now, AuditAction::CertificateBound, request_id)
            .on("account", account.as_str())
            .by(actor),
    );
    let refuse = |failure: AuthFailure| async {
        crate::audit::record_refusal(store, event.clone(), &failure.code).await?;
        Ok::<_, AppError>(Err(failure))
    };
    let Some(person) = store.person_by_account(account).await? else {
        return refuse(refused("binding.unknown_account", "查無此帳號")).await;
    };
    let cert = match querywarden_pki::certificate_der(certificate)
        .and_then(|der| ctx.verify_chain(&[der], now))
    {
        Ok(c) => c,
        Err(e) => return refuse(e.into()).await,
    };
    if !querywarden_domain::person_name::same_person_name(&cert.subject_cn, &person.name) {
        return refuse(refused(
            "binding.name_mismatch",
            "憑證上的姓名與人事資料不符",
        ))
        .await;
    }
    let Some(last4) = cert.id_last4.clone() else {
        return refuse(refused(
            "binding.no_id_digits",
            "憑證沒有身分證末四碼，無法確認持卡人",
        ))
        .await;
    };
    // §3: the card's last four ID digits are checked against HR's record; an account whose
    // digits are not on record (created by SCIM, or by a CSV row without the ID) is not bound
    // until HR sends them — the card must never supply the digits it is checked against.
    let Some(known) = store.person_id_last4(person.id).await? else {
        return refuse(refused(
            "binding.no_id_on_record",
            "人事資料沒有此人的身分證末四碼，請先由人事資料補上後再綁定",
        ))
        .await;
    };
    if known != last4 {
        return refuse(refused(
            "binding.id_digits_mismatch",
            "憑證上的身分證末四碼與人事資料不符",
        ))
        .await;
    }
    if crate::auth::card_owner(store, &cert)
        .await?
        .is_some_and(|(owner, _)| owner != person.id)
    {
        return refuse(refused(
            "binding.card_bound_to_other",
            "這張憑證已綁定其他帳號",
        ))
        .await;
    }
    let binding = binding_of(&cert);
    let renewal = store.binding_of(person.id).await?.is_some();
    let mut tx = store.begin().await?;
    tx.bind_certificate(person.id, &binding, Some(desk.person()), now)
        .await?;
    // A new card starts new sessions: the old card's sessions end.
    let ended = tx
        .end_live_sessions(person.id, "certificate_rebound", now)
        .await?;
    tx.append_audit(
        &event
            .detail("certificate", &binding.fingerprint_sha256[..16])
            .detail("renewal", renewal)
            .detail("ended_sessions", ended.len()),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(binding))
}
