//! Configuration: one TOML file plus `QUERYWARDEN_*` environment overrides, read into a raw
//! type that rejects unknown keys, then validated into [`Config`]. Every error names the key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use querywarden_domain::org::Account;
use querywarden_domain::permission::recertification::RecertificationPolicy;
use serde::{Deserialize, Serialize};

use crate::oversight::unannounced_audit::AuditSettings;
use crate::permission::PermissionPolicy;
use crate::registration::RegistrationSettings;

/// A configuration value that is wrong, with the dotted key that holds it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("設定檔讀取失敗 / cannot read configuration: {0}")]
    Read(String),
    #[error("設定值錯誤 `{key}`：{message}")]
    Invalid { key: String, message: String },
}

impl ConfigError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Read(_) => "config.read",
            Self::Invalid { .. } => "config.invalid",
        }
    }

    pub(crate) fn invalid(key: &str, message: impl Into<String>) -> Self {
        Self::Invalid {
            key: key.to_string(),
            message: message.into(),
        }
    }
}

/// How queries reach the BLI service (MISSION.md "The external service").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BliMode {
    /// The querier runs the query on the e-government portal and records it here.
    Portal,
    /// querywarden calls the service itself through the connector.
    Connected,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawServer {
    pub listen: String,
    /// Set only by `demo`: allows cookies without `Secure` on loopback.
    pub demo: bool,
    /// PEM certificate chain (leaf first) the server presents when it terminates TLS
    /// itself; required with `auth.certificate_mode = "mutual_tls"`.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of `tls_cert`.
    pub tls_key: Option<PathBuf>,
}

/// `value` if it lies in `range`; else `key` is refused: 須介於 lo 與 hi (`unit`) 之間.
pub(crate) fn within<T: PartialOrd + std::fmt::Display>(
    key: &str,
    value: T,
    range: std::ops::RangeInclusive<T>,
    unit: &str,
) -> Result<T, ConfigError> {
    if range.contains(&value) {
        return Ok(value);
    }
    let (lo, hi) = range.into_inner();
    Err(ConfigError::invalid(
        key,
        format!("須介於 {lo} 與 {hi} {unit}之間"),
    ))
}

impl Default for RawServer {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            demo: false,
            tls_cert: None,
            tls_key: None,
        }
    }
}

impl RawServer {
    /// The address to listen on: the demo (cookies without `Secure`) only on loopback.
    fn listen_addr(&self) -> Result<SocketAddr, ConfigError> {
        let listen: SocketAddr = self.listen.parse().map_err(|_| {
            ConfigError::invalid("server.listen", "須為 IP:埠，例如 127.0.0.1:8080")
        })?;
        if self.demo && !listen.ip().is_loopback() {
            return Err(ConfigError::invalid(
                "server.demo",
                "示範模式只能在本機迴路位址（127.0.0.1）上執行",
            ));
        }
        Ok(listen)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawStorage {
    pub data_dir: PathBuf,
    /// The database: a PostgreSQL server (`postgres://user@host/db`, several instances on one
    /// database) or a SQLite file (`sqlite:PATH`). Unset: the embedded SQLite file
    /// `<data_dir>/querywarden.sqlite`. Environment: `QUERYWARDEN_STORAGE__URL`.
    pub url: Option<String>,
    /// Read connections the database pool may hold at most (1–64), beside the one writer:
    /// a bounded pool, so a flood of requests waits for a connection instead of opening
    /// files without end (資通系統防護基準, resource limits).
    pub max_read_connections: u32,
    /// Whether opening applies the migrations this build has and the database lacks. On by
    /// default, so the embedded database of one machine needs no extra step; operators of
    /// several instances on one database turn it off and run `querywarden migrate` once
    /// before starting them (docs/deployment.md). A schema newer than the build is refused
    /// either way.
    pub auto_migrate: bool,
}

impl Default for RawStorage {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./querywarden-data"),
            url: None,
            max_read_connections: 4,
            auto_migrate: true,
        }
    }
}

impl RawStorage {
    fn check(&self) -> Result<(), ConfigError> {
        if self.data_dir.as_os_str().is_empty() {
            return Err(ConfigError::invalid("storage.data_dir", "不可為空白"));
        }
        if let Some(url) = &self.url
            && !["postgres://", "postgresql://", "sqlite:"]
                .iter()
                .any(|scheme| url.starts_with(scheme) && url.len() > scheme.len())
        {
            return Err(ConfigError::invalid(
                "storage.url",
                "須為 postgres://… 或 sqlite:路徑 / must be postgres://… or sqlite:PATH",
            ));
        }
        within(
            "storage.max_read_connections",
            self.max_read_connections,
            1..=64,
            "",
        )?;
        Ok(())
    }
}

/// `[metrics]`: who may read the Prometheus metrics at `GET /metrics` on the normal
/// listener. Only requests from these addresses, not relayed by a proxy (no `Forwarded` or
/// `X-Forwarded-For` header) and carrying no session are answered; everyone else gets the
/// ordinary "not found". An empty list turns the endpoint off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawMetrics {
    /// IP addresses of the Prometheus servers (default: loopback only).
    pub allow: Vec<String>,
}

impl Default for RawMetrics {
    fn default() -> Self {
        Self {
            allow: vec!["127.0.0.1".into(), "::1".into()],
        }
    }
}

impl RawMetrics {
    fn validate(&self) -> Result<Vec<std::net::IpAddr>, ConfigError> {
        self.allow
            .iter()
            .map(|a| {
                a.trim()
                    .parse::<std::net::IpAddr>()
                    .map(|ip| ip.to_canonical())
                    .map_err(|_| {
                        ConfigError::invalid(
                            "metrics.allow",
                            format!("「{a}」不是 IP 位址（例如 10.0.0.5 或 ::1）"),
                        )
                    })
            })
            .collect()
    }
}

/// `[limits]`: attempts per minute per account and per client address (§3, 資通系統防護基準).
/// Beyond the limit the attempt is refused with `rate.limited` (HTTP 429) and audited once
/// per window. Generous for people, tight for scripts; an office whose staff reach the
/// server through one proxy address raises the `*_per_address` ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawLimits {
    pub sign_in_per_account: u32,
    pub sign_in_per_address: u32,
    pub unlock_per_account: u32,
    pub unlock_per_address: u32,
    pub password_change_per_account: u32,
    pub password_change_per_address: u32,
    pub execution_per_account: u32,
    pub execution_per_address: u32,
}

impl Default for RawLimits {
    fn default() -> Self {
        Self {
            sign_in_per_account: 20,
            sign_in_per_address: 60,
            unlock_per_account: 20,
            unlock_per_address: 60,
            password_change_per_account: 10,
            password_change_per_address: 30,
            execution_per_account: 60,
            execution_per_address: 600,
        }
    }
}

