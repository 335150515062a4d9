//! Public keys and signature algorithms accepted by the verifier.
//!
//! Security-sensitive: this is the allow-list of algorithms. MOICA cards and CAs use RSA
//! with PKCS#1 v1.5 padding (MISSION.md §3 login by the holder's own card); we accept
//! SHA-256/384/512 for certificate and CRL signatures, SHA-256 only for the login
//! signature, and refuse SHA-1, MD5, RSA keys under 2048 bits and everything else.
//! The arithmetic is the `rsa` crate's; nothing here implements cryptography.

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912::{
    RSA_ENCRYPTION, SHA_256_WITH_RSA_ENCRYPTION, SHA_384_WITH_RSA_ENCRYPTION,
    SHA_512_WITH_RSA_ENCRYPTION,
};
use der::asn1::Null;
use der::{Any, Encode};
use rsa::RsaPublicKey;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use sha2::{Sha256, Sha384, Sha512};
use signature::Verifier;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use crate::error::PkiError;

/// Smallest RSA modulus we accept, in bits (MOICA cards are 2048-bit).
const MIN_RSA_BITS: usize = 2048;

/// A subject public key that the verifier can use.
#[derive(Clone)]
pub(crate) enum PublicKey {
    Rsa(RsaPublicKey),
}

/// Digest used with RSA PKCS#1 v1.5.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Digest {
    Sha256,
    Sha384,
    Sha512,
}

impl PublicKey {
    /// Decodes and checks a SubjectPublicKeyInfo: RSA only, at least 2048 bits.
    pub(crate) fn from_spki(spki: &SubjectPublicKeyInfoOwned) -> Result<Self, PkiError> {
        if spki.algorithm.oid != RSA_ENCRYPTION {
            return Err(PkiError::UnsupportedAlgorithm("public key algorithm"));
        }
        let der = spki
            .to_der()
            .map_err(|_| PkiError::Malformed("subject public key"))?;
        // `rsa` also refuses moduli above 4096 bits, which no MOICA key uses.
        let key = RsaPublicKey::from_public_key_der(&der)
            .map_err(|_| PkiError::Malformed("RSA public key"))?;
        if key.size() * 8 < MIN_RSA_BITS {
            return Err(PkiError::WeakKey);
        }
        Ok(Self::Rsa(key))
    }

    /// Verifies an RSA PKCS#1 v1.5 signature with the given digest.
    /// `Ok(false)` is a signature that does not verify; errors are only for bad input shape.
    pub(crate) fn verify_pkcs1(&self, digest: Digest, message: &[u8], sig: &[u8]) -> bool {
        let Self::Rsa(key) = self;
        let Ok(sig) = Signature::try_from(sig) else {
            return false;
        };
        match digest {
            Digest::Sha256 => VerifyingKey::<Sha256>::new(key.clone())
                .verify(message, &sig)
                .is_ok(),
            Digest::Sha384 => VerifyingKey::<Sha384>::new(key.clone())
                .verify(message, &sig)
                .is_ok(),
            Digest::Sha512 => VerifyingKey::<Sha512>::new(key.clone())
                .verify(message, &sig)
                .is_ok(),
        }
    }
}

/// RSA parameters must be NULL or absent (RFC 4055 §5 allows both in practice).
fn params_null_or_absent(alg: &AlgorithmIdentifierOwned) -> bool {
    match &alg.parameters {
        None => true,
        Some(any) => any.decode_as::<Null>().is_ok(),
    }
}

/// The digest of a certificate/CRL signature algorithm, if it is one we accept.
pub(crate) fn x509_signature_digest(alg: &AlgorithmIdentifierOwned) -> Result<Digest, PkiError> {
    if !params_null_or_absent(alg) {
        return Err(PkiError::UnsupportedAlgorithm(
            "signature algorithm parameters",
        ));
    }
    match alg.oid {
        SHA_256_WITH_RSA_ENCRYPTION => Ok(Digest::Sha256),
        SHA_384_WITH_RSA_ENCRYPTION => Ok(Digest::Sha384),
        SHA_512_WITH_RSA_ENCRYPTION => Ok(Digest::Sha512),
        _ => Err(PkiError::UnsupportedAlgorithm("signature algorithm")),
    }
}

/// A CMS SignerInfo signatureAlgorithm: signers write either rsaEncryption or
/// sha256WithRSAEncryption for the same PKCS#1 v1.5 signature (RFC 3370 §3.2).
pub(crate) fn cms_signature_is_rsa_sha256(alg: &AlgorithmIdentifierOwned) -> bool {
    params_null_or_absent(alg)
        && (alg.oid == RSA_ENCRYPTION || alg.oid == SHA_256_WITH_RSA_ENCRYPTION)
}

/// The sha256 digest algorithm identifier check for CMS `digestAlgorithm`.
pub(crate) fn is_sha256_digest(alg: &AlgorithmIdentifierOwned) -> bool {
    alg.oid == const_oid::db::rfc5912::ID_SHA_256 && params_null_or_absent(alg)
}

/// `sha256WithRSAEncryption` with NULL parameters, as written by the demo CA.
#[cfg_attr(
    not(feature = "demo-ca"),
    allow(dead_code, reason = "used by the demo CA only")
)]
pub(crate) fn rsa_sha256_algorithm(oid: ObjectIdentifier) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid,
        parameters: Some(Any::from(der::asn1::AnyRef::NULL)),
    }
}
