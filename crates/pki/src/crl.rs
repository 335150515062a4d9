//! Certificate revocation lists (憑證廢止清冊) loaded by the administrator.
//!
//! Security-sensitive: a revoked or suspended card must not sign in (§3). Only
//! complete CRLs are supported: delta CRLs, indirect CRLs and CRLs limited to some
//! revocation reasons are refused at load time, because treating a partial list as
//! complete would let a revoked card through. A CRL partitioned by distribution point
//! (issuingDistributionPoint) covers only certificates that name that point; others are
//! treated as having no CRL. A listed serial is refused whatever its reason code,
//! including certificateHold (MOICA's 暫禁, suspension).
//!
//! Parsing does not verify the signature: that needs the issuer, so it happens when the
//! list is used against a certificate (`chain::check_revocation`).

use std::collections::HashSet;

use const_oid::db::rfc5280::{
    ID_CE_AUTHORITY_KEY_IDENTIFIER, ID_CE_CERTIFICATE_ISSUER, ID_CE_CRL_NUMBER, ID_CE_CRL_REASONS,
    ID_CE_DELTA_CRL_INDICATOR, ID_CE_FRESHEST_CRL, ID_CE_INVALIDITY_DATE, ID_CE_ISSUER_ALT_NAME,
    ID_CE_ISSUING_DISTRIBUTION_POINT,
};
use der::{Decode, Encode};
use jiff::Timestamp;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::AuthorityKeyIdentifier;
use x509_cert::ext::pkix::crl::dp::IssuingDistributionPoint;

use crate::cert::{ParsedCert, RawSigned, to_timestamp};
use crate::error::PkiError;
use crate::pem;

/// A parsed CRL, not yet trusted.
pub struct RevocationList {
    pub(crate) list: CertificateList,
    pub(crate) tbs_der: Vec<u8>,
    pub(crate) issuer_der: Vec<u8>,
    pub(crate) aki: Option<Vec<u8>>,
    pub(crate) idp: Option<IssuingDistributionPoint>,
    this_update: Timestamp,
    next_update: Option<Timestamp>,
    revoked: HashSet<Vec<u8>>,
}

impl RevocationList {
    /// Parses a CRL from DER or PEM (`X509 CRL`). Refuses CRL kinds we cannot apply
    /// soundly (see the module documentation).
    pub fn from_der_or_pem(bytes: &[u8]) -> Result<Self, PkiError> {
        let der = pem::single_der(bytes, &["X509 CRL"])?;
        let raw = RawSigned::from_der(&der).map_err(|_| PkiError::Malformed("CRL"))?;
        let tbs_der = raw.tbs_bytes()?;
        let list = CertificateList::from_der(&der).map_err(|_| PkiError::Malformed("CRL"))?;
        let tbs = &list.tbs_cert_list;
        if list.signature_algorithm != tbs.signature {
            return Err(PkiError::Malformed("CRL signature algorithms differ"));
        }
        let issuer_der = tbs
            .issuer
            .to_der()
            .map_err(|_| PkiError::Malformed("CRL issuer"))?;

        let mut aki = None;
        let mut idp = None;
        let mut seen = Vec::new();
        for ext in tbs.crl_extensions.as_deref().unwrap_or(&[]) {
            if seen.contains(&ext.extn_id) {
                return Err(PkiError::Malformed("duplicate CRL extension"));
            }
            seen.push(ext.extn_id);
            let value = ext.extn_value.as_bytes();
            match ext.extn_id {
                ID_CE_AUTHORITY_KEY_IDENTIFIER => {
                    let v = AuthorityKeyIdentifier::from_der(value)
                        .map_err(|_| PkiError::Malformed("CRL authority key identifier"))?;
                    aki = v.key_identifier.map(|k| k.as_bytes().to_vec());
                }
                ID_CE_DELTA_CRL_INDICATOR => {
                    return Err(PkiError::CrlUnsupported("delta CRL"));
                }
                ID_CE_ISSUING_DISTRIBUTION_POINT => {
                    let v = IssuingDistributionPoint::from_der(value)
                        .map_err(|_| PkiError::Malformed("issuing distribution point"))?;
                    if v.indirect_crl {
                        return Err(PkiError::CrlUnsupported("indirect CRL"));
                    }
                    if v.only_some_reasons.is_some() {
                        return Err(PkiError::CrlUnsupported("CRL limited to some reasons"));
                    }
                    if v.only_contains_attribute_certs {
                        return Err(PkiError::CrlUnsupported("attribute certificate CRL"));
                    }
                    idp = Some(v);
                }
                ID_CE_CRL_NUMBER | ID_CE_ISSUER_ALT_NAME | ID_CE_FRESHEST_CRL => {}
                _ if ext.critical => {
                    return Err(PkiError::CrlUnsupported("unknown critical CRL extension"));
                }
                _ => {}
            }
        }

        let mut revoked = HashSet::new();
        for entry in tbs.revoked_certificates.as_deref().unwrap_or(&[]) {
            for ext in entry.crl_entry_extensions.as_deref().unwrap_or(&[]) {
                match ext.extn_id {
                    // Entries for another CA's certificates make this an indirect CRL.
                    ID_CE_CERTIFICATE_ISSUER => {
                        return Err(PkiError::CrlUnsupported("indirect CRL entry"));
                    }
                    ID_CE_CRL_REASONS | ID_CE_INVALIDITY_DATE => {}
                    _ if ext.critical => {
                        return Err(PkiError::CrlUnsupported(
                            "unknown critical CRL entry extension",
                        ));
                    }
                    _ => {}
                }
            }
            revoked.insert(entry.serial_number.as_bytes().to_vec());
        }

        let this_update = to_timestamp(tbs.this_update)?;
        let next_update = tbs.next_update.map(to_timestamp).transpose()?;
        Ok(Self {
            tbs_der,
            issuer_der,
            aki,
            idp,
            this_update,
            next_update,
            revoked,
            list,
        })
    }