impl RawLimits {
    fn check(&self) -> Result<(), ConfigError> {
        for (key, v) in [
            ("limits.sign_in_per_account", self.sign_in_per_account),
            ("limits.sign_in_per_address", self.sign_in_per_address),
            ("limits.unlock_per_account", self.unlock_per_account),
            ("limits.unlock_per_address", self.unlock_per_address),
            (
                "limits.password_change_per_account",
                self.password_change_per_account,
            ),
            (
                "limits.password_change_per_address",
                self.password_change_per_address,
            ),
            ("limits.execution_per_account", self.execution_per_account),
            ("limits.execution_per_address", self.execution_per_address),
        ] {
            if !(1..=1_000_000).contains(&v) {
                return Err(ConfigError::invalid(
                    key,
                    "須介於每分鐘 1 與 1000000 次之間",
                ));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawKeys {
    /// Where key files live; default `<data_dir>/keys`. Keep it off the database's disk in
    /// production so that a stolen database alone does not carry the HMAC key.
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawAudit {
    pub origin: String,
    pub checkpoint_every_records: u64,
    pub checkpoint_every_seconds: u64,
}

impl Default for RawAudit {
    fn default() -> Self {
        Self {
            origin: "socbu.kcg.gov.tw/querywarden/audit".into(),
            checkpoint_every_records: 256,
            checkpoint_every_seconds: 60,
        }
    }
}

impl RawAudit {
    fn check(&self) -> Result<(), ConfigError> {
        if self.origin.trim().is_empty() || self.origin.contains('\n') {
            return Err(ConfigError::invalid(
                "audit.origin",
                "須為單行、非空白的名稱",
            ));
        }
        within(
            "audit.checkpoint_every_records",
            self.checkpoint_every_records,
            1..=1_000_000,
            "",
        )?;
        within(
            "audit.checkpoint_every_seconds",
            self.checkpoint_every_seconds,
            1..=86_400,
            "秒",
        )?;
        Ok(())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawBli {
    pub mode: BliMode,
    pub base_url: String,
    pub connect_timeout_ms: u64,
    pub read_timeout_ms: u64,
    pub max_retries: u32,
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    pub ca_bundle: Option<PathBuf>,
    pub agency_code: String,
    /// Which column of the platform's usage-log export holds which field (default: the
    /// simulator's format); another real format needs only this table, no code.
    pub usage_log_columns: querywarden_bli::usage_log::ColumnMapping,
}

impl Default for RawBli {
    fn default() -> Self {
        Self {
            mode: BliMode::Connected,
            base_url: "http://127.0.0.1:8081".into(),
            connect_timeout_ms: 2_000,
            read_timeout_ms: 10_000,
            max_retries: 1,
            client_cert: None,
            client_key: None,
            ca_bundle: None,
            agency_code: "KHH-SOCBU".into(),
            usage_log_columns: Default::default(),
        }
    }
}

impl RawBli {
    fn check(&self) -> Result<(), ConfigError> {
        if !(self.base_url.starts_with("http://") || self.base_url.starts_with("https://")) {
            return Err(ConfigError::invalid(
                "bli.base_url",
                "須以 http:// 或 https:// 開頭",
            ));
        }
        within(
            "bli.connect_timeout_ms",
            self.connect_timeout_ms,
            100..=120_000,
            "毫秒",
        )?;
        within(
            "bli.read_timeout_ms",
            self.read_timeout_ms,
            100..=600_000,
            "毫秒",
        )?;
        if self.max_retries > 5 {
            return Err(ConfigError::invalid("bli.max_retries", "最多 5 次"));
        }
        if self.client_cert.is_some() != self.client_key.is_some() {
            return Err(ConfigError::invalid(
                "bli.client_cert",
                "用戶端憑證與私鑰（bli.client_key）須同時設定",
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawSession {
    pub idle_timeout_minutes: u64,
    pub absolute_timeout_hours: u64,
    pub screen_lock_minutes: u64,
    pub max_failed_logins: u32,
    pub lockout_minutes: u64,
}

impl Default for RawSession {
    fn default() -> Self {
        Self {
            idle_timeout_minutes: 15,
            absolute_timeout_hours: 8,
            screen_lock_minutes: 5,
            max_failed_logins: 5,
            lockout_minutes: 15,
        }
    }
}

impl RawSession {
    fn check(&self) -> Result<(), ConfigError> {
        within(
            "session.idle_timeout_minutes",
            self.idle_timeout_minutes,
            1..=60,
            "分鐘",
        )?;
        within(
            "session.absolute_timeout_hours",
            self.absolute_timeout_hours,
            1..=24,
            "小時",
        )?;
        if self.screen_lock_minutes == 0 || self.screen_lock_minutes > self.idle_timeout_minutes {
            return Err(ConfigError::invalid(
                "session.screen_lock_minutes",
                "須至少 1 分鐘且不超過 session.idle_timeout_minutes",
            ));
        }
        // 資通系統防護基準: lock after at most 5 failures for at least 15 minutes.
        if !(1..=5).contains(&self.max_failed_logins) {
            return Err(ConfigError::invalid(
                "session.max_failed_logins",
                "須介於 1 與 5 次之間（資通系統防護基準）",
            ));
        }
        if self.lockout_minutes < 15 {
            return Err(ConfigError::invalid(
                "session.lockout_minutes",
                "至少 15 分鐘（資通系統防護基準）",
            ));
        }
        Ok(())
    }
}

/// How a card proves possession of its key at sign-in (§3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertificateMode {
    /// The browser has the card component (HiPKI) sign a one-time nonce.
    SignedChallenge,
    /// The server terminates TLS and requires a client certificate.
    MutualTls,
}

/// Whether a certificate may be accepted when no CRL from its issuer is loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevocationCheck {
    RequireCrl,
    BestEffort,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawAuth {
    pub certificate_mode: CertificateMode,
    /// PEM bundle of the MOICA root and intermediate CA certificates.
    pub trust_anchors: Option<PathBuf>,
    /// CRL files (DER or PEM) the administrator loads.
    pub crl_files: Vec<PathBuf>,
    pub revocation: RevocationCheck,
    pub nonce_ttl_seconds: u64,
}

impl Default for RawAuth {
    fn default() -> Self {
        Self {
            certificate_mode: CertificateMode::SignedChallenge,
            trust_anchors: None,
            crl_files: Vec::new(),
            revocation: RevocationCheck::RequireCrl,
            nonce_ttl_seconds: 120,
        }
    }
}

impl RawAuth {
    fn check(&self) -> Result<(), ConfigError> {
        within(
            "auth.nonce_ttl_seconds",
            self.nonce_ttl_seconds,
            10..=600,
            "秒",
        )?;
        Ok(())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawLog {
    /// `pretty` or `json`.
    pub format: String,
    pub level: String,
}

impl Default for RawLog {
    fn default() -> Self {
        Self {
            format: "pretty".into(),
            level: "info".into(),
        }
    }
}

impl RawLog {
    /// Whether the log is written as JSON lines (else for people to read).
    fn is_json(&self) -> Result<bool, ConfigError> {
        let json = match self.format.as_str() {
            "pretty" => false,
            "json" => true,
            _ => return Err(ConfigError::invalid("log.format", "須為 pretty 或 json")),
        };
        if !["error", "warn", "info", "debug", "trace"].contains(&self.level.as_str()) {
            return Err(ConfigError::invalid(
                "log.level",
                "須為 error、warn、info、debug 或 trace",
            ));
        }
        Ok(json)
    }
}

/// `[permission]`: who deputises for the permission administrator and the numbers of
/// reminders, recertification and idle accounts (maps to [`PermissionPolicy`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawPermission {
    /// 代理人: the account that handles the permission administrator's own applications.
    pub deputy_administrator: Option<String>,
    /// A pending step is flagged for a reminder after this many working days.
    pub reminder_working_days: i32,
    /// Accounts not used for this many days are disabled (資通系統防護基準 1-1-3).
    pub idle_account_days: i32,
    /// Grants not used for this many months are proposed for removal at recertification.
    pub unused_months: i32,
    /// Working days a supervisor has to answer a recertification round.
    pub recertification_working_days: i32,
}

impl Default for RawPermission {
    fn default() -> Self {
        let p = PermissionPolicy::default();
        Self {
            deputy_administrator: None,
            reminder_working_days: p.reminder_working_days,
            idle_account_days: p.recertification.idle_account_days,
            unused_months: p.recertification.unused_months,
            recertification_working_days: p.recertification.response_working_days,
        }
    }
}

/// `[scim]`: the HR system's bearer token for `/scim/v2/Users`, stored only as its SHA-256.
/// Without it the SCIM endpoint does not exist (404).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawScim {
    /// Lower- or upper-case hex of SHA-256(token), 64 characters.
    pub token_sha256: Option<String>,
}

/// `[registration.snooping]`: the action of each snooping rule: `block`,
/// `second_approver`, `warn` or `alert_ethics`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawSnooping {
    pub subject_is_party: String,
    pub subject_is_staff: String,
    pub same_surname: String,
    pub restricted_list: String,
}

impl Default for RawSnooping {
    fn default() -> Self {
        use querywarden_domain::snooping::{SnoopingPolicy, SnoopingRule};
        let p = SnoopingPolicy::default();
        let code = |r: SnoopingRule| p.actions.get(&r).map_or("warn", |a| a.code()).to_string();
        Self {
            subject_is_party: code(SnoopingRule::SubjectIsParty),
            subject_is_staff: code(SnoopingRule::SubjectIsStaff),
            same_surname: code(SnoopingRule::SameSurname),
            restricted_list: code(SnoopingRule::RestrictedList),
        }
    }
}

/// `[registration]`: query registration, approval and result keeping (§4–§6; maps to
/// [`RegistrationSettings`]). The agency code sent to BLI is `bli.agency_code`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawRegistration {
    /// §5: an approval is valid this many days from the moment of approval.
    pub approval_validity_days: u32,
    /// §6: results are kept this many days unless a legal basis says otherwise.
    pub retention_days: u32,
    /// Retention in days per legal-basis id (e.g. `social-assistance-44-3-1 = 730`).
    pub retention_by_legal_basis: std::collections::BTreeMap<String, u32>,
    /// §6: retention in days per case type — the kind of case the legal basis serves, as the
    /// catalogue classes it (`periodic_review = 400`, `explicit_data_request = 730`, …); it
    /// wins over the legal basis and the default.
    pub retention_by_case_type: std::collections::BTreeMap<String, u32>,
    /// §6 ¶2: prints of one result allowed without a stated reason (more need one).
    pub print_limit: u32,
    /// §6 ¶2: whether the JSON API hands out whole result records (each call audited as a
    /// view). Off by default: the page is view-only, and a program could copy what the page
    /// forbids copying.
    pub results_api: bool,
    /// Results whose keeping ends within this many days show as expiring.
    pub expiring_within_days: u32,
    /// Most rows a batch CSV may hold.
    pub max_batch_rows: usize,
    /// File of national IDs on the restricted list (VIPs and others), one per line, `#`
    /// comments allowed; read at start-up and kept only as keyed digests.
    pub restricted_list: Option<PathBuf>,
    /// File of staff national IDs from the personnel office, same format.
    pub staff_ids: Option<PathBuf>,
    pub snooping: RawSnooping,
}

impl Default for RawRegistration {
    fn default() -> Self {
        let s = RegistrationSettings::default();
        Self {
            approval_validity_days: s.approval_validity_days,
            retention_days: s.retention.default_days,
            retention_by_legal_basis: Default::default(),
            retention_by_case_type: Default::default(),
            print_limit: s.print_limit,
            results_api: s.results_api,
            expiring_within_days: s.expiring_within_days,
            max_batch_rows: s.max_batch_rows,
            restricted_list: None,
            staff_ids: None,
            snooping: RawSnooping::default(),
        }
    }
}

/// `[enrolment]`: one-time enrolment codes (§3): how long a code lives and how many failed
/// attempts one address may make before it must wait.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawEnrolment {
    /// Hours a code stays valid after it is issued.
    pub code_valid_hours: u64,
    /// Failed attempts from one address within the window before further attempts are refused.
    pub max_failures: u32,
    pub failure_window_minutes: u64,
}

impl Default for RawEnrolment {
    fn default() -> Self {
        Self {
            code_valid_hours: 72,
            max_failures: 5,
            failure_window_minutes: 15,
        }
    }
}

/// `[documents]`: where the Traditional Chinese font for the printed forms is (default:
/// Debian's fonts-noto-cjk, found by `querywarden_documents::font`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawDocuments {
    /// A .ttc/.otf/.ttf with Traditional Chinese glyphs; unset: the system's Noto CJK.
    pub font_path: Option<PathBuf>,
}

/// `[oversight]`: the thresholds of reconciliation and the anomaly rules (§7) and the quarterly
/// review's due date (maps to [`OversightSettings`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawOversight {
    /// Office hours in Asia/Taipei, `HH:MM`; queries outside them (or on days off) are flagged.
    pub office_hours_start: String,
    pub office_hours_end: String,
    /// A person's queries in a quarter above this multiple of their own baseline are flagged.
    pub volume_baseline_factor: f64,
    /// A person's queries in a quarter above this are flagged (default for every unit).
    pub unit_threshold: u32,
    /// Per-unit thresholds by unit id, overriding `unit_threshold`.
    pub unit_thresholds: std::collections::BTreeMap<String, u32>,
    /// One subject queried by this many people, or by one person on this many days.
    pub repeat_subject_count: u32,
    /// Approvals within this many seconds of submission are flagged.
    pub fast_approval_seconds: i64,
    /// Grants unused for this many months are flagged.
    pub unused_grant_months: i32,
    /// A platform record and its execution may be this many minutes apart.
    pub time_tolerance_minutes: i64,
    /// §7: the review is due this many days after it opens (行政程序法 §48 counting).
    pub review_due_days: i32,
}

impl Default for RawOversight {
    fn default() -> Self {
        let t = querywarden_domain::oversight::anomaly::AnomalyThresholds::default();
        Self {
            office_hours_start: "08:00".into(),
            office_hours_end: "18:00".into(),
            volume_baseline_factor: t.volume_baseline_factor,
            unit_threshold: t.unit_threshold,
            unit_thresholds: Default::default(),
            repeat_subject_count: t.repeat_subject_count,
            fast_approval_seconds: t.fast_approval_seconds,
            unused_grant_months: t.unused_grant_months,
            time_tolerance_minutes: 10,
            review_due_days: 30,
        }
    }
}

/// `[crl]`: where the certificate revocation lists are published (MOICA, over HTTP) and how
/// often they are fetched. `auth.crl_files` and `querywarden crl import` stay the offline path.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawCrl {
    pub urls: Vec<String>,
    pub refresh_minutes: u64,
    pub fetch_timeout_seconds: u64,
}

impl Default for RawCrl {
    fn default() -> Self {
        Self {
            urls: Vec::new(),
            refresh_minutes: 60,
            fetch_timeout_seconds: 30,
        }
    }
}

/// `[unannounced_audits]`: Form 4 audits (§8), maps to [`AuditSettings`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawUnannouncedAudits {
    /// Largest supporting document a querier may attach, in bytes (1 KiB to 50 MiB).
    pub max_attachment_bytes: u64,
}

impl Default for RawUnannouncedAudits {
    fn default() -> Self {
        Self {
            max_attachment_bytes: AuditSettings::default().max_attachment_bytes,
        }
    }
}

impl RawUnannouncedAudits {
    fn settings(&self) -> Result<AuditSettings, ConfigError> {
        within(
            "unannounced_audits.max_attachment_bytes",
            self.max_attachment_bytes,
            1024..=50 * 1024 * 1024,
            "位元組（50 MiB）",
        )?;
        Ok(AuditSettings {
            max_attachment_bytes: self.max_attachment_bytes,
        })
    }
}

/// Validated `[oversight]`.
#[derive(Debug, Clone, PartialEq)]
pub struct OversightSettings {
    pub thresholds: querywarden_domain::oversight::anomaly::AnomalyThresholds,
    pub unit_thresholds: std::collections::BTreeMap<String, u32>,
    pub time_tolerance: jiff::SignedDuration,
    pub review_due_days: i32,
}

impl Default for OversightSettings {
    fn default() -> Self {
        // The defaults are valid by construction; fall back to the domain's if not.
        RawOversight::default()
            .validate()
            .unwrap_or_else(|_| OversightSettings {
                thresholds: Default::default(),
                unit_thresholds: Default::default(),
                time_tolerance: jiff::SignedDuration::from_mins(10),
                review_due_days: 30,
            })
    }
}

fn minute_of_day(key: &str, s: &str) -> Result<u16, ConfigError> {
    let bad = || ConfigError::invalid(key, "須為 HH:MM，例如 08:00");
    let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
    let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 24 || m > 59 || h * 60 + m > 24 * 60 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

impl RawOversight {
    pub fn validate(&self) -> Result<OversightSettings, ConfigError> {
        let start = minute_of_day("oversight.office_hours_start", &self.office_hours_start)?;
        let end = minute_of_day("oversight.office_hours_end", &self.office_hours_end)?;
        if start >= end {
            return Err(ConfigError::invalid(
                "oversight.office_hours_end",
                "須晚於 office_hours_start",
            ));
        }
        if !(self.volume_baseline_factor.is_finite() && self.volume_baseline_factor >= 1.0) {
            return Err(ConfigError::invalid(
                "oversight.volume_baseline_factor",
                "須為 1 以上的數字",
            ));
        }
        if self.repeat_subject_count < 2 {
            return Err(ConfigError::invalid(
                "oversight.repeat_subject_count",
                "須為 2 以上",
            ));
        }
        if !(0..=3600).contains(&self.fast_approval_seconds) {
            return Err(ConfigError::invalid(
                "oversight.fast_approval_seconds",
                "須介於 0 到 3600 秒",
            ));
        }
        if !(1..=60).contains(&self.unused_grant_months) {
            return Err(ConfigError::invalid(
                "oversight.unused_grant_months",
                "須介於 1 到 60 個月",
            ));
        }
        if !(0..=24 * 60).contains(&self.time_tolerance_minutes) {
            return Err(ConfigError::invalid(
                "oversight.time_tolerance_minutes",
                "須介於 0 到 1440 分鐘",
            ));
        }
        if !(1..=366).contains(&self.review_due_days) {
            return Err(ConfigError::invalid(
                "oversight.review_due_days",
                "須介於 1 到 366 天",
            ));
        }
        Ok(OversightSettings {
            thresholds: querywarden_domain::oversight::anomaly::AnomalyThresholds {
                office_start_minute: start,
                office_end_minute: end,
                volume_baseline_factor: self.volume_baseline_factor,
                unit_threshold: self.unit_threshold,
                repeat_subject_count: self.repeat_subject_count,
                fast_approval_seconds: self.fast_approval_seconds,
                unused_grant_months: self.unused_grant_months,
            },
            unit_thresholds: self.unit_thresholds.clone(),
            time_tolerance: jiff::SignedDuration::from_mins(self.time_tolerance_minutes),
            review_due_days: self.review_due_days,
        })
    }
}

/// `[citizen_report]` (個人資料保護法 §10): how a citizen's access report shows staff.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawCitizenReport {
    /// Show the officers' names next to their unit; by default only the unit is shown, so the
    /// citizen learns which office acted without individual officers being exposed.
    pub show_staff_names: bool,
}

impl RawCitizenReport {
    pub fn staff_shown(&self) -> querywarden_domain::citizen_report::StaffShown {
        use querywarden_domain::citizen_report::StaffShown;
        if self.show_staff_names {
            StaffShown::NameAndUnit
        } else {
            StaffShown::UnitOnly
        }
    }
}

/// `[citizen_self_service]` (個人資料保護法 §10): citizens see their own report after signing
/// in with their own MOICA card, on a listener of its own that serves nothing else. Off by
/// default; see docs/citizen-self-service.md for the trade-offs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawCitizenSelfService {
    pub enabled: bool,
    /// Its own address (never the staff listener's).
    pub listen: String,
    /// Attempts (shown or refused) per client address and hour.
    pub max_attempts_per_hour: u32,
}

impl Default for RawCitizenSelfService {
    fn default() -> Self {
        Self {
            enabled: false,
            listen: "127.0.0.1:8444".into(),
            max_attempts_per_hour: 10,
        }
    }
}

impl RawCitizenSelfService {
    /// The listener's address when enabled; a bad address or limit stops start-up.
    pub fn address(&self, staff: SocketAddr) -> Result<Option<SocketAddr>, ConfigError> {
        if !self.enabled {
            return Ok(None);
        }
        let addr: SocketAddr = self.listen.parse().map_err(|_| {
            ConfigError::invalid(
                "citizen_self_service.listen",
                "須為 IP:埠，例如 0.0.0.0:8444",
            )
        })?;
        if addr == staff && addr.port() != 0 {
            return Err(ConfigError::invalid(
                "citizen_self_service.listen",
                "須與員工網站（server.listen）不同的位址",
            ));
        }
        within(
            "citizen_self_service.max_attempts_per_hour",
            self.max_attempts_per_hour,
            1..=1000,
            "",
        )?;
        Ok(Some(addr))
    }
}

/// `[mail]`: the optional daily e-mail digest of what waits for each person. Off by default;
/// see [`crate::mail`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawMail {
    pub enabled: bool,
    /// The SMTP relay.
    pub smtp_host: String,
    pub smtp_port: u16,
    /// `starttls` (submission, port 587), `tls` (implicit TLS, port 465) or `none` (only to
    /// a relay on this machine's loopback address).
    pub tls: String,
    /// The sender, e.g. `查調守門員 <querywarden@example.gov.tw>`.
    pub from: String,
    /// Where the system is reached (the link in each message), e.g. `https://qw.example.gov.tw`.
    pub base_url: String,
    /// The hour (0–23, Asia/Taipei) from which the day's digest is sent.
    pub digest_hour: u8,
}

impl Default for RawMail {
    fn default() -> Self {
        Self {
            enabled: false,
            smtp_host: String::new(),
            smtp_port: 587,
            tls: "starttls".into(),
            from: String::new(),
            base_url: String::new(),
            digest_hour: 8,
        }
    }
}

/// The file as written, before validation.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawConfig {
    pub server: RawServer,
    pub storage: RawStorage,
    pub keys: RawKeys,
    pub audit: RawAudit,
    pub bli: RawBli,
    pub session: RawSession,
    pub auth: RawAuth,
    pub log: RawLog,
    pub permission: RawPermission,
    pub scim: RawScim,
    pub registration: RawRegistration,
    pub enrolment: RawEnrolment,
    pub crl: RawCrl,
    pub unannounced_audits: RawUnannouncedAudits,
    pub oversight: RawOversight,
    pub limits: RawLimits,
    pub citizen_report: RawCitizenReport,
    pub citizen_self_service: RawCitizenSelfService,
    pub documents: RawDocuments,
    pub metrics: RawMetrics,
    pub mail: RawMail,
}

/// The server's own TLS certificate and key files (`server.tls_cert`, `server.tls_key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerTls {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub demo: bool,
    /// Present exactly when the server terminates TLS itself (mutual-TLS sign-in).
    pub tls: Option<ServerTls>,
    pub data_dir: PathBuf,
    pub key_dir: PathBuf,
    pub audit: RawAudit,
    pub bli: RawBli,
    pub session: RawSession,
    pub auth: RawAuth,
    pub log_json: bool,
    pub log_level: String,
    /// `[permission]`.
    pub permission: PermissionPolicy,
    /// `[scim] token_sha256`: SHA-256 of the HR system's bearer token.
    pub scim_token_sha256: Option<[u8; 32]>,
    /// `[registration]` (with `bli.agency_code`).
    pub registration: RegistrationSettings,
    /// `registration.restricted_list` and `registration.staff_ids`.
    pub screen_files: ScreenFiles,
    /// `[enrolment]`.
    pub enrolment: RawEnrolment,
    /// `[crl]`.
    pub crl: RawCrl,
    /// `[unannounced_audits]`.
    pub unannounced_audits: AuditSettings,
    /// `[oversight]`.
    pub oversight: OversightSettings,
    /// `storage.url`: the database when it is not the embedded file.
    pub storage_url: Option<String>,
    /// `storage.max_read_connections`.
    pub max_read_connections: u32,
    /// `storage.auto_migrate`.
    pub auto_migrate: bool,
    /// `metrics.allow`: the addresses that may read `/metrics` (canonical form).
    pub metrics_allow: Vec<std::net::IpAddr>,
    /// `[limits]`.
    pub limits: RawLimits,
    /// `[citizen_report]`.
    pub citizen_report: RawCitizenReport,
    /// `[citizen_self_service]`: its listener's address when enabled.
    pub citizen_self_service: Option<SocketAddr>,
    pub citizen_self_service_attempts_per_hour: u32,
    /// `[documents]`.
    pub documents: RawDocuments,
    /// `[mail]`: present when the e-mail digest is enabled.
    pub mail: Option<crate::mail::MailSettings>,
}

