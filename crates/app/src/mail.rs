//! The optional e-mail digest (待辦事項通知信): once a day, from `mail.digest_hour` Asia/Taipei,
//! each person who chose it and has something waiting receives one message saying how many
//! things of each kind wait, with a link to the home page — and nothing else. Off unless
//! `[mail] enabled = true`.
//!
//! Security-sensitive: a message leaves the system, so it carries **no personal data at
//! all** — no names (not even the recipient's), no national IDs, no registration, request or
//! case numbers: counts per kind and a link only, zh-TW first, then English. The recipient's
//! address is staff personal data too: it is kept for sending only and never written to the
//! audit trail (the records name the person by account, the number of items, the attempt
//! and the outcome).
//!
//! Sending is once a day per person across restarts and instances: the day's digest is
//! claimed in storage before it is sent (see `querywarden_storage`'s `mail_digests`); a
//! failure is recorded and audited, and the next run (the hourly jobs) tries again. Nothing
//! here can stop the server: every failure is an outcome, never a panic.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp, tz::TimeZone};
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::{Address, SmtpTransport, Transport};
use querywarden_domain::audit_event::{Actor, AuditAction, AuditEvent, Outcome};
use querywarden_domain::org::{Person, StaffStatus};
use querywarden_domain::roc_date::taipei_date;

use crate::config::{ConfigError, RawMail};
use crate::worklist::Task;
use crate::{App, AppError};

/// How the SMTP connection is protected (`mail.tls`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailTls {
    /// STARTTLS required (submission port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// Plain SMTP: only to a relay on this machine's loopback address.
    None,
}

/// `[mail]`, validated.
#[derive(Debug, Clone)]
pub struct MailSettings {
    pub smtp_host: String,
    pub smtp_port: u16,
    pub tls: MailTls,
    pub from: Mailbox,
    /// Without a trailing `/`.
    pub base_url: String,
    /// 0–23, Asia/Taipei.
    pub digest_hour: i8,
}

impl MailSettings {
    /// `None` when `[mail]` is off; a wrong value stops start-up with its key named.
    pub fn from_raw(raw: &RawMail) -> Result<Option<MailSettings>, ConfigError> {
        if !raw.enabled {
            return Ok(None);
        }
        let host = raw.smtp_host.trim();
        if host.is_empty() {
            return Err(ConfigError::invalid(
                "mail.smtp_host",
                "啟用電子郵件通知時須設定 SMTP 主機",
            ));
        }
        crate::config::within("mail.smtp_port", raw.smtp_port, 1..=65535, "")?;
        let tls = match raw.tls.as_str() {
            "starttls" => MailTls::StartTls,
            "tls" => MailTls::Tls,
            "none" => MailTls::None,
            _ => {
                return Err(ConfigError::invalid(
                    "mail.tls",
                    "須為 \"starttls\"、\"tls\" 或 \"none\"",
                ));
            }
        };
        let loopback = matches!(host, "localhost" | "127.0.0.1" | "::1" | "[::1]");
        if tls == MailTls::None && !loopback {
            return Err(ConfigError::invalid(
                "mail.tls",
                "未加密的 SMTP 只能送往本機（localhost）的轉信主機；其他主機請用 starttls 或 tls",
            ));
        }
        let from: Mailbox = raw.from.trim().parse().map_err(|_| {
            ConfigError::invalid(
                "mail.from",
                "須為寄件地址，例如 查調守門員 <querywarden@example.gov.tw>",
            )
        })?;
        let base_url = raw.base_url.trim().trim_end_matches('/').to_string();
        let scheme_ok = base_url.starts_with("https://")
            || (base_url.starts_with("http://") && loopback_url(&base_url));
        if !scheme_ok || base_url.contains(char::is_whitespace) {
            return Err(ConfigError::invalid(
                "mail.base_url",
                "須為系統的 https:// 網址（信中的連結），例如 https://qw.example.gov.tw",
            ));
        }
        crate::config::within("mail.digest_hour", raw.digest_hour, 0..=23, "")?;
        Ok(Some(MailSettings {
            smtp_host: host.to_string(),
            smtp_port: raw.smtp_port,
            tls,
            from,
            base_url,
            digest_hour: i8::try_from(raw.digest_hour).unwrap_or(8),
        }))
    }

