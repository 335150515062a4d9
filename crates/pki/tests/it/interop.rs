//! Signatures made by OpenSSL (see `tests/data/README.md`) are verified like HiPKI's:
//! a check against an independent CMS and PKCS#1 implementation, including signed
//! attributes we do not write ourselves (signingTime, S/MIME capabilities).

use crate::common::{LAST4, NAME, now, world};
use querywarden_pki::{
    PkiError, RevocationList, RevocationPolicy, SignatureFormat, TrustAnchors,
    verify_signed_challenge,
};

const NONCE: &[u8] = include_bytes!("../data/interop-nonce.txt");
const ANCHORS: &[u8] = include_bytes!("../data/interop-anchors.pem");
const CARD: &[u8] = include_bytes!("../data/interop-card.pem");

fn check(
    signature: &[u8],
    format: SignatureFormat,
    cert: Option<&[u8]>,
    nonce: &[u8],
) -> Result<(), PkiError> {
    let anchors = TrustAnchors::from_pem_bundle(ANCHORS).unwrap();
    // The fixture G3 certificate was made from the same key and name as `world().ca`'s,
    // so a CRL from the latter is the fixture G3's CRL (same issuer DN and key id).
    let crl = RevocationList::from_der_or_pem(&world().ca.crl(&[], now()).unwrap()).unwrap();
    let got = verify_signed_challenge(
        nonce,
        signature,
        format,
        cert,
        &anchors,
        &[crl],
        RevocationPolicy::RequireCrl,
        now(),
    )?;
    assert_eq!(got.subject_cn, NAME);
    assert_eq!(got.id_last4.as_deref(), Some(LAST4));
    Ok(())
}

#[test]
fn openssl_pkcs1_signature_is_accepted() {
    check(
        include_bytes!("../data/interop-pkcs1.sig"),
        SignatureFormat::Pkcs1,
        Some(CARD),
        NONCE,
    )
    .unwrap();
}

#[test]
fn openssl_cms_attached_detached_and_attributeless_signatures_are_accepted() {
    check(
        include_bytes!("../data/interop-cms-attached.der"),
        SignatureFormat::Pkcs7,
        None,
        NONCE,
    )
    .unwrap();
    check(
        include_bytes!("../data/interop-cms-detached.der"),
        SignatureFormat::Pkcs7,
        None,
        NONCE,
    )
    .unwrap();
    check(
        include_bytes!("../data/interop-cms-noattr.der"),
        SignatureFormat::Pkcs7,
        Some(CARD),
        NONCE,
    )
    .unwrap();
}

#[test]
fn openssl_signatures_over_the_nonce_do_not_verify_another_nonce() {
    let other = b"qw-interop-nonce-0000";
    assert_eq!(
        check(
            include_bytes!("../data/interop-pkcs1.sig"),
            SignatureFormat::Pkcs1,
            Some(CARD),
            other
        ),
        Err(PkiError::BadSignature)
    );
    for (name, cms) in [
        (
            "attached",
            &include_bytes!("../data/interop-cms-attached.der")[..],
        ),
        (
            "detached",
            &include_bytes!("../data/interop-cms-detached.der")[..],
        ),
        (
            "noattr",
            &include_bytes!("../data/interop-cms-noattr.der")[..],
        ),
    ] {
        assert_eq!(
            check(cms, SignatureFormat::Pkcs7, None, other),
            Err(PkiError::NonceMismatch),
            "interop-cms-{name}.der"
        );
    }
}
