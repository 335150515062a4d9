//! The demo CA as `querywarden demo` uses it: fresh keys, a card per demo person, storage
//! as PEM in the data directory and reuse on the next start.

use std::time::Instant;

use crate::common::{key, now};
use querywarden_pki::demo_ca::{DEMO_INTERMEDIATE_CN, DEMO_ROOT_CN, DemoCa, DemoCard, DemoKey};
use querywarden_pki::{
    PkiError, RevocationList, RevocationPolicy, SignatureFormat, TrustAnchors,
    verify_signed_challenge,
};

#[test]
fn a_generated_demo_ca_issues_cards_that_survive_a_restart_and_sign_in() {
    let started = Instant::now();
    let ca = DemoCa::generate(now()).unwrap();
    let card = ca.issue_citizen("林志明", "5566", now()).unwrap();
    eprintln!(
        "3 RSA-2048 keys + certificates: {:?} (this build profile)",
        started.elapsed()
    );

    // Store and reload as `demo` does with its data directory.
    let ca = DemoCa::from_pem_bundle(&ca.to_pem_bundle().unwrap()).unwrap();
    let card = DemoCard::from_pem_bundle(&card.to_pem_bundle().unwrap()).unwrap();

    let anchors = TrustAnchors::from_pem_bundle(ca.anchors_pem().as_bytes()).unwrap();
    let crl = RevocationList::from_der_or_pem(&ca.crl(&[], now()).unwrap()).unwrap();
    for format in [SignatureFormat::Pkcs1, SignatureFormat::Pkcs7] {
        let nonce = b"demo-nonce-1";
        let sig = card.sign(nonce, format).unwrap();
        let got = verify_signed_challenge(
            nonce,
            &sig,
            format,
            Some(&card.certificate_der().unwrap()),
            &anchors,
            std::slice::from_ref(&crl),
            RevocationPolicy::RequireCrl,
            now(),
        )
        .unwrap();
        assert_eq!(got.subject_cn, "林志明");
        assert_eq!(got.id_last4.as_deref(), Some("5566"));
        assert!(got.is_demo(), "demo certificates must be recognisable");
        assert!(got.issuer_dn.contains(DEMO_INTERMEDIATE_CN));
    }
    let summaries = anchors.summaries();
    assert!(
        summaries
            .iter()
            .any(|s| s.subject_dn.contains(DEMO_ROOT_CN))
    );
    assert!(summaries.iter().all(|s| s.subject_dn.contains("DEMO")));
}

#[test]
fn demo_ca_names_must_say_demo() {
    let got = DemoCa::from_keys_named(
        "內政部憑證管理中心",
        "MOICA G3",
        key("root"),
        key("g3"),
        now(),
    );
    assert!(matches!(got, Err(PkiError::Internal(_))));
}

#[test]
fn demo_bundles_refuse_mismatched_keys_and_junk() {
    let ca = DemoCa::from_keys(key("root"), key("g3"), now()).unwrap();
    let bundle = ca.to_pem_bundle().unwrap();
    let swapped = bundle.replace(
        &key("g3").to_pkcs8_pem().unwrap(),
        &key("g2").to_pkcs8_pem().unwrap(),
    );
    assert!(matches!(
        DemoCa::from_pem_bundle(&swapped),
        Err(PkiError::Malformed(_))
    ));
    assert!(DemoCa::from_pem_bundle("").is_err());
    assert!(DemoCard::from_pem_bundle(&bundle).is_err());
    assert!(DemoKey::from_pkcs8_pem("junk").is_err());
    assert!(
        ca.issue_citizen_with(key("card-a"), "王小明", "12a4", now(), Default::default())
            .is_err()
    );
    assert!(
        ca.issue_citizen_with(key("card-a"), " ", "1234", now(), Default::default())
            .is_err()
    );
    assert!(ca.crl(&["zz"], now()).is_err());
}