    fn transport(&self) -> Result<SmtpTransport, String> {
        let builder = match self.tls {
            MailTls::StartTls => {
                SmtpTransport::starttls_relay(&self.smtp_host).map_err(|e| e.to_string())?
            }
            MailTls::Tls => SmtpTransport::relay(&self.smtp_host).map_err(|e| e.to_string())?,
            MailTls::None => SmtpTransport::builder_dangerous(&self.smtp_host),
        };
        Ok(builder
            .port(self.smtp_port)
            .timeout(Some(Duration::from_secs(30)))
            .build())
    }
}

/// An `http://` base URL is accepted only for this machine (a demo or a test).
fn loopback_url(url: &str) -> bool {
    let rest = url.trim_start_matches("http://");
    ["localhost", "127.0.0.1", "[::1]"].iter().any(|h| {
        rest == *h || rest.starts_with(&format!("{h}:")) || rest.starts_with(&format!("{h}/"))
    })
}

querywarden_domain::code_enum! {
    /// What a person chose to receive (帳號設定 › 電子郵件通知).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum DigestChoice {
        /// No mail.
        None = "none";
        /// One message a day when something waits.
        Daily = "daily";
    }
}

/// Why a mail setting was refused; the code is the same for the page and the API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailRefusal {
    #[error("電子郵件地址格式不正確，請輸入如 name@example.gov.tw 的地址")]
    AddressInvalid,
    #[error("選擇每日摘要時須填寫電子郵件地址")]
    AddressRequired,
    #[error("通知方式須為「不寄送」或「每日摘要」")]
    ChoiceInvalid,
}

impl MailRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            Self::AddressInvalid => "mail.address_invalid",
            Self::AddressRequired => "mail.address_required",
            Self::ChoiceInvalid => "mail.choice_invalid",
        }
    }

    pub fn message_en(&self) -> &'static str {
        match self {
            Self::AddressInvalid => "The e-mail address is not valid (name@example.gov.tw).",
            Self::AddressRequired => "The daily digest needs an e-mail address.",
            Self::ChoiceInvalid => "The choice must be none or daily.",
        }
    }

    /// The form field the refusal is about.
    pub fn field(&self) -> &'static str {
        match self {
            Self::AddressInvalid | Self::AddressRequired => "address",
            Self::ChoiceInvalid => "digest",
        }
    }
}

/// A person's mail setting as the account page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailPreference {
    pub address: String,
    pub digest: DigestChoice,
}

/// `SetMailPreferenceRequest`: the account page's form and the API's body, as typed.
#[derive(Debug, Clone, Default)]
pub struct SetMailPreferenceRequest {
    pub address: String,
    pub digest: String,
}

/// Parses an address: `local@domain`, at most 254 characters (RFC 5321 §4.5.3.1.3), no
/// display name; an empty one is no address.
fn parse_address(text: &str) -> Result<Option<Address>, MailRefusal> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.len() > 254 {
        return Err(MailRefusal::AddressInvalid);
    }
    let address: Address = text.parse().map_err(|_| MailRefusal::AddressInvalid)?;
    // lettre accepts a bare domain literal or a dotless domain; a work address has a dot.
    if !address.domain().contains('.') || address.domain().starts_with('[') {
        return Err(MailRefusal::AddressInvalid);
    }
    Ok(Some(address))
}

impl App {
    /// `person`'s mail setting (none chosen: no address, no mail).
    pub async fn mail_preference(&self, person: &Person) -> Result<MailPreference, AppError> {
        let row = self.store().mail_preference(person.id).await?;
        Ok(match row {
            Some(r) => MailPreference {
                address: r.address,
                digest: DigestChoice::parse_code(&r.digest).unwrap_or(DigestChoice::None),
            },
            None => MailPreference {
                address: String::new(),
                digest: DigestChoice::None,
            },
        })
    }

