//! A test certificate authority imitating MOICA, for `querywarden demo` and for tests only.
//!
//! Security-sensitive: it creates private keys and certificates that this crate's verifier
//! accepts when the demo anchors are configured. It is compiled only with the `demo-ca`
//! feature, every name it issues under contains "DEMO" (enforced), and
//! [`crate::CitizenCertificate::is_demo`] recognises its certificates so a production
//! configuration can refuse them. Keys are stored as unencrypted PKCS#8 PEM: they protect
//! nothing real.
//!
//! Certificates are assembled from `x509-cert`/`cms` types and signed with the `rsa` crate
//! (RSA-2048, PKCS#1 v1.5, SHA-256), shaped like MOICA's: the holder's name as subject CN
//! and the last 4 ID digits in Subject Directory Attributes as a PrintableString under
//! 2.16.886.1.100.2.51 — exactly what [`crate::parse_certificate`] reads.

use core::fmt;
use core::time::Duration;

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use const_oid::AssociatedOid;
use const_oid::db::rfc4519::{COMMON_NAME, COUNTRY_NAME};
use const_oid::db::rfc5911::{ID_CONTENT_TYPE, ID_DATA, ID_MESSAGE_DIGEST, ID_SIGNED_DATA};
use const_oid::db::rfc5912::{ID_SHA_256, RSA_ENCRYPTION, SHA_256_WITH_RSA_ENCRYPTION};
use der::asn1::{
    BitString, GeneralizedTime, OctetString, PrintableStringRef, SetOfVec, UtcTime, Utf8StringRef,
};
use der::{Any, DateTime, Decode, Encode};
use jiff::{SignedDuration, Timestamp};
use rand_core::{OsRng, RngCore};
use rsa::RsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use sha2::{Digest as _, Sha256};
use signature::{SignatureEncoding, Signer};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::attr::{Attribute, AttributeTypeAndValue};
use x509_cert::certificate::{Certificate, TbsCertificate, Version};
use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::crl::CrlNumber;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier,
};
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

use crate::challenge::SignatureFormat;
use crate::citizen::{CitizenCertificate, OID_MOICA_ID_LAST4};
use crate::error::PkiError;
use crate::keys::rsa_sha256_algorithm;

/// Subject CN of the demo root, standing in for the real MOICA root.
pub const DEMO_ROOT_CN: &str = "DEMO 內政部憑證管理中心 測試根憑證";
/// Subject CN of the demo intermediate, standing in for MOICA G3.
pub const DEMO_INTERMEDIATE_CN: &str = "DEMO MOICA G3 測試";

const RSA_BITS: usize = 2048;
const DAY: SignedDuration = SignedDuration::from_hours(24);

fn internal(what: &'static str) -> impl Fn(der::Error) -> PkiError {
    move |_| PkiError::Internal(what)
}

/// An RSA-2048 private key of the demo CA or of a demo card.
pub struct DemoKey(RsaPrivateKey);

impl fmt::Debug for DemoKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DemoKey(<private>)")
    }
}

impl DemoKey {
    /// Generates a fresh RSA-2048 key from the operating system's random source. Slow in
    /// debug builds (seconds); well under a second on average in release.
    pub fn generate() -> Result<Self, PkiError> {
        RsaPrivateKey::new(&mut OsRng, RSA_BITS)
            .map(Self)
            .map_err(|_| PkiError::Internal("RSA key generation"))
    }

    /// Reads an unencrypted PKCS#8 PEM (`PRIVATE KEY`) RSA key.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, PkiError> {
        RsaPrivateKey::from_pkcs8_pem(pem)
            .map(Self)
            .map_err(|_| PkiError::Malformed("demo private key"))
    }

    /// Writes the key as unencrypted PKCS#8 PEM (demo data only).
    pub fn to_pkcs8_pem(&self) -> Result<String, PkiError> {
        self.0
            .to_pkcs8_pem(LineEnding::LF)
            .map(|pem| pem.as_str().to_owned())
            .map_err(|_| PkiError::Internal("encoding demo private key"))
    }

    /// RSA PKCS#1 v1.5 signature with SHA-256 over `message`.
    pub fn sign_pkcs1_sha256(&self, message: &[u8]) -> Result<Vec<u8>, PkiError> {
        let signer = SigningKey::<Sha256>::new(self.0.clone());
        signer
            .try_sign(message)
            .map(|sig| sig.to_vec())
            .map_err(|_| PkiError::Internal("RSA signing"))
    }

    fn spki(&self) -> Result<SubjectPublicKeyInfoOwned, PkiError> {
        let der = self
            .0
            .to_public_key()
            .to_public_key_der()
            .map_err(|_| PkiError::Internal("encoding public key"))?;
        SubjectPublicKeyInfoOwned::from_der(der.as_bytes()).map_err(internal("public key info"))
    }
}

