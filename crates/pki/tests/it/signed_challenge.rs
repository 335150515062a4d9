//! Login by signed nonce and by client certificate, against a DEMO CA world: every
//! acceptance and every refusal of the card sign-in (§3) as its own test.

use crate::common::{
    LAST4, NAME, flip_in, fresh_crl, key, now, resign_certificate, resign_crl, world,
};
use der::Encode;
use jiff::{SignedDuration, Timestamp};
use querywarden_pki::demo_ca::{CardProfile, DemoCa, DemoCard, Pkcs7Options};
use querywarden_pki::{
    CitizenCertificate, PkiError, RevocationList, RevocationPolicy, SignatureFormat, TrustAnchors,
    parse_certificate, verify_client_certificate, verify_signed_challenge,
};

const NONCE: &[u8] = b"qw-login-7f3a9c2e1b5d4086";
const OTHER_NONCE: &[u8] = b"qw-login-0000000000000000";

fn verify(
    card_cert: &[u8],
    signature: &[u8],
    format: SignatureFormat,
    nonce: &[u8],
    crls: &[RevocationList],
) -> Result<CitizenCertificate, PkiError> {
    verify_signed_challenge(
        nonce,
        signature,
        format,
        Some(card_cert),
        &world().anchors,
        crls,
        RevocationPolicy::RequireCrl,
        now(),
    )
}

/// `sig` over `nonce` checked with `card`'s own certificate and a fresh G3 CRL.
fn verify_by(
    card: &DemoCard,
    sig: &[u8],
    format: SignatureFormat,
    nonce: &[u8],
) -> Result<CitizenCertificate, PkiError> {
    verify(
        &card.certificate_der().unwrap(),
        sig,
        format,
        nonce,
        &[fresh_crl()],
    )
}

/// `card`'s PKCS#7 signature over `nonce`, detached or not, with or without signed
/// attributes.
fn pkcs7_by(card: &DemoCard, nonce: &[u8], detached: bool, signed_attributes: bool) -> Vec<u8> {
    card.sign_pkcs7(
        nonce,
        Pkcs7Options {
            detached,
            signed_attributes,
        },
    )
    .unwrap()
}

/// Signs NONCE with PKCS1 and verifies it with a fresh G3 CRL.
fn pkcs1_login(card: &DemoCard) -> Result<CitizenCertificate, PkiError> {
    pkcs1_checked(card, &card.certificate_der().unwrap(), &[fresh_crl()])
}

/// `card`'s PKCS1 signature over NONCE checked with `cert` presented as its certificate,
/// against `crls`.
fn pkcs1_checked(
    card: &DemoCard,
    cert: &[u8],
    crls: &[RevocationList],
) -> Result<CitizenCertificate, PkiError> {
    let sig = card.sign(NONCE, SignatureFormat::Pkcs1).unwrap();
    verify(cert, &sig, SignatureFormat::Pkcs1, NONCE, crls)
}

/// `card`'s PKCS1 signature over NONCE checked with `cert` presented as its certificate.
fn pkcs1_login_presenting(card: &DemoCard, cert: &[u8]) -> Result<CitizenCertificate, PkiError> {
    pkcs1_checked(card, cert, &[fresh_crl()])
}

/// `sig` over NONCE checked with no certificate beside it and a fresh G3 CRL.
fn verify_without_certificate(
    sig: &[u8],
    format: SignatureFormat,
) -> Result<CitizenCertificate, PkiError> {
    verify_signed_challenge(
        NONCE,
        sig,
        format,
        None,
        &world().anchors,
        &[fresh_crl()],
        RevocationPolicy::RequireCrl,
        now(),
    )
}

/// The holder's card (key card-b) as `ca` issues it now.
fn card_from(ca: &DemoCa) -> DemoCard {
    ca.issue_citizen_with(key("card-b"), NAME, LAST4, now(), CardProfile::default())
        .unwrap()
}

/// The holder's certificate with its extensions changed by `edit`, re-signed by G3.
fn holder_certificate_with(edit: impl FnOnce(&mut x509_cert::ext::Extensions)) -> Vec<u8> {
    resign_certificate(
        &world().card.certificate_der().unwrap(),
        &key("g3"),
        |tbs| edit(tbs.extensions.as_mut().unwrap()),
    )
}

