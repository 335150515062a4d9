//! Known-answer tests for the signed-note and checkpoint formats.
//!
//! Security-sensitive: these pin our notes to the published example of Go's
//! `golang.org/x/mod/sumdb/note` (package documentation and `note_test.go`: the PeterNeumann
//! and EnochRoot keys, signer key, text and signatures), so a note we sign verifies in the Go
//! ecosystem and theirs verify here. Ed25519 is deterministic (RFC 8032), so signing the
//! published text with the published key must reproduce the published note byte for byte.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Verifier as _, VerifyingKey};
use querywarden_ledger::LedgerError;
use querywarden_ledger::checkpoint::{
    Checkpoint, NoteSigner, NoteVerifier, key_id, open_checkpoint, open_note,
};
use querywarden_ledger::merkle::{CompactRange, leaf_hash};

const PETER_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const ENOCH_VKEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                    then you don't know what your problem is.\n";
const PETER_SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const ENOCH_SIG: &str = "\u{2014} EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

fn published_note() -> String {
    format!("{TEXT}\n{PETER_SIG}")
}

#[test]
fn signing_the_published_text_reproduces_the_published_go_note() {
    let signer = NoteSigner::from_skey(PETER_SKEY).unwrap();
    assert_eq!(signer.name(), "PeterNeumann");
    assert_eq!(hex::encode(signer.key_id()), "c74f20a3");
    assert_eq!(signer.verifier().to_vkey(), PETER_VKEY);
    assert_eq!(signer.to_skey(), PETER_SKEY);
    assert_eq!(signer.sign_note(TEXT).unwrap(), published_note());
}

#[test]
fn the_published_go_note_verifies_and_tampering_is_rejected() {
    let peter = NoteVerifier::from_vkey(PETER_VKEY).unwrap();
    assert_eq!(peter.to_vkey(), PETER_VKEY);
    assert_eq!(peter.open_note(&published_note()).unwrap(), TEXT);

    let altered = published_note().replace("cryptography", "cryptographY");
    assert_eq!(peter.open_note(&altered), Err(LedgerError::BadSignature));
    // Go's own "invalid signature" case: four base64 characters inserted into the signature.
    let stretched = format!("{TEXT}\n{}ABCD{}", &PETER_SIG[..60], &PETER_SIG[60..]);
    assert_eq!(peter.open_note(&stretched), Err(LedgerError::BadSignature));
}

#[test]
fn published_two_signature_note_opens_with_either_key_and_ignores_unknown_ones() {
    let peter = NoteVerifier::from_vkey(PETER_VKEY).unwrap();
    let enoch = NoteVerifier::from_vkey(ENOCH_VKEY).unwrap();
    let note = format!("{TEXT}\n{PETER_SIG}{ENOCH_SIG}");

    assert_eq!(
        open_note(&note, std::slice::from_ref(&peter)).unwrap(),
        (TEXT, "PeterNeumann".to_owned())
    );
    assert_eq!(
        open_note(&note, std::slice::from_ref(&enoch)).unwrap(),
        (TEXT, "EnochRoot".to_owned())
    );
    assert_eq!(
        open_note(&note, &[enoch.clone(), peter.clone()]).unwrap().1,
        "PeterNeumann",
        "the first trusted signature line names the signer"
    );
    assert_eq!(open_note(&note, &[]), Err(LedgerError::UnknownKey));

    // A corrupted signature by a key we do not trust is ignored; by one we trust, fatal.
    let bad_enoch = format!("{}ABCD{}", &ENOCH_SIG[..60], &ENOCH_SIG[60..]);
    let note2 = format!("{TEXT}\n{PETER_SIG}{PETER_SIG}{ENOCH_SIG}{bad_enoch}");
    assert!(open_note(&note2, std::slice::from_ref(&peter)).is_ok());
    assert_eq!(
        open_note(&note2, &[peter, enoch]),
        Err(LedgerError::BadSignature)
    );
}

#[test]
fn go_malformed_messages_are_rejected() {
    let peter = NoteVerifier::from_vkey(PETER_VKEY).unwrap();
    for msg in [
        TEXT.to_owned(),
        format!("{TEXT}\n"),
        format!("{TEXT}\n{}", &PETER_SIG[..PETER_SIG.len() - 1]),
        format!("\x01{TEXT}\n{PETER_SIG}"),
        format!(
            "{TEXT}\n\u{2014} Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
        ),
        format!("{TEXT}\n{PETER_SIG}Unexpected line.\n"),
        format!("{TEXT}\n{}", PETER_SIG.repeat(101)),
    ] {
        assert!(
            matches!(peter.open_note(&msg), Err(LedgerError::MalformedNote(_))),
            "accepted or misclassified {msg:?}"
        );
    }
}