/// RFC 7093 §2 method 1: the leftmost 160 bits of SHA-256 of the subjectPublicKey bits.
fn key_id(spki: &SubjectPublicKeyInfoOwned) -> Vec<u8> {
    let digest = Sha256::digest(spki.subject_public_key.raw_bytes());
    digest.iter().take(20).copied().collect()
}

/// X.509 time: UTCTime through 2049, GeneralizedTime after (RFC 5280 §4.1.2.5).
fn x509_time(at: Timestamp) -> Result<Time, PkiError> {
    let secs = u64::try_from(at.as_second()).map_err(|_| PkiError::Internal("time before 1970"))?;
    let dt = DateTime::from_unix_duration(Duration::from_secs(secs)).map_err(internal("time"))?;
    if dt.year() < 2050 {
        UtcTime::from_date_time(dt)
            .map(Time::UtcTime)
            .map_err(internal("time"))
    } else {
        Ok(Time::GeneralTime(GeneralizedTime::from_date_time(dt)))
    }
}

fn add(at: Timestamp, d: SignedDuration) -> Result<Timestamp, PkiError> {
    at.checked_add(d)
        .map_err(|_| PkiError::Internal("time out of range"))
}

/// 16 random bytes, positive and without a leading zero byte.
fn random_serial() -> Result<SerialNumber, PkiError> {
    let mut bytes = [0u8; 16];
    OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|_| PkiError::Internal("random serial"))?;
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    SerialNumber::new(&bytes).map_err(internal("serial number"))
}

/// `C=TW, CN=<cn>`; the CN as UTF8String like MOICA's Chinese names.
fn name(cn: &str) -> Result<Name, PkiError> {
    let country = AttributeTypeAndValue {
        oid: COUNTRY_NAME,
        value: Any::encode_from(&PrintableStringRef::new("TW").map_err(internal("name"))?)
            .map_err(internal("name"))?,
    };
    let common = AttributeTypeAndValue {
        oid: COMMON_NAME,
        value: Any::encode_from(&Utf8StringRef::new(cn).map_err(internal("name"))?)
            .map_err(internal("name"))?,
    };
    let rdn = |atv| {
        SetOfVec::try_from(vec![atv])
            .map(RelativeDistinguishedName)
            .map_err(internal("name"))
    };
    Ok(RdnSequence(vec![rdn(country)?, rdn(common)?]))
}

fn extension<T: Encode + AssociatedOid>(value: &T, critical: bool) -> Result<Extension, PkiError> {
    let der = value.to_der().map_err(internal("extension"))?;
    Ok(Extension {
        extn_id: T::OID,
        critical,
        extn_value: OctetString::new(der).map_err(internal("extension"))?,
    })
}

/// The Subject Directory Attributes extension with the last-4 attribute, as parsed by
/// `citizen::id_last4`: SEQUENCE OF Attribute { 2.16.886.1.100.2.51, SET { PrintableString } }.
fn id_last4_extension(id_last4: &str) -> Result<Extension, PkiError> {
    let value = Any::encode_from(&PrintableStringRef::new(id_last4).map_err(internal("last-4"))?)
        .map_err(internal("last-4"))?;
    let attrs = vec![Attribute {
        oid: OID_MOICA_ID_LAST4,
        values: SetOfVec::try_from(vec![value]).map_err(internal("last-4"))?,
    }];
    let der = attrs.to_der().map_err(internal("last-4"))?;
    Ok(Extension {
        extn_id: const_oid::db::rfc5280::ID_CE_SUBJECT_DIRECTORY_ATTRIBUTES,
        critical: false,
        extn_value: OctetString::new(der).map_err(internal("last-4"))?,
    })
}