/// The holder's card (key card-b) flagged as a CA certificate (and for digital signature),
/// issued now by G3.
fn ca_flagged_card() -> DemoCard {
    card_with(
        CardProfile {
            digital_signature: true,
            ca: true,
        },
        now(),
    )
}

fn card_with(profile: CardProfile, at: Timestamp) -> DemoCard {
    world()
        .ca
        .issue_citizen_with(key("card-b"), NAME, LAST4, at, profile)
        .unwrap()
}

fn assert_holder(c: &CitizenCertificate) {
    assert_eq!(c.subject_cn, NAME);
    assert_eq!(c.id_last4.as_deref(), Some(LAST4));
    assert!(c.is_demo());
}

// --- accepted -----------------------------------------------------------------------------

#[test]
fn a_pkcs1_signature_over_the_nonce_is_accepted_with_name_and_last4() {
    let got = pkcs1_login(&world().card).unwrap();
    assert_holder(&got);
    let parsed = world().card.citizen().unwrap();
    assert_eq!(got, parsed);
    assert_eq!(got.serial_hex.len() % 2, 0);
    assert_eq!(got.fingerprint_sha256.len(), 64);
    assert!(got.issuer_dn.contains("DEMO MOICA G3"));
}

#[test]
fn a_pkcs1_signature_with_a_pem_certificate_is_accepted() {
    let card = &world().card;
    let sig = card.sign(NONCE, SignatureFormat::Pkcs1).unwrap();
    let pem = card.certificate_pem().unwrap();
    let got = verify(
        pem.as_bytes(),
        &sig,
        SignatureFormat::Pkcs1,
        NONCE,
        &[fresh_crl()],
    )
    .unwrap();
    assert_holder(&got);
}

#[test]
fn a_pkcs7_attached_signature_is_accepted_without_a_separate_certificate() {
    let sig = world().card.sign(NONCE, SignatureFormat::Pkcs7).unwrap();
    let got = verify_without_certificate(&sig, SignatureFormat::Pkcs7).unwrap();
    assert_holder(&got);
}

#[test]
fn a_pkcs7_detached_signature_is_accepted() {
    let card = &world().card;
    let sig = pkcs7_by(card, NONCE, true, true);
    let got = verify_by(card, &sig, SignatureFormat::Pkcs7, NONCE).unwrap();
    assert_holder(&got);
}

#[test]
fn pkcs7_signatures_without_signed_attributes_are_accepted_attached_and_detached() {
    let card = &world().card;
    for detached in [false, true] {
        let sig = pkcs7_by(card, NONCE, detached, false);
        let got = verify_by(card, &sig, SignatureFormat::Pkcs7, NONCE).unwrap();
        assert_holder(&got);
    }
}

#[test]
fn a_pkcs7_signature_in_pem_form_is_accepted() {
    let der = world().card.sign(NONCE, SignatureFormat::Pkcs7).unwrap();
    let pem = der::pem::encode_string("PKCS7", der::pem::LineEnding::LF, &der).unwrap();
    let got = verify_by(&world().card, pem.as_bytes(), SignatureFormat::Pkcs7, NONCE).unwrap();
    assert_holder(&got);
}

#[test]
fn without_a_crl_best_effort_accepts_and_require_crl_refuses() {
    let card = &world().card;
    let sig = card.sign(NONCE, SignatureFormat::Pkcs1).unwrap();
    let cert = card.certificate_der().unwrap();
    let run = |policy| {
        verify_signed_challenge(
            NONCE,
            &sig,
            SignatureFormat::Pkcs1,
            Some(&cert),
            &world().anchors,
            &[],
            policy,
            now(),
        )
    };
    assert!(run(RevocationPolicy::BestEffort).is_ok());
    assert_eq!(run(RevocationPolicy::RequireCrl), Err(PkiError::NoCrl));
}

#[test]
fn a_crl_from_another_ca_does_not_count_as_a_crl_for_this_issuer() {
    let other_crl =
        RevocationList::from_der_or_pem(&world().other.crl(&[], now()).unwrap()).unwrap();
    assert_eq!(pkcs1_login_with(&[other_crl]), Err(PkiError::NoCrl));
}

/// The demo card's PKCS1 login checked against `crls`.
fn pkcs1_login_with(crls: &[RevocationList]) -> Result<CitizenCertificate, PkiError> {
    let card = &world().card;
    pkcs1_checked(card, &card.certificate_der().unwrap(), crls)
}

// --- wrong or reused nonce ---------------------------------------------------------------

