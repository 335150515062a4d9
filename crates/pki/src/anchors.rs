//! The configured trust anchors: the MOICA root and intermediate CA certificates.
//!
//! Security-sensitive: every trust decision ends here. Only CA certificates are accepted
//! into the set, and a chain is trusted only when it ends at a self-signed root from this
//! set ("the chain to the configured trust anchors"). Certificates a signer sends
//! along (in a PKCS#7 or a TLS handshake) are never added to it.

use jiff::Timestamp;

use crate::cert::ParsedCert;
use crate::error::PkiError;
use crate::pem;

/// Root and intermediate CA certificates loaded from a PEM bundle in the configuration.
pub struct TrustAnchors {
    pub(crate) certs: Vec<ParsedCert>,
}

/// What the administrator sees about one loaded anchor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnchorSummary {
    /// Subject DN, RFC 4514 form.
    pub subject_dn: String,
    /// Hex Subject Key Identifier (what a child's AKI must match).
    pub key_id: Option<String>,
    /// Self-signed root (true) or intermediate (false).
    pub is_root: bool,
    /// Start of validity.
    pub not_before: Timestamp,
    /// End of validity.
    pub not_after: Timestamp,
    /// Hex SHA-256 of the certificate DER.
    pub fingerprint_sha256: String,
}

impl TrustAnchors {
    /// Loads every `CERTIFICATE` block of a PEM bundle. Text between blocks is ignored;
    /// any other PEM block, a broken block, a non-CA certificate or an empty bundle is an
    /// error, so a misconfigured bundle stops the server instead of weakening trust.
    pub fn from_pem_bundle(pem_bundle: &[u8]) -> Result<Self, PkiError> {
        let mut ders = Vec::new();
        for block in pem::blocks(pem_bundle)? {
            if block.label != "CERTIFICATE" {
                return Err(PkiError::Malformed(
                    "trust bundle holds a non-certificate block",
                ));
            }
            ders.push(block.der);
        }
        Self::from_der_certificates(ders)
    }

    /// Loads CA certificates given as DER.
    pub fn from_der_certificates(ders: Vec<Vec<u8>>) -> Result<Self, PkiError> {
        let mut certs = Vec::with_capacity(ders.len());
        for der in ders {
            let cert = ParsedCert::from_der(der)?;
            if !cert.is_ca() {
                return Err(PkiError::Malformed("trust anchor is not a CA certificate"));
            }
            // Refuse keys we could never verify with, at load time rather than at login.
            cert.public_key()?;
            certs.push(cert);
        }
        if certs.is_empty() {
            return Err(PkiError::Malformed("trust bundle holds no certificate"));
        }
        Ok(Self { certs })
    }

    /// Number of loaded CA certificates.
    #[must_use]
    pub fn len(&self) -> usize {
        self.certs.len()
    }

    /// Never true for a successfully loaded set; present for API completeness.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }

    /// One summary per anchor, for the administrator's configuration page.
    #[must_use]
    pub fn summaries(&self) -> Vec<AnchorSummary> {
        self.certs
            .iter()
            .map(|c| AnchorSummary {
                subject_dn: c.cert.tbs_certificate.subject.to_string(),
                key_id: c.ski.as_deref().map(hex::encode),
                is_root: c.is_self_signed(),
                not_before: c.not_before,
                not_after: c.not_after,
                fingerprint_sha256: c.fingerprint_sha256(),
            })
            .collect()
    }

    /// Checks that `crl` was signed by one of the anchors (by name, key identifier and
    /// signature), so a list fetched over plain HTTP or copied by hand cannot be forged or
    /// swapped for another CA's before it is stored.
    pub fn verify_crl(&self, crl: &crate::crl::RevocationList) -> Result<(), PkiError> {
        let mut named = false;
        for ca in self.certs.iter().filter(|ca| crl.names_issuer(ca)) {
            named = true;
            if crl.signed_by(ca)? {
                return Ok(());
            }
        }
        Err(if named {
            PkiError::CrlBadSignature
        } else {
            PkiError::UnknownIssuer
        })
    }

    /// Anchors that may have issued `child`: same subject DN as the child's issuer DN and,
    /// when the child names its issuer's key (AKI), that key. MOICA G2 and G3 share one
    /// DN, so the AKI is what tells them apart; exact key-id matches come first.
    pub(crate) fn issuer_candidates<'a>(&'a self, child: &ParsedCert) -> Vec<&'a ParsedCert> {
        let mut exact = Vec::new();
        let mut by_name = Vec::new();
        for ca in self
            .certs
            .iter()
            .filter(|ca| ca.subject_der == child.issuer_der)
        {
            match (&child.aki, &ca.ski) {
                (Some(aki), Some(ski)) if aki == ski => exact.push(ca),
                (Some(_), Some(_)) => {}
                _ => by_name.push(ca),
            }
        }
        exact.extend(by_name);
        exact
    }
}

impl core::fmt::Debug for TrustAnchors {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TrustAnchors")
            .field("anchors", &self.summaries())
            .finish()
    }
}
