//! The facts of a citizen digital certificate (自然人憑證) used to bind it to an account.
//!
//! Security-sensitive and personal data: the holder's name (subject CN) and the last four
//! digits of the national ID come from here. §3: an account is bound to one card (issuer +
//! serial) and the name and last-4 are compared with the staff record at every login, so
//! their extraction must be exact and refuse ambiguity (two CNs, two last-4 attributes).
//! §9: `Debug` never prints them.
//!
//! # Where MOICA puts the last four ID digits
//!
//! In the Subject Directory Attributes extension (OID 2.5.29.9), which RFC 5280 §4.2.1.8
//! defines as `SEQUENCE SIZE (1..MAX) OF Attribute`, `Attribute ::= SEQUENCE { type OID,
//! values SET OF ANY }`. The attribute type is 2.16.886.1.100.2.51 ("last4IDNO") and its
//! single value is a character string holding the four digits. Public MOICA-reading code
//! takes `values[0]` of that attribute as a string, which confirms the structure; the exact
//! string type could not be confirmed from public sources, so PrintableString, UTF8String
//! and IA5String are all accepted (the demo CA writes PrintableString). The value must be
//! exactly four ASCII digits; anything else is refused as malformed rather than guessed at.

use core::fmt;

use const_oid::ObjectIdentifier;
use const_oid::db::rfc4519::COMMON_NAME;
use const_oid::db::rfc5280::ID_CE_SUBJECT_DIRECTORY_ATTRIBUTES;
use der::asn1::{BmpString, Ia5StringRef, PrintableStringRef, TeletexStringRef, Utf8StringRef};
use der::{Any, Decode, Tag, Tagged};
use jiff::Timestamp;
use x509_cert::attr::Attribute;
use x509_cert::name::Name;

use crate::cert::ParsedCert;
use crate::error::PkiError;

/// MOICA's Subject Directory Attributes attribute for the last 4 national-ID digits.
pub const OID_MOICA_ID_LAST4: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.16.886.1.100.2.51");

/// Parsed facts of a citizen certificate, for binding an account to a card (§3).
///
/// Hex fields are lowercase. `issuer_dn` is the RFC 4514 string of the issuer name; since
/// MOICA G2 and G3 share one DN, bind by `issuer_key_id` (AKI) + `serial_hex` where present.
#[derive(Clone, PartialEq, Eq)]
pub struct CitizenCertificate {
    /// Holder's name, from the subject common name (personal data).
    pub subject_cn: String,
    /// Last 4 digits of the national ID from Subject Directory Attributes (personal data).
    pub id_last4: Option<String>,
    /// Issuer distinguished name, RFC 4514 form.
    pub issuer_dn: String,
    /// Hex of the Authority Key Identifier's keyIdentifier, if present.
    pub issuer_key_id: Option<String>,
    /// Hex of the certificate serial number.
    pub serial_hex: String,
    /// Start of validity.
    pub not_before: Timestamp,
    /// End of validity.
    pub not_after: Timestamp,
    /// Hex SHA-256 of the certificate DER.
    pub fingerprint_sha256: String,
}

impl CitizenCertificate {
    /// True for certificates from the demo CA (issuer name contains "DEMO"), which a
    /// production configuration must refuse.
    #[must_use]
    pub fn is_demo(&self) -> bool {
        self.issuer_dn.contains("DEMO")
    }

    pub(crate) fn from_parsed(cert: &ParsedCert) -> Result<Self, PkiError> {
        let tbs = &cert.cert.tbs_certificate;
        Ok(Self {
            subject_cn: common_name(&tbs.subject)?,
            id_last4: id_last4(cert)?,
            issuer_dn: tbs.issuer.to_string(),
            issuer_key_id: cert.aki.as_deref().map(hex::encode),
            serial_hex: cert.serial_hex(),
            not_before: cert.not_before,
            not_after: cert.not_after,
            fingerprint_sha256: cert.fingerprint_sha256(),
        })
    }
}

