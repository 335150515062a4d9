//! The BLI wire format: request and reply JSON, and the pure parser [`parse_reply`].
//!
//! Security-sensitive: the request body is the only place the whole national ID leaves
//! querywarden (never a URL, header or log line). Every reply is untrusted input: the parser
//! denies unknown fields, checks the item, ranges and dates, and never panics (it is fuzzed by
//! `fuzz/fuzz_targets/parse_reply.rs`). The format is documented in `docs/bli-wire-format.md`;
//! the simulator encodes with the same types, so both sides cannot drift apart.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::error::ConnectorError;
use crate::item::BliItem;
use crate::records::{
    Amount, BenefitDetail, BenefitSummary, BenefitType, BliRecords, ContributionChange,
    EnrolmentSpell, InsuranceType, Payment, PaymentKind, PaymentStatus, PensionContribution,
    RatePct, UnemploymentEligibility, YearMonth, parse_iso_date,
};
use crate::request::QueryRequest;

/// Path of the query endpoint, relative to the configured base URL.
pub const QUERY_PATH: &str = "/api/v1/query";

/// Header carrying the request id both ways.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Most rows accepted in one reply.
pub const MAX_ROWS: usize = 10_000;

/// Longest text field accepted, in characters.
pub const MAX_TEXT_CHARS: usize = 200;

/// The request body of `POST /api/v1/query`.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WireQuery {
    pub request_id: String,
    pub item: String,
    /// The whole national ID: sent only here, in the body.
    pub subject_id: String,
    pub agency_code: String,
    pub operator_account: String,
}

impl std::fmt::Debug for WireQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WireQuery")
            .field("request_id", &self.request_id)
            .field("item", &self.item)
            .field("subject_id", &"<redacted>")
            .field("agency_code", &self.agency_code)
            .field("operator_account", &self.operator_account)
            .finish()
    }
}

impl WireQuery {
    pub(crate) fn from_request(req: &QueryRequest) -> Self {
        Self {
            request_id: req.request_id.clone(),
            item: req.item.code().to_owned(),
            subject_id: req.subject.expose_whole().to_owned(),
            agency_code: req.agency_code.clone(),
            operator_account: req.operator_account.clone(),
        }
    }
}

/// Reply statuses of a 200 answer.
pub(crate) const STATUS_OK: &str = "ok";
pub(crate) const STATUS_NOT_FOUND: &str = "not_found";
pub(crate) const STATUS_NOT_INSURED: &str = "not_insured";

/// The envelope of a 200 reply.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WireReply {
    pub item: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records: Option<serde_json::Value>,
}