    /// The person sets their own address and digest choice. Refusals change nothing and are
    /// audited with their code; neither the record nor the log carries the address.
    pub async fn set_mail_preference(
        &self,
        person: &Person,
        form: &SetMailPreferenceRequest,
        now: Timestamp,
        request_id: &str,
    ) -> Result<Result<MailPreference, MailRefusal>, AppError> {
        let event = AuditEvent::system(now, AuditAction::MailPreferenceChanged, request_id)
            .by(Actor {
                person: person.id,
                role: None,
            })
            .on("account", person.account.as_str());
        let parsed = DigestChoice::parse_code(form.digest.trim())
            .ok_or(MailRefusal::ChoiceInvalid)
            .and_then(|digest| Ok((digest, parse_address(&form.address)?)))
            .and_then(|(digest, address)| match (digest, address) {
                (DigestChoice::Daily, None) => Err(MailRefusal::AddressRequired),
                (digest, address) => Ok((digest, address)),
            });
        let mut tx = self.store().begin().await?;
        let (digest, address) = match parsed {
            Ok(p) => p,
            Err(refusal) => {
                tx.append_audit(&event.outcome(Outcome::Refused(refusal.code().into())))
                    .await?;
                tx.commit().await?;
                return Ok(Err(refusal));
            }
        };
        let address = address.map(|a| a.to_string()).unwrap_or_default();
        tx.set_mail_preference(person.id, &address, digest.code(), now)
            .await?;
        tx.append_audit(
            &event
                .detail("digest", digest.code())
                .detail("address_set", !address.is_empty()),
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(MailPreference { address, digest }))
    }
}

/// The Asia/Taipei day whose digest is due at `now`, once the digest hour has come.
pub fn digest_day(now: Timestamp, digest_hour: i8) -> Option<String> {
    let local = now.to_zoned(TimeZone::get("Asia/Taipei").unwrap_or(TimeZone::UTC));
    (local.hour() >= digest_hour).then(|| taipei_date(now).civil().to_string())
}

/// A task's name in the digest, zh-TW and English (no rule numbers: the message is short).
fn task_names(task: Task) -> (&'static str, &'static str) {
    match task {
        Task::ApproveRegistration => ("查調登記待核准", "query registrations to approve"),
        Task::ExecuteRegistration => ("已核准查調待執行", "approved queries to run"),
        Task::DecideApplication => (
            "權限申請表（附表1）待簽核",
            "permission applications (Form 1) to decide",
        ),
        Task::ReviewRequest => (
            "他機關查調申請（附表3）待審查",
            "requests from other agencies (Form 3) to review",
        ),
        Task::SignRequest => (
            "他機關查調申請（附表3）待同意或核章",
            "requests from other agencies (Form 3) to consent to or sign",
        ),
        Task::ConcludeQuarterlyReview => (
            "每季使用紀錄審查待完成",
            "quarterly usage review to complete",
        ),
        Task::SubmitAuditDocuments => ("不定期稽核佐證資料待附送", "audit documents to submit"),
        Task::RecordAuditOpinion => ("不定期稽核意見待填", "audit opinions to record"),
        Task::SignAudit => (
            "稽核紀錄表（附表4）待核章",
            "audit records (Form 4) to sign",
        ),
        Task::ReviewAudit => (
            "稽核紀錄表（附表4）待核閱",
            "audit records (Form 4) to review",
        ),
        Task::WriteCorrectiveReport => ("檢討報告待提出", "corrective reports to write"),
        Task::DecideCorrectiveReport => ("檢討報告待審", "corrective reports to decide"),
    }
}

/// The digest's subject and body: counts per kind and the link, zh-TW first, then English.
/// Built from counts alone, so no name, ID or number can reach it.
pub fn digest_text(
    counts: &BTreeMap<Task, usize>,
    unread_notices: usize,
    base_url: &str,
) -> (String, String) {
    let total: usize = counts.values().sum();
    let subject = format!("【查調守門員】您有 {total} 件待辦事項 / {total} item(s) wait for you");
    let home = format!("{base_url}/");
    let settings = format!("{base_url}/account/mail");
    let mut body = String::from("您好：\n\n查調守門員有下列事項待您處理：\n");
    for (task, n) in counts {
        body.push_str(&format!("  ・{}：{n} 件\n", task_names(*task).0));
    }
    if unread_notices > 0 {
        body.push_str(&format!("  ・未讀通知：{unread_notices} 則\n"));
    }
    body.push_str(&format!(
        "\n請登入系統查看：{home}\n\n本信由系統每日自動寄出，不含任何個人資料。\
         如不需再收到，請至「帳號設定 › 電子郵件通知」變更：{settings}\n\n---\n\n"
    ));
    body.push_str("Hello,\n\nThe following wait for you in querywarden:\n");
    for (task, n) in counts {
        body.push_str(&format!("  - {}: {n}\n", task_names(*task).1));
    }
    if unread_notices > 0 {
        body.push_str(&format!("  - unread notices: {unread_notices}\n"));
    }
    body.push_str(&format!(
        "\nSign in to see them: {home}\n\nThis daily message is sent automatically and carries \
         no personal data. To stop it, change your choice under Account › E-mail notices: \
         {settings}\n"
    ));
    (subject, body)
}