/// The national-ID files of the snooping checks, read by `App::open` with
/// [`read_id_list`] into the screen as keyed digests; the IDs in clear are never kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScreenFiles {
    pub restricted_list: Option<PathBuf>,
    pub staff_ids: Option<PathBuf>,
}

/// Reads a file of national IDs (one a line; blank lines and `#` comments ignored), calling
/// `each` with every ID in turn so the caller can digest it and drop it. Any bad line stops
/// the start-up with `key` and the line number named; the line itself is never echoed (it
/// is personal data). Returns how many IDs were read.
pub fn read_id_list(
    key: &str,
    path: &Path,
    mut each: impl FnMut(&querywarden_domain::NationalId),
) -> Result<usize, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::invalid(key, format!("無法讀取 {}：{e}", path.display())))?;
    let mut count = 0;
    for (i, line) in text.trim_start_matches('\u{feff}').lines().enumerate() {
        let id = line.split('#').next().unwrap_or_default().trim();
        if id.is_empty() {
            continue;
        }
        let id = querywarden_domain::NationalId::parse(id)
            .map_err(|e| ConfigError::invalid(key, format!("第 {} 行：{e}", i + 1)))?;
        each(&id);
        count += 1;
    }
    Ok(count)
}

impl Config {
    /// What `serve` needs beyond a valid file: people must be able to sign in (§3).
    pub fn require_sign_in(&self) -> Result<(), ConfigError> {
        if self.auth.trust_anchors.is_none() {
            return Err(ConfigError::invalid(
                "auth.trust_anchors",
                "正式環境須設定自然人憑證信任錨（內政部憑證管理中心根憑證與中繼憑證 PEM 檔）",
            ));
        }
        Ok(())
    }

