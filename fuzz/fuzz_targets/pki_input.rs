//! Fuzzes the PKI inputs a citizen or an administrator controls: a certificate (DER or PEM),
//! a trust-anchor bundle, a CRL, and a PKCS#1 or CMS (PKCS#7) signature over the login nonce.

#![no_main]

use libfuzzer_sys::fuzz_target;
use querywarden_pki::{
    RevocationList, RevocationPolicy, SignatureFormat, TrustAnchors, certificate_der,
    parse_certificate, verify_signed_challenge,
};

const ANCHORS: &[u8] = include_bytes!("../../crates/pki/tests/data/interop-anchors.pem");
const CARD: &[u8] = include_bytes!("../../crates/pki/tests/data/interop-card.pem");
const NONCE: &[u8] = include_bytes!("../../crates/pki/tests/data/interop-nonce.txt");

fuzz_target!(|data: &[u8]| {
    let _ = parse_certificate(data);
    let _ = TrustAnchors::from_pem_bundle(data);
    let _ = RevocationList::from_der_or_pem(data);
    // The fuzzed bytes as the signature: CMS carries its own certificate, PKCS#1 uses the card's.
    if let (Ok(anchors), Ok(card)) = (
        TrustAnchors::from_pem_bundle(ANCHORS),
        certificate_der(CARD),
    ) {
        for (format, cert) in [
            (SignatureFormat::Pkcs7, None),
            (SignatureFormat::Pkcs1, Some(card.as_slice())),
        ] {
            let _ = verify_signed_challenge(
                NONCE,
                data,
                format,
                cert,
                &anchors,
                &[],
                RevocationPolicy::BestEffort,
                jiff::Timestamp::UNIX_EPOCH,
            );
        }
    }
});
