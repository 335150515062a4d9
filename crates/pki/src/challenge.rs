//! Proof of possession: the card's signature over the server's one-time login nonce.
//!
//! Security-sensitive: this is the certificate half of login (MISSION.md §3). The browser
//! asks the HiPKI local service (`MakeSignature`, SHA-256) to sign the nonce and posts the
//! result; the PIN never reaches us. Two formats:
//!
//! * PKCS1: a bare RSA PKCS#1 v1.5 SHA-256 signature; the certificate comes separately.
//! * PKCS7: a CMS SignedData (RFC 5652) with the certificate inside and the nonce either
//!   attached (eContent) or detached. With signed attributes, the signature covers their
//!   DER SET encoding and the message-digest attribute must be SHA-256 of the nonce and the
//!   content-type attribute must equal eContentType (RFC 5652 §5.4, §11.1, §11.2).
//!
//! The nonce is the exact byte string given to `MakeSignature` as the data to be signed.
//! Single use and the two-minute expiry are the caller's job; here a signature over any
//! other bytes fails.

use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use const_oid::db::rfc5911::{ID_CONTENT_TYPE, ID_DATA, ID_MESSAGE_DIGEST, ID_SIGNED_DATA};
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use sha2::{Digest as _, Sha256};
use x509_cert::attr::Attribute;

use crate::cert::ParsedCert;
use crate::error::PkiError;
use crate::keys::{self, Digest};
use crate::pem;

/// How `MakeSignature` returned the signature (HiPKI's `signatureType` names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureFormat {
    /// Raw RSA PKCS#1 v1.5 signature with SHA-256; certificate supplied separately.
    Pkcs1,
    /// CMS/PKCS#7 SignedData (DER or PEM) carrying the certificate; attached or detached.
    Pkcs7,
}

/// Verifies the signature and returns the signer certificate (not yet chain-checked).
pub(crate) fn verify_possession(
    nonce: &[u8],
    signature: &[u8],
    format: SignatureFormat,
    certificate: Option<&[u8]>,
) -> Result<ParsedCert, PkiError> {
    if nonce.is_empty() {
        return Err(PkiError::Malformed("empty nonce"));
    }
    if signature.is_empty() {
        return Err(PkiError::Malformed("empty signature"));
    }
    match format {
        SignatureFormat::Pkcs1 => {
            let cert =
                ParsedCert::from_der_or_pem(certificate.ok_or(PkiError::MissingCertificate)?)?;
            if cert
                .public_key()?
                .verify_pkcs1(Digest::Sha256, nonce, signature)
            {
                Ok(cert)
            } else {
                Err(PkiError::BadSignature)
            }
        }
        SignatureFormat::Pkcs7 => verify_pkcs7(nonce, signature, certificate),
    }
}

