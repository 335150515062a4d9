//! Signed checkpoints: C2SP `tlog-checkpoint` bodies (origin, tree size, root hash) signed as
//! C2SP `signed-note`s with Ed25519, interoperable with Go's `golang.org/x/mod/sumdb/note` and
//! the transparency-dev tooling.
//!
//! **Security-sensitive**: a checkpoint is the bureau's signed statement that the audit log had
//! exactly this root at this size; auditors keep them and later demand consistency proofs, so a
//! forged or misparsed checkpoint defeats the whole log. This module holds the signing key
//! (never printed, see [`NoteSigner`]'s `Debug`) and is strict when parsing: anything that is
//! not exactly the format we emit is rejected rather than guessed at.
//!
//! Formats (C2SP):
//! - checkpoint body: `<origin>\n<size in decimal>\n<base64 root>\n`
//! - signed note: `<text>\n` + one or more `— <key name> <base64(key ID ‖ signature)>\n`
//! - key ID: `SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ Ed25519 public key)[..4]`
//! - verifier key: `<key name>+<8 hex digits key ID>+<base64(0x01 ‖ public key)>`

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::{Hash, LedgerError};

/// Signature type byte of Ed25519 in the signed-note registry.
const ALG_ED25519: u8 = 0x01;
/// Start of every signature line: U+2014 EM DASH and a space.
const SIG_LINE_PREFIX: &str = "\u{2014} ";
/// Prefix of Go's private signer-key encoding.
const SKEY_PREFIX: &str = "PRIVATE+KEY+";
/// Most signature lines accepted in one note. The spec requires at least 16; Go uses 100.
pub const MAX_SIGNATURES: usize = 100;
/// Largest note accepted or produced. A checkpoint is a few hundred bytes; the cap bounds the
/// work an attacker can make a verifier do.
pub const MAX_NOTE_BYTES: usize = 1 << 20;

/// A tree head: the log `origin`, its `size` in leaves and the Merkle `root` at that size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// Identity of the log, e.g. `kaohsiung.gov.tw/querywarden/audit`.
    pub origin: String,
    /// Number of leaves in the tree.
    pub size: u64,
    /// RFC 9162 Merkle Tree Hash at `size`.
    pub root: Hash,
}

impl Checkpoint {
    /// A checkpoint with a checked origin (see [`Checkpoint::validate`]).
    pub fn new(origin: impl Into<String>, size: u64, root: Hash) -> Result<Self, LedgerError> {
        let cp = Self {
            origin: origin.into(),
            size,
            root,
        };
        cp.validate()?;
        Ok(cp)
    }

    /// Checks that the origin is non-empty and has no newline or other control character.
    ///
    /// An origin with a newline would let its owner smuggle extra lines (a different size or
    /// root) into the signed body, so signing refuses such checkpoints.
    pub fn validate(&self) -> Result<(), LedgerError> {
        if self.origin.is_empty() {
            return Err(LedgerError::MalformedCheckpoint("the origin is empty"));
        }
        if self.origin.chars().any(char::is_control) {
            return Err(LedgerError::MalformedCheckpoint(
                "the origin contains a newline or control character",
            ));
        }
        Ok(())
    }

    /// The note text: `<origin>\n<size>\n<base64 root>\n`.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        )
    }

    /// Parses a note text produced by [`Checkpoint::body`].
    ///
    /// Strict: exactly three lines, each newline-terminated; a decimal size without sign or
    /// leading zeroes; the canonical base64 of exactly 32 bytes. Extension lines (optional in
    /// tlog-checkpoint and not recommended there) are rejected because querywarden never writes
    /// them and a verifier should not silently accept statements it does not understand.
    pub fn parse_body(body: &str) -> Result<Self, LedgerError> {
        let malformed = LedgerError::MalformedCheckpoint;
        let Some(lines) = body.strip_suffix('\n') else {
            return Err(malformed("the body must end with a newline"));
        };
        let mut parts = lines.split('\n');
        let (Some(origin), Some(size), Some(root_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed(
                "the body must have exactly three lines (origin, size, root)",
            ));
        };

        let size = parse_decimal(size).ok_or(malformed("the size is not a canonical decimal"))?;
        let root_bytes = B64
            .decode(root_b64)
            .map_err(|_| malformed("the root hash is not valid base64"))?;
        let root = Hash::try_from(root_bytes.as_slice())
            .map_err(|_| malformed("the root hash is not 32 bytes"))?;
        if B64.encode(root) != root_b64 {
            return Err(malformed("the root hash is not canonical base64"));
        }
        Self::new(origin, size, root)
    }
}