/// Signs a TBS certificate with `issuer_key`.
fn sign_certificate(tbs: TbsCertificate, issuer_key: &DemoKey) -> Result<Certificate, PkiError> {
    let tbs_der = tbs.to_der().map_err(internal("certificate"))?;
    let sig = issuer_key.sign_pkcs1_sha256(&tbs_der)?;
    Ok(Certificate {
        signature_algorithm: tbs.signature.clone(),
        tbs_certificate: tbs,
        signature: BitString::from_bytes(&sig).map_err(internal("certificate"))?,
    })
}

struct CertSpec<'a> {
    subject: Name,
    subject_key: SubjectPublicKeyInfoOwned,
    issuer: Option<(&'a Certificate, &'a DemoKey)>,
    self_key: Option<&'a DemoKey>,
    not_before: Timestamp,
    not_after: Timestamp,
    ca: Option<Option<u8>>,
    key_usage: KeyUsage,
    extra: Vec<Extension>,
}

fn issue(spec: CertSpec<'_>) -> Result<Certificate, PkiError> {
    let subject_key_id = key_id(&spec.subject_key);
    let (issuer_name, issuer_key_id, signing_key) = match (spec.issuer, spec.self_key) {
        (Some((cert, key)), _) => (
            cert.tbs_certificate.subject.clone(),
            key_id(&cert.tbs_certificate.subject_public_key_info),
            key,
        ),
        (None, Some(key)) => (spec.subject.clone(), subject_key_id.clone(), key),
        (None, None) => return Err(PkiError::Internal("certificate without signer")),
    };
    let mut extensions = vec![
        extension(
            &SubjectKeyIdentifier(OctetString::new(subject_key_id).map_err(internal("ski"))?),
            false,
        )?,
        extension(
            &AuthorityKeyIdentifier {
                key_identifier: Some(OctetString::new(issuer_key_id).map_err(internal("aki"))?),
                authority_cert_issuer: None,
                authority_cert_serial_number: None,
            },
            false,
        )?,
        extension(
            &BasicConstraints {
                ca: spec.ca.is_some(),
                path_len_constraint: spec.ca.flatten(),
            },
            spec.ca.is_some(),
        )?,
        extension(&spec.key_usage, true)?,
    ];
    extensions.extend(spec.extra);
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: random_serial()?,
        signature: rsa_sha256_algorithm(SHA_256_WITH_RSA_ENCRYPTION),
        issuer: issuer_name,
        validity: Validity {
            not_before: x509_time(spec.not_before)?,
            not_after: x509_time(spec.not_after)?,
        },
        subject: spec.subject,
        subject_public_key_info: spec.subject_key,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(extensions),
    };
    sign_certificate(tbs, signing_key)
}

fn cert_pem(cert: &Certificate) -> Result<String, PkiError> {
    let der = cert.to_der().map_err(internal("certificate"))?;
    der::pem::encode_string("CERTIFICATE", LineEnding::LF, &der)
        .map_err(|_| PkiError::Internal("PEM encoding"))
}

/// PEM blocks in order, as (label, text of the whole block).
fn pem_blocks(bundle: &str) -> Result<Vec<(String, Vec<u8>)>, PkiError> {
    Ok(crate::pem::blocks(bundle.as_bytes())?
        .into_iter()
        .map(|b| (b.label, b.der))
        .collect())
}

fn key_from_block(label: &str, der: &[u8]) -> Result<DemoKey, PkiError> {
    if label != "PRIVATE KEY" {
        return Err(PkiError::Malformed(
            "demo bundle: expected a PRIVATE KEY block",
        ));
    }
    RsaPrivateKey::from_pkcs8_der(der)
        .map(DemoKey)
        .map_err(|_| PkiError::Malformed("demo private key"))
}

fn cert_from_block(label: &str, der: &[u8]) -> Result<Certificate, PkiError> {
    if label != "CERTIFICATE" {
        return Err(PkiError::Malformed(
            "demo bundle: expected a CERTIFICATE block",
        ));
    }
    Certificate::from_der(der).map_err(|_| PkiError::Malformed("demo certificate"))
}

