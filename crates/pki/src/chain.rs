//! Certificate path validation: from the signer's certificate up to a configured root.
//!
//! Security-sensitive: this is the trust decision behind login (MISSION.md §3: each querier
//! logs in with their **own** certificate: chain, validity dates, key usage,
//! revocation). The path is built only from the configured anchors; each issuer is chosen
//! by Authority Key Identifier = Subject Key Identifier (MOICA G2 and G3 share one DN) and
//! falls back to the DN only when the child has no AKI or the anchor no SKI.
//!
//! Order of checks, and so which refusal a person sees first: the leaf's own profile
//! (not a CA, key usage), then the chain (issuer known, signatures, CA constraints), then
//! validity dates of every certificate at `now`, then revocation.

use jiff::Timestamp;

use crate::anchors::TrustAnchors;
use crate::cert::ParsedCert;
use crate::crl::RevocationList;
use crate::error::PkiError;

/// At most this many CA certificates above the end-entity certificate. MOICA needs two
/// (MOICA G3 → GRCA root); four leaves room for a cross-certificate without allowing
/// unbounded searching.
pub(crate) const MAX_CA_DEPTH: usize = 4;

/// What to do when no CRL from the end-entity certificate's issuer is loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationPolicy {
    /// Refuse with [`PkiError::NoCrl`]: the production setting, so an administrator who
    /// forgot to load the CRL cannot let revoked cards in unnoticed.
    RequireCrl,
    /// Check the CRL when one is loaded, accept when none is (demo and first setup).
    BestEffort,
}

/// Validates `leaf` as an end-entity signing certificate at `now`.
pub(crate) fn validate(
    leaf: &ParsedCert,
    anchors: &TrustAnchors,
    crls: &[RevocationList],
    policy: RevocationPolicy,
    now: Timestamp,
) -> Result<(), PkiError> {
    check_end_entity(leaf)?;
    let path = build_path(leaf, anchors)?;
    check_dates(leaf, now)?;
    for ca in &path {
        check_dates(ca, now)?;
    }
    // The end entity's issuer must have a CRL under RequireCrl. CA certificates are checked
    // against their issuer's list (the root's ARL) when the administrator loaded one.
    if let Some(issuer) = path.first() {
        check_revocation(
            leaf,
            issuer,
            crls,
            policy == RevocationPolicy::RequireCrl,
            now,
        )?;
    }
    for pair in path.windows(2) {
        if let [child, issuer] = pair {
            check_revocation(child, issuer, crls, false, now)?;
        }
    }
    Ok(())
}

/// §3: the signer's own card certificate. A CA certificate is never a login identity, and
/// when key usage is stated it must include digitalSignature.
fn check_end_entity(leaf: &ParsedCert) -> Result<(), PkiError> {
    if leaf.is_ca() {
        return Err(PkiError::NotEndEntity);
    }
    if leaf.key_usage.as_ref().is_some_and(|ku| ku.key_cert_sign()) {
        return Err(PkiError::NotEndEntity);
    }
    if leaf
        .key_usage
        .as_ref()
        .is_some_and(|ku| !ku.digital_signature())
    {
        return Err(PkiError::KeyUsage);
    }
    Ok(())
}

/// Issuers of `leaf` from the anchors, nearest first, ending at a self-signed root.
fn build_path<'a>(
    leaf: &ParsedCert,
    anchors: &'a TrustAnchors,
) -> Result<Vec<&'a ParsedCert>, PkiError> {
    let mut path: Vec<&'a ParsedCert> = Vec::new();
    let mut child = leaf;
    loop {
        if path.len() >= MAX_CA_DEPTH {
            return Err(PkiError::ChainTooLong);
        }
        let issuer = verified_issuer(child, anchors)?;
        if !issuer.is_ca() {
            return Err(PkiError::IssuerNotCa);
        }
        if issuer
            .key_usage
            .as_ref()
            .is_some_and(|ku| !ku.key_cert_sign())
        {
            return Err(PkiError::KeyUsage);
        }
        // RFC 5280 §4.2.1.9: pathLenConstraint counts the CA certificates that may follow
        // this one; `path.len()` of them already sit between it and the end entity.
        if let Some(max) = issuer.basic.as_ref().and_then(|b| b.path_len_constraint)
            && path.len() > usize::from(max)
        {
            return Err(PkiError::PathLength);
        }
        path.push(issuer);
        if issuer.is_self_signed() {
            // A configured root is trusted as configured: its self-signature is not what
            // makes it trustworthy, and old roots use SHA-1 there.
            return Ok(path);
        }
        child = issuer;
    }
}

/// The anchor whose key verifies `child`'s signature, among those its AKI/DN point to.
fn verified_issuer<'a>(
    child: &ParsedCert,
    anchors: &'a TrustAnchors,
) -> Result<&'a ParsedCert, PkiError> {
    let candidates = anchors.issuer_candidates(child);
    if candidates.is_empty() {
        return Err(PkiError::UnknownIssuer);
    }
    for ca in candidates {
        if ca.verifies_cert(child)? {
            return Ok(ca);
        }
    }
    Err(PkiError::BadChainSignature)
}

fn check_dates(cert: &ParsedCert, now: Timestamp) -> Result<(), PkiError> {
    if now < cert.not_before {
        return Err(PkiError::NotYetValid);
    }
    if now > cert.not_after {
        return Err(PkiError::Expired);
    }
    Ok(())
}

/// Revocation of `cert` against the loaded CRLs of `issuer`.
///
/// A CRL naming this issuer (DN and, when present, AKI) must be signed by the issuer's key
/// or it is an error, not skipped: a forged list must not pass silently. A listed serial is
/// refused even if the list is stale (revocation is final); otherwise the newest list must
/// be current at `now`.
pub(crate) fn check_revocation(
    cert: &ParsedCert,
    issuer: &ParsedCert,
    crls: &[RevocationList],
    required: bool,
    now: Timestamp,
) -> Result<(), PkiError> {
    let mut relevant = Vec::new();
    for crl in crls
        .iter()
        .filter(|c| c.names_issuer(issuer) && c.covers(cert))
    {
        if !crl.signed_by(issuer)? {
            return Err(PkiError::CrlBadSignature);
        }
        relevant.push(crl);
    }
    let Some(newest) = relevant.iter().max_by_key(|c| c.this_update()) else {
        return if required {
            Err(PkiError::NoCrl)
        } else {
            Ok(())
        };
    };
    if relevant.iter().any(|c| c.lists(cert)) {
        return Err(PkiError::Revoked);
    }
    if newest.this_update() > now {
        return Err(PkiError::CrlNotYetValid);
    }
    match newest.next_update() {
        Some(next) if next >= now => Ok(()),
        _ => Err(PkiError::CrlStale),
    }
}