    /// When this CRL was issued.
    #[must_use]
    pub fn this_update(&self) -> Timestamp {
        self.this_update
    }

    /// When the next CRL is due; past it the CRL is stale. RFC 5280 CRLs always have it.
    #[must_use]
    pub fn next_update(&self) -> Option<Timestamp> {
        self.next_update
    }

    /// Issuer DN, RFC 4514 form (for the administrator's page).
    #[must_use]
    pub fn issuer_dn(&self) -> String {
        self.list.tbs_cert_list.issuer.to_string()
    }

    /// Hex of the CRL's Authority Key Identifier, if present.
    #[must_use]
    pub fn issuer_key_id(&self) -> Option<String> {
        self.aki.as_deref().map(hex::encode)
    }

    /// Number of revoked serials listed.
    #[must_use]
    pub fn revoked_count(&self) -> usize {
        self.revoked.len()
    }

    /// Is this serial (big-endian magnitude, as in `CitizenCertificate::serial_hex`) listed?
    pub(crate) fn lists(&self, cert: &ParsedCert) -> bool {
        self.revoked
            .contains(cert.cert.tbs_certificate.serial_number.as_bytes())
    }

    /// Was this CRL issued by `issuer` by name and (when both name one) key identifier?
    pub(crate) fn names_issuer(&self, issuer: &ParsedCert) -> bool {
        self.issuer_der == issuer.subject_der
            && match (&self.aki, &issuer.ski) {
                (Some(a), Some(s)) => a == s,
                _ => true,
            }
    }

    /// Does this CRL's scope include `cert`? Without issuingDistributionPoint it covers
    /// every certificate of its issuer; with one, only the kinds and the distribution point
    /// it names (RFC 5280 §5.2.5, §6.3.3 (b)).
    pub(crate) fn covers(&self, cert: &ParsedCert) -> bool {
        let Some(idp) = &self.idp else {
            return true;
        };
        if idp.only_contains_user_certs && cert.is_ca() {
            return false;
        }
        if idp.only_contains_ca_certs && !cert.is_ca() {
            return false;
        }
        match &idp.distribution_point {
            None => true,
            Some(name) => cert.crl_dps.as_ref().is_some_and(|dps| {
                dps.0
                    .iter()
                    .any(|dp| dp.distribution_point.as_ref() == Some(name))
            }),
        }
    }

    /// Does `issuer`'s key verify this CRL's signature (and may it sign CRLs)?
    pub(crate) fn signed_by(&self, issuer: &ParsedCert) -> Result<bool, PkiError> {
        if issuer.key_usage.as_ref().is_some_and(|ku| !ku.crl_sign()) {
            return Ok(false);
        }
        let sig = self
            .list
            .signature
            .as_bytes()
            .ok_or(PkiError::Malformed("CRL signature bit string"))?;
        issuer.verifies(&self.tbs_der, &self.list.signature_algorithm, sig)
    }
}

impl core::fmt::Debug for RevocationList {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RevocationList")
            .field("issuer_dn", &self.issuer_dn())
            .field("issuer_key_id", &self.issuer_key_id())
            .field("this_update", &self.this_update)
            .field("next_update", &self.next_update)
            .field("revoked_count", &self.revoked.len())
            .finish()
    }
}