fn check_pair(cert: &Certificate, key: &DemoKey) -> Result<(), PkiError> {
    if cert.tbs_certificate.subject_public_key_info == key.spki()? {
        Ok(())
    } else {
        Err(PkiError::Malformed(
            "demo bundle: key does not match certificate",
        ))
    }
}

/// Options for issuing unusual demo cards, to exercise the verifier's refusals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CardProfile {
    /// Key usage includes digitalSignature (real signing cards: yes).
    pub digital_signature: bool,
    /// Mark the card certificate as a CA (never for real cards).
    pub ca: bool,
}

impl Default for CardProfile {
    /// A MOICA-like signing certificate: digitalSignature + nonRepudiation, not a CA.
    fn default() -> Self {
        Self {
            digital_signature: true,
            ca: false,
        }
    }
}

/// The demo root and intermediate ("G3") with their keys.
pub struct DemoCa {
    root: Certificate,
    root_key: DemoKey,
    intermediate: Certificate,
    intermediate_key: DemoKey,
    anchors_pem: String,
}

impl fmt::Debug for DemoCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DemoCa")
            .field("root", &self.root.tbs_certificate.subject.to_string())
            .field(
                "intermediate",
                &self.intermediate.tbs_certificate.subject.to_string(),
            )
            .finish_non_exhaustive()
    }
}

impl DemoCa {
    /// New root and intermediate with fresh RSA-2048 keys; root valid 20 years and the
    /// intermediate 10, both from `now` − 1 day.
    pub fn generate(now: Timestamp) -> Result<Self, PkiError> {
        Self::from_keys(DemoKey::generate()?, DemoKey::generate()?, now)
    }

    /// Like [`DemoCa::generate`] with given keys (tests use fixed keys to save time).
    pub fn from_keys(
        root_key: DemoKey,
        intermediate_key: DemoKey,
        now: Timestamp,
    ) -> Result<Self, PkiError> {
        Self::from_keys_named(
            DEMO_ROOT_CN,
            DEMO_INTERMEDIATE_CN,
            root_key,
            intermediate_key,
            now,
        )
    }