/// Parses a C2SP tree size: ASCII digits only, no sign, no leading zero except "0" itself.
fn parse_decimal(s: &str) -> Option<u64> {
    let digits_only = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let leading_zero = s.len() > 1 && s.starts_with('0');
    if !digits_only || leading_zero {
        return None;
    }
    s.parse().ok()
}

/// Checks a signed-note key name: non-empty, no Unicode whitespace, no '+', no control
/// characters. '+' separates the fields of a verifier key and a space separates the name from
/// the signature on a signature line, so either would make the encodings ambiguous.
pub fn validate_key_name(name: &str) -> Result<(), LedgerError> {
    let bad = |c: char| c.is_whitespace() || c == '+' || c.is_control();
    if name.is_empty() || name.chars().any(bad) {
        return Err(LedgerError::InvalidKeyName);
    }
    Ok(())
}

/// The signed-note key ID of an Ed25519 key: `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[..4]`.
pub fn key_id(name: &str, public_key: &[u8; 32]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ALG_ED25519]);
    h.update(public_key);
    let digest = h.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

/// Checks note text: non-empty, newline-terminated, no control characters but newline, and
/// within the size cap. These are the preconditions for a note that every verifier (ours and
/// Go's) splits back into exactly the text that was signed.
fn check_note_text(text: &str) -> Result<(), LedgerError> {
    if text.is_empty() || !text.ends_with('\n') {
        return Err(LedgerError::MalformedNote(
            "the note text must be non-empty and end with a newline",
        ));
    }
    check_characters(text)
}

fn check_characters(s: &str) -> Result<(), LedgerError> {
    if s.len() > MAX_NOTE_BYTES {
        return Err(LedgerError::MalformedNote("the note is too large"));
    }
    if s.chars().any(|c| c < ' ' && c != '\n') {
        return Err(LedgerError::MalformedNote(
            "the note contains a control character other than newline",
        ));
    }
    Ok(())
}

/// Decodes the `<name>+<hex key ID>+<base64(0x01 ‖ key bytes)>` tail shared by verifier keys and
/// Go's signer keys, checking the name and the algorithm byte.
fn split_key(encoded: &str) -> Result<(&str, [u8; 4], [u8; 32]), LedgerError> {
    let malformed = LedgerError::MalformedKey;
    // The name and the hex ID cannot contain '+'; the base64 part may, so split twice only.
    let (name, rest) = encoded
        .split_once('+')
        .ok_or(malformed("expected <name>+<key id>+<key>"))?;
    let (id_hex, key_b64) = rest
        .split_once('+')
        .ok_or(malformed("expected <name>+<key id>+<key>"))?;
    validate_key_name(name)?;
    if id_hex.len() != 8 {
        return Err(malformed("the key ID must be 8 hex digits"));
    }
    let mut id = [0u8; 4];
    hex::decode_to_slice(id_hex, &mut id).map_err(|_| malformed("the key ID is not hex"))?;
    let raw = B64
        .decode(key_b64)
        .map_err(|_| malformed("the key is not valid base64"))?;
    let Some((&alg, key)) = raw.split_first() else {
        return Err(malformed("the key is empty"));
    };
    if alg != ALG_ED25519 {
        return Err(malformed("only Ed25519 keys (type 0x01) are supported"));
    }
    let key = <[u8; 32]>::try_from(key).map_err(|_| malformed("an Ed25519 key is 32 bytes"))?;
    Ok((name, id, key))
}

/// The log's signing key: an Ed25519 key plus its signed-note key name.
///
/// **Holds secret key material.** `Debug` prints only the name, key ID and public key; the
/// underlying `ed25519_dalek::SigningKey` wipes itself when dropped.
#[derive(Clone)]
pub struct NoteSigner {
    name: String,
    key: SigningKey,
    key_id: [u8; 4],
}

