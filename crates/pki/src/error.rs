//! The one error type of the PKI crate, with a stable code and a zh-TW message per refusal.
//!
//! Security-sensitive: these errors reach logs, the audit record and the login page.
//! §3/§9: they must never carry the holder's name, ID digits or any other certificate
//! content, so every payload is a `&'static str` written here, never text taken from input.

use thiserror::Error;

/// Why a certificate, CRL, trust bundle or signed challenge was refused.
///
/// `Display` is an English sentence for the server log; [`PkiError::message_zh`] is the
/// sentence for the person at the login page; [`PkiError::code`] is the stable code for
/// JSON errors and the audit record.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PkiError {
    /// The input could not be parsed (DER/PEM/CMS structure); the payload names the part.
    #[error("malformed input: {0}")]
    Malformed(&'static str),
    /// A PKCS#1 signature arrived without the signer's certificate.
    #[error("the signer certificate was not supplied")]
    MissingCertificate,
    /// No trust anchor matches the certificate's issuer (by key identifier or name).
    #[error("certificate issuer is not among the configured trust anchors")]
    UnknownIssuer,
    /// An issuer was found but its key does not verify a certificate's signature.
    #[error("a certificate signature in the chain does not verify")]
    BadChainSignature,
    /// The chain needs more CA certificates than allowed.
    #[error("certificate chain is longer than allowed")]
    ChainTooLong,
    /// A certificate that issued another is not marked as a CA.
    #[error("an issuing certificate is not a CA certificate")]
    IssuerNotCa,
    /// A CA's basicConstraints pathLenConstraint is exceeded.
    #[error("a CA path length constraint is exceeded")]
    PathLength,
    /// A certificate in the chain is not valid yet at the given time.
    #[error("certificate is not yet valid")]
    NotYetValid,
    /// A certificate in the chain has expired at the given time.
    #[error("certificate has expired")]
    Expired,
    /// The certificate's serial is on its issuer's CRL.
    #[error("certificate has been revoked")]
    Revoked,
    /// The issuer's newest loaded CRL is past its nextUpdate (or has none).
    #[error("the certificate revocation list is out of date")]
    CrlStale,
    /// The issuer's newest loaded CRL has a thisUpdate in the future.
    #[error("the certificate revocation list is not yet valid")]
    CrlNotYetValid,
    /// No CRL from the certificate's issuer is loaded and the policy requires one.
    #[error("no certificate revocation list is loaded for the issuer")]
    NoCrl,
    /// A CRL that names the issuer is not signed by the issuer's key.
    #[error("the certificate revocation list signature does not verify")]
    CrlBadSignature,
    /// The CRL uses a feature this verifier does not implement (delta, indirect, …).
    #[error("unsupported certificate revocation list: {0}")]
    CrlUnsupported(&'static str),
    /// The key usage extension does not allow the use (digitalSignature for a login
    /// signature, keyCertSign/cRLSign for a CA).
    #[error("key usage does not permit this use")]
    KeyUsage,
    /// A CA certificate was presented as the signer's own certificate.
    #[error("a CA certificate cannot be used as an end-entity certificate")]
    NotEndEntity,
    /// A certificate carries a critical extension this verifier does not process.
    #[error("certificate has an unsupported critical extension")]
    UnsupportedCriticalExtension,
    /// The signature over the login challenge does not verify with the certificate's key.
    #[error("signature verification failed")]
    BadSignature,
    /// The signed content (PKCS#7 attached) is not the nonce that was issued.
    #[error("signed content does not match the issued nonce")]
    NonceMismatch,
    /// A signature, digest or key algorithm that is not accepted.
    #[error("unsupported algorithm: {0}")]
    UnsupportedAlgorithm(&'static str),
    /// An RSA key shorter than 2048 bits.
    #[error("key is too weak")]
    WeakKey,
    /// A failure inside this crate that is not about the input (key generation, encoding).
    #[error("internal PKI error: {0}")]
    Internal(&'static str),
}

impl PkiError {
    /// Stable machine-readable code, e.g. `pki.expired`, for JSON errors and audit records.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "pki.malformed",
            Self::MissingCertificate => "pki.missing_certificate",
            Self::UnknownIssuer => "pki.unknown_issuer",
            Self::BadChainSignature => "pki.bad_chain_signature",
            Self::ChainTooLong => "pki.chain_too_long",
            Self::IssuerNotCa => "pki.issuer_not_ca",
            Self::PathLength => "pki.path_length",
            Self::NotYetValid => "pki.not_yet_valid",
            Self::Expired => "pki.expired",
            Self::Revoked => "pki.revoked",
            Self::CrlStale => "pki.crl_stale",
            Self::CrlNotYetValid => "pki.crl_not_yet_valid",
            Self::NoCrl => "pki.no_crl",
            Self::CrlBadSignature => "pki.crl_bad_signature",
            Self::CrlUnsupported(_) => "pki.crl_unsupported",
            Self::KeyUsage => "pki.key_usage",
            Self::NotEndEntity => "pki.not_end_entity",
            Self::UnsupportedCriticalExtension => "pki.unsupported_critical_extension",
            Self::BadSignature => "pki.bad_signature",
            Self::NonceMismatch => "pki.nonce_mismatch",
            Self::UnsupportedAlgorithm(_) => "pki.unsupported_algorithm",
            Self::WeakKey => "pki.weak_key",
            Self::Internal(_) => "pki.internal",
        }
    }

    /// The message for the person signing in, in Traditional Chinese (zh-TW).
    ///
    /// Problems the cardholder can act on say so; problems of the server's configuration
    /// (CRL missing or stale) tell them to contact the permission administrator (權限管理者).
    #[must_use]
    pub fn message_zh(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "憑證或簽章資料格式錯誤，請重新操作",
            Self::MissingCertificate => "未取得憑證，請確認已插入自然人憑證卡片",
            Self::UnknownIssuer => "憑證非由信任的憑證機構簽發",
            Self::BadChainSignature => "憑證簽發鏈驗證失敗，憑證可能遭竄改",
            Self::ChainTooLong | Self::IssuerNotCa | Self::PathLength => "憑證簽發鏈不符合規定",
            Self::NotYetValid => "憑證尚未生效",
            Self::Expired => "憑證已過期",
            Self::Revoked => "憑證已被廢止",
            Self::CrlStale => "憑證廢止清冊已過期，請聯絡權限管理者更新",
            Self::CrlNotYetValid => "憑證廢止清冊尚未生效，請聯絡權限管理者",
            Self::NoCrl => "未載入憑證廢止清冊，無法確認憑證狀態，請聯絡權限管理者",
            Self::CrlBadSignature => "憑證廢止清冊簽章驗證失敗，請聯絡權限管理者",
            Self::CrlUnsupported(_) => "不支援的憑證廢止清冊格式，請聯絡權限管理者",
            Self::KeyUsage => "此憑證不可用於簽章登入",
            Self::NotEndEntity => "憑證機構憑證不可用於登入",
            Self::UnsupportedCriticalExtension => "憑證含有無法處理的關鍵延伸欄位",
            Self::BadSignature => "簽章驗證失敗",
            Self::NonceMismatch => "簽章內容與登入挑戰碼不符，請重新登入",
            Self::UnsupportedAlgorithm(_) => "不支援的簽章或金鑰演算法",
            Self::WeakKey => "憑證金鑰長度不足",
            Self::Internal(_) => "系統內部錯誤，請稍後再試",
        }
    }
}