/// §9: the name and ID digits are personal data and must not reach logs through `{:?}`.
impl fmt::Debug for CitizenCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CitizenCertificate")
            .field("subject_cn", &"<redacted>")
            .field("id_last4", &self.id_last4.as_ref().map(|_| "<redacted>"))
            .field("issuer_dn", &self.issuer_dn)
            .field("issuer_key_id", &self.issuer_key_id)
            .field("serial_hex", &self.serial_hex)
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .field("fingerprint_sha256", &self.fingerprint_sha256)
            .finish()
    }
}

/// A directory string as Rust text. Names on cards are UTF8String today; older
/// certificates used BMPString or PrintableString.
fn directory_string(value: &Any) -> Option<String> {
    match value.tag() {
        Tag::Utf8String => value
            .decode_as::<Utf8StringRef<'_>>()
            .ok()
            .map(|s| s.as_str().to_owned()),
        Tag::PrintableString => value
            .decode_as::<PrintableStringRef<'_>>()
            .ok()
            .map(|s| s.as_str().to_owned()),
        Tag::Ia5String => value
            .decode_as::<Ia5StringRef<'_>>()
            .ok()
            .map(|s| s.as_str().to_owned()),
        Tag::TeletexString => value
            .decode_as::<TeletexStringRef<'_>>()
            .ok()
            .map(|s| s.as_str().to_owned()),
        Tag::BmpString => value.decode_as::<BmpString>().ok().map(|s| s.to_string()),
        _ => None,
    }
}

/// The single subject CN. Two CNs would make the binding ambiguous, so that is refused.
fn common_name(subject: &Name) -> Result<String, PkiError> {
    let mut found = None;
    for atv in subject.0.iter().flat_map(|rdn| rdn.0.iter()) {
        if atv.oid == COMMON_NAME {
            if found.is_some() {
                return Err(PkiError::Malformed("more than one subject common name"));
            }
            found = Some(
                directory_string(&atv.value)
                    .ok_or(PkiError::Malformed("subject common name encoding"))?,
            );
        }
    }
    found.ok_or(PkiError::Malformed("subject has no common name"))
}

/// The last-4 digits from Subject Directory Attributes, if the extension carries them.
fn id_last4(cert: &ParsedCert) -> Result<Option<String>, PkiError> {
    let exts = cert
        .cert
        .tbs_certificate
        .extensions
        .as_deref()
        .unwrap_or(&[]);
    let Some(ext) = exts
        .iter()
        .find(|e| e.extn_id == ID_CE_SUBJECT_DIRECTORY_ATTRIBUTES)
    else {
        return Ok(None);
    };
    // x509-cert's SubjectDirectoryAttributes type models AttributeTypeAndValue, but RFC
    // 5280 (and MOICA) use Attribute with a SET OF values, so decode that directly.
    let attrs = Vec::<Attribute>::from_der(ext.extn_value.as_bytes())
        .map_err(|_| PkiError::Malformed("subject directory attributes"))?;
    let mut found = None;
    for attr in attrs.iter().filter(|a| a.oid == OID_MOICA_ID_LAST4) {
        if found.is_some() {
            return Err(PkiError::Malformed("more than one ID last-4 attribute"));
        }
        let mut values = attr.values.iter();
        let (Some(value), None) = (values.next(), values.next()) else {
            return Err(PkiError::Malformed(
                "ID last-4 attribute must have one value",
            ));
        };
        let text = match value.tag() {
            Tag::PrintableString | Tag::Utf8String | Tag::Ia5String => directory_string(value),
            _ => None,
        }
        .ok_or(PkiError::Malformed("ID last-4 attribute encoding"))?;
        if text.len() != 4 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PkiError::Malformed(
                "ID last-4 attribute is not four digits",
            ));
        }
        found = Some(text);
    }
    Ok(found)
}