impl NoteSigner {
    /// A new random key from the operating system's generator.
    pub fn generate(name: &str) -> Result<Self, LedgerError> {
        let mut seed = [0u8; 32];
        getrandom::getrandom(&mut seed).map_err(|_| LedgerError::Randomness)?;
        Self::from_bytes(name, &seed)
    }

    /// A signer from a 32-byte Ed25519 secret key (RFC 8032 seed), e.g. read from the key
    /// store.
    pub fn from_bytes(name: &str, secret: &[u8; 32]) -> Result<Self, LedgerError> {
        validate_key_name(name)?;
        let key = SigningKey::from_bytes(secret);
        let key_id = key_id(name, key.verifying_key().as_bytes());
        Ok(Self {
            name: name.to_owned(),
            key,
            key_id,
        })
    }

    /// A signer from Go's private key encoding,
    /// `PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 ‖ seed)>`; the key ID must match.
    pub fn from_skey(skey: &str) -> Result<Self, LedgerError> {
        let rest = skey
            .strip_prefix(SKEY_PREFIX)
            .ok_or(LedgerError::MalformedKey(
                "a signer key starts with PRIVATE+KEY+",
            ))?;
        let (name, id, seed) = split_key(rest)?;
        let signer = Self::from_bytes(name, &seed)?;
        if signer.key_id != id {
            return Err(LedgerError::MalformedKey(
                "the key ID does not match the key",
            ));
        }
        Ok(signer)
    }

    /// **Sensitive**: Go's private key encoding of this signer, for export to the key store.
    pub fn to_skey(&self) -> String {
        let mut raw = Vec::with_capacity(33);
        raw.push(ALG_ED25519);
        raw.extend_from_slice(self.key.as_bytes());
        format!(
            "{SKEY_PREFIX}{}+{}+{}",
            self.name,
            hex::encode(self.key_id),
            B64.encode(&raw)
        )
    }

    /// **Sensitive**: the 32-byte Ed25519 secret key. Only for writing to the key store; never
    /// log it or put it in an error message.
    pub fn secret_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The key name that appears on signature lines.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 4-byte signed-note key ID.
    pub fn key_id(&self) -> [u8; 4] {
        self.key_id
    }

    /// The public half, to be published as a verifier key.
    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier {
            name: self.name.clone(),
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }

    /// The signature line (`— <name> <base64(key ID ‖ signature)>\n`) for note `text`.
    ///
    /// Appending it to an already signed note adds a cosignature.
    pub fn signature_line(&self, text: &str) -> Result<String, LedgerError> {
        check_note_text(text)?;
        let sig = self.key.sign(text.as_bytes());
        let mut blob = Vec::with_capacity(4 + 64);
        blob.extend_from_slice(&self.key_id);
        blob.extend_from_slice(&sig.to_bytes());
        Ok(format!(
            "{SIG_LINE_PREFIX}{} {}\n",
            self.name,
            B64.encode(&blob)
        ))
    }

    /// Signs arbitrary note text: `text + "\n" + signature line`.
    pub fn sign_note(&self, text: &str) -> Result<String, LedgerError> {
        let line = self.signature_line(text)?;
        Ok(format!("{text}\n{line}"))
    }

    /// The full signed note for a checkpoint: its body, a blank line and this key's signature
    /// line. Fails only if the checkpoint's origin is invalid (see [`Checkpoint::validate`]).
    pub fn sign_checkpoint(&self, checkpoint: &Checkpoint) -> Result<String, LedgerError> {
        checkpoint.validate()?;
        self.sign_note(&checkpoint.body())
    }
}

impl fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Deliberately no secret: Debug output ends up in logs and panic messages.
        f.debug_struct("NoteSigner")
            .field("name", &self.name)
            .field("key_id", &hex::encode(self.key_id))
            .field(
                "public_key",
                &hex::encode(self.key.verifying_key().as_bytes()),
            )
            .finish_non_exhaustive()
    }
}

/// A trusted public key: name, key ID and Ed25519 public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    key_id: [u8; 4],
    key: VerifyingKey,
}