    /// The embedded database file (when `storage.url` names no other database).
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("querywarden.sqlite")
    }

    /// The database as `storage.url` names it: that URL, or `sqlite:` and the embedded file.
    pub fn database_url(&self) -> String {
        match &self.storage_url {
            Some(url) => url.clone(),
            None => format!("sqlite:{}", self.database_path().display()),
        }
    }

    /// Whether the database is a PostgreSQL server rather than a SQLite file.
    pub fn uses_postgres(&self) -> bool {
        self.storage_url.as_deref().is_some_and(|u| {
            querywarden_storage::Backend::of_url(u) == querywarden_storage::Backend::Postgres
        })
    }

    /// The SQLite file the database is in, if it is one (the embedded file, or `sqlite:PATH`).
    pub fn database_file(&self) -> Option<PathBuf> {
        match &self.storage_url {
            None => Some(self.database_path()),
            Some(_) if self.uses_postgres() => None,
            Some(url) => Some(PathBuf::from(
                url.strip_prefix("sqlite://")
                    .or_else(|| url.strip_prefix("sqlite:"))
                    .unwrap_or(url),
            )),
        }
    }

    /// Reads defaults, then `file` (if given), then `QUERYWARDEN_*` variables
    /// (`QUERYWARDEN_SERVER__LISTEN=0.0.0.0:8443` sets `server.listen`).
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        Self::raw(file)?.validate()
    }

    /// The settings before validation: defaults, then `file`, then the environment. The demo
    /// starts from these too (no file), so that `QUERYWARDEN_<SECTION>__<KEY>` adjusts it as
    /// it adjusts `serve` (a load run raises `limits.execution_per_address` this way).
    pub fn raw(file: Option<&Path>) -> Result<RawConfig, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(RawConfig::default()));
        if let Some(file) = file {
            if !file.is_file() {
                return Err(ConfigError::Read(format!(
                    "找不到設定檔 / file not found: {}",
                    file.display()
                )));
            }
            figment = figment.merge(Toml::file(file));
        }
        // Only `QUERYWARDEN_<SECTION>__<KEY>` names a setting: other variables of the same
        // prefix (the test scripts' `QUERYWARDEN_BIN`, `QUERYWARDEN_REQUIRE_POSTGRES`) are not
        // configuration and must not be refused as unknown keys.
        figment = figment.merge(
            Env::prefixed("QUERYWARDEN_")
                .filter(|key| key.as_str().contains("__"))
                .split("__"),
        );
        figment.extract().map_err(|e| {
            let key = e.path.join(".");
            let message = e.kind.to_string();
            if key.is_empty() {
                ConfigError::Read(message)
            } else {
                ConfigError::invalid(&key, message)
            }
        })
    }
}