#[test]
fn a_pkcs1_signature_over_another_nonce_is_a_bad_signature() {
    let card = &world().card;
    let sig = card.sign(OTHER_NONCE, SignatureFormat::Pkcs1).unwrap();
    let got = verify_by(card, &sig, SignatureFormat::Pkcs1, NONCE);
    assert_eq!(got, Err(PkiError::BadSignature));
}

#[test]
fn a_pkcs7_attached_signature_over_another_nonce_is_a_nonce_mismatch() {
    let sig = world()
        .card
        .sign(OTHER_NONCE, SignatureFormat::Pkcs7)
        .unwrap();
    let got = verify_by(&world().card, &sig, SignatureFormat::Pkcs7, NONCE);
    assert_eq!(got, Err(PkiError::NonceMismatch));
}

#[test]
fn a_pkcs7_detached_signature_over_another_nonce_is_refused() {
    let card = &world().card;
    let cert = card.certificate_der().unwrap();
    let with_attrs = pkcs7_by(card, OTHER_NONCE, true, true);
    assert_eq!(
        verify(
            &cert,
            &with_attrs,
            SignatureFormat::Pkcs7,
            NONCE,
            &[fresh_crl()]
        ),
        Err(PkiError::NonceMismatch)
    );
    let bare = pkcs7_by(card, OTHER_NONCE, true, false);
    assert_eq!(
        verify(&cert, &bare, SignatureFormat::Pkcs7, NONCE, &[fresh_crl()]),
        Err(PkiError::BadSignature)
    );
}

#[test]
fn an_empty_nonce_is_refused() {
    let card = &world().card;
    let sig = card.sign(NONCE, SignatureFormat::Pkcs1).unwrap();
    let got = verify_by(card, &sig, SignatureFormat::Pkcs1, b"");
    assert!(matches!(got, Err(PkiError::Malformed(_))));
}

#[test]
fn a_pkcs1_signature_without_a_certificate_is_refused() {
    let sig = world().card.sign(NONCE, SignatureFormat::Pkcs1).unwrap();
    let got = verify_without_certificate(&sig, SignatureFormat::Pkcs1);
    assert_eq!(got, Err(PkiError::MissingCertificate));
}

#[test]
fn a_pkcs7_whose_signer_is_not_the_supplied_certificate_is_refused() {
    let other_card = card_with(CardProfile::default(), now());
    let sig = world().card.sign(NONCE, SignatureFormat::Pkcs7).unwrap();
    let got = verify_by(&other_card, &sig, SignatureFormat::Pkcs7, NONCE);
    assert_eq!(got, Err(PkiError::BadSignature));
}

// --- trust -------------------------------------------------------------------------------

#[test]
fn a_card_from_another_ca_is_an_unknown_issuer() {
    let card = card_from(&world().other);
    assert_eq!(pkcs1_login(&card), Err(PkiError::UnknownIssuer));
    let sig = card.sign(NONCE, SignatureFormat::Pkcs7).unwrap();
    assert_eq!(
        verify_by(&card, &sig, SignatureFormat::Pkcs7, NONCE),
        Err(PkiError::UnknownIssuer)
    );
}

#[test]
fn a_card_from_a_ca_that_copies_our_names_is_an_unknown_issuer() {
    let card = card_from(&world().lookalike);
    assert_eq!(
        card.citizen().unwrap().issuer_dn,
        world().card.citizen().unwrap().issuer_dn
    );
    assert_eq!(pkcs1_login(&card), Err(PkiError::UnknownIssuer));
}

#[test]
fn a_card_whose_certificate_lacks_an_aki_and_matches_only_by_name_must_still_verify() {
    // Without an AKI the issuer is chosen by DN; the lookalike CA's G3 has our DN but its
    // signature cannot verify under our G3 or G2 key.
    let card = card_from(&world().lookalike);
    let der = resign_certificate(&card.certificate_der().unwrap(), &key("other-g3"), |tbs| {
        if let Some(exts) = tbs.extensions.as_mut() {
            exts.retain(|e| e.extn_id != const_oid::db::rfc5280::ID_CE_AUTHORITY_KEY_IDENTIFIER);
        }
    });
    assert_eq!(
        pkcs1_login_presenting(&card, &der),
        Err(PkiError::BadChainSignature)
    );
}

