//! Shared fixtures for the PKI integration tests: a DEMO CA world built once for the test
//! binary from the fixed keys in `tests/data` (RSA key generation is slow in debug builds).

use std::sync::OnceLock;

use der::{Decode, Encode};
use jiff::Timestamp;
use querywarden_pki::demo_ca::{CardProfile, DemoCa, DemoCard, DemoKey};
use querywarden_pki::{
    CitizenCertificate, PkiError, RevocationList, RevocationPolicy, SignatureFormat, TrustAnchors,
    verify_client_certificate, verify_signed_challenge,
};

pub const NAME: &str = "王小明";
pub const LAST4: &str = "1234";

pub fn now() -> Timestamp {
    "2026-03-01T00:00:00Z".parse().unwrap()
}

pub fn key(name: &str) -> DemoKey {
    let pem = match name {
        "root" => include_str!("../data/root-key.pem"),
        "g3" => include_str!("../data/g3-key.pem"),
        "g2" => include_str!("../data/g2-key.pem"),
        "other-root" => include_str!("../data/other-root-key.pem"),
        "other-g3" => include_str!("../data/other-g3-key.pem"),
        "card-a" => include_str!("../data/card-a-key.pem"),
        "card-b" => include_str!("../data/card-b-key.pem"),
        _ => panic!("no such test key"),
    };
    DemoKey::from_pkcs8_pem(pem).unwrap()
}

/// `signature` over `nonce` checked against the world's anchors now, no CRL required.
pub fn verify_best_effort(
    nonce: &[u8],
    signature: &[u8],
    format: SignatureFormat,
    certificate: Option<&[u8]>,
) -> Result<CitizenCertificate, PkiError> {
    verify_signed_challenge(
        nonce,
        signature,
        format,
        certificate,
        &world().anchors,
        &[],
        RevocationPolicy::BestEffort,
        now(),
    )
}

/// A client certificate chain checked against the world's anchors now, no CRL required.
pub fn client_best_effort(chain: &[Vec<u8>]) -> Result<CitizenCertificate, PkiError> {
    verify_client_certificate(
        chain,
        &world().anchors,
        &[],
        RevocationPolicy::BestEffort,
        now(),
    )
}

pub struct World {
    /// DEMO root + "G3" intermediate.
    pub ca: DemoCa,
    /// Same root, second intermediate with the same DN as G3 but another key ("G2").
    pub g2: DemoCa,
    /// An unrelated CA with other names.
    pub other: DemoCa,
    /// An unrelated CA that copies our DNs exactly (impersonation by name).
    pub lookalike: DemoCa,
    /// Root, G3 and G2.
    pub anchors: TrustAnchors,
    /// A normal card from G3.
    pub card: DemoCard,
}

pub fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let now = now();
        let ca = DemoCa::from_keys(key("root"), key("g3"), now).unwrap();
        let g2 = ca.with_sibling_intermediate(key("g2"), now).unwrap();
        let other = DemoCa::from_keys_named(
            "DEMO 其他憑證機構 根憑證",
            "DEMO 其他憑證機構 中繼",
            key("other-root"),
            key("other-g3"),
            now,
        )
        .unwrap();
        let lookalike = DemoCa::from_keys(key("other-root"), key("other-g3"), now).unwrap();
        let anchors = TrustAnchors::from_der_certificates(vec![
            ca.root_der().unwrap(),
            ca.intermediate_der().unwrap(),
            g2.intermediate_der().unwrap(),
        ])
        .unwrap();
        let card = ca
            .issue_citizen_with(key("card-a"), NAME, LAST4, now, CardProfile::default())
            .unwrap();
        World {
            ca,
            g2,
            other,
            lookalike,
            anchors,
            card,
        }
    })
}

/// An empty, current CRL from G3.
pub fn fresh_crl() -> RevocationList {
    RevocationList::from_der_or_pem(&world().ca.crl(&[], now()).unwrap()).unwrap()
}

/// Re-signs a DER certificate after `edit` changes its TBS part, with `issuer_key`.
pub fn resign_certificate(
    der: &[u8],
    issuer_key: &DemoKey,
    edit: impl FnOnce(&mut x509_cert::TbsCertificate),
) -> Vec<u8> {
    let mut cert = x509_cert::Certificate::from_der(der).unwrap();
    edit(&mut cert.tbs_certificate);
    let sig = issuer_key
        .sign_pkcs1_sha256(&cert.tbs_certificate.to_der().unwrap())
        .unwrap();
    cert.signature = der::asn1::BitString::from_bytes(&sig).unwrap();
    cert.to_der().unwrap()
}

/// Replaces a CRL's signature with one made by `key` over the same TBS.
pub fn resign_crl(der: &[u8], key: &DemoKey) -> Vec<u8> {
    let mut crl = x509_cert::crl::CertificateList::from_der(der).unwrap();
    let sig = key
        .sign_pkcs1_sha256(&crl.tbs_cert_list.to_der().unwrap())
        .unwrap();
    crl.signature = der::asn1::BitString::from_bytes(&sig).unwrap();
    crl.to_der().unwrap()
}

/// Flips one bit of the first occurrence of `needle` in `haystack`.
pub fn flip_in(haystack: &[u8], needle: &[u8]) -> Vec<u8> {
    let at = haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("needle present");
    let mut out = haystack.to_vec();
    out[at] ^= 0x01;
    out
}