    /// Like [`DemoCa::from_keys`] with other CA names, which must contain "DEMO".
    pub fn from_keys_named(
        root_cn: &str,
        intermediate_cn: &str,
        root_key: DemoKey,
        intermediate_key: DemoKey,
        now: Timestamp,
    ) -> Result<Self, PkiError> {
        if !root_cn.contains("DEMO") || !intermediate_cn.contains("DEMO") {
            return Err(PkiError::Internal("demo CA names must contain DEMO"));
        }
        let start = add(now, -DAY)?;
        let root = issue(CertSpec {
            subject: name(root_cn)?,
            subject_key: root_key.spki()?,
            issuer: None,
            self_key: Some(&root_key),
            not_before: start,
            not_after: add(now, DAY * (365 * 20))?,
            ca: Some(None),
            key_usage: KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign),
            extra: Vec::new(),
        })?;
        let intermediate = issue(CertSpec {
            subject: name(intermediate_cn)?,
            subject_key: intermediate_key.spki()?,
            issuer: Some((&root, &root_key)),
            self_key: None,
            not_before: start,
            not_after: add(now, DAY * (365 * 10))?,
            ca: Some(Some(0)),
            key_usage: KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign),
            extra: Vec::new(),
        })?;
        Self::assemble(root, root_key, intermediate, intermediate_key)
    }

    fn assemble(
        root: Certificate,
        root_key: DemoKey,
        intermediate: Certificate,
        intermediate_key: DemoKey,
    ) -> Result<Self, PkiError> {
        let anchors_pem = format!("{}{}", cert_pem(&root)?, cert_pem(&intermediate)?);
        Ok(Self {
            root,
            root_key,
            intermediate,
            intermediate_key,
            anchors_pem,
        })
    }

    /// A second intermediate under the same root with the **same subject DN** and another
    /// key — how MOICA G2 and G3 look. Cards it issues must be told apart by AKI.
    pub fn with_sibling_intermediate(
        &self,
        intermediate_key: DemoKey,
        now: Timestamp,
    ) -> Result<Self, PkiError> {
        let intermediate = issue(CertSpec {
            subject: self.intermediate.tbs_certificate.subject.clone(),
            subject_key: intermediate_key.spki()?,
            issuer: Some((&self.root, &self.root_key)),
            self_key: None,
            not_before: add(now, -DAY)?,
            not_after: add(now, DAY * (365 * 10))?,
            ca: Some(Some(0)),
            key_usage: KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign),
            extra: Vec::new(),
        })?;
        Self::assemble(
            self.root.clone(),
            DemoKey(self.root_key.0.clone()),
            intermediate,
            intermediate_key,
        )
    }

    /// The trust bundle for the configuration: root and intermediate certificates as PEM.
    pub fn anchors_pem(&self) -> String {
        self.anchors_pem.clone()
    }

    /// Root certificate DER.
    pub fn root_der(&self) -> Result<Vec<u8>, PkiError> {
        self.root.to_der().map_err(internal("certificate"))
    }

    /// Intermediate certificate DER.
    pub fn intermediate_der(&self) -> Result<Vec<u8>, PkiError> {
        self.intermediate.to_der().map_err(internal("certificate"))
    }

    /// The intermediate CA as a card (its certificate and key): only for showing that a
    /// CA certificate is refused as a login identity.
    pub fn intermediate_as_card(&self) -> Result<DemoCard, PkiError> {
        Ok(DemoCard {
            cert: self.intermediate.clone(),
            key: DemoKey(self.intermediate_key.0.clone()),
        })
    }

    /// Issues a MOICA-like card certificate with a fresh RSA-2048 key, valid from
    /// `now` − 1 day to `now` + 2 years.
    pub fn issue_citizen(
        &self,
        name_cn: &str,
        id_last4: &str,
        now: Timestamp,
    ) -> Result<DemoCard, PkiError> {
        self.issue_citizen_with(
            DemoKey::generate()?,
            name_cn,
            id_last4,
            now,
            CardProfile::default(),
        )
    }

    /// Issues a card certificate for `key` with the given profile.
    pub fn issue_citizen_with(
        &self,
        key: DemoKey,
        name_cn: &str,
        id_last4: &str,
        now: Timestamp,
        profile: CardProfile,
    ) -> Result<DemoCard, PkiError> {
        if name_cn.trim().is_empty() {
            return Err(PkiError::Internal("demo card needs a name"));
        }
        if id_last4.len() != 4 || !id_last4.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PkiError::Internal("demo card last-4 must be four digits"));
        }
        let key_usage = if profile.digital_signature {
            KeyUsages::DigitalSignature | KeyUsages::NonRepudiation
        } else {
            KeyUsages::NonRepudiation | KeyUsages::KeyEncipherment
        };
        let cert = issue(CertSpec {
            subject: name(name_cn)?,
            subject_key: key.spki()?,
            issuer: Some((&self.intermediate, &self.intermediate_key)),
            self_key: None,
            not_before: add(now, -DAY)?,
            not_after: add(now, DAY * (365 * 2))?,
            ca: profile.ca.then_some(None),
            key_usage: KeyUsage(key_usage),
            extra: vec![id_last4_extension(id_last4)?],
        })?;
        Ok(DemoCard { cert, key })
    }

    /// A CRL from the intermediate listing `revoked_serials` (hex, as in
    /// [`CitizenCertificate::serial_hex`]); thisUpdate `now`, nextUpdate `now` + 7 days.
    pub fn crl(&self, revoked_serials: &[&str], now: Timestamp) -> Result<Vec<u8>, PkiError> {
        let mut revoked = Vec::with_capacity(revoked_serials.len());
        for serial in revoked_serials {
            let bytes = hex::decode(serial).map_err(|_| PkiError::Malformed("serial hex"))?;
            revoked.push(RevokedCert {
                serial_number: SerialNumber::new(&bytes)
                    .map_err(|_| PkiError::Malformed("serial"))?,
                revocation_date: x509_time(now)?,
                crl_entry_extensions: None,
            });
        }
        let number =
            u64::try_from(now.as_second()).map_err(|_| PkiError::Internal("time before 1970"))?;
        let number_bytes = number.to_be_bytes();
        let ca_spki = &self.intermediate.tbs_certificate.subject_public_key_info;
        let tbs = TbsCertList {
            version: Version::V2,
            signature: rsa_sha256_algorithm(SHA_256_WITH_RSA_ENCRYPTION),
            issuer: self.intermediate.tbs_certificate.subject.clone(),
            this_update: x509_time(now)?,
            next_update: Some(x509_time(add(now, DAY * 7)?)?),
            // RFC 5280 §5.1.2.6: absent, not empty, when nothing is revoked.
            revoked_certificates: (!revoked.is_empty()).then_some(revoked),
            crl_extensions: Some(vec![
                extension(
                    &AuthorityKeyIdentifier {
                        key_identifier: Some(
                            OctetString::new(key_id(ca_spki)).map_err(internal("aki"))?,
                        ),
                        authority_cert_issuer: None,
                        authority_cert_serial_number: None,
                    },
                    false,
                )?,
                extension(
                    &CrlNumber(
                        der::asn1::Uint::new(&number_bytes).map_err(internal("crl number"))?,
                    ),
                    false,
                )?,
            ]),
        };
        let tbs_der = tbs.to_der().map_err(internal("CRL"))?;
        let sig = self.intermediate_key.sign_pkcs1_sha256(&tbs_der)?;
        CertificateList {
            signature_algorithm: tbs.signature.clone(),
            tbs_cert_list: tbs,
            signature: BitString::from_bytes(&sig).map_err(internal("CRL"))?,
        }
        .to_der()
        .map_err(internal("CRL"))
    }

    /// Root cert, root key, intermediate cert, intermediate key — PEM blocks in that order,
    /// for the demo data directory.
    pub fn to_pem_bundle(&self) -> Result<String, PkiError> {
        Ok(format!(
            "{}{}{}{}",
            cert_pem(&self.root)?,
            self.root_key.to_pkcs8_pem()?,
            cert_pem(&self.intermediate)?,
            self.intermediate_key.to_pkcs8_pem()?
        ))
    }

    /// Reads what [`DemoCa::to_pem_bundle`] wrote; keys must match their certificates.
    pub fn from_pem_bundle(bundle: &str) -> Result<Self, PkiError> {
        let blocks = pem_blocks(bundle)?;
        let [(l0, d0), (l1, d1), (l2, d2), (l3, d3)] = blocks.as_slice() else {
            return Err(PkiError::Malformed(
                "demo CA bundle must hold four PEM blocks",
            ));
        };
        let (root, root_key) = (cert_from_block(l0, d0)?, key_from_block(l1, d1)?);
        let (intermediate, intermediate_key) = (cert_from_block(l2, d2)?, key_from_block(l3, d3)?);
        check_pair(&root, &root_key)?;
        check_pair(&intermediate, &intermediate_key)?;
        Self::assemble(root, root_key, intermediate, intermediate_key)
    }
}