/// Builds the connected-mode connector from `[bli]`: base URL, timeouts, retries, optional
/// client certificate and key (mutual TLS) and CA bundle, each file read now so that a bad
/// file stops start-up with its key named.
pub fn bli_connector(bli: &RawBli) -> Result<querywarden_bli::HttpConnector, ConfigError> {
    use querywarden_bli::{ConnectorConfigError, HttpConnector, HttpConnectorConfig};
    let read = |key: &str, p: &Path| {
        std::fs::read(p)
            .map_err(|e| ConfigError::invalid(key, format!("無法讀取 {}：{e}", p.display())))
    };
    let mut c = HttpConnectorConfig::new(bli.base_url.clone());
    c.connect_timeout = std::time::Duration::from_millis(bli.connect_timeout_ms);
    c.read_timeout = std::time::Duration::from_millis(bli.read_timeout_ms);
    c.max_retries = bli.max_retries;
    if let (Some(cert), Some(key)) = (&bli.client_cert, &bli.client_key) {
        c.client_cert_pem = Some((read("bli.client_cert", cert)?, read("bli.client_key", key)?));
    }
    if let Some(ca) = &bli.ca_bundle {
        c.ca_bundle_pem = Some(read("bli.ca_bundle", ca)?);
    }
    HttpConnector::new(c).map_err(|e| {
        let key = match e {
            ConnectorConfigError::BadUrl | ConnectorConfigError::InsecureHttp => "bli.base_url",
            ConnectorConfigError::ClientIdentity(_) => "bli.client_cert",
            ConnectorConfigError::CaBundle(_) => "bli.ca_bundle",
            ConnectorConfigError::ZeroLimit => "bli.read_timeout_ms",
            ConnectorConfigError::Client(_) => "bli",
        };
        ConfigError::invalid(key, e.to_string())
    })
}

impl RawConfig {
    /// §3 mutual TLS: the server terminates TLS, so it needs its own certificate and key,
    /// and the card trust anchors to ask browsers for. TLS files without mutual TLS are
    /// refused rather than silently ignored.
    fn server_tls(&self) -> Result<Option<ServerTls>, ConfigError> {
        let (cert, key) = (&self.server.tls_cert, &self.server.tls_key);
        if self.auth.certificate_mode != CertificateMode::MutualTls {
            if cert.is_some() || key.is_some() {
                let k = if cert.is_some() {
                    "server.tls_cert"
                } else {
                    "server.tls_key"
                };
                return Err(ConfigError::invalid(
                    k,
                    "只在 auth.certificate_mode = \"mutual_tls\" 時使用",
                ));
            }
            return Ok(None);
        }
        if self.server.demo {
            return Err(ConfigError::invalid(
                "auth.certificate_mode",
                "示範模式使用 signed_challenge（示範簽章器），不提供 mutual_tls",
            ));
        }
        let non_empty = |p: &Option<PathBuf>| p.clone().filter(|p| !p.as_os_str().is_empty());
        let cert = non_empty(cert).ok_or_else(|| {
            ConfigError::invalid(
                "server.tls_cert",
                "mutual_tls 模式須設定伺服器憑證（PEM，葉憑證在前）",
            )
        })?;
        let key = non_empty(key).ok_or_else(|| {
            ConfigError::invalid("server.tls_key", "mutual_tls 模式須設定伺服器私鑰（PEM）")
        })?;
        if self.auth.trust_anchors.is_none() {
            return Err(ConfigError::invalid(
                "auth.trust_anchors",
                "mutual_tls 模式須設定自然人憑證信任錨，以要求並驗證用戶端憑證",
            ));
        }
        Ok(Some(ServerTls { cert, key }))
    }

