//! The connector's error type: what can go wrong asking BLI, with stable codes and zh-TW
//! messages.
//!
//! Security-sensitive: no variant carries a national ID or any part of an upstream body that
//! could hold personal data. `Malformed` reasons are built by this crate from the position and
//! kind of the fault, with quoted values scrubbed.

/// Why a transport-level call could not be completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnavailableCause {
    /// The circuit breaker is open: recent calls failed, so this one was not attempted.
    CircuitOpen,
    /// The TCP/TLS connection could not be made.
    Connect,
    /// The connection broke during the exchange (reset, closed early).
    Transport,
    /// BLI answered 503 Service Unavailable (after the allowed retries).
    ServiceUnavailable,
}

impl UnavailableCause {
    /// Stable code for logs.
    pub fn code(self) -> &'static str {
        match self {
            Self::CircuitOpen => "circuit_open",
            Self::Connect => "connect",
            Self::Transport => "transport",
            Self::ServiceUnavailable => "service_unavailable",
        }
    }
}

/// The result of a BLI query that did not return records.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectorError {
    /// BLI has no data on this person (查無資料).
    #[error("BLI has no record of the subject")]
    NotFound,
    /// The person is known to BLI but has never been insured under labour insurance.
    #[error("the subject is not a labour-insurance insured person")]
    NotInsured,
    /// BLI refused the query with an HTTP error status and (when it sent one) an error code.
    #[error("BLI refused the query: HTTP {status}, code {code}")]
    Refused { status: u16, code: String },
    /// No complete answer within the configured time.
    #[error("BLI did not answer in time")]
    Timeout,
    /// The service could not be reached, or the circuit breaker is open.
    #[error("BLI unavailable ({})", .0.code())]
    Unavailable(UnavailableCause),
    /// The answer broke the wire contract (status, content type, size, JSON shape or ranges).
    #[error("malformed reply from BLI: {0}")]
    Malformed(String),
}

impl ConnectorError {
    /// Stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "bli.not_found",
            Self::NotInsured => "bli.not_insured",
            Self::Refused { .. } => "bli.refused",
            Self::Timeout => "bli.timeout",
            Self::Unavailable(_) => "bli.unavailable",
            Self::Malformed(_) => "bli.malformed",
        }
    }

    /// Message for the querier, in zh-TW. Carries no personal data and no upstream text.
    pub fn message_zh(&self) -> String {
        match self {
            Self::NotFound => "勞保局查無此人資料。".into(),
            Self::NotInsured => "此人非勞工保險被保險人，勞保局無此項資料。".into(),
            Self::Refused { status, code } if *status >= 500 => {
                format!(
                    "勞保局系統發生錯誤（HTTP {status}，代碼 {code}），請稍後再試；如持續發生請通知資訊小組。"
                )
            }
            Self::Refused { status, code } => {
                format!(
                    "勞保局拒絕此次查詢（HTTP {status}，代碼 {code}），請確認查調權限與申請內容，或通知資訊小組。"
                )
            }
            Self::Timeout => {
                "勞保局未在時限內回應，無法確定查詢是否已送達；須待平臺使用紀錄勾稽或查詢者說明後，才能再查此項。".into()
            }
            Self::Unavailable(UnavailableCause::CircuitOpen) => {
                "勞保局服務近期連續失敗，系統暫停送出查詢，請稍候數分鐘再試。".into()
            }
            Self::Unavailable(_) => "目前無法連線至勞保局服務，查詢未完成，請稍後再試。".into(),
            Self::Malformed(_) => {
                "勞保局回傳的資料格式不正確，系統未採用此結果，請通知資訊小組。".into()
            }
        }
    }

    /// Whether the query certainly was not processed upstream, so it may be sent again
    /// (§5: an outage must not use up the approval): the connection or TLS handshake failed,
    /// the circuit breaker kept it back, or BLI answered with an error status (its answer says
    /// it did not serve the query). A timeout, a connection broken during the exchange or an
    /// unreadable answer leaves the outcome unknown: BLI may have processed it. The business
    /// answers (`NotFound`, `NotInsured`) are not failures at all.
    pub fn nothing_processed(&self) -> bool {
        match self {
            Self::Unavailable(
                UnavailableCause::Connect
                | UnavailableCause::CircuitOpen
                | UnavailableCause::ServiceUnavailable,
            )
            | Self::Refused { .. } => true,
            Self::NotFound
            | Self::NotInsured
            | Self::Timeout
            | Self::Unavailable(UnavailableCause::Transport)
            | Self::Malformed(_) => false,
        }
    }

    /// Whether this outcome means the upstream service is unhealthy (counts toward the
    /// circuit breaker). Business answers and 4xx refusals mean it is working.
    pub fn is_service_failure(&self) -> bool {
        match self {
            Self::NotFound | Self::NotInsured => false,
            Self::Refused { status, .. } => *status >= 500,
            Self::Timeout | Self::Unavailable(_) | Self::Malformed(_) => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_answers_that_prove_nothing_was_processed_free_the_item_again() {
        let definite = [
            ConnectorError::Unavailable(UnavailableCause::Connect),
            ConnectorError::Unavailable(UnavailableCause::CircuitOpen),
            ConnectorError::Unavailable(UnavailableCause::ServiceUnavailable),
            ConnectorError::Refused {
                status: 500,
                code: "internal_error".into(),
            },
            ConnectorError::Refused {
                status: 403,
                code: "account_not_authorised".into(),
            },
        ];
        for e in definite {
            assert!(e.nothing_processed(), "{e:?}");
        }
        let unknown = [
            ConnectorError::Timeout,
            ConnectorError::Unavailable(UnavailableCause::Transport),
            ConnectorError::Malformed("x".into()),
            ConnectorError::NotFound,
            ConnectorError::NotInsured,
        ];
        for e in unknown {
            assert!(!e.nothing_processed(), "{e:?}");
        }
    }
}
