//! §10 identity by the citizen's own MOICA card: the request text signed with the card
//! (CMS/PKCS#7, as HiPKI's `MakeSignature` returns it), verified by the pki crate against
//! the configured trust anchors and revocation lists exactly as a staff sign-in is, and the
//! card's last four ID digits compared with the subject's.
//!
//! Security-sensitive: the signature proves possession of the card; the last-four match
//! proves the card is the subject's own (a MOICA card carries only those four digits, so a
//! request in someone else's name signed with one's own card is refused). Nothing from the
//! certificate but its SHA-256 fingerprint is kept.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use jiff::Timestamp;
use querywarden_domain::NationalId;
use querywarden_domain::citizen_report::{CitizenReportError, card_is_subjects};
use querywarden_pki::SignatureFormat;

use crate::auth::AuthContext;

/// What a citizen signed and the signature, as posted (base64 DER, or PEM).
#[derive(Debug, Clone, Default)]
pub struct SignedRequest {
    /// The request text exactly as signed (UTF-8 bytes).
    pub text: String,
    /// The CMS SignedData: base64 of its DER, or a PEM block.
    pub signature: String,
}

/// The signing certificate's SHA-256 fingerprint once the signature verifies and the card
/// is the subject's; a refusal otherwise.
pub fn verify(
    ctx: Option<&AuthContext>,
    signed: Option<&SignedRequest>,
    subject: &NationalId,
    now: Timestamp,
) -> Result<String, CitizenReportError> {
    let signed = signed
        .filter(|s| !s.text.is_empty() && !s.signature.trim().is_empty())
        .ok_or(CitizenReportError::SignatureMissing)?;
    // Without trust anchors nothing can be verified: refuse rather than accept unchecked.
    let ctx = ctx.ok_or(CitizenReportError::SignatureInvalid)?;
    let sig = signed.signature.trim();
    let bytes = if sig.starts_with("-----BEGIN") {
        sig.as_bytes().to_vec()
    } else {
        let compact: String = sig.split_whitespace().collect();
        B64.decode(compact)
            .map_err(|_| CitizenReportError::SignatureInvalid)?
    };
    let cert = ctx
        .verify_signature(
            signed.text.as_bytes(),
            &bytes,
            SignatureFormat::Pkcs7,
            None,
            now,
        )
        .map_err(|_| CitizenReportError::SignatureInvalid)?;
    card_is_subjects(subject, cert.id_last4.as_deref())?;
    Ok(cert.fingerprint_sha256)
}