/// How the demo signer builds a PKCS#7 answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pkcs7Options {
    /// Leave the nonce out of the SignedData (detached signature).
    pub detached: bool,
    /// Sign content-type and message-digest attributes (as HiPKI does) rather than the
    /// content directly.
    pub signed_attributes: bool,
}

impl Default for Pkcs7Options {
    fn default() -> Self {
        Self {
            detached: false,
            signed_attributes: true,
        }
    }
}

/// A demo card: certificate and private key; its `sign` stands in for HiPKI's
/// `MakeSignature` on the DEMO signer page.
pub struct DemoCard {
    cert: Certificate,
    key: DemoKey,
}

impl fmt::Debug for DemoCard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // §9: the subject holds a (demo) person's name; print the serial only.
        f.debug_struct("DemoCard")
            .field(
                "serial",
                &hex::encode(self.cert.tbs_certificate.serial_number.as_bytes()),
            )
            .finish_non_exhaustive()
    }
}

impl DemoCard {
    /// Certificate DER.
    pub fn certificate_der(&self) -> Result<Vec<u8>, PkiError> {
        self.cert.to_der().map_err(internal("certificate"))
    }

    /// Certificate PEM.
    pub fn certificate_pem(&self) -> Result<String, PkiError> {
        cert_pem(&self.cert)
    }

    /// The card's facts, as the verifier will report them.
    pub fn citizen(&self) -> Result<CitizenCertificate, PkiError> {
        crate::parse_certificate(&self.certificate_der()?)
    }