#[test]
fn g2_and_g3_with_the_same_dn_are_told_apart_by_authority_key_identifier() {
    let w = world();
    let g2_card = card_from(&w.g2);
    let g3 = parse_certificate(&w.ca.intermediate_der().unwrap()).unwrap();
    let g2 = parse_certificate(&w.g2.intermediate_der().unwrap()).unwrap();
    assert_eq!(g3.subject_cn, g2.subject_cn, "same DN, as MOICA G2/G3");

    let g2_crl = RevocationList::from_der_or_pem(&w.g2.crl(&[], now()).unwrap()).unwrap();
    let g3_crl = fresh_crl();
    let sig = g2_card.sign(NONCE, SignatureFormat::Pkcs1).unwrap();
    let cert = g2_card.certificate_der().unwrap();
    let got = verify(
        &cert,
        &sig,
        SignatureFormat::Pkcs1,
        NONCE,
        &[g3_crl, g2_crl],
    )
    .unwrap();
    assert_ne!(got.issuer_key_id, w.card.citizen().unwrap().issuer_key_id);

    // G3's CRL alone is not G2's CRL, even though its DN matches.
    assert_eq!(
        verify(&cert, &sig, SignatureFormat::Pkcs1, NONCE, &[fresh_crl()]),
        Err(PkiError::NoCrl)
    );

    // A G2 card listed on G2's CRL is revoked; listing it on G3's CRL does not touch it.
    let serial = got.serial_hex.clone();
    let g2_revoking =
        RevocationList::from_der_or_pem(&w.g2.crl(&[&serial], now()).unwrap()).unwrap();
    assert_eq!(
        verify(&cert, &sig, SignatureFormat::Pkcs1, NONCE, &[g2_revoking]),
        Err(PkiError::Revoked)
    );
    let g3_revoking =
        RevocationList::from_der_or_pem(&w.ca.crl(&[&serial], now()).unwrap()).unwrap();
    let g2_clean = RevocationList::from_der_or_pem(&w.g2.crl(&[], now()).unwrap()).unwrap();
    assert!(
        verify(
            &cert,
            &sig,
            SignatureFormat::Pkcs1,
            NONCE,
            &[g3_revoking, g2_clean]
        )
        .is_ok()
    );

    // With only G3 configured, a G2 card has no issuer.
    let only_g3 = TrustAnchors::from_pem_bundle(w.ca.anchors_pem().as_bytes()).unwrap();
    let got = verify_signed_challenge(
        NONCE,
        &sig,
        SignatureFormat::Pkcs1,
        Some(&cert),
        &only_g3,
        &[],
        RevocationPolicy::BestEffort,
        now(),
    );
    assert_eq!(got, Err(PkiError::UnknownIssuer));
}

#[test]
fn a_tampered_certificate_byte_breaks_the_chain_signature() {
    let card = &world().card;
    let tampered = flip_in(&card.certificate_der().unwrap(), NAME.as_bytes());
    assert_eq!(
        pkcs1_login_presenting(card, &tampered),
        Err(PkiError::BadChainSignature)
    );
}

#[test]
fn a_tampered_signature_byte_is_a_bad_signature() {
    let card = &world().card;
    let cert = card.certificate_der().unwrap();
    let mut sig = card.sign(NONCE, SignatureFormat::Pkcs1).unwrap();
    sig[17] ^= 0x80;
    assert_eq!(
        verify(&cert, &sig, SignatureFormat::Pkcs1, NONCE, &[fresh_crl()]),
        Err(PkiError::BadSignature)
    );

    // The RSA signature is the last field of the SignerInfo, so the last byte is in it.
    let mut p7 = card.sign(NONCE, SignatureFormat::Pkcs7).unwrap();
    let last = p7.len() - 1;
    p7[last] ^= 0x01;
    assert_eq!(
        verify(&cert, &p7, SignatureFormat::Pkcs7, NONCE, &[fresh_crl()]),
        Err(PkiError::BadSignature)
    );
}

#[test]
fn a_ca_certificate_used_as_the_login_certificate_is_refused() {
    let intermediate = world().ca.intermediate_as_card().unwrap();
    assert_eq!(pkcs1_login(&intermediate), Err(PkiError::NotEndEntity));
    let ca_flagged = ca_flagged_card();
    assert_eq!(pkcs1_login(&ca_flagged), Err(PkiError::NotEndEntity));
}

#[test]
fn a_certificate_without_digital_signature_key_usage_is_refused() {
    let card = card_with(
        CardProfile {
            digital_signature: false,
            ca: false,
        },
        now(),
    );
    assert_eq!(pkcs1_login(&card), Err(PkiError::KeyUsage));
}