/// A claim older than this is taken to be one whose sender stopped (a crash or a restart
/// mid-send), and is claimed again.
const STALE_CLAIM: SignedDuration = SignedDuration::from_mins(30);

/// The daily digest job: sends the day's digest to every person who chose it, is in
/// service, and has something waiting; returns how many were sent. A failed send is
/// recorded and audited and tried again on the next run; if any failed, the job reports
/// an error (so operators see it in the log and the metrics) after trying everyone.
pub async fn send_due_digests(
    app: &App,
    now: Timestamp,
    request_id: &str,
) -> Result<usize, AppError> {
    let Some(settings) = &app.config().mail else {
        return Ok(0);
    };
    let Some(day) = digest_day(now, settings.digest_hour) else {
        return Ok(0);
    };
    let store = app.store();
    let subscribers = store.daily_digest_subscribers().await?;
    if subscribers.is_empty() {
        return Ok(0);
    }
    let transport = settings
        .transport()
        .map_err(|e| AppError::unreadable("mail.smtp_host", e))?;
    let (mut sent, mut failed) = (0, 0);
    for sub in subscribers {
        let Some(person) = store.person(sub.person).await? else {
            continue;
        };
        if person.status != StaffStatus::Active {
            continue;
        }
        let list = app.worklist(&person, now).await?;
        let counts = list.counts();
        let items = list.items.len() + list.notices.len();
        if items == 0 {
            continue;
        }
        let mut tx = store.begin().await?;
        let claimed = tx
            .claim_mail_digest(
                person.id,
                &day,
                i64::try_from(items).unwrap_or(i64::MAX),
                now,
                now - STALE_CLAIM,
            )
            .await?;
        tx.commit().await?;
        if !claimed {
            continue;
        }
        let attempt = store
            .mail_digest(person.id, &day)
            .await?
            .map_or(1, |d| d.attempts);
        let outcome = send_one(
            &transport,
            settings,
            &sub.address,
            &counts,
            list.notices.len(),
        )
        .await;
        let ok = outcome.is_ok();
        let mut event = AuditEvent::system(now, AuditAction::MailDigestSent, request_id)
            .on("account", person.account.as_str())
            .detail("items", items)
            .detail("attempt", attempt)
            .detail("day", day.clone());
        if let Err(kind) = &outcome {
            tracing::warn!(
                person = person.id.get(),
                error = kind.as_str(),
                "mail digest not sent"
            );
            event = event.outcome(Outcome::Failed(format!("mail.{kind}")));
        }
        let mut tx = store.begin().await?;
        tx.finish_mail_digest(person.id, &day, ok).await?;
        tx.append_audit(&event).await?;
        tx.commit().await?;
        if ok {
            sent += 1;
        } else {
            failed += 1;
        }
    }
    if failed > 0 {
        return Err(AppError::unreadable(
            "mail digest",
            format!("{failed} digest(s) not sent, {sent} sent; tried again on the next run"),
        ));
    }
    Ok(sent)
}

/// Builds and sends one digest; the error is a short kind (`address`, `message`,
/// `smtp_refused` for a permanent refusal, `smtp_failed` for the rest),
/// never the address or the server's words (which may echo it).
async fn send_one(
    transport: &SmtpTransport,
    settings: &MailSettings,
    address: &str,
    counts: &BTreeMap<Task, usize>,
    unread_notices: usize,
) -> Result<(), String> {
    let to: Mailbox = address.parse().map_err(|_| "address".to_string())?;
    let (subject, body) = digest_text(counts, unread_notices, &settings.base_url);
    let message = Message::builder()
        .from(settings.from.clone())
        .to(to)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|_| "message".to_string())?;
    // The blocking SMTP client on tokio's blocking pool: the server's workers never wait on
    // the relay (at most `timeout` per message).
    let transport = transport.clone();
    let sent = tokio::task::spawn_blocking(move || transport.send(&message))
        .await
        .map_err(|_| "smtp_failed".to_string())?;
    sent.map(|_| ()).map_err(|e| {
        if e.is_permanent() {
            "smtp_refused".to_string()
        } else {
            "smtp_failed".to_string()
        }
    })
}