    /// Signs `nonce` as `MakeSignature` with SHA-256 would: PKCS1 gives the raw RSA
    /// signature, PKCS7 a DER SignedData with the nonce attached and signed attributes.
    pub fn sign(&self, nonce: &[u8], format: SignatureFormat) -> Result<Vec<u8>, PkiError> {
        match format {
            SignatureFormat::Pkcs1 => self.key.sign_pkcs1_sha256(nonce),
            SignatureFormat::Pkcs7 => self.sign_pkcs7(nonce, Pkcs7Options::default()),
        }
    }

    /// A DER CMS SignedData over `nonce`, shaped by `options`.
    pub fn sign_pkcs7(&self, nonce: &[u8], options: Pkcs7Options) -> Result<Vec<u8>, PkiError> {
        let content = OctetString::new(nonce).map_err(internal("CMS"))?;
        let encap = EncapsulatedContentInfo {
            econtent_type: ID_DATA,
            econtent: if options.detached {
                None
            } else {
                Some(Any::encode_from(&content).map_err(internal("CMS"))?)
            },
        };
        let signed_attrs = if options.signed_attributes {
            let digest =
                OctetString::new(Sha256::digest(nonce).to_vec()).map_err(internal("CMS"))?;
            let attr = |oid, value: Any| -> Result<Attribute, PkiError> {
                Ok(Attribute {
                    oid,
                    values: SetOfVec::try_from(vec![value]).map_err(internal("CMS"))?,
                })
            };
            let attrs = vec![
                attr(
                    ID_CONTENT_TYPE,
                    Any::encode_from(&ID_DATA).map_err(internal("CMS"))?,
                )?,
                attr(
                    ID_MESSAGE_DIGEST,
                    Any::encode_from(&digest).map_err(internal("CMS"))?,
                )?,
            ];
            Some(SetOfVec::try_from(attrs).map_err(internal("CMS"))?)
        } else {
            None
        };
        let to_sign = match &signed_attrs {
            Some(attrs) => attrs.to_der().map_err(internal("CMS"))?,
            None => nonce.to_vec(),
        };
        let signature = self.key.sign_pkcs1_sha256(&to_sign)?;
        let sha256 = AlgorithmIdentifierOwned {
            oid: ID_SHA_256,
            parameters: None,
        };
        let signer = SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: self.cert.tbs_certificate.issuer.clone(),
                serial_number: self.cert.tbs_certificate.serial_number.clone(),
            }),
            digest_alg: sha256.clone(),
            signed_attrs,
            signature_algorithm: rsa_sha256_algorithm(RSA_ENCRYPTION),
            signature: OctetString::new(signature).map_err(internal("CMS"))?,
            unsigned_attrs: None,
        };
        let signed = SignedData {
            version: CmsVersion::V1,
            digest_algorithms: SetOfVec::try_from(vec![sha256]).map_err(internal("CMS"))?,
            encap_content_info: encap,
            certificates: Some(CertificateSet(
                SetOfVec::try_from(vec![CertificateChoices::Certificate(self.cert.clone())])
                    .map_err(internal("CMS"))?,
            )),
            crls: None,
            signer_infos: SignerInfos(SetOfVec::try_from(vec![signer]).map_err(internal("CMS"))?),
        };
        ContentInfo {
            content_type: ID_SIGNED_DATA,
            content: Any::encode_from(&signed).map_err(internal("CMS"))?,
        }
        .to_der()
        .map_err(internal("CMS"))
    }

    /// Certificate then key, as PEM, for the demo data directory.
    pub fn to_pem_bundle(&self) -> Result<String, PkiError> {
        Ok(format!(
            "{}{}",
            cert_pem(&self.cert)?,
            self.key.to_pkcs8_pem()?
        ))
    }

    /// Reads what [`DemoCard::to_pem_bundle`] wrote; the key must match the certificate.
    pub fn from_pem_bundle(bundle: &str) -> Result<Self, PkiError> {
        let blocks = pem_blocks(bundle)?;
        let [(l0, d0), (l1, d1)] = blocks.as_slice() else {
            return Err(PkiError::Malformed(
                "demo card bundle must hold two PEM blocks",
            ));
        };
        let card = Self {
            cert: cert_from_block(l0, d0)?,
            key: key_from_block(l1, d1)?,
        };
        check_pair(&card.cert, &card.key)?;
        Ok(card)
    }
}