impl NoteVerifier {
    /// A verifier from a name and a raw 32-byte Ed25519 public key.
    pub fn new(name: &str, public_key: &[u8; 32]) -> Result<Self, LedgerError> {
        validate_key_name(name)?;
        let key = VerifyingKey::from_bytes(public_key)
            .map_err(|_| LedgerError::MalformedKey("not a valid Ed25519 public key"))?;
        // A small-order key would let anyone produce signatures that verify.
        if key.is_weak() {
            return Err(LedgerError::MalformedKey(
                "the Ed25519 public key has small order",
            ));
        }
        Ok(Self {
            name: name.to_owned(),
            key_id: key_id(name, public_key),
            key,
        })
    }

    /// Parses a verifier key `<name>+<hex key ID>+<base64(0x01 ‖ public key)>`; the key ID must
    /// match the name and key.
    pub fn from_vkey(vkey: &str) -> Result<Self, LedgerError> {
        let (name, id, key) = split_key(vkey)?;
        let verifier = Self::new(name, &key)?;
        if verifier.key_id != id {
            return Err(LedgerError::MalformedKey(
                "the key ID does not match the key",
            ));
        }
        Ok(verifier)
    }

    /// The verifier key string to publish, e.g. in the auditors' configuration.
    pub fn to_vkey(&self) -> String {
        let mut raw = Vec::with_capacity(33);
        raw.push(ALG_ED25519);
        raw.extend_from_slice(self.key.as_bytes());
        format!(
            "{}+{}+{}",
            self.name,
            hex::encode(self.key_id),
            B64.encode(&raw)
        )
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 4-byte key ID.
    pub fn key_id(&self) -> [u8; 4] {
        self.key_id
    }

    /// The raw Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// Verifies that `note` carries a valid signature by this key and returns its text.
    pub fn open_note<'n>(&self, note: &'n str) -> Result<&'n str, LedgerError> {
        open_note(note, std::slice::from_ref(self)).map(|(text, _)| text)
    }

    /// Verifies that `note` carries a valid signature by this key and parses the checkpoint.
    ///
    /// The caller must still check that `origin` is the log it expects.
    pub fn verify_note(&self, note: &str) -> Result<Checkpoint, LedgerError> {
        Checkpoint::parse_body(self.open_note(note)?)
    }

    fn verifies(&self, text: &str, sig: &[u8]) -> bool {
        let Ok(sig) = <[u8; 64]>::try_from(sig) else {
            return false;
        };
        // verify_strict also rejects non-canonical and small-order signature components.
        self.key
            .verify_strict(text.as_bytes(), &Signature::from_bytes(&sig))
            .is_ok()
    }
}

/// One parsed signature line.
struct SignatureLine<'n> {
    name: &'n str,
    key_id: [u8; 4],
    signature: Vec<u8>,
}

/// Splits a signed note into its text and signature lines, checking the format.
fn parse_note(note: &str) -> Result<(&str, Vec<SignatureLine<'_>>), LedgerError> {
    let malformed = LedgerError::MalformedNote;
    check_characters(note)?;
    if !note.ends_with('\n') {
        return Err(malformed("the note must end with a newline"));
    }
    // The text may contain blank lines; the signatures start after the last one.
    let split = note.rfind("\n\n").ok_or(malformed(
        "no blank line separates the text from the signatures",
    ))?;
    let (text, sigs) = (&note[..=split], &note[split + 2..]);
    let sigs = sigs
        .strip_suffix('\n')
        .ok_or(malformed("the note has no signature lines"))?;
    let mut lines = Vec::new();
    for line in sigs.split('\n') {
        if lines.len() == MAX_SIGNATURES {
            return Err(malformed("the note has too many signature lines"));
        }
        let rest = line.strip_prefix(SIG_LINE_PREFIX).ok_or(malformed(
            "a signature line must start with an em dash and a space",
        ))?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or(malformed("a signature line must be '<name> <signature>'"))?;
        validate_key_name(name)
            .map_err(|_| malformed("a signature line has an invalid key name"))?;
        let blob = B64
            .decode(b64)
            .map_err(|_| malformed("a signature is not valid base64"))?;
        let (id, signature) = blob
            .split_first_chunk::<4>()
            .filter(|(_, sig)| !sig.is_empty())
            .ok_or(malformed("a signature is too short"))?;
        lines.push(SignatureLine {
            name,
            key_id: *id,
            signature: signature.to_vec(),
        });
    }
    Ok((text, lines))
}

