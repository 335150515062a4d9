//! Verification of Taiwanese citizen digital certificates (自然人憑證, issued by MOICA,
//! 內政部憑證管理中心) and of a card's signature over a login nonce; plus, behind the
//! `demo-ca` feature, a clearly marked test CA for `querywarden demo`.
//!
//! Security-sensitive: this crate makes the certificate half of the login decision
//! (MISSION.md §3: a querier logs in with their **own** certificate, 2, 6).
//! It is pure: no files, no network, no clock — the trust bundle, CRLs and the time come in
//! as arguments, so every refusal is testable. ASN.1 and cryptography are the RustCrypto
//! crates' (`der`, `x509-cert`, `cms`, `rsa`, `sha2`); nothing is hand-parsed here.
//!
//! The entry points:
//! * [`verify_signed_challenge`] — login by signed nonce (HiPKI `MakeSignature`, PKCS1/PKCS7);
//! * [`verify_client_certificate`] — login by mutual TLS;
//! * [`parse_certificate`] — facts of a card for the administrator binding it (no trust).
//!
//! Errors ([`PkiError`]) carry a stable code and a zh-TW message and never any certificate
//! content, so they can be logged and shown (§9).

mod anchors;
mod cert;
mod chain;
mod challenge;
mod citizen;
mod crl;
mod error;
mod keys;
mod pem;

#[cfg(feature = "demo-ca")]
pub mod demo_ca;

use jiff::Timestamp;

pub use anchors::{AnchorSummary, TrustAnchors};
pub use chain::RevocationPolicy;
pub use challenge::SignatureFormat;
pub use citizen::{CitizenCertificate, OID_MOICA_ID_LAST4};
pub use crl::RevocationList;
pub use error::PkiError;

/// Verifies a card's signature over `nonce` and the signer's certificate, and returns the
/// certificate's facts for the account binding check.
///
/// Checks, in order: the signature over exactly these nonce bytes (PKCS7: also content,
/// message-digest and content-type attributes); the certificate is an end-entity with
/// digitalSignature key usage (when stated); it chains to `anchors` (issuer by AKI/SKI,
/// every signature verified, CA constraints, at most 4 CA certificates); every certificate
/// is valid at `now`; revocation per `policy` against `crls`.
///
/// `certificate_der` (DER or PEM) is required for PKCS1; for PKCS7 it is optional and, when
/// given, must be the certificate the SignedData names as signer. Certificates other than
/// the signer's inside a PKCS7 are ignored: intermediates come from `anchors` only.
///
/// Deciding that the nonce was issued to this session, is unexpired and unused, and that
/// the returned certificate is bound to the account, is the caller's job.
#[allow(
    clippy::too_many_arguments,
    reason = "the brief fixes this signature; each input is a distinct part of the decision"
)]
pub fn verify_signed_challenge(
    nonce: &[u8],
    signature: &[u8],
    format: SignatureFormat,
    certificate_der: Option<&[u8]>,
    anchors: &TrustAnchors,
    crls: &[RevocationList],
    policy: RevocationPolicy,
    now: Timestamp,
) -> Result<CitizenCertificate, PkiError> {
    let leaf = challenge::verify_possession(nonce, signature, format, certificate_der)?;
    chain::validate(&leaf, anchors, crls, policy, now)?;
    CitizenCertificate::from_parsed(&leaf)
}

/// Validates a TLS client certificate chain (leaf first, DER) presented for mutual TLS.
///
/// Only `chain_der[0]` is used: intermediates the client sends are ignored and the path is
/// built from `anchors`, as for signed challenges. Proof of possession is the TLS
/// handshake's (rustls verifies the CertificateVerify signature); this function makes the
/// trust decision the same way [`verify_signed_challenge`] does.
pub fn verify_client_certificate(
    chain_der: &[Vec<u8>],
    anchors: &TrustAnchors,
    crls: &[RevocationList],
    policy: RevocationPolicy,
    now: Timestamp,
) -> Result<CitizenCertificate, PkiError> {
    let leaf_der = chain_der.first().ok_or(PkiError::MissingCertificate)?;
    if leaf_der.is_empty() {
        return Err(PkiError::MissingCertificate);
    }
    let leaf = cert::ParsedCert::from_der(leaf_der.clone())?;
    chain::validate(&leaf, anchors, crls, policy, now)?;
    CitizenCertificate::from_parsed(&leaf)
}

/// Parses a certificate (DER or PEM) without any trust decision, for the permission
/// administrator binding a card to an account (§2, §3). Never use the result to log
/// anyone in.
pub fn parse_certificate(der_or_pem: &[u8]) -> Result<CitizenCertificate, PkiError> {
    let cert = cert::ParsedCert::from_der_or_pem(der_or_pem)?;
    CitizenCertificate::from_parsed(&cert)
}

/// The DER of a certificate given as DER or as one PEM `CERTIFICATE` block.
pub fn certificate_der(der_or_pem: &[u8]) -> Result<Vec<u8>, PkiError> {
    if pem::looks_like_pem(der_or_pem) {
        pem::single_der(der_or_pem, &["CERTIFICATE"])
    } else {
        Ok(der_or_pem.to_vec())
    }
}