#[test]
fn an_unknown_critical_extension_is_refused() {
    let card = &world().card;
    let der = holder_certificate_with(|exts| {
        exts.push(x509_cert::ext::Extension {
            extn_id: const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1"),
            critical: true,
            extn_value: der::asn1::OctetString::new(der::asn1::Null.to_der().unwrap()).unwrap(),
        });
    });
    assert_eq!(
        pkcs1_login_presenting(card, &der),
        Err(PkiError::UnsupportedCriticalExtension)
    );
}

#[test]
fn a_ca_below_an_intermediate_with_path_length_zero_is_refused() {
    use x509_cert::ext::pkix::{AuthorityKeyIdentifier, KeyUsage, KeyUsages, SubjectKeyIdentifier};
    let w = world();
    let sub_name: x509_cert::name::Name = "CN=DEMO 子憑證機構,C=TW".parse().unwrap();
    // A CA certificate issued by G3 (pathLenConstraint 0), for the card-b key.
    let flagged = ca_flagged_card();
    let sub = resign_certificate(&flagged.certificate_der().unwrap(), &key("g3"), |tbs| {
        tbs.subject = sub_name.clone();
        for e in tbs.extensions.as_mut().unwrap() {
            if e.extn_id == const_oid::db::rfc5280::ID_CE_KEY_USAGE {
                let ku = KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign);
                e.extn_value = der::asn1::OctetString::new(ku.to_der().unwrap()).unwrap();
            }
        }
    });
    let sub_cert = <x509_cert::Certificate as der::Decode>::from_der(&sub).unwrap();
    let sub_ski = sub_cert
        .tbs_certificate
        .get::<SubjectKeyIdentifier>()
        .unwrap()
        .unwrap()
        .1;
    // A card issued by that sub-CA (signed with the card-b key).
    let leaf = resign_certificate(&w.card.certificate_der().unwrap(), &key("card-b"), |tbs| {
        tbs.issuer = sub_name.clone();
        for e in tbs.extensions.as_mut().unwrap() {
            if e.extn_id == const_oid::db::rfc5280::ID_CE_AUTHORITY_KEY_IDENTIFIER {
                let aki = AuthorityKeyIdentifier {
                    key_identifier: Some(sub_ski.0.clone()),
                    authority_cert_issuer: None,
                    authority_cert_serial_number: None,
                };
                e.extn_value = der::asn1::OctetString::new(aki.to_der().unwrap()).unwrap();
            }
        }
    });
    let anchors = TrustAnchors::from_der_certificates(vec![
        w.ca.root_der().unwrap(),
        w.ca.intermediate_der().unwrap(),
        sub,
    ])
    .unwrap();
    let sig = w.card.sign(NONCE, SignatureFormat::Pkcs1).unwrap();
    let got = verify_signed_challenge(
        NONCE,
        &sig,
        SignatureFormat::Pkcs1,
        Some(&leaf),
        &anchors,
        &[],
        RevocationPolicy::BestEffort,
        now(),
    );
    assert_eq!(got, Err(PkiError::PathLength));
}

// --- dates -------------------------------------------------------------------------------

#[test]
fn an_expired_certificate_is_refused() {
    // Issued three years ago for two years.
    let card = card_with(
        CardProfile::default(),
        now() - SignedDuration::from_hours(24 * 365 * 3),
    );
    assert_eq!(pkcs1_login(&card), Err(PkiError::Expired));
}

#[test]
fn a_not_yet_valid_certificate_is_refused() {
    let card = card_with(
        CardProfile::default(),
        now() + SignedDuration::from_hours(24 * 30),
    );
    assert_eq!(pkcs1_login(&card), Err(PkiError::NotYetValid));
}

#[test]
fn a_valid_card_is_refused_once_its_ca_has_expired() {
    let card = &world().card;
    let sig = card.sign(NONCE, SignatureFormat::Pkcs1).unwrap();
    let later = now() + SignedDuration::from_hours(24 * 365 * 11);
    let got = verify_signed_challenge(
        NONCE,
        &sig,
        SignatureFormat::Pkcs1,
        Some(&card.certificate_der().unwrap()),
        &world().anchors,
        &[],
        RevocationPolicy::BestEffort,
        later,
    );
    assert_eq!(got, Err(PkiError::Expired));
}