/// Verifies a signed note against a set of trusted keys (e.g. the current log key and
/// rotated-out ones) and returns its text and the name of the key that signed it.
///
/// Per the signed-note spec: signatures by unknown keys (name and key ID not both matching a
/// trusted key) are ignored; a signature by a trusted key that fails to verify rejects the
/// whole note ([`LedgerError::BadSignature`]); if no trusted key signed, the note is rejected
/// ([`LedgerError::UnknownKey`]). Two trusted keys with the same name and key ID are a
/// configuration error.
pub fn open_note<'n>(
    note: &'n str,
    verifiers: &[NoteVerifier],
) -> Result<(&'n str, String), LedgerError> {
    for (i, a) in verifiers.iter().enumerate() {
        if verifiers[i + 1..]
            .iter()
            .any(|b| a.name == b.name && a.key_id == b.key_id && a.key != b.key)
        {
            return Err(LedgerError::MalformedKey(
                "two trusted keys share a name and key ID",
            ));
        }
    }
    let (text, lines) = parse_note(note)?;
    let mut signed_by: Option<&NoteVerifier> = None;
    for line in &lines {
        let Some(verifier) = verifiers
            .iter()
            .find(|v| v.name == line.name && v.key_id == line.key_id)
        else {
            continue;
        };
        if !verifier.verifies(text, &line.signature) {
            return Err(LedgerError::BadSignature);
        }
        signed_by.get_or_insert(verifier);
    }
    let verifier = signed_by.ok_or(LedgerError::UnknownKey)?;
    Ok((text, verifier.name.clone()))
}

