//! One decoded X.509 certificate with the facts the verifier needs, decoded once.
//!
//! Security-sensitive: decides which extensions we understand. A certificate with a
//! critical extension we do not process is refused (RFC 5280 §4.2), duplicate extensions
//! are refused, and the bytes a signature covers are the TBS bytes exactly as received,
//! never a re-encoding.

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5280::{
    ID_CE_AUTHORITY_KEY_IDENTIFIER, ID_CE_BASIC_CONSTRAINTS, ID_CE_CERTIFICATE_POLICIES,
    ID_CE_CRL_DISTRIBUTION_POINTS, ID_CE_EXT_KEY_USAGE, ID_CE_FRESHEST_CRL,
    ID_CE_INHIBIT_ANY_POLICY, ID_CE_ISSUER_ALT_NAME, ID_CE_KEY_USAGE, ID_CE_POLICY_CONSTRAINTS,
    ID_CE_POLICY_MAPPINGS, ID_CE_PRIVATE_KEY_USAGE_PERIOD, ID_CE_SUBJECT_ALT_NAME,
    ID_CE_SUBJECT_DIRECTORY_ATTRIBUTES, ID_CE_SUBJECT_KEY_IDENTIFIER, ID_PE_AUTHORITY_INFO_ACCESS,
    ID_PE_SUBJECT_INFO_ACCESS,
};
use der::asn1::{AnyRef, BitStringRef};
use der::{Decode, Encode, Sequence};
use jiff::Timestamp;
use sha2::{Digest as _, Sha256};
use spki::AlgorithmIdentifierRef;
use x509_cert::Certificate;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, CrlDistributionPoints, KeyUsage, SubjectKeyIdentifier,
};
use x509_cert::time::Time;

use crate::error::PkiError;
use crate::keys::{self, PublicKey};
use crate::pem;

/// The outer certificate SEQUENCE with the TBS part kept as raw bytes, so the chain
/// signature is checked over exactly what the issuer signed (a re-encoding could differ,
/// e.g. in the order of a multi-valued RDN).
#[derive(Sequence)]
pub(crate) struct RawSigned<'a> {
    pub tbs: AnyRef<'a>,
    pub algorithm: AlgorithmIdentifierRef<'a>,
    pub signature: BitStringRef<'a>,
}

impl<'a> RawSigned<'a> {
    /// The DER of the TBS part, tag and length included, as received.
    pub(crate) fn tbs_bytes(&self) -> Result<Vec<u8>, PkiError> {
        self.tbs
            .to_der()
            .map_err(|_| PkiError::Malformed("signed structure"))
    }
}

/// Extensions we process or may safely ignore even when marked critical.
///
/// Policy extensions are accepted without policy processing: the trust decision is made by
/// the configured anchors (MOICA only), not by certificate policies. Name constraints are
/// not processed, so a critical one is refused.
const UNDERSTOOD_EXTENSIONS: &[ObjectIdentifier] = &[
    ID_CE_SUBJECT_KEY_IDENTIFIER,
    ID_CE_AUTHORITY_KEY_IDENTIFIER,
    ID_CE_KEY_USAGE,
    ID_CE_BASIC_CONSTRAINTS,
    ID_CE_CERTIFICATE_POLICIES,
    ID_CE_POLICY_MAPPINGS,
    ID_CE_POLICY_CONSTRAINTS,
    ID_CE_INHIBIT_ANY_POLICY,
    ID_CE_SUBJECT_ALT_NAME,
    ID_CE_ISSUER_ALT_NAME,
    ID_CE_SUBJECT_DIRECTORY_ATTRIBUTES,
    ID_CE_CRL_DISTRIBUTION_POINTS,
    ID_CE_FRESHEST_CRL,
    ID_CE_EXT_KEY_USAGE,
    ID_CE_PRIVATE_KEY_USAGE_PERIOD,
    ID_PE_AUTHORITY_INFO_ACCESS,
    ID_PE_SUBJECT_INFO_ACCESS,
];

/// A decoded certificate plus the facts used by chain building and binding.
pub(crate) struct ParsedCert {
    pub cert: Certificate,
    pub der: Vec<u8>,
    pub tbs_der: Vec<u8>,
    pub subject_der: Vec<u8>,
    pub issuer_der: Vec<u8>,
    pub ski: Option<Vec<u8>>,
    pub aki: Option<Vec<u8>>,
    pub basic: Option<BasicConstraints>,
    pub key_usage: Option<KeyUsage>,
    pub crl_dps: Option<CrlDistributionPoints>,
    pub not_before: Timestamp,
    pub not_after: Timestamp,
}

impl ParsedCert {
    /// Decodes a certificate from DER or a single-certificate PEM.
    pub(crate) fn from_der_or_pem(input: &[u8]) -> Result<Self, PkiError> {
        let der = pem::single_der(input, &["CERTIFICATE"])?;
        Self::from_der(der)
    }

