//! Garbage in every input gives a typed error, never a panic: random bytes, PEM wrappers
//! around junk, and valid objects with one byte changed.

use crate::common::{client_best_effort, now, verify_best_effort, world};
use proptest::prelude::*;
use querywarden_pki::{PkiError, RevocationList, SignatureFormat, TrustAnchors, parse_certificate};

const NONCE: &[u8] = b"qw-login-garbage";

fn pem_wrap(label: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!("-----BEGIN {label}-----\n").into_bytes();
    out.extend_from_slice(body);
    out.extend_from_slice(format!("\n-----END {label}-----\n").as_bytes());
    out
}

/// Runs every entry point on `bytes` in every role; only a panic fails.
fn feed(bytes: &[u8]) {
    let w = world();
    let _ = TrustAnchors::from_pem_bundle(bytes);
    let _ = TrustAnchors::from_der_certificates(vec![bytes.to_vec()]);
    let _ = RevocationList::from_der_or_pem(bytes);
    let _ = parse_certificate(bytes);
    let _ = client_best_effort(&[bytes.to_vec()]);
    let cert = w.card.certificate_der().unwrap();
    for format in [SignatureFormat::Pkcs1, SignatureFormat::Pkcs7] {
        // garbage signature, good certificate
        let _ = verify_best_effort(NONCE, bytes, format, Some(&cert));
        // good-looking signature, garbage certificate
        let sig = w.card.sign(NONCE, format).unwrap();
        let _ = verify_best_effort(NONCE, &sig, format, Some(bytes));
        // garbage nonce
        let _ = verify_best_effort(bytes, &sig, format, Some(&cert));
    }
}

#[test]
fn empty_inputs_are_typed_errors() {
    let w = world();
    assert!(matches!(
        parse_certificate(b""),
        Err(PkiError::Malformed(_))
    ));
    assert!(matches!(
        RevocationList::from_der_or_pem(b""),
        Err(PkiError::Malformed(_))
    ));
    assert!(matches!(
        TrustAnchors::from_pem_bundle(b""),
        Err(PkiError::Malformed(_))
    ));
    let cert = w.card.certificate_der().unwrap();
    for format in [SignatureFormat::Pkcs1, SignatureFormat::Pkcs7] {
        let got = verify_best_effort(NONCE, b"", format, Some(&cert));
        assert!(matches!(got, Err(PkiError::Malformed(_))));
    }
    assert_eq!(
        client_best_effort(&[Vec::new()]),
        Err(PkiError::MissingCertificate)
    );
}

#[test]
fn pem_wrapped_junk_is_a_typed_error() {
    for body in [
        &b""[..],
        b"!!!!",
        b"AAAA",
        b"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA",
        "中文".as_bytes(),
    ] {
        for label in ["CERTIFICATE", "X509 CRL", "PKCS7"] {
            let pem = pem_wrap(label, body);
            assert!(parse_certificate(&pem).is_err());
            assert!(RevocationList::from_der_or_pem(&pem).is_err());
            assert!(TrustAnchors::from_pem_bundle(&pem).is_err());
            feed(&pem);
        }
    }
    feed(b"-----BEGIN CERTIFICATE-----\nMIIB\n");
    feed(b"-----BEGIN CERTIFICATE-----");
    feed(b"-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\n");
}

#[test]
fn truncations_of_valid_objects_are_typed_errors() {
    let w = world();
    let objects = [
        w.card.certificate_der().unwrap(),
        w.card.sign(NONCE, SignatureFormat::Pkcs7).unwrap(),
        w.ca.crl(&[], now()).unwrap(),
    ];
    for object in &objects {
        for len in (0..object.len()).step_by(7) {
            feed(&object[..len]);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        feed(&bytes);
        feed(&pem_wrap("CERTIFICATE", &bytes));
    }

    #[test]
    fn one_changed_byte_in_a_valid_object_never_panics_and_never_changes_the_holder(
        which in 0usize..3,
        at in any::<prop::sample::Index>(),
        xor in 1u8..=255,
    ) {
        let w = world();
        let mut object = match which {
            0 => w.card.certificate_der().unwrap(),
            1 => w.card.sign(NONCE, SignatureFormat::Pkcs7).unwrap(),
            _ => w.ca.crl(&[], now()).unwrap(),
        };
        let i = at.index(object.len());
        object[i] ^= xor;
        feed(&object);
        if which == 1 {
            // A changed SignedData may still verify only if the change is in a field the
            // signature does not cover; the holder it reports must then be the real one.
            if let Ok(c) = verify_best_effort(NONCE, &object, SignatureFormat::Pkcs7, None) {
                prop_assert_eq!(c.subject_cn, crate::common::NAME);
            }
        }
    }
}