/// Verifies a signed checkpoint against a set of trusted keys and returns it with the name of
/// the key that signed it. See [`open_note`] for the rules; the caller must still check the
/// checkpoint's origin.
pub fn open_checkpoint(
    note: &str,
    verifiers: &[NoteVerifier],
) -> Result<(Checkpoint, String), LedgerError> {
    let (text, name) = open_note(note, verifiers)?;
    Ok((Checkpoint::parse_body(text)?, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: &str = "kaohsiung.gov.tw/querywarden/audit";

    fn checkpoint() -> Checkpoint {
        Checkpoint::new(ORIGIN, 1234, [0xAB; 32]).unwrap()
    }

    fn signer(seed: u8) -> NoteSigner {
        NoteSigner::from_bytes(ORIGIN, &[seed; 32]).unwrap()
    }

    #[test]
    fn body_round_trips_and_has_the_c2sp_layout() {
        let cp = checkpoint();
        let body = cp.body();
        assert_eq!(
            body,
            format!("{ORIGIN}\n1234\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n")
        );
        assert_eq!(Checkpoint::parse_body(&body).unwrap(), cp);
        let empty = Checkpoint::new(ORIGIN, 0, crate::merkle::empty_root()).unwrap();
        assert_eq!(Checkpoint::parse_body(&empty.body()).unwrap(), empty);
    }

    #[test]
    fn parse_body_rejects_anything_but_the_exact_format() {
        let root = B64.encode([0xAB; 32]);
        for bad in [
            format!("{ORIGIN}\n1234\n{root}"),
            format!("{ORIGIN}\n1234\n{root}\nextension\n"),
            format!("{ORIGIN}\n1234\n"),
            format!("\n1234\n{root}\n"),
            format!("{ORIGIN}\n01234\n{root}\n"),
            format!("{ORIGIN}\n+1234\n{root}\n"),
            format!("{ORIGIN}\n-1\n{root}\n"),
            format!("{ORIGIN}\n\n{root}\n"),
            format!("{ORIGIN}\n18446744073709551616\n{root}\n"),
            format!("{ORIGIN}\n1234\n{}\n", B64.encode([0xAB; 31])),
            format!("{ORIGIN}\n1234\n{}\n", root.trim_end_matches('=')),
            format!("{ORIGIN}\r\n1234\n{root}\n"),
        ] {
            assert!(Checkpoint::parse_body(&bad).is_err(), "accepted {bad:?}");
        }
        assert_eq!(
            Checkpoint::parse_body(&format!("{ORIGIN}\n18446744073709551615\n{root}\n"))
                .unwrap()
                .size,
            u64::MAX
        );
    }

    #[test]
    fn signing_refuses_an_origin_that_could_inject_lines() {
        let root = B64.encode([0u8; 32]);
        let evil = Checkpoint {
            origin: format!("log\n999\n{root}"),
            size: 1,
            root: [1; 32],
        };
        assert!(signer(1).sign_checkpoint(&evil).is_err());
        let empty = Checkpoint {
            origin: String::new(),
            size: 1,
            root: [1; 32],
        };
        assert!(signer(1).sign_checkpoint(&empty).is_err());
    }

    #[test]
    fn sign_then_verify_round_trips() {
        let s = signer(7);
        let note = s.sign_checkpoint(&checkpoint()).unwrap();
        let sig_line = note.strip_prefix(&(checkpoint().body() + "\n")).unwrap();
        assert!(sig_line.starts_with(&format!("\u{2014} {ORIGIN} ")));
        assert!(sig_line.ends_with('\n'));
        assert_eq!(s.verifier().verify_note(&note).unwrap(), checkpoint());
        let (cp, name) = open_checkpoint(&note, &[s.verifier()]).unwrap();
        assert_eq!((cp, name.as_str()), (checkpoint(), ORIGIN));
    }

    #[test]
    fn flipping_any_byte_of_body_or_signature_is_rejected() {
        let s = signer(7);
        let v = s.verifier();
        let note = s.sign_checkpoint(&checkpoint()).unwrap();
        let bytes = note.as_bytes();
        let mut rejected = 0;
        for i in 0..bytes.len() {
            let mut tampered = bytes.to_vec();
            tampered[i] ^= 0x01;
            // Flips that break UTF-8 cannot even be presented as a &str.
            if let Ok(t) = String::from_utf8(tampered) {
                assert!(v.verify_note(&t).is_err(), "accepted tamper at byte {i}");
                rejected += 1;
            }
        }
        assert!(rejected > note.len() / 2);
        // A valid signature over a different body must not carry over.
        let other = s
            .sign_checkpoint(&Checkpoint::new(ORIGIN, 1235, [0xAB; 32]).unwrap())
            .unwrap();
        let spliced = format!(
            "{}{}",
            checkpoint().body(),
            &other[other.find("\n\n").unwrap()..]
        );
        assert_eq!(v.verify_note(&spliced), Err(LedgerError::BadSignature));
    }

    #[test]
    fn vkey_round_trips_and_rejects_mangling() {
        let v = signer(9).verifier();
        let vkey = v.to_vkey();
        assert!(vkey.starts_with(&format!("{ORIGIN}+{}+", hex::encode(v.key_id()))));
        assert_eq!(NoteVerifier::from_vkey(&vkey).unwrap(), v);
        for i in 0..vkey.len() {
            for j in (i + 1)..=vkey.len() {
                if (i, j) != (0, vkey.len()) {
                    assert!(NoteVerifier::from_vkey(&vkey[i..j]).is_err(), "{i}..{j}");
                }
            }
        }
        let wrong_id = vkey.replacen(&hex::encode(v.key_id()), "00000000", 1);
        assert!(NoteVerifier::from_vkey(&wrong_id).is_err());
        let renamed = vkey.replacen(ORIGIN, "other.example", 1);
        assert!(NoteVerifier::from_vkey(&renamed).is_err());
    }

    #[test]
    fn key_names_are_checked() {
        for bad in ["", "a b", "a+b", "a\tb", "a\u{3000}b", "a\nb"] {
            assert!(NoteSigner::from_bytes(bad, &[1; 32]).is_err(), "{bad:?}");
        }
        assert!(NoteSigner::from_bytes("高雄市社會局/audit", &[1; 32]).is_ok());
    }

    #[test]
    fn rotated_key_still_opens_old_notes_and_wrong_key_is_unknown() {
        let old = NoteSigner::from_bytes("qw.example/audit-2024", &[1; 32]).unwrap();
        let new = NoteSigner::from_bytes("qw.example/audit-2025", &[2; 32]).unwrap();
        let old_note = old.sign_checkpoint(&checkpoint()).unwrap();
        let trusted = [new.verifier(), old.verifier()];
        let (cp, name) = open_checkpoint(&old_note, &trusted).unwrap();
        assert_eq!((cp, name.as_str()), (checkpoint(), "qw.example/audit-2024"));

        assert_eq!(
            new.verifier().verify_note(&old_note),
            Err(LedgerError::UnknownKey)
        );
        // Same name, different key: still unknown (the key ID differs), not a bad signature.
        let impostor = NoteSigner::from_bytes("qw.example/audit-2024", &[3; 32]).unwrap();
        assert_eq!(
            open_checkpoint(&impostor.sign_checkpoint(&checkpoint()).unwrap(), &trusted),
            Err(LedgerError::UnknownKey)
        );
    }

    #[test]
    fn cosigned_note_verifies_under_each_key_and_a_bad_known_signature_rejects() {
        let a = NoteSigner::from_bytes("a.example", &[4; 32]).unwrap();
        let b = NoteSigner::from_bytes("b.example", &[5; 32]).unwrap();
        let body = checkpoint().body();
        let note = a.sign_note(&body).unwrap() + &b.signature_line(&body).unwrap();
        assert_eq!(a.verifier().verify_note(&note).unwrap(), checkpoint());
        assert_eq!(b.verifier().verify_note(&note).unwrap(), checkpoint());
        let (_, first) = open_checkpoint(&note, &[b.verifier(), a.verifier()]).unwrap();
        assert_eq!(first, "a.example");

        // b's line with a's signature bytes: b is known, so the note must be rejected even
        // though a's own line is fine.
        let a_line = a.signature_line(&body).unwrap();
        let a_blob = a_line.rsplit(' ').next().unwrap().trim_end();
        let mut blob = B64.decode(a_blob).unwrap();
        blob[..4].copy_from_slice(&b.key_id());
        let forged = format!(
            "{}\u{2014} b.example {}\n",
            a.sign_note(&body).unwrap(),
            B64.encode(&blob)
        );
        assert_eq!(
            open_checkpoint(&forged, &[a.verifier(), b.verifier()]),
            Err(LedgerError::BadSignature)
        );
        assert!(a.verifier().verify_note(&forged).is_ok());
    }

    #[test]
    fn malformed_notes_are_rejected() {
        let s = signer(6);
        let v = s.verifier();
        let note = s.sign_checkpoint(&checkpoint()).unwrap();
        let no_blank = note.replacen("\n\n", "\n", 1);
        let dash = note.replace('\u{2014}', "-");
        let no_final_newline = note.trim_end().to_owned();
        let crlf = note.replace('\n', "\r\n");
        let empty_sig = format!("{}\n\u{2014} {ORIGIN} \n", checkpoint().body());
        for bad in [
            no_blank,
            dash,
            no_final_newline,
            crlf,
            empty_sig,
            String::new(),
        ] {
            assert!(
                matches!(v.verify_note(&bad), Err(LedgerError::MalformedNote(_))),
                "{bad:?}"
            );
        }
        let many = note.clone()
            + &s.signature_line(&checkpoint().body())
                .unwrap()
                .repeat(MAX_SIGNATURES);
        assert!(v.verify_note(&many).is_err());
    }

    #[test]
    fn debug_does_not_print_the_secret() {
        let s = signer(0x42);
        let shown = format!("{s:?}");
        assert!(shown.contains(ORIGIN));
        assert!(!shown.contains(&hex::encode(s.secret_bytes())));
        assert!(!shown.contains(&B64.encode(s.secret_bytes())));
    }

    #[test]
    fn generated_keys_differ_and_round_trip_through_secret_bytes_and_skey() {
        let a = NoteSigner::generate(ORIGIN).unwrap();
        let b = NoteSigner::generate(ORIGIN).unwrap();
        assert_ne!(a.secret_bytes(), b.secret_bytes());
        let again = NoteSigner::from_bytes(ORIGIN, &a.secret_bytes()).unwrap();
        assert_eq!(again.verifier(), a.verifier());
        let via_skey = NoteSigner::from_skey(&a.to_skey()).unwrap();
        assert_eq!(via_skey.verifier(), a.verifier());
        assert!(NoteSigner::generate("bad name").is_err());
    }
}