    pub(crate) fn from_der(der: Vec<u8>) -> Result<Self, PkiError> {
        let raw = RawSigned::from_der(&der).map_err(|_| PkiError::Malformed("certificate"))?;
        let tbs_der = raw.tbs_bytes()?;
        let cert = Certificate::from_der(&der).map_err(|_| PkiError::Malformed("certificate"))?;
        let tbs = &cert.tbs_certificate;
        // RFC 5280 §4.1.1.2: the outer and inner algorithm must agree; a mismatch is a sign
        // of tampering meant to confuse verifiers.
        if cert.signature_algorithm != tbs.signature {
            return Err(PkiError::Malformed(
                "certificate signature algorithms differ",
            ));
        }
        let subject_der = tbs
            .subject
            .to_der()
            .map_err(|_| PkiError::Malformed("certificate subject"))?;
        let issuer_der = tbs
            .issuer
            .to_der()
            .map_err(|_| PkiError::Malformed("certificate issuer"))?;

        let mut seen: Vec<ObjectIdentifier> = Vec::new();
        let mut ski = None;
        let mut aki = None;
        let mut basic = None;
        let mut key_usage = None;
        let mut crl_dps = None;
        for ext in tbs.extensions.as_deref().unwrap_or(&[]) {
            if seen.contains(&ext.extn_id) {
                return Err(PkiError::Malformed("duplicate certificate extension"));
            }
            seen.push(ext.extn_id);
            if ext.critical && !UNDERSTOOD_EXTENSIONS.contains(&ext.extn_id) {
                return Err(PkiError::UnsupportedCriticalExtension);
            }
            let value = ext.extn_value.as_bytes();
            match ext.extn_id {
                ID_CE_SUBJECT_KEY_IDENTIFIER => {
                    let v = SubjectKeyIdentifier::from_der(value)
                        .map_err(|_| PkiError::Malformed("subject key identifier"))?;
                    ski = Some(v.0.as_bytes().to_vec());
                }
                ID_CE_AUTHORITY_KEY_IDENTIFIER => {
                    let v = AuthorityKeyIdentifier::from_der(value)
                        .map_err(|_| PkiError::Malformed("authority key identifier"))?;
                    aki = v.key_identifier.map(|k| k.as_bytes().to_vec());
                }
                ID_CE_BASIC_CONSTRAINTS => {
                    basic = Some(
                        BasicConstraints::from_der(value)
                            .map_err(|_| PkiError::Malformed("basic constraints"))?,
                    );
                }
                ID_CE_KEY_USAGE => {
                    key_usage = Some(
                        KeyUsage::from_der(value).map_err(|_| PkiError::Malformed("key usage"))?,
                    );
                }
                ID_CE_CRL_DISTRIBUTION_POINTS => {
                    crl_dps = Some(
                        CrlDistributionPoints::from_der(value)
                            .map_err(|_| PkiError::Malformed("CRL distribution points"))?,
                    );
                }
                _ => {}
            }
        }

        let not_before = to_timestamp(tbs.validity.not_before)?;
        let not_after = to_timestamp(tbs.validity.not_after)?;
        Ok(Self {
            der,
            tbs_der,
            subject_der,
            issuer_der,
            ski,
            aki,
            basic,
            key_usage,
            crl_dps,
            not_before,
            not_after,
            cert,
        })
    }

    /// basicConstraints with cA = TRUE.
    pub(crate) fn is_ca(&self) -> bool {
        self.basic.as_ref().is_some_and(|b| b.ca)
    }

    /// Self-signed: same name as issuer and, when both key identifiers are present, the
    /// same key. A CA key-rollover certificate (same name, other key) is not a root.
    pub(crate) fn is_self_signed(&self) -> bool {
        self.subject_der == self.issuer_der
            && match (&self.aki, &self.ski) {
                (Some(a), Some(s)) => a == s,
                _ => true,
            }
    }

    pub(crate) fn public_key(&self) -> Result<PublicKey, PkiError> {
        PublicKey::from_spki(&self.cert.tbs_certificate.subject_public_key_info)
    }

    /// Does `self`'s key verify `child`'s signature? `Ok(false)` means it does not.
    pub(crate) fn verifies(
        &self,
        child_tbs: &[u8],
        alg: &spki::AlgorithmIdentifierOwned,
        sig: &[u8],
    ) -> Result<bool, PkiError> {
        let digest = keys::x509_signature_digest(alg)?;
        let key = self.public_key()?;
        Ok(key.verify_pkcs1(digest, child_tbs, sig))
    }

    /// Does `self` (an issuer) verify `child`'s certificate signature?
    pub(crate) fn verifies_cert(&self, child: &ParsedCert) -> Result<bool, PkiError> {
        let sig = child
            .cert
            .signature
            .as_bytes()
            .ok_or(PkiError::Malformed("certificate signature bit string"))?;
        self.verifies(&child.tbs_der, &child.cert.signature_algorithm, sig)
    }

    pub(crate) fn fingerprint_sha256(&self) -> String {
        hex::encode(Sha256::digest(&self.der))
    }

    /// Serial number as lowercase hex of its big-endian magnitude (leading zeros dropped).
    pub(crate) fn serial_hex(&self) -> String {
        hex::encode(self.cert.tbs_certificate.serial_number.as_bytes())
    }
}

/// X.509 time (UTCTime or GeneralizedTime, always UTC) to a `jiff::Timestamp`.
pub(crate) fn to_timestamp(time: Time) -> Result<Timestamp, PkiError> {
    let secs = i64::try_from(time.to_unix_duration().as_secs())
        .map_err(|_| PkiError::Malformed("time out of range"))?;
    Timestamp::from_second(secs).map_err(|_| PkiError::Malformed("time out of range"))
}