#[test]
fn go_key_manglings_are_rejected() {
    let bytes = PETER_VKEY.as_bytes();
    for i in 0..=bytes.len() {
        for j in (i + 1)..=bytes.len() {
            if (i, j) != (0, bytes.len()) {
                assert!(
                    NoteVerifier::from_vkey(&PETER_VKEY[i..j]).is_err(),
                    "{}",
                    &PETER_VKEY[i..j]
                );
            }
        }
    }
    for i in 0..bytes.len() {
        let mut b = bytes.to_vec();
        b[i] += 1;
        let s = String::from_utf8(b).unwrap();
        assert!(NoteVerifier::from_vkey(&s).is_err(), "{s}");
    }
    // Wrong key length and unknown algorithm, each with a correctly adjusted key ID.
    assert!(
        NoteVerifier::from_vkey(
            "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
        )
        .is_err()
    );
    assert!(
        NoteVerifier::from_vkey(
            "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
        )
        .is_err()
    );

    let sk = PETER_SKEY.as_bytes();
    for i in 0..=sk.len() {
        for j in (i + 1)..=sk.len() {
            if (i, j) != (0, sk.len()) {
                assert!(
                    NoteSigner::from_skey(&PETER_SKEY[i..j]).is_err(),
                    "{}",
                    &PETER_SKEY[i..j]
                );
            }
        }
    }
    for i in 0..sk.len() {
        let mut b = sk.to_vec();
        b[i] += 1;
        let s = String::from_utf8(b).unwrap();
        assert!(NoteSigner::from_skey(&s).is_err(), "{s}");
    }
}

/// Our own checkpoint note for a fixed key, checked piece by piece against the C2SP specs and
/// with ed25519-dalek directly (not through our verifier).
#[test]
fn checkpoint_note_for_a_fixed_key_follows_the_specs() {
    let origin = "kaohsiung.gov.tw/querywarden/audit";
    let signer = NoteSigner::from_bytes(origin, &[0x11; 32]).unwrap();
    let mut range = CompactRange::new();
    for i in 0u32..5 {
        range.push(leaf_hash(format!("audit record {i}").as_bytes()));
    }
    let cp = Checkpoint::new(origin, range.size(), range.root()).unwrap();
    let note = signer.sign_checkpoint(&cp).unwrap();

    // tlog-checkpoint: origin, decimal size, base64 root, each newline-terminated.
    let body = format!("{origin}\n5\n{}\n", B64.encode(range.root()));
    assert_eq!(cp.body(), body);
    // signed-note: body, blank line, "— <name> <base64(key ID ‖ signature)>\n".
    let line = note.strip_prefix(&format!("{body}\n")).unwrap();
    let blob_b64 = line
        .strip_prefix(&format!("\u{2014} {origin} "))
        .and_then(|rest| rest.strip_suffix('\n'))
        .unwrap();
    assert!(
        line.as_bytes().starts_with(&[0xE2, 0x80, 0x94, 0x20]),
        "U+2014 then a space"
    );
    let blob = B64.decode(blob_b64).unwrap();
    assert_eq!(blob.len(), 4 + 64);

    // Key ID = SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[..4], computed independently.
    let pk = signer.verifier().public_key();
    let mut preimage = origin.as_bytes().to_vec();
    preimage.extend_from_slice(&[0x0A, 0x01]);
    preimage.extend_from_slice(&pk);
    let digest: [u8; 32] = sha2::Digest::finalize(sha2::Digest::chain_update(
        <sha2::Sha256 as sha2::Digest>::new(),
        &preimage,
    ))
    .into();
    assert_eq!(blob[..4], digest[..4]);
    assert_eq!(key_id(origin, &pk), signer.key_id());
    assert_eq!(&blob[..4], &signer.key_id());

    // The signature is a plain RFC 8032 Ed25519 signature over the body bytes.
    let sig = Signature::from_bytes(&blob[4..].try_into().unwrap());
    VerifyingKey::from_bytes(&pk)
        .unwrap()
        .verify(body.as_bytes(), &sig)
        .unwrap();

    // Verifier key: <name>+<hex key ID>+<base64(0x01 ‖ public key)>.
    let mut typed = vec![0x01];
    typed.extend_from_slice(&pk);
    assert_eq!(
        signer.verifier().to_vkey(),
        format!(
            "{origin}+{}+{}",
            hex::encode(signer.key_id()),
            B64.encode(&typed)
        )
    );

    let (parsed, name) = open_checkpoint(&note, &[signer.verifier()]).unwrap();
    assert_eq!((parsed, name.as_str()), (cp, origin));
}