/// The body of a non-200 reply.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WireErrorBody {
    pub error: WireErrorDetail,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WireErrorDetail {
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireSpell {
    insuring_unit_name: String,
    insurance_cert_no: String,
    insured_salary: i64,
    enrol_date: String,
    #[serde(default)]
    withdrawal_date: Option<String>,
    insurance_types: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireBenefitSummary {
    benefit_type: String,
    claim_date: String,
    #[serde(default)]
    paid_date: Option<String>,
    amount: i64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireBenefitDetail {
    benefit_type: String,
    claim_date: String,
    #[serde(default)]
    paid_date: Option<String>,
    amount: i64,
    #[serde(default)]
    days: Option<u32>,
    #[serde(default)]
    disability_grade: Option<u8>,
    #[serde(default)]
    remarks: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireUnemployment {
    eligible: bool,
    reason: String,
    #[serde(default)]
    period_from: Option<String>,
    #[serde(default)]
    period_to: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireContribution {
    employer: String,
    monthly_wage: i64,
    employer_rate_pct: f64,
    personal_rate_pct: f64,
    effective_date: String,
    change_kind: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WirePayment {
    month: String,
    kind: String,
    amount: i64,
    status: String,
}

/// Parses and validates the body of a `200 application/json` reply to a query for `item`.
///
/// `Ok` only for status `ok` with well-formed records of that item; `NotFound` / `NotInsured`
/// for those statuses; `Malformed` for anything else. Pure and total: any byte string gives a
/// result, never a panic.
pub fn parse_reply(item: BliItem, body: &[u8]) -> Result<BliRecords, ConnectorError> {
    parse_reply_checked(item, None, body)
}

/// As [`parse_reply`], and when `request_id` is given, a `request_id` echoed in the reply must
/// equal it.
pub(crate) fn parse_reply_checked(
    item: BliItem,
    request_id: Option<&str>,
    body: &[u8],
) -> Result<BliRecords, ConnectorError> {
    let reply: WireReply = serde_json::from_slice(body).map_err(|e| malformed_json(&e))?;
    if reply.item != item.code() {
        return Err(malformed("reply is for a different item than asked"));
    }
    if let (Some(asked), Some(echoed)) = (request_id, reply.request_id.as_deref())
        && asked != echoed
    {
        return Err(malformed("reply echoes a different request_id"));
    }
    let records = match reply.status.as_str() {
        STATUS_OK => reply
            .records
            .ok_or_else(|| malformed("status ok without records"))?,
        STATUS_NOT_FOUND | STATUS_NOT_INSURED => {
            if reply.records.as_ref().is_some_and(|r| !r.is_null()) {
                return Err(malformed("records present with a not-found status"));
            }
            return Err(if reply.status == STATUS_NOT_FOUND {
                ConnectorError::NotFound
            } else {
                ConnectorError::NotInsured
            });
        }
        _ => return Err(malformed("unknown status")),
    };
    decode_records(item, records)
}

fn decode_records(item: BliItem, value: serde_json::Value) -> Result<BliRecords, ConnectorError> {
    if let serde_json::Value::Array(rows) = &value
        && rows.len() > MAX_ROWS
    {
        return Err(malformed("too many rows"));
    }
    Ok(match item {
        BliItem::C0101 => BliRecords::C0101(rows(value, spell)?),
        BliItem::B0101 => BliRecords::B0101(rows(value, benefit_summary)?),
        BliItem::B0201 => BliRecords::B0201(rows(value, benefit_detail)?),
        BliItem::B0301 => {
            let w: WireUnemployment =
                serde_json::from_value(value).map_err(|e| malformed_json(&e))?;
            BliRecords::B0301(unemployment(w).map_err(|r| malformed(&format!("records: {r}")))?)
        }
        BliItem::P0301 => BliRecords::P0301(rows(value, contribution)?),
        BliItem::N0101 => BliRecords::N0101(rows(value, payment)?),
        BliItem::T0101 => BliRecords::T0101(rows(value, payment)?),
        BliItem::B0401 => BliRecords::B0401(rows(value, payment)?),
        BliItem::P0401 => BliRecords::P0401(rows(value, payment)?),
    })
}

fn rows<W, T>(
    value: serde_json::Value,
    convert: fn(W) -> Result<T, String>,
) -> Result<Vec<T>, ConnectorError>
where
    W: serde::de::DeserializeOwned,
{
    let wire: Vec<W> = serde_json::from_value(value).map_err(|e| malformed_json(&e))?;
    wire.into_iter()
        .enumerate()
        .map(|(i, w)| convert(w).map_err(|r| malformed(&format!("records[{i}].{r}"))))
        .collect()
}

fn spell(w: WireSpell) -> Result<EnrolmentSpell, String> {
    let enrol_date = date("enrol_date", &w.enrol_date)?;
    let withdrawal_date = opt_date("withdrawal_date", w.withdrawal_date.as_deref())?;
    if withdrawal_date.is_some_and(|d| d < enrol_date) {
        return Err("withdrawal_date: before enrol_date".into());
    }
    let mut insurance_types = BTreeSet::new();
    for t in &w.insurance_types {
        let t = InsuranceType::parse_code(t).ok_or("insurance_types: unknown code")?;
        insurance_types.insert(t);
    }
    if insurance_types.is_empty() {
        return Err("insurance_types: empty".into());
    }
    Ok(EnrolmentSpell {
        insuring_unit_name: text("insuring_unit_name", w.insuring_unit_name)?,
        insurance_cert_no: text("insurance_cert_no", w.insurance_cert_no)?,
        insured_salary: amount("insured_salary", w.insured_salary)?,
        enrol_date,
        withdrawal_date,
        insurance_types,
    })
}

fn benefit_summary(w: WireBenefitSummary) -> Result<BenefitSummary, String> {
    Ok(BenefitSummary {
        benefit_type: BenefitType::parse_code(&w.benefit_type)
            .ok_or("benefit_type: unknown code")?,
        claim_date: date("claim_date", &w.claim_date)?,
        paid_date: opt_date("paid_date", w.paid_date.as_deref())?,
        amount: amount("amount", w.amount)?,
    })
}

fn benefit_detail(w: WireBenefitDetail) -> Result<BenefitDetail, String> {
    if w.disability_grade.is_some_and(|g| !(1..=15).contains(&g)) {
        return Err("disability_grade: outside 1..=15".into());
    }
    if w.days.is_some_and(|d| d > 36_600) {
        return Err("days: out of range".into());
    }
    Ok(BenefitDetail {
        benefit_type: BenefitType::parse_code(&w.benefit_type)
            .ok_or("benefit_type: unknown code")?,
        claim_date: date("claim_date", &w.claim_date)?,
        paid_date: opt_date("paid_date", w.paid_date.as_deref())?,
        amount: amount("amount", w.amount)?,
        days: w.days,
        disability_grade: w.disability_grade,
        remarks: w.remarks.map(|r| text("remarks", r)).transpose()?,
    })
}

fn unemployment(w: WireUnemployment) -> Result<UnemploymentEligibility, String> {
    let period_from = opt_date("period_from", w.period_from.as_deref())?;
    let period_to = opt_date("period_to", w.period_to.as_deref())?;
    if let (Some(from), Some(to)) = (period_from, period_to)
        && to < from
    {
        return Err("period_to: before period_from".into());
    }
    Ok(UnemploymentEligibility {
        eligible: w.eligible,
        reason: text("reason", w.reason)?,
        period_from,
        period_to,
    })
}

fn contribution(w: WireContribution) -> Result<PensionContribution, String> {
    Ok(PensionContribution {
        employer: text("employer", w.employer)?,
        monthly_wage: amount("monthly_wage", w.monthly_wage)?,
        employer_rate: RatePct::from_percent(w.employer_rate_pct)
            .ok_or("employer_rate_pct: outside 0–100 or finer than 0.01")?,
        personal_rate: RatePct::from_percent(w.personal_rate_pct)
            .ok_or("personal_rate_pct: outside 0–100 or finer than 0.01")?,
        effective_date: date("effective_date", &w.effective_date)?,
        change_kind: ContributionChange::parse_code(&w.change_kind)
            .ok_or("change_kind: unknown code")?,
    })
}

fn payment(w: WirePayment) -> Result<Payment, String> {
    Ok(Payment {
        month: YearMonth::parse(&w.month).ok_or("month: not YYYY-MM")?,
        kind: PaymentKind::parse_code(&w.kind).ok_or("kind: unknown code")?,
        amount: amount("amount", w.amount)?,
        status: PaymentStatus::parse_code(&w.status).ok_or("status: unknown code")?,
    })
}

fn date(field: &str, s: &str) -> Result<jiff::civil::Date, String> {
    parse_iso_date(s).ok_or_else(|| format!("{field}: not a date YYYY-MM-DD in 1900–2100"))
}

fn opt_date(field: &str, s: Option<&str>) -> Result<Option<jiff::civil::Date>, String> {
    s.map(|s| date(field, s)).transpose()
}

fn amount(field: &str, v: i64) -> Result<Amount, String> {
    Amount::new(v).ok_or_else(|| format!("{field}: outside 0..={}", Amount::MAX))
}

fn text(field: &str, s: String) -> Result<String, String> {
    if s.chars().count() > MAX_TEXT_CHARS {
        return Err(format!("{field}: longer than {MAX_TEXT_CHARS} characters"));
    }
    if s.chars().any(char::is_control) {
        return Err(format!("{field}: contains control characters"));
    }
    Ok(s)
}

fn malformed(reason: &str) -> ConnectorError {
    ConnectorError::Malformed(reason.to_owned())
}

/// A reason from a serde_json error with any quoted value scrubbed, so upstream data cannot
/// reach a log through it.
fn malformed_json(e: &serde_json::Error) -> ConnectorError {
    let kind = match e.classify() {
        serde_json::error::Category::Io => "I/O",
        serde_json::error::Category::Syntax => "JSON syntax",
        serde_json::error::Category::Data => "JSON shape",
        serde_json::error::Category::Eof => "JSON truncated",
    };
    let message = scrub_quoted(&e.to_string());
    ConnectorError::Malformed(format!("{kind}: {message}"))
}

/// Replaces every `"…"` span with `"…"`. Field names (in backquotes) stay readable.
pub(crate) fn scrub_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut inside = false;
    for c in s.chars() {
        if c == '"' {
            if inside {
                out.push('…');
            }
            out.push('"');
            inside = !inside;
        } else if !inside {
            out.push(c);
        }
    }
    out.chars().take(300).collect()
}

/// Reads the upstream error code from a non-200 body; only `[A-Za-z0-9._-]{1,64}` is kept.
pub(crate) fn parse_error_code(body: &[u8]) -> Option<String> {
    let parsed: WireErrorBody = serde_json::from_slice(body).ok()?;
    let code = parsed.error.code;
    let ok = !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    ok.then_some(code)
}

// ---- encoding, used by the simulator -------------------------------------------------------

fn iso(d: jiff::civil::Date) -> String {
    d.strftime("%Y-%m-%d").to_string()
}

fn records_value(records: &BliRecords) -> serde_json::Value {
    let result = match records {
        BliRecords::C0101(v) => serde_json::to_value(
            v.iter()
                .map(|s| WireSpell {
                    insuring_unit_name: s.insuring_unit_name.clone(),
                    insurance_cert_no: s.insurance_cert_no.clone(),
                    insured_salary: s.insured_salary.ntd(),
                    enrol_date: iso(s.enrol_date),
                    withdrawal_date: s.withdrawal_date.map(iso),
                    insurance_types: s
                        .insurance_types
                        .iter()
                        .map(|t| t.code().to_owned())
                        .collect(),
                })
                .collect::<Vec<_>>(),
        ),
        BliRecords::B0101(v) => serde_json::to_value(
            v.iter()
                .map(|b| WireBenefitSummary {
                    benefit_type: b.benefit_type.code().to_owned(),
                    claim_date: iso(b.claim_date),
                    paid_date: b.paid_date.map(iso),
                    amount: b.amount.ntd(),
                })
                .collect::<Vec<_>>(),
        ),
        BliRecords::B0201(v) => serde_json::to_value(
            v.iter()
                .map(|b| WireBenefitDetail {
                    benefit_type: b.benefit_type.code().to_owned(),
                    claim_date: iso(b.claim_date),
                    paid_date: b.paid_date.map(iso),
                    amount: b.amount.ntd(),
                    days: b.days,
                    disability_grade: b.disability_grade,
                    remarks: b.remarks.clone(),
                })
                .collect::<Vec<_>>(),
        ),
        BliRecords::B0301(u) => serde_json::to_value(WireUnemployment {
            eligible: u.eligible,
            reason: u.reason.clone(),
            period_from: u.period_from.map(iso),
            period_to: u.period_to.map(iso),
        }),
        BliRecords::P0301(v) => serde_json::to_value(
            v.iter()
                .map(|c| WireContribution {
                    employer: c.employer.clone(),
                    monthly_wage: c.monthly_wage.ntd(),
                    employer_rate_pct: c.employer_rate.percent(),
                    personal_rate_pct: c.personal_rate.percent(),
                    effective_date: iso(c.effective_date),
                    change_kind: c.change_kind.code().to_owned(),
                })
                .collect::<Vec<_>>(),
        ),
        BliRecords::N0101(v)
        | BliRecords::T0101(v)
        | BliRecords::B0401(v)
        | BliRecords::P0401(v) => serde_json::to_value(
            v.iter()
                .map(|p| WirePayment {
                    month: p.month.to_string(),
                    kind: p.kind.code().to_owned(),
                    amount: p.amount.ntd(),
                    status: p.status.code().to_owned(),
                })
                .collect::<Vec<_>>(),
        ),
    };
    result.unwrap_or(serde_json::Value::Null)
}

/// The body of a `200` reply carrying records.
pub(crate) fn encode_ok(request_id: &str, records: &BliRecords) -> Vec<u8> {
    encode(&WireReply {
        item: records.item().code().to_owned(),
        status: STATUS_OK.to_owned(),
        request_id: Some(request_id.to_owned()),
        records: Some(records_value(records)),
    })
}

/// The body of a `200` reply with a business status and no records.
pub(crate) fn encode_status(item: BliItem, request_id: &str, status: &str) -> Vec<u8> {
    encode(&WireReply {
        item: item.code().to_owned(),
        status: status.to_owned(),
        request_id: Some(request_id.to_owned()),
        records: None,
    })
}

/// The body of an error reply.
pub(crate) fn encode_error(code: &str, message: &str) -> Vec<u8> {
    encode(&WireErrorBody {
        error: WireErrorDetail {
            code: code.to_owned(),
            message: Some(message.to_owned()),
        },
    })
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubbing_removes_quoted_values() {
        assert_eq!(
            scrub_quoted(r#"invalid type: string "A123456789", expected u8"#),
            r#"invalid type: string "…", expected u8"#
        );
    }

    #[test]
    fn a_reply_for_another_item_is_malformed() {
        let body = br#"{"item":"B0101","status":"ok","records":[]}"#;
        assert!(matches!(
            parse_reply(BliItem::C0101, body),
            Err(ConnectorError::Malformed(_))
        ));
        assert_eq!(
            parse_reply(BliItem::B0101, body),
            Ok(BliRecords::B0101(vec![]))
        );
    }

    #[test]
    fn unknown_fields_are_malformed_at_any_level() {
        let top = br#"{"item":"N0101","status":"ok","records":[],"extra":1}"#;
        assert!(matches!(
            parse_reply(BliItem::N0101, top),
            Err(ConnectorError::Malformed(_))
        ));
        let row = br#"{"item":"N0101","status":"ok","records":[{"month":"2025-01","kind":"np_old_age_annuity","amount":1,"status":"paid","x":1}]}"#;
        assert!(matches!(
            parse_reply(BliItem::N0101, row),
            Err(ConnectorError::Malformed(_))
        ));
    }

    #[test]
    fn business_statuses_map_to_their_errors() {
        let nf = br#"{"item":"C0101","status":"not_found"}"#;
        assert_eq!(
            parse_reply(BliItem::C0101, nf),
            Err(ConnectorError::NotFound)
        );
        let ni = br#"{"item":"C0101","status":"not_insured","records":null}"#;
        assert_eq!(
            parse_reply(BliItem::C0101, ni),
            Err(ConnectorError::NotInsured)
        );
    }

    #[test]
    fn out_of_range_amounts_are_malformed() {
        let body = br#"{"item":"T0101","status":"ok","records":[{"month":"2025-01","kind":"farmer_allowance","amount":-5,"status":"paid"}]}"#;
        assert!(matches!(
            parse_reply(BliItem::T0101, body),
            Err(ConnectorError::Malformed(_))
        ));
    }
}