// --- revocation ---------------------------------------------------------------------------

#[test]
fn a_revoked_certificate_is_refused_in_both_formats() {
    let card = &world().card;
    let serial = card.citizen().unwrap().serial_hex;
    let crl_der = world().ca.crl(&["0badc0de", &serial], now()).unwrap();
    let crl = RevocationList::from_der_or_pem(&crl_der).unwrap();
    assert_eq!(crl.revoked_count(), 2);
    let cert = card.certificate_der().unwrap();
    for format in [SignatureFormat::Pkcs1, SignatureFormat::Pkcs7] {
        let sig = card.sign(NONCE, format).unwrap();
        let crl = RevocationList::from_der_or_pem(&crl_der).unwrap();
        assert_eq!(
            verify(&cert, &sig, format, NONCE, &[crl]),
            Err(PkiError::Revoked)
        );
    }
    // Any loaded list from the issuer that names the serial refuses it, even next to a
    // newer list that does not: revocation is final.
    assert_eq!(
        pkcs1_login_with(&[fresh_crl(), crl]),
        Err(PkiError::Revoked)
    );
}

#[test]
fn a_stale_crl_is_refused() {
    let old = now() - SignedDuration::from_hours(24 * 30);
    let crl = RevocationList::from_der_or_pem(&world().ca.crl(&[], old).unwrap()).unwrap();
    assert!(crl.next_update().unwrap() < now());
    assert_eq!(pkcs1_login_with(&[crl]), Err(PkiError::CrlStale));
}

#[test]
fn a_stale_crl_does_not_matter_when_a_current_one_is_loaded_too() {
    let old = now() - SignedDuration::from_hours(24 * 30);
    let stale = RevocationList::from_der_or_pem(&world().ca.crl(&[], old).unwrap()).unwrap();
    assert!(pkcs1_login_with(&[stale, fresh_crl()]).is_ok());
}

#[test]
fn a_crl_from_the_future_is_refused() {
    let later = now() + SignedDuration::from_hours(48);
    let crl = RevocationList::from_der_or_pem(&world().ca.crl(&[], later).unwrap()).unwrap();
    assert_eq!(pkcs1_login_with(&[crl]), Err(PkiError::CrlNotYetValid));
}

#[test]
fn a_crl_signed_by_the_wrong_key_is_refused() {
    let forged = resign_crl(&world().ca.crl(&[], now()).unwrap(), &key("other-g3"));
    let crl = RevocationList::from_der_or_pem(&forged).unwrap();
    assert_eq!(pkcs1_login_with(&[crl]), Err(PkiError::CrlBadSignature));
}

#[test]
fn a_crl_in_pem_form_is_read_with_its_dates() {
    let der = world().ca.crl(&[], now()).unwrap();
    let pem = der::pem::encode_string("X509 CRL", der::pem::LineEnding::LF, &der).unwrap();
    let crl = RevocationList::from_der_or_pem(pem.as_bytes()).unwrap();
    assert_eq!(crl.this_update(), now());
    assert_eq!(
        crl.next_update(),
        Some(now() + SignedDuration::from_hours(24 * 7))
    );
    assert!(crl.issuer_dn().contains("DEMO MOICA G3"));
    assert!(crl.issuer_key_id().is_some());
    assert!(pkcs1_login_with(&[crl]).is_ok());
}

// --- mutual TLS -------------------------------------------------------------------------

#[test]
fn a_client_certificate_chain_is_verified_like_a_signed_challenge() {
    let w = world();
    let chain = vec![
        w.card.certificate_der().unwrap(),
        w.ca.intermediate_der().unwrap(),
    ];
    let got = verify_client_certificate(
        &chain,
        &w.anchors,
        &[fresh_crl()],
        RevocationPolicy::RequireCrl,
        now(),
    )
    .unwrap();
    assert_holder(&got);

    assert_eq!(
        verify_client_certificate(&[], &w.anchors, &[], RevocationPolicy::BestEffort, now()),
        Err(PkiError::MissingCertificate)
    );
    let foreign = card_from(&w.other);
    // The client's own "intermediate" is never trusted.
    let chain = vec![
        foreign.certificate_der().unwrap(),
        w.other.intermediate_der().unwrap(),
    ];
    assert_eq!(
        verify_client_certificate(&chain, &w.anchors, &[], RevocationPolicy::BestEffort, now()),
        Err(PkiError::UnknownIssuer)
    );
    let serial = got.serial_hex;
    let revoking = RevocationList::from_der_or_pem(&w.ca.crl(&[&serial], now()).unwrap()).unwrap();
    let chain = vec![w.card.certificate_der().unwrap()];
    assert_eq!(
        verify_client_certificate(
            &chain,
            &w.anchors,
            &[revoking],
            RevocationPolicy::RequireCrl,
            now()
        ),
        Err(PkiError::Revoked)
    );
}