    fn permission_policy(&self) -> Result<PermissionPolicy, ConfigError> {
        let p = &self.permission;
        let deputy = match p.deputy_administrator.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(a) => Some(Account::parse(a).map_err(|_| {
                ConfigError::invalid(
                    "permission.deputy_administrator",
                    "須為帳號名稱，例如 li.guowei",
                )
            })?),
        };
        let range = |key: &str, v, lo, hi| within(key, v, lo..=hi, "");
        Ok(PermissionPolicy {
            deputy_administrator: deputy,
            reminder_working_days: range(
                "permission.reminder_working_days",
                p.reminder_working_days,
                1,
                30,
            )?,
            recertification: RecertificationPolicy {
                unused_months: range("permission.unused_months", p.unused_months, 1, 24)?,
                idle_account_days: range(
                    "permission.idle_account_days",
                    p.idle_account_days,
                    1,
                    365,
                )?,
                response_working_days: range(
                    "permission.recertification_working_days",
                    p.recertification_working_days,
                    1,
                    60,
                )?,
            },
        })
    }

    fn registration_settings(&self) -> Result<RegistrationSettings, ConfigError> {
        use querywarden_domain::catalogue::LegalBasisId;
        use querywarden_domain::snooping::{SnoopingAction, SnoopingRule};
        let r = &self.registration;
        let mut s = RegistrationSettings::default();
        let range = |key: &str, v, lo, hi| within(key, v, lo..=hi, "");
        s.approval_validity_days = range(
            "registration.approval_validity_days",
            r.approval_validity_days,
            1,
            30,
        )?;
        s.retention.default_days = range("registration.retention_days", r.retention_days, 1, 3650)?;
        for (basis, days) in &r.retention_by_legal_basis {
            let key = format!("registration.retention_by_legal_basis.{basis}");
            let id = LegalBasisId::new(basis.trim())
                .map_err(|_| ConfigError::invalid(&key, "法令依據代碼格式錯誤"))?;
            s.retention
                .by_legal_basis
                .insert(id, range(&key, *days, 1, 3650)?);
        }
        for (case_type, days) in &r.retention_by_case_type {
            let key = format!("registration.retention_by_case_type.{case_type}");
            let t = case_type.trim();
            let slug = !t.is_empty()
                && t.len() <= 60
                && t.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !slug {
                return Err(ConfigError::invalid(
                    &key,
                    "案件類型代碼須為小寫英文字母、數字或底線（例如 periodic_review）",
                ));
            }
            s.retention
                .by_case_type
                .insert(t.to_string(), range(&key, *days, 1, 3650)?);
        }
        s.print_limit = range("registration.print_limit", r.print_limit, 1, 20)?;
        s.results_api = r.results_api;
        s.expiring_within_days = range(
            "registration.expiring_within_days",
            r.expiring_within_days,
            1,
            365,
        )?;
        within(
            "registration.max_batch_rows",
            r.max_batch_rows,
            1..=100_000,
            "",
        )?;
        s.max_batch_rows = r.max_batch_rows;
        let sn = &r.snooping;
        for (rule, key, code) in [
            (
                SnoopingRule::SubjectIsParty,
                "registration.snooping.subject_is_party",
                &sn.subject_is_party,
            ),
            (
                SnoopingRule::SubjectIsStaff,
                "registration.snooping.subject_is_staff",
                &sn.subject_is_staff,
            ),
            (
                SnoopingRule::SameSurname,
                "registration.snooping.same_surname",
                &sn.same_surname,
            ),
            (
                SnoopingRule::RestrictedList,
                "registration.snooping.restricted_list",
                &sn.restricted_list,
            ),
        ] {
            let action = SnoopingAction::parse_code(code.trim()).ok_or_else(|| {
                ConfigError::invalid(key, "須為 block、second_approver、warn 或 alert_ethics")
            })?;
            s.snooping.actions.insert(rule, action);
        }
        let agency = self.bli.agency_code.trim();
        if agency.is_empty()
            || agency.len() > 40
            || !agency
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(ConfigError::invalid(
                "bli.agency_code",
                "須為 1 至 40 個英數字、- 或 _",
            ));
        }
        s.agency_code = agency.to_string();
        Ok(s)
    }

    fn scim_token(&self) -> Result<Option<[u8; 32]>, ConfigError> {
        let Some(hex_text) = self.scim.token_sha256.as_deref().map(str::trim) else {
            return Ok(None);
        };
        let mut out = [0u8; 32];
        hex::decode_to_slice(hex_text, &mut out).map_err(|_| {
            ConfigError::invalid(
                "scim.token_sha256",
                "須為權杖 SHA-256 雜湊的 64 個十六進位字元",
            )
        })?;
        Ok(Some(out))
    }

    fn check_enrolment_and_crl(&self) -> Result<(), ConfigError> {
        let e = &self.enrolment;
        within(
            "enrolment.code_valid_hours",
            e.code_valid_hours,
            1..=24 * 30,
            "小時",
        )?;
        within("enrolment.max_failures", e.max_failures, 1..=20, "次")?;
        within(
            "enrolment.failure_window_minutes",
            e.failure_window_minutes,
            1..=1440,
            "分鐘",
        )?;
        for url in &self.crl.urls {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(ConfigError::invalid(
                    "crl.urls",
                    "須以 http:// 或 https:// 開頭",
                ));
            }
        }
        within(
            "crl.refresh_minutes",
            self.crl.refresh_minutes,
            1..=1440,
            "分鐘",
        )?;
        within(
            "crl.fetch_timeout_seconds",
            self.crl.fetch_timeout_seconds,
            1..=300,
            "秒",
        )?;
        Ok(())
    }

    pub fn validate(self) -> Result<Config, ConfigError> {
        let listen = self.server.listen_addr()?;
        self.storage.check()?;
        self.limits.check()?;
        self.audit.check()?;
        self.bli.check()?;
        self.session.check()?;
        self.auth.check()?;
        let tls = self.server_tls()?;
        let log_json = self.log.is_json()?;
        let unannounced_audits = self.unannounced_audits.settings()?;
        let permission = self.permission_policy()?;
        let scim_token_sha256 = self.scim_token()?;
        let registration = self.registration_settings()?;
        let oversight = self.oversight.validate()?;
        let screen_files = ScreenFiles {
            restricted_list: self.registration.restricted_list.clone(),
            staff_ids: self.registration.staff_ids.clone(),
        };
        self.check_enrolment_and_crl()?;
        let metrics_allow = self.metrics.validate()?;
        let key_dir = self
            .keys
            .dir
            .clone()
            .unwrap_or_else(|| self.storage.data_dir.join("keys"));
        Ok(Config {
            listen,
            demo: self.server.demo,
            tls,
            data_dir: self.storage.data_dir,
            key_dir,
            audit: self.audit,
            bli: self.bli,
            session: self.session,
            auth: self.auth,
            log_json,
            log_level: self.log.level,
            permission,
            scim_token_sha256,
            registration,
            screen_files,
            enrolment: self.enrolment,
            crl: self.crl,
            unannounced_audits,
            oversight,
            storage_url: self.storage.url,
            max_read_connections: self.storage.max_read_connections,
            auto_migrate: self.storage.auto_migrate,
            metrics_allow,
            limits: self.limits,
            citizen_report: self.citizen_report,
            citizen_self_service: self.citizen_self_service.address(listen)?,
            citizen_self_service_attempts_per_hour: self.citizen_self_service.max_attempts_per_hour,
            documents: self.documents,
            mail: crate::mail::MailSettings::from_raw(&self.mail)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_str(toml: &str) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("qw.toml");
        let toml = if toml.contains("[auth]") {
            toml.to_string()
        } else {
            format!("{toml}\n[auth]\ntrust_anchors = \"moica.pem\"\n")
        };
        std::fs::write(&path, toml).unwrap();
        Config::load(Some(&path))
    }

    #[test]
    fn defaults_are_valid_for_the_demo_and_production_needs_trust_anchors() {
        let err = RawConfig::default()
            .validate()
            .unwrap()
            .require_sign_in()
            .unwrap_err();
        assert!(matches!(err, ConfigError::Invalid { ref key, .. } if key == "auth.trust_anchors"));
        let mut raw = RawConfig::default();
        raw.server.demo = true;
        let c = raw.validate().unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.key_dir, PathBuf::from("./querywarden-data/keys"));
    }

    #[test]
    fn migrations_apply_by_default_and_metrics_answer_loopback_only() {
        let c = load_str("").unwrap();
        assert!(c.auto_migrate);
        let loopback: Vec<std::net::IpAddr> =
            vec!["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()];
        assert_eq!(c.metrics_allow, loopback);
        let c = load_str(
            "[storage]\nauto_migrate = false\n[metrics]\nallow = [\"10.0.0.5\", \"::ffff:10.0.0.6\"]\n",
        )
        .unwrap();
        assert!(!c.auto_migrate);
        // An IPv4 address written as IPv6-mapped is the same address.
        let allowed: Vec<std::net::IpAddr> =
            vec!["10.0.0.5".parse().unwrap(), "10.0.0.6".parse().unwrap()];
        assert_eq!(c.metrics_allow, allowed);
        let c = load_str("[metrics]\nallow = []\n").unwrap();
        assert!(c.metrics_allow.is_empty());
        let err = load_str("[metrics]\nallow = [\"10.0.0.0/8\"]\n").unwrap_err();
        assert!(
            matches!(err, ConfigError::Invalid { ref key, .. } if key == "metrics.allow"),
            "{err}"
        );
    }

    #[test]
    fn a_bad_value_names_its_key() {
        let err = load_str("[audit]\ncheckpoint_every_records = 0\n").unwrap_err();
        assert_eq!(
            err,
            ConfigError::invalid("audit.checkpoint_every_records", "須介於 1 與 1000000 之間")
        );
        let err = load_str("[session]\nlockout_minutes = 5\n").unwrap_err();
        assert!(
            matches!(err, ConfigError::Invalid { ref key, .. } if key == "session.lockout_minutes")
        );
    }

    #[test]
    fn the_pool_bound_and_the_rate_limits_are_read_and_checked() {
        let c = load_str(
            "[storage]\nmax_read_connections = 8\n[limits]\nexecution_per_address = 1200\n",
        )
        .unwrap();
        assert_eq!(c.max_read_connections, 8);
        assert_eq!(c.limits.execution_per_address, 1200);
        assert_eq!(
            c.limits.execution_per_account, 60,
            "the rest keep their defaults"
        );
        for (toml, key) in [
            (
                "[storage]\nmax_read_connections = 0\n",
                "storage.max_read_connections",
            ),
            (
                "[storage]\nmax_read_connections = 65\n",
                "storage.max_read_connections",
            ),
            (
                "[limits]\nunlock_per_address = 0\n",
                "limits.unlock_per_address",
            ),
        ] {
            let err = load_str(toml).unwrap_err();
            assert!(
                matches!(err, ConfigError::Invalid { key: ref k, .. } if k == key),
                "{toml}: {err:?}"
            );
        }
        let err = load_str("[limits]\nexecutions = 5\n").unwrap_err();
        assert!(err.to_string().contains("executions"), "{err}");
    }

    #[test]
    fn a_wrong_type_names_its_key() {
        let err = load_str("[bli]\nread_timeout_ms = \"soon\"\n").unwrap_err();
        assert!(
            matches!(err, ConfigError::Invalid { ref key, .. } if key == "bli.read_timeout_ms"),
            "{err:?}"
        );
    }

    #[test]
    fn an_unknown_key_is_refused() {
        let err = load_str("[server]\nlisten = \"127.0.0.1:1\"\nlistne = 1\n").unwrap_err();
        assert!(err.to_string().contains("listne"), "{err}");
    }

    #[test]
    fn oversight_thresholds_are_read_checked_and_unknown_keys_refused() {
        let c = load_str(
            "[oversight]\noffice_hours_start = \"08:30\"\noffice_hours_end = \"17:30\"\n\
             time_tolerance_minutes = 5\n[oversight.unit_thresholds]\nsocial-assistance = 500\n",
        )
        .unwrap();
        assert_eq!(c.oversight.thresholds.office_start_minute, 8 * 60 + 30);
        assert_eq!(c.oversight.thresholds.office_end_minute, 17 * 60 + 30);
        assert_eq!(
            c.oversight.time_tolerance,
            jiff::SignedDuration::from_mins(5)
        );
        assert_eq!(
            c.oversight.unit_thresholds.get("social-assistance"),
            Some(&500)
        );
        for (toml, key) in [
            (
                "office_hours_start = \"18:00\"",
                "oversight.office_hours_end",
            ),
            ("office_hours_end = \"25:00\"", "oversight.office_hours_end"),
            (
                "volume_baseline_factor = 0.5",
                "oversight.volume_baseline_factor",
            ),
            ("repeat_subject_count = 1", "oversight.repeat_subject_count"),
        ] {
            let err = load_str(&format!("[oversight]\n{toml}\n")).unwrap_err();
            assert!(
                matches!(err, ConfigError::Invalid { key: ref k, .. } if k == key),
                "{toml}: {err}"
            );
        }
        let err = load_str("[oversight]\noffice_hour_start = \"08:00\"\n").unwrap_err();
        assert!(err.to_string().contains("office_hour_start"), "{err}");
    }

    #[test]
    fn demo_mode_refuses_a_public_address() {
        let err = load_str("[server]\nlisten = \"0.0.0.0:8080\"\ndemo = true\n").unwrap_err();
        assert!(matches!(err, ConfigError::Invalid { ref key, .. } if key == "server.demo"));
    }

    #[test]
    fn mutual_tls_needs_the_server_certificate_and_key_and_names_the_missing_one() {
        let mode = "[auth]\ntrust_anchors = \"moica.pem\"\ncertificate_mode = \"mutual_tls\"\n";
        let err = load_str(mode).unwrap_err();
        assert!(
            matches!(err, ConfigError::Invalid { ref key, .. } if key == "server.tls_cert"),
            "{err:?}"
        );
        let err = load_str(&format!("[server]\ntls_cert = \"s.pem\"\n{mode}")).unwrap_err();
        assert!(
            matches!(err, ConfigError::Invalid { ref key, .. } if key == "server.tls_key"),
            "{err:?}"
        );
        let c = load_str(&format!(
            "[server]\ntls_cert = \"s.pem\"\ntls_key = \"s.key\"\n{mode}"
        ))
        .unwrap();
        assert_eq!(
            c.tls,
            Some(ServerTls {
                cert: PathBuf::from("s.pem"),
                key: PathBuf::from("s.key"),
            })
        );
        let no_anchors = "[auth]\ncertificate_mode = \"mutual_tls\"\n";
        let err = load_str(&format!(
            "[server]\ntls_cert = \"s.pem\"\ntls_key = \"s.key\"\n{no_anchors}"
        ))
        .unwrap_err();
        assert!(
            matches!(err, ConfigError::Invalid { ref key, .. } if key == "auth.trust_anchors"),
            "{err:?}"
        );
    }

    #[test]
    fn tls_files_without_mutual_tls_are_refused_not_ignored() {
        let err = load_str("[server]\ntls_cert = \"s.pem\"\ntls_key = \"s.key\"\n").unwrap_err();
        assert!(
            matches!(err, ConfigError::Invalid { ref key, .. } if key == "server.tls_cert"),
            "{err:?}"
        );
        assert_eq!(RawConfig::default().validate().unwrap().tls, None);
    }

    #[test]
    fn the_permission_and_scim_sections_are_validated_by_key() {
        let c = load_str(
            "[permission]\ndeputy_administrator = \"li.guowei\"\nreminder_working_days = 5\nidle_account_days = 60\n",
        )
        .unwrap();
        assert_eq!(
            c.permission.deputy_administrator,
            Some(Account::parse("li.guowei").unwrap())
        );
        assert_eq!(c.permission.reminder_working_days, 5);
        assert_eq!(c.permission.recertification.idle_account_days, 60);
        assert_eq!(c.scim_token_sha256, None);
        for (toml, key) in [
            (
                "[permission]\ndeputy_administrator = \"Not An Account!\"\n",
                "permission.deputy_administrator",
            ),
            (
                "[permission]\nreminder_working_days = 0\n",
                "permission.reminder_working_days",
            ),
            (
                "[permission]\nidle_account_days = 0\n",
                "permission.idle_account_days",
            ),
            ("[scim]\ntoken_sha256 = \"abc\"\n", "scim.token_sha256"),
        ] {
            let err = load_str(toml).unwrap_err();
            assert!(
                matches!(err, ConfigError::Invalid { key: ref k, .. } if k == key),
                "{toml}: {err:?}"
            );
        }
        let hex64 = "ab".repeat(32);
        let c = load_str(&format!("[scim]\ntoken_sha256 = \"{hex64}\"\n")).unwrap();
        assert_eq!(c.scim_token_sha256, Some([0xab; 32]));
    }

    #[test]
    fn the_registration_section_is_validated_by_key() {
        use querywarden_domain::snooping::{SnoopingAction, SnoopingRule};
        let c = load_str("").unwrap();
        assert_eq!(c.registration.approval_validity_days, 7);
        assert_eq!(c.registration.agency_code, "KHH-SOCBU");
        let c = load_str(
            "[registration]\napproval_validity_days = 3\nretention_days = 730\n\
             [registration.retention_by_legal_basis]\nsocial-assistance-44-3-1 = 90\n\
             [registration.snooping]\nsame_surname = \"alert_ethics\"\n",
        )
        .unwrap();
        assert_eq!(c.registration.approval_validity_days, 3);
        assert_eq!(c.registration.retention.default_days, 730);
        assert_eq!(c.registration.retention.by_legal_basis.len(), 1);
        assert_eq!(
            c.registration.snooping.actions[&SnoopingRule::SameSurname],
            SnoopingAction::AlertEthics
        );
        for (toml, key) in [
            (
                "[registration]\napproval_validity_days = 0\n",
                "registration.approval_validity_days",
            ),
            (
                "[registration]\nretention_days = 99999\n",
                "registration.retention_days",
            ),
            (
                "[registration.snooping]\nsubject_is_party = \"ignore\"\n",
                "registration.snooping.subject_is_party",
            ),
            ("[bli]\nagency_code = \"a b\"\n", "bli.agency_code"),
        ] {
            let err = load_str(toml).unwrap_err();
            assert!(
                matches!(err, ConfigError::Invalid { key: ref k, .. } if k == key),
                "{toml}: {err:?}"
            );
        }
    }

    #[test]
    fn retention_by_case_type_prints_and_the_results_api_are_configured_by_key() {
        let c = load_str("").unwrap();
        assert_eq!(c.registration.print_limit, 1);
        assert!(!c.registration.results_api);
        assert!(c.registration.retention.by_case_type.is_empty());
        let c = load_str(
            "[registration]\nprint_limit = 2\nresults_api = true\n\
             [registration.retention_by_case_type]\nperiodic_review = 400\n",
        )
        .unwrap();
        assert_eq!(c.registration.print_limit, 2);
        assert!(c.registration.results_api);
        assert_eq!(
            c.registration.retention.by_case_type.get("periodic_review"),
            Some(&400)
        );
        for (toml, key) in [
            (
                "[registration]\nprint_limit = 0\n",
                "registration.print_limit",
            ),
            (
                "[registration.retention_by_case_type]\n\"Periodic Review\" = 30\n",
                "registration.retention_by_case_type.Periodic Review",
            ),
            (
                "[registration.retention_by_case_type]\nperiodic_review = 0\n",
                "registration.retention_by_case_type.periodic_review",
            ),
        ] {
            let err = load_str(toml).unwrap_err();
            assert!(
                matches!(err, ConfigError::Invalid { key: ref k, .. } if k == key),
                "{toml}: {err:?}"
            );
        }
    }

    #[test]
    fn id_lists_skip_comments_and_name_a_bad_line_without_echoing_it() {
        let dir = tempfile::tempdir().unwrap();
        let c = load_str(&format!(
            "[registration]\nrestricted_list = \"{0}/vip.txt\"\nstaff_ids = \"{0}/staff.txt\"\n",
            dir.path().display()
        ))
        .unwrap();
        assert_eq!(
            c.screen_files.restricted_list,
            Some(dir.path().join("vip.txt"))
        );
        let path = dir.path().join("vip.txt");
        std::fs::write(
            &path,
            "\u{feff}# 特別注意名單\nF131104093  # 議員\n\n  E123456783\n",
        )
        .unwrap();
        let mut seen = Vec::new();
        let n = read_id_list("registration.restricted_list", &path, |id| {
            seen.push(id.masked())
        })
        .unwrap();
        assert_eq!((n, seen.len()), (2, 2));
        // Line 3 has a wrong check digit.
        std::fs::write(&path, "F131104093\n# ok\nE123456784\n").unwrap();
        let err = read_id_list("registration.restricted_list", &path, |_| {}).unwrap_err();
        let shown = err.to_string();
        assert!(
            matches!(err, ConfigError::Invalid { ref key, .. } if key == "registration.restricted_list"),
            "{err:?}"
        );
        assert!(shown.contains("第 3 行"), "{shown}");
        assert!(!shown.contains("E123456784") && !shown.contains("F131104093"));
        let err =
            read_id_list("registration.staff_ids", &dir.path().join("no.txt"), |_| {}).unwrap_err();
        assert!(
            matches!(err, ConfigError::Invalid { ref key, .. } if key == "registration.staff_ids")
        );
    }

    #[test]
    fn a_missing_file_is_an_error_not_defaults() {
        let err = Config::load(Some(Path::new("/nonexistent/qw.toml"))).unwrap_err();
        assert_eq!(err.code(), "config.read");
    }

    /// The configuration reference (docs/configuration.md) follows the type the file is read
    /// into: every key `RawConfig` accepts is documented, and every key the reference shows
    /// (written out or commented out) is one the type accepts, so neither can drift alone.
    #[test]
    fn the_configuration_reference_documents_every_key_and_only_keys_that_exist() {
        use std::collections::BTreeSet;

        // The type's keys: a struct is a section to walk into; a map (empty by default) or a
        // value is a key.
        fn walk(prefix: &str, v: &serde_json::Value, keys: &mut BTreeSet<String>) {
            if let serde_json::Value::Object(fields) = v {
                for (name, value) in fields {
                    let path = if prefix.is_empty() {
                        name.clone()
                    } else {
                        format!("{prefix}.{name}")
                    };
                    match value {
                        serde_json::Value::Object(inner) if !inner.is_empty() => {
                            walk(&path, value, keys)
                        }
                        _ => {
                            keys.insert(path);
                        }
                    }
                }
            }
        }
        let mut type_keys = BTreeSet::new();
        walk(
            "",
            &serde_json::to_value(RawConfig::default()).unwrap(),
            &mut type_keys,
        );

        let doc = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/configuration.md"),
        )
        .unwrap();
        let mut documented = BTreeSet::new();
        let mut in_toml = false;
        let mut section = String::new();
        for line in doc.lines() {
            if line.starts_with("```") {
                in_toml = line == "```toml";
                section.clear();
                continue;
            }
            if !in_toml {
                continue;
            }
            let line = line.trim();
            if let Some(rest) = line.strip_prefix('[') {
                section = rest.split(']').next().unwrap().trim().to_string();
                documented.insert(section.clone());
                continue;
            }
            // A key written out, or commented out as an example (`# key = value`); prose
            // comments start with a word that is not followed by `=`.
            let candidate = line.strip_prefix('#').map(str::trim_start).unwrap_or(line);
            let Some((name, _)) = candidate.split_once('=') else {
                continue;
            };
            let name = name.trim();
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                continue;
            }
            // Entries of a map section (`[oversight.unit_thresholds]`) are examples of its
            // values, not keys of the type.
            if type_keys.contains(&section) {
                continue;
            }
            documented.insert(if section.is_empty() {
                name.to_string()
            } else {
                format!("{section}.{name}")
            });
        }
        // A section header is documented when the reference shows it; only keys count.
        let sections: BTreeSet<String> = type_keys
            .iter()
            .flat_map(|k| {
                let parts: Vec<&str> = k.split('.').collect();
                (1..parts.len())
                    .map(|n| parts[..n].join("."))
                    .collect::<Vec<_>>()
            })
            .collect();
        let undocumented: Vec<&String> = type_keys.difference(&documented).collect();
        let unknown: Vec<&String> = documented
            .difference(&type_keys)
            .filter(|k| !sections.contains(*k))
            .collect();
        assert!(
            undocumented.is_empty(),
            "keys RawConfig accepts that docs/configuration.md does not show: {undocumented:?}"
        );
        assert!(
            unknown.is_empty(),
            "keys docs/configuration.md shows that RawConfig refuses: {unknown:?}"
        );
        assert!(
            type_keys.len() > 50,
            "the walk found only {} keys",
            type_keys.len()
        );
    }
}