fn verify_pkcs7(
    nonce: &[u8],
    input: &[u8],
    certificate: Option<&[u8]>,
) -> Result<ParsedCert, PkiError> {
    let der = pem::single_der(input, &["PKCS7", "CMS"])?;
    let info = ContentInfo::from_der(&der).map_err(|_| PkiError::Malformed("CMS content info"))?;
    if info.content_type != ID_SIGNED_DATA {
        return Err(PkiError::Malformed("CMS content is not signed data"));
    }
    let signed: SignedData = info
        .content
        .decode_as()
        .map_err(|_| PkiError::Malformed("CMS signed data"))?;

    let mut signers = signed.signer_infos.0.iter();
    let (Some(signer), None) = (signers.next(), signers.next()) else {
        return Err(PkiError::Malformed("CMS must have exactly one signer"));
    };
    if !keys::is_sha256_digest(&signer.digest_alg) {
        return Err(PkiError::UnsupportedAlgorithm("CMS digest algorithm"));
    }
    if !keys::cms_signature_is_rsa_sha256(&signer.signature_algorithm) {
        return Err(PkiError::UnsupportedAlgorithm("CMS signature algorithm"));
    }
    let encap = &signed.encap_content_info;
    if encap.econtent_type != ID_DATA {
        return Err(PkiError::Malformed("CMS content type is not data"));
    }

    // Attached content must be the nonce itself; detached content is the nonce by
    // definition, and the signed message digest below ties the signature to it.
    if let Some(content) = &encap.econtent {
        let octets = content
            .decode_as::<OctetString>()
            .map_err(|_| PkiError::Malformed("CMS content"))?;
        if octets.as_bytes() != nonce {
            return Err(PkiError::NonceMismatch);
        }
    }

    let cert = signer_certificate(&signed, signer, certificate)?;

    let signed_bytes = match &signer.signed_attrs {
        Some(attrs) => {
            let content_type: ObjectIdentifier = single_attribute(attrs.iter(), ID_CONTENT_TYPE)?;
            if content_type != encap.econtent_type {
                return Err(PkiError::Malformed("CMS content-type attribute mismatch"));
            }
            let digest: OctetString = single_attribute(attrs.iter(), ID_MESSAGE_DIGEST)?;
            if digest.as_bytes() != Sha256::digest(nonce).as_slice() {
                return Err(PkiError::NonceMismatch);
            }
            // RFC 5652 §5.4: the signature covers the DER of the attributes as a SET OF.
            attrs
                .to_der()
                .map_err(|_| PkiError::Malformed("CMS signed attributes"))?
        }
        None => nonce.to_vec(),
    };

    if cert
        .public_key()?
        .verify_pkcs1(Digest::Sha256, &signed_bytes, signer.signature.as_bytes())
    {
        Ok(cert)
    } else {
        Err(PkiError::BadSignature)
    }
}

/// The value of the one attribute with `oid`; missing, repeated or multi-valued is malformed.
fn single_attribute<'a, T>(
    mut attrs: impl Iterator<Item = &'a Attribute>,
    oid: ObjectIdentifier,
) -> Result<T, PkiError>
where
    T: for<'b> der::Decode<'b> + der::FixedTag,
    T: for<'b> der::DecodeValue<'b>,
{
    let mut matching = attrs.by_ref().filter(|a| a.oid == oid);
    let (Some(attr), None) = (matching.next(), matching.next()) else {
        return Err(PkiError::Malformed(
            "CMS signed attribute missing or repeated",
        ));
    };
    let mut values = attr.values.iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(PkiError::Malformed(
            "CMS signed attribute must have one value",
        ));
    };
    value
        .decode_as::<T>()
        .map_err(|_| PkiError::Malformed("CMS signed attribute value"))
}

/// The certificate named by the SignerInfo: from the SignedData's certificate set, or the
/// one supplied separately. When both exist they must be the same certificate, so a
/// caller cannot be shown one certificate while another signed.
fn signer_certificate(
    signed: &SignedData,
    signer: &SignerInfo,
    supplied: Option<&[u8]>,
) -> Result<ParsedCert, PkiError> {
    let supplied = supplied.map(ParsedCert::from_der_or_pem).transpose()?;
    if let Some(cert) = supplied {
        return if identifies(&signer.sid, &cert) {
            Ok(cert)
        } else {
            Err(PkiError::BadSignature)
        };
    }
    for choice in signed.certificates.iter().flat_map(|set| set.0.iter()) {
        if let CertificateChoices::Certificate(c) = choice {
            let der = c
                .to_der()
                .map_err(|_| PkiError::Malformed("CMS certificate"))?;
            let cert = ParsedCert::from_der(der)?;
            if identifies(&signer.sid, &cert) {
                return Ok(cert);
            }
        }
    }
    Err(PkiError::MissingCertificate)
}

fn identifies(sid: &SignerIdentifier, cert: &ParsedCert) -> bool {
    let tbs = &cert.cert.tbs_certificate;
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(ias) => {
            ias.issuer == tbs.issuer && ias.serial_number == tbs.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            cert.ski.as_deref() == Some(ski.0.as_bytes())
        }
    }
}