// --- parsing for binding ----------------------------------------------------------------

#[test]
fn parse_certificate_reads_name_last4_and_issuer_without_trust() {
    let card = world()
        .other
        .issue_citizen_with(
            key("card-b"),
            "陳美玲",
            "0427",
            now(),
            CardProfile::default(),
        )
        .unwrap();
    let got = parse_certificate(card.certificate_pem().unwrap().as_bytes()).unwrap();
    assert_eq!(got.subject_cn, "陳美玲");
    assert_eq!(got.id_last4.as_deref(), Some("0427"));
    assert!(got.issuer_dn.contains("DEMO 其他憑證機構"));
    assert!(got.is_demo());
    assert_eq!(
        got.not_before.duration_until(got.not_after),
        SignedDuration::from_hours(24 * (365 * 2 + 1))
    );
}

#[test]
fn the_last4_attribute_is_read_as_utf8_or_ia5_string_too_and_refused_when_not_four_digits() {
    use der::asn1::{Ia5StringRef, PrintableStringRef, SetOfVec, Utf8StringRef};
    let with_value = |value: der::Any| {
        holder_certificate_with(|exts| {
            let attrs = vec![x509_cert::attr::Attribute {
                oid: querywarden_pki::OID_MOICA_ID_LAST4,
                values: SetOfVec::try_from(vec![value]).unwrap(),
            }];
            for e in exts {
                if e.extn_id == const_oid::db::rfc5280::ID_CE_SUBJECT_DIRECTORY_ATTRIBUTES {
                    e.extn_value = der::asn1::OctetString::new(attrs.to_der().unwrap()).unwrap();
                }
            }
        })
    };
    let utf8 = with_value(der::Any::encode_from(&Utf8StringRef::new("5678").unwrap()).unwrap());
    assert_eq!(
        parse_certificate(&utf8).unwrap().id_last4.as_deref(),
        Some("5678")
    );
    let ia5 = with_value(der::Any::encode_from(&Ia5StringRef::new("9012").unwrap()).unwrap());
    assert_eq!(
        parse_certificate(&ia5).unwrap().id_last4.as_deref(),
        Some("9012")
    );
    let bad = with_value(der::Any::encode_from(&PrintableStringRef::new("12 4").unwrap()).unwrap());
    assert!(matches!(
        parse_certificate(&bad),
        Err(PkiError::Malformed(_))
    ));
    let bad =
        with_value(der::Any::encode_from(&der::asn1::OctetString::new(*b"1234").unwrap()).unwrap());
    assert!(matches!(
        parse_certificate(&bad),
        Err(PkiError::Malformed(_))
    ));
}

#[test]
fn a_certificate_without_the_last4_attribute_parses_with_none() {
    let der = holder_certificate_with(|exts| {
        exts.retain(|e| e.extn_id != const_oid::db::rfc5280::ID_CE_SUBJECT_DIRECTORY_ATTRIBUTES);
    });
    let got = parse_certificate(&der).unwrap();
    assert_eq!(got.id_last4, None);
    assert_eq!(got.subject_cn, NAME);
}

// --- trust bundle -------------------------------------------------------------------------

#[test]
fn the_trust_bundle_accepts_comments_and_refuses_leaves_junk_and_emptiness() {
    let w = world();
    let pem = w.ca.anchors_pem();
    let commented = format!("# DEMO MOICA bundle\nsubject=whatever\n{pem}\n# end\n");
    let anchors = TrustAnchors::from_pem_bundle(commented.as_bytes()).unwrap();
    assert_eq!(anchors.len(), 2);
    let summaries = anchors.summaries();
    assert!(
        summaries
            .iter()
            .any(|s| s.is_root && s.subject_dn.contains("測試根憑證"))
    );
    assert!(summaries.iter().any(|s| !s.is_root && s.key_id.is_some()));

    let with_leaf = format!("{pem}{}", w.card.certificate_pem().unwrap());
    assert!(matches!(
        TrustAnchors::from_pem_bundle(with_leaf.as_bytes()),
        Err(PkiError::Malformed(_))
    ));
    assert!(matches!(
        TrustAnchors::from_pem_bundle(b""),
        Err(PkiError::Malformed(_))
    ));
    assert!(matches!(
        TrustAnchors::from_pem_bundle(b"not a bundle"),
        Err(PkiError::Malformed(_))
    ));
    let junk_inside = pem.replacen("MII", "M!I", 1);
    assert!(matches!(
        TrustAnchors::from_pem_bundle(junk_inside.as_bytes()),
        Err(PkiError::Malformed(_))
    ));
    let key_block = format!("{pem}{}", key("root").to_pkcs8_pem().unwrap());
    assert!(matches!(
        TrustAnchors::from_pem_bundle(key_block.as_bytes()),
        Err(PkiError::Malformed(_))
    ));
}

// --- errors carry no personal data --------------------------------------------------------

fn all_errors() -> Vec<PkiError> {
    vec![
        PkiError::Malformed("x"),
        PkiError::MissingCertificate,
        PkiError::UnknownIssuer,
        PkiError::BadChainSignature,
        PkiError::ChainTooLong,
        PkiError::IssuerNotCa,
        PkiError::PathLength,
        PkiError::NotYetValid,
        PkiError::Expired,
        PkiError::Revoked,
        PkiError::CrlStale,
        PkiError::CrlNotYetValid,
        PkiError::NoCrl,
        PkiError::CrlBadSignature,
        PkiError::CrlUnsupported("x"),
        PkiError::KeyUsage,
        PkiError::NotEndEntity,
        PkiError::UnsupportedCriticalExtension,
        PkiError::BadSignature,
        PkiError::NonceMismatch,
        PkiError::UnsupportedAlgorithm("x"),
        PkiError::WeakKey,
        PkiError::Internal("x"),
    ]
}

#[test]
fn every_error_has_a_distinct_code_and_a_chinese_message() {
    let errors = all_errors();
    let mut codes: Vec<_> = errors.iter().map(PkiError::code).collect();
    assert!(codes.iter().all(|c| c.starts_with("pki.")));
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), errors.len());
    assert_eq!(PkiError::Expired.message_zh(), "憑證已過期");
    assert_eq!(PkiError::Revoked.message_zh(), "憑證已被廢止");
    assert_eq!(
        PkiError::UnknownIssuer.message_zh(),
        "憑證非由信任的憑證機構簽發"
    );
    assert_eq!(PkiError::BadSignature.message_zh(), "簽章驗證失敗");
    assert!(errors.iter().all(|e| !e.message_zh().is_empty()));
}

#[test]
fn errors_and_debug_output_never_contain_the_holders_name_or_last4() {
    let w = world();
    let card = &w.card;
    let cert = card.certificate_der().unwrap();
    let sig = card.sign(NONCE, SignatureFormat::Pkcs1).unwrap();
    let p7 = card.sign(NONCE, SignatureFormat::Pkcs7).unwrap();
    let without_crl =
        |cert: &[u8]| verify(cert, &sig, SignatureFormat::Pkcs1, NONCE, &[]).unwrap_err();
    let mut produced = vec![
        verify_by(card, &sig, SignatureFormat::Pkcs1, OTHER_NONCE).unwrap_err(),
        verify_by(card, &p7, SignatureFormat::Pkcs7, OTHER_NONCE).unwrap_err(),
        without_crl(&cert[..cert.len() / 2]),
        without_crl(&flip_in(&cert, NAME.as_bytes())),
        without_crl(&flip_in(&cert, LAST4.as_bytes())),
        without_crl(&cert),
    ];
    produced.extend(all_errors());
    let citizen = card.citizen().unwrap();
    let texts: Vec<String> = produced
        .iter()
        .flat_map(|e| {
            [
                e.to_string(),
                format!("{e:?}"),
                e.message_zh().to_owned(),
                e.code().to_owned(),
            ]
        })
        .chain([
            format!("{citizen:?}"),
            format!("{card:?}"),
            format!("{w:?}", w = w.ca),
        ])
        .collect();
    for text in texts {
        assert!(!text.contains(NAME), "name leaked: {text}");
        assert!(!text.contains(LAST4), "last-4 leaked: {text}");
        assert!(!text.contains("王"), "name leaked: {text}");
    }
}
