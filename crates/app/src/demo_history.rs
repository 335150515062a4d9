//! DEMO only (compiled with the `demo` feature): a quarter of lived-in history for
//! `querywarden demo` on its first run (示範歷史資料). Not security-sensitive in itself, but it
//! writes only through the real use cases — Form 1, Form 2 registrations, approvals,
//! executions, prints, the destruction job, the quarterly review (§7), an unannounced audit
//! (Form 4, §8), a violation case (§8 ¶2) and an HR import (§2) — so every record joins the
//! audit chain the way a real one would and `querywarden audit verify` passes on it.
//!
//! Deterministic: a fixed seed chooses subjects, items and minutes; the dates count back from
//! the day the demo is first started (the ten-day deadline must still be running). Subjects
//! are invented; their IDs pass the check digit and are none of the demo staff's.
//!
//! The quarter's sign-ins are recorded as sessions only (a card signature cannot be replayed
//! for a past day); everything done within them goes through the use cases.
//!
//! The history is written after the bureau was initialised (`App::open` does that at once),
//! so its records follow the initialisation record in the chain although they carry the
//! earlier dates of the quarter they describe.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use querywarden_bli::simulator::SplitMix64;
use querywarden_domain::NationalId;
use querywarden_domain::catalogue::ServiceItemCode;
use querywarden_domain::deadline::HolidayCalendar;
use querywarden_domain::org::Person;
use querywarden_domain::oversight::review::ReviewRefusal;
use querywarden_domain::oversight::violation::ViolationRefusal;
use querywarden_domain::registration::RegistrationNo;
use querywarden_domain::roc_date::{RocDate, taipei_date, taipei_day_start_utc};
use querywarden_storage::{SessionRow, Store};

use crate::auth::SignedIn;
use crate::oversight::review::{self, ConcludeFindingRequest};
use crate::oversight::unannounced_audit::{self, OpenAuditRequest};
use crate::oversight::violation::{self, FileViolationRequest, ViolationSource};
use crate::permission::{self, Op};
use crate::registration::{self, Denied, QueryPurpose, RegisterQueryRequest};
use crate::{App, AppError, execution};

/// The seed of every choice the history makes (民國 115 年).
pub const HISTORY_SEED: u64 = 115;

/// How far back the history starts: a quarter and a few days, so that it always contains
/// the first day of a quarter, when the review of the quarter before is opened (§7).
const HISTORY_DAYS: i64 = 95;

/// Registrations filed over the quarter (besides the few of the last days).
const REGISTRATIONS: usize = 36;

/// 社會救助法 §44-3 ¶1: the basis of the social-assistance section's queries.
pub const SOCIAL_ASSISTANCE_BASIS: &str = "social-assistance-44-3-1";
/// 老人福利法 §12-1 ¶2: the basis of the elderly-welfare section's queries.
const ELDERLY_BASIS: &str = "senior-citizens-welfare-12-1-2";
/// §6: in the lived-in demo results filed under the social-assistance basis are kept this
/// many days (`registration.retention_by_legal_basis`), so that a quarter shows destructions.
pub const DEMO_RETENTION_DAYS: u32 = 60;

/// The new colleague the HR import brings in, then transfers (§2: applied before it happens).
const NEW_COLLEAGUE: &str = "he.jiahui";

/// What the history holds, for the banner and the tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistorySummary {
    pub registrations: usize,
    pub executed: usize,
    pub printed: usize,
    pub destroyed: usize,
    pub rejected: usize,
    pub cancelled: usize,
    pub pending: usize,
    pub approval_lapsed: usize,
    pub approved_waiting: usize,
    pub reviews_closed: usize,
    pub audits_open: usize,
    pub violations_open: usize,
    pub staff_changes: usize,
}

/// A refusal of some use case, named by its stable code only (never the data it was about).
trait Coded {
    fn coded(&self) -> &'static str;
}

impl Coded for Denied {
    fn coded(&self) -> &'static str {
        self.code()
    }
}

impl Coded for ReviewRefusal {
    fn coded(&self) -> &'static str {
        self.code()
    }
}

impl Coded for ViolationRefusal {
    fn coded(&self) -> &'static str {
        self.code()
    }
}

/// The answer of a use case that must have gone through: a refusal here means the history
/// itself is wrong, so the demo stops with the refusal's code.
fn settled<T, R: Coded>(what: &str, r: Result<Result<T, R>, AppError>) -> Result<T, AppError> {
    r?.map_err(|e| AppError::Seed {
        what: format!("demo history: {what}: refused with {}", e.coded()),
        source: None,
    })
}

fn seed(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::Seed {
        what: format!("demo history: {what}: {e}"),
        source: None,
    }
}

const SURNAMES: [&str; 15] = [
    "陳", "林", "黃", "張", "李", "王", "吳", "劉", "蔡", "楊", "許", "鄭", "謝", "郭", "洪",
];
const GIVEN: [&str; 12] = [
    "志明", "淑芬", "家豪", "雅惠", "俊傑", "美華", "建國", "怡君", "宗翰", "麗珠", "文雄", "佳蓉",
];

/// An invented subject: a name and a national ID of 高雄市 (E) whose check digit holds.
fn subject(draw: &mut SplitMix64, n: usize) -> Result<(String, String), AppError> {
    let surname = draw
        .pick(&SURNAMES)
        .ok_or_else(|| seed("subject", "no surnames"))?;
    let given = draw
        .pick(&GIVEN)
        .ok_or_else(|| seed("subject", "no given names"))?;
    let name = format!("{surname}{given}");
    let sex = 1 + draw.below(2);
    let body =
        3_000_000 + u64::try_from(n).map_err(|e| seed("subject", e))? * 7_919 + draw.below(900);
    let id = (0..10)
        .map(|c| format!("E{sex}{body:07}{c}"))
        .find(|s| NationalId::parse(s).is_ok())
        .ok_or_else(|| seed("subject", "no check digit"))?;
    Ok((name, id))
}

/// `hour:min` Asia/Taipei on `day`.
fn at(day: Date, hour: i64, min: i64) -> Result<Timestamp, AppError> {
    let d = RocDate::from_civil(day).map_err(|e| seed("date", e))?;
    Ok(taipei_day_start_utc(d) + SignedDuration::from_hours(hour) + SignedDuration::from_mins(min))
}

fn mins(m: i64) -> SignedDuration {
    SignedDuration::from_mins(m)
}

fn item(code: &str) -> Result<ServiceItemCode, AppError> {
    ServiceItemCode::parse(code).map_err(|e| seed("service item", e))
}

/// The working days of `from..to` (行政程序法 §48 calendar).
fn working_days(cal: &HolidayCalendar, from: Date, to: Date) -> Result<Vec<Date>, AppError> {
    let mut d = from;
    let mut out = Vec::new();
    while d < to {
        if cal.is_working_day(d) {
            out.push(d);
        }
        d = d.tomorrow().map_err(|e| seed("date", e))?;
    }
    Ok(out)
}

/// One of the bureau's people on a day of the quarter, signed in with their card (the
/// session the use cases re-read; ended when the day's work is done).
struct Sitting {
    who: SignedIn,
}

impl Sitting {
    async fn begin(store: &Store, person: &Person, t: Timestamp) -> Result<Sitting, AppError> {
        let session = SessionRow {
            token_hash: format!("demo-history-{}-{}", person.account.as_str(), t.as_second()),
            person: person.id,
            csrf_token: "demo-history".into(),
            created_at: t,
            last_seen_at: t,
            locked: false,
            ended: false,
            cert_fingerprint: "demo-history-card".into(),
            client_addr: None,
        };
        let mut tx = store.begin().await?;
        tx.insert_session(&session).await?;
        tx.commit().await?;
        Ok(Sitting {
            who: SignedIn {
                person: person.clone(),
                session,
            },
        })
    }

    async fn end(self, store: &Store, t: Timestamp) -> Result<(), AppError> {
        let mut tx = store.begin().await?;
        tx.end_session(&self.who.session.token_hash, "logout", t)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The people of the history, by account.
struct Cast(BTreeMap<String, Person>);

impl Cast {
    async fn load(store: &Store) -> Result<Cast, AppError> {
        Ok(Cast(
            store
                .persons()
                .await?
                .into_iter()
                .map(|p| (p.account.as_str().to_string(), p))
                .collect(),
        ))
    }

    fn get(&self, account: &str) -> Result<&Person, AppError> {
        self.0
            .get(account)
            .ok_or_else(|| seed("person", format!("no {account}")))
    }
}

/// How one registration of the quarter ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Executed { print: bool, viewed: bool },
    Rejected,
    Cancelled,
    Lapsed,
}

fn fate_of(i: usize) -> Fate {
    match i % 12 {
        5 => Fate::Rejected,
        7 => Fate::Cancelled,
        10 => Fate::Lapsed,
        k => Fate::Executed {
            print: k % 4 == 1,
            viewed: k % 3 != 2,
        },
    }
}

/// Whether the history should be written: a database with no staff yet (the first run).
pub async fn wanted(store: &Store) -> Result<bool, AppError> {
    Ok(store.persons().await?.is_empty())
}

/// Writes the quarter before `now` (see the module doc). Call on a database that holds no
/// staff yet ([`wanted`]); the demo organisation is seeded on the quarter's first day.
pub async fn generate(app: &App, now: Timestamp) -> Result<HistorySummary, AppError> {
    let store = app.store();
    let cal = HolidayCalendar::seeded().map_err(|e| seed("calendar", e))?;
    let today = taipei_date(now).civil();
    let start = today
        .checked_sub(jiff::Span::new().days(HISTORY_DAYS))
        .map_err(|e| seed("date", e))?;
    let days = working_days(&cal, start, today)?;
    if days.len() < 40 {
        return Err(seed("calendar", "too few working days in the quarter"));
    }
    let mut summary = HistorySummary::default();
    // SplitMix64: small, fixed and the same on every machine.
    let mut draw = SplitMix64::new(HISTORY_SEED);

    found_the_bureau(app, days[0]).await?;
    // §2: HR's list brings a new colleague in the second week.
    let founded = Cast::load(store).await?;
    let hired = Op::new(at(days[6], 9, 0)?, rid("staff", 0));
    let hire = format!(
        "account,national_id,name,unit,title,status,effective_date\n\
         {NEW_COLLEAGUE},F131104093,何佳慧,social-assistance,社會工作員,active,{}\n",
        days[6]
    );
    summary.staff_changes += import_staff(app, founded.get("wu.zhiming")?, &hire, &hired).await?;

    let quarter = Quarter {
        app,
        store,
        desk: app.desk(),
        cast: Cast::load(store).await?,
        cal,
        days,
        today,
        now,
    };
    let (held, review_day) = quarter
        .register_the_quarter(&mut draw, &mut summary)
        .await?;
    quarter.destroy_due_results(&held, &mut summary).await?;
    if let Some(day) = review_day {
        quarter.quarterly_review(day, &mut summary).await?;
    }
    quarter.open_unannounced_audit(&mut summary).await?;
    quarter.file_violation(&mut summary).await?;
    quarter.transfer_new_colleague(&mut summary).await?;
    quarter
        .todays_registrations(&mut draw, &mut summary)
        .await?;
    quarter.last_week_sign_ins().await?;
    app.checkpoint_if_due(true).await?;
    Ok(summary)
}

/// The request id of one step of the history: what it is and its number.
fn rid(what: &str, n: usize) -> String {
    format!("demo-history-{what}-{n}")
}

/// The quarter's first morning: the organisation, then the queriers' Form 1 (§2), signed
/// at every step, effective that day.
async fn found_the_bureau(app: &App, first: Date) -> Result<(), AppError> {
    let t0 = at(first, 8, 30)?;
    crate::demo::seed_demo(app.store(), t0, &rid("seed", 0)).await?;
    crate::demo_grants::grant_demo_queriers(
        app.store(),
        app.keys(),
        &app.config().permission,
        at(first, 9, 0)?,
        &rid("grants", 0),
    )
    .await?;
    Ok(())
}

/// §2: the administrator imports a list from HR (applied before it takes effect). Returns
/// how many people it brought in or changed.
async fn import_staff(app: &App, admin: &Person, csv: &str, op: &Op) -> Result<usize, AppError> {
    let store = app.store();
    let desk = permission::administrator_desk(store, &app.config().permission, admin.id, op)
        .await
        .map_err(|e| seed("administrator desk", e.code()))?;
    let report = permission::staff::import_staff_csv(store, &desk, csv, op)
        .await
        .map_err(|e| seed("staff import", e))?;
    Ok(report.created + report.changed)
}

/// A result of the quarter held here until the destruction job shreds it (§6); `printed`
/// when a copy was filed with the case, whose destruction the querier then confirms.
struct Held {
    no: RegistrationNo,
    querier: String,
    item: ServiceItemCode,
    printed: bool,
}

/// One registration of the quarter as its querier files it, and who approves it.
struct Filing {
    querier: &'static str,
    supervisor: &'static str,
    code: &'static str,
    at: Timestamp,
    form: RegisterQueryRequest,
}

/// The quarter the history tells: the bureau's people once HR's first list is in, its
/// working days, and the desk every registration goes through.
struct Quarter<'a> {
    app: &'a App,
    store: &'a Store,
    desk: registration::Desk<'a, crate::grants::StoreGrants>,
    cast: Cast,
    cal: HolidayCalendar,
    days: Vec<Date>,
    today: Date,
    now: Timestamp,
}

impl Quarter<'_> {
    /// The last week: what waits for people today.
    fn last_week(&self) -> &[Date] {
        &self.days[self.days.len() - 7..]
    }

    /// The quarter's registrations, spread over its working days (not the last week, which
    /// is written below), each through register → approve → execute like a working day.
    /// Returns the results now held here and the day the quarterly review opens (§7).
    async fn register_the_quarter(
        &self,
        draw: &mut SplitMix64,
        summary: &mut HistorySummary,
    ) -> Result<(Vec<Held>, Option<Date>), AppError> {
        let span = self.days.len() - 8;
        let mut held = Vec::new();
        let mut review_day = None;
        for i in 0..REGISTRATIONS {
            let day = self.days[1 + i * span / REGISTRATIONS];
            // §7: on the first working day of a quarter the review of the quarter before opens.
            if review_day.is_none() && day.day() <= 7 && matches!(day.month(), 1 | 4 | 7 | 10) {
                review_day = Some(day);
            }
            let filing = self.quarter_filing(draw, i, day)?;
            held.extend(self.work_through(filing, i, summary).await?);
        }
        Ok((held, review_day))
    }

    /// The `i`th registration of the quarter: two of three are lin.meiling's for social
    /// assistance, the third li.guowei's for the elderly-welfare section, at a drawn hour.
    fn quarter_filing(
        &self,
        draw: &mut SplitMix64,
        i: usize,
        day: Date,
    ) -> Result<Filing, AppError> {
        let lin = i % 3 != 2;
        let (querier, supervisor, basis, unit_items): (_, _, _, &'static [&'static str]) = if lin {
            (
                "lin.meiling",
                "chen.jianhong",
                SOCIAL_ASSISTANCE_BASIS,
                &["C0101", "B0101", "B0301", "P0301"],
            )
        } else {
            (
                "li.guowei",
                "xu.wenjie",
                ELDERLY_BASIS,
                &["C0101", "N0101", "T0101", "B0401"],
            )
        };
        let code = *draw
            .pick(unit_items)
            .ok_or_else(|| seed("items", "none to draw"))?;
        // One query of the quarter ran after office hours (20:10): the review finds it.
        let (hour, minute) = if i == 4 {
            (20, 10)
        } else {
            (
                9 + i64::try_from(draw.below(7)).unwrap_or(0),
                i64::try_from(draw.below(50)).unwrap_or(0),
            )
        };
        let t = at(day, hour, minute)?;
        let (name, id) = subject(draw, i)?;
        let needer = (lin && i % 5 == 3)
            .then(|| self.cast.get("huang.yating").map(|p| p.id.into()))
            .transpose()?;
        let form = RegisterQueryRequest {
            subject_name: name,
            subject_id: id,
            linked_id: None,
            purpose: QueryPurpose {
                items: vec![code.to_string()],
                legal_basis: basis.into(),
                relevance: format!(
                    "{}第 {} 號申請案，須查核{}以核算家庭總收入及工作能力",
                    if lin {
                        "低收入戶"
                    } else {
                        "中低收入老人生活津貼"
                    },
                    1150 + i,
                    if code == "C0101" {
                        "投保資料"
                    } else {
                        "給付資料"
                    }
                ),
                case_no: Some(format!("KS{}-{:04}", day.year() - 1911, 200 + i)),
                companion_basis: None,
                no_case_reason: None,
                needer,
                querier: self.cast.get(querier)?.id.into(),
            },
        };
        Ok(Filing {
            querier,
            supervisor,
            code,
            at: t,
            form,
        })
    }

    /// Files the registration in a sitting of its querier and carries it to its fate
    /// ([`fate_of`]): cancelled, rejected, approved and never run (§5), or executed. Returns
    /// the result when one is now held here.
    async fn work_through(
        &self,
        filing: Filing,
        i: usize,
        summary: &mut HistorySummary,
    ) -> Result<Option<Held>, AppError> {
        let Filing {
            querier,
            supervisor,
            code,
            at: t,
            form,
        } = filing;
        let (desk, store) = (&self.desk, self.store);
        let fate = fate_of(i);
        let applicant = self.cast.get(querier)?;
        let sitting = Sitting::begin(store, applicant, t - mins(30)).await?;
        let no = settled(
            "register",
            registration::register(desk, applicant, &form, t, &rid("reg", i)).await,
        )?
        .no;
        summary.registrations += 1;
        if fate == Fate::Cancelled {
            let cancelled = t + mins(20);
            let r = registration::cancel(desk, applicant, no, cancelled, &rid("cancel", i)).await;
            settled("cancel", r)?;
            summary.cancelled += 1;
            sitting.end(store, t + mins(25)).await?;
            return Ok(None);
        }
        let approver = self.cast.get(supervisor)?;
        let cap = settled(
            "approver",
            registration::approver_of(desk, approver, no).await,
        )?;
        if fate == Fate::Rejected {
            let reason = "關聯性說明不足，請補充申請案與查調項目之關係後重新登記";
            let r = registration::reject(desk, cap, reason, t + mins(40), &rid("reject", i)).await;
            settled("reject", r)?;
            summary.rejected += 1;
            sitting.end(store, t + mins(45)).await?;
            return Ok(None);
        }
        settled(
            "approve",
            registration::approve(desk, cap, None, t + mins(15), &rid("approve", i)).await,
        )?;
        if fate == Fate::Lapsed {
            // §5: approved, never run; the approval's validity ends unused.
            let validity = self.app.config().registration.approval_validity();
            if t + mins(15) + validity < self.now {
                summary.approval_lapsed += 1;
            }
            sitting.end(store, t + mins(20)).await?;
            return Ok(None);
        }
        let ran = t + mins(25);
        let held_here = execute(self.app, &sitting.who, no, ran, &rid("exec", i)).await?;
        summary.executed += 1;
        let item_code = item(code)?;
        let mut held = None;
        if let Fate::Executed { print, viewed } = fate
            && held_here
        {
            let result = Held {
                no,
                querier: querier.to_string(),
                item: item_code,
                printed: print,
            };
            self.read_result(&result, viewed, ran, i).await?;
            if print {
                summary.printed += 1;
            }
            held = Some(result);
        }
        sitting.end(store, ran + mins(30)).await?;
        Ok(held)
    }

    /// The querier reads a result just run: on screen when `viewed`, and printed for the
    /// case file when the result says so (that copy's destruction is confirmed later, §6).
    async fn read_result(
        &self,
        result: &Held,
        viewed: bool,
        ran: Timestamp,
        i: usize,
    ) -> Result<(), AppError> {
        let querier = self.cast.get(&result.querier)?;
        let (no, item) = (result.no, &result.item);
        if viewed {
            settled(
                "view",
                execution::view_result(
                    &self.desk,
                    querier,
                    no,
                    item,
                    ran + mins(3),
                    &rid("view", i),
                )
                .await,
            )?;
        }
        if result.printed {
            settled(
                "print",
                execution::print_result(
                    &self.desk,
                    querier,
                    no,
                    item,
                    None,
                    ran + mins(5),
                    &rid("print", i),
                )
                .await,
            )?;
        }
        Ok(())
    }

    /// §6: the destruction job runs every working morning; after a result is shredded its
    /// querier confirms that the printed copy filed with the case went too.
    async fn destroy_due_results(
        &self,
        held: &[Held],
        summary: &mut HistorySummary,
    ) -> Result<(), AppError> {
        for (n, day) in self.days.iter().enumerate() {
            let report =
                execution::destroy_due(self.store, at(*day, 7, 0)?, &rid("destroy", n)).await?;
            summary.destroyed += report.destroyed.len();
            for (no, destroyed_item) in &report.destroyed {
                let Some(result) = held
                    .iter()
                    .find(|h| h.no == *no && h.item == *destroyed_item)
                else {
                    continue;
                };
                if result.printed {
                    settled(
                        "print destroyed",
                        execution::confirm_print_destroyed(
                            &self.desk,
                            self.cast.get(&result.querier)?,
                            *no,
                            destroyed_item,
                            1,
                            at(*day, 9, 30)?,
                            &rid("print-destroyed", n),
                        )
                        .await,
                    )?;
                }
            }
        }
        Ok(())
    }

    /// §7: the quarterly review of the quarter before, opened on its first working day
    /// (`day`), worked through by the administrator and closed with the report to 勞工局.
    async fn quarterly_review(
        &self,
        day: Date,
        summary: &mut HistorySummary,
    ) -> Result<(), AppError> {
        let (app, store) = (self.app, self.store);
        let settings = &app.config().oversight;
        let admin = self.cast.get("wu.zhiming")?;
        let opened = Op::new(at(day, 10, 0)?, rid("review", 0));
        if review::open_due_review(store, app.keys(), settings, &opened).await? != 1 {
            return Ok(());
        }
        let worked = self.days.iter().find(|d| **d > day).copied().unwrap_or(day);
        let op = Op::new(at(worked, 14, 0)?, rid("review", 1));
        for r in store.reviews().await? {
            if r.state != "open" {
                continue;
            }
            let Some(view) = review::review_view(store, r.id).await? else {
                continue;
            };
            for f in &view.findings {
                settled(
                    "conclude finding",
                    review::conclude_finding(
                        store,
                        admin,
                        f.id,
                        &ConcludeFindingRequest::Explain {
                            note: "經查證係急難救助個案之實務需要，已由查詢者說明並經主管確認"
                                .into(),
                        },
                        &op,
                    )
                    .await,
                )?;
            }
            crate::audit::checkpoint_if_due(store, app.keys(), &app.config().audit, op.now, true)
                .await?;
            settled(
                "close review",
                review::close_review(store, app.keys(), settings, admin, r.id, &op).await,
            )?;
            summary.reviews_closed += 1;
        }
        Ok(())
    }

    /// §8: the ethics office opened an unannounced audit of lin.meiling; her documents are
    /// due next week (Form 4).
    async fn open_unannounced_audit(&self, summary: &mut HistorySummary) -> Result<(), AppError> {
        let last = self.last_week();
        let ethics = self.cast.get("zheng.zhihao")?;
        let opened_on = last[1];
        let deadline = self
            .today
            .checked_add(jiff::Span::new().days(7))
            .map_err(|e| seed("date", e))?;
        unannounced_audit::open_audit(
            self.store,
            ethics,
            &OpenAuditRequest {
                period_from: self.days[0].to_string(),
                period_to: last[0].to_string(),
                audit_date: opened_on.to_string(),
                querier: "lin.meiling".into(),
                auditing_unit: "ethics".into(),
                auditing_unit_phone: "07-3368333#2301".into(),
                auditors: vec!["zheng.zhihao".into()],
                documents_deadline: deadline.to_string(),
                cases: 2,
                method: "uniform".into(),
                weights: BTreeMap::new(),
                seed: Some(HISTORY_SEED),
            },
            &Op::new(at(opened_on, 10, 30)?, rid("audit", 0)),
        )
        .await
        .map_err(|e| seed("unannounced audit", e.code()))?;
        summary.audits_open += 1;
        Ok(())
    }

    /// §8 ¶2: a violation filed three working days ago; li.guowei's review report is due in
    /// ten days (行政程序法 §48), so the deadline is running.
    async fn file_violation(&self, summary: &mut HistorySummary) -> Result<(), AppError> {
        let last = self.last_week();
        let filed = last[last.len() - 3];
        settled(
            "file violation",
            violation::file_violation(
                self.store,
                &self.cal,
                self.cast.get("wu.zhiming")?,
                &FileViolationRequest {
                    person: self.cast.get("li.guowei")?.id,
                    rule: "§6 查調結果列印後未隨文歸檔".into(),
                    evidence: "季審查抽查發現列印份未附於個案公文".into(),
                    suspend_grants: false,
                    source: ViolationSource::Administrator,
                },
                &Op::new(at(filed, 11, 0)?, rid("violation", 0)),
            )
            .await,
        )?;
        summary.violations_open += 1;
        Ok(())
    }

    /// §2: the new colleague moves to 長青科 in ten days; HR sent it ahead of time.
    async fn transfer_new_colleague(&self, summary: &mut HistorySummary) -> Result<(), AppError> {
        let moves = self
            .today
            .checked_add(jiff::Span::new().days(10))
            .map_err(|e| seed("date", e))?;
        let op = Op::new(at(self.last_week()[2], 9, 0)?, rid("staff", 1));
        let transfer = format!(
            "account,national_id,name,unit,title,status,effective_date\n\
             {NEW_COLLEAGUE},,何佳慧,elderly-welfare,社會工作員,transferred,{moves}\n"
        );
        let admin = self.cast.get("wu.zhiming")?;
        summary.staff_changes += import_staff(self.app, admin, &transfer, &op).await?;
        Ok(())
    }

    /// Today: one registration waits for its supervisor, one approved waits to be run.
    async fn todays_registrations(
        &self,
        draw: &mut SplitMix64,
        summary: &mut HistorySummary,
    ) -> Result<(), AppError> {
        let desk = &self.desk;
        let lin = self.cast.get("lin.meiling")?;
        let chen = self.cast.get("chen.jianhong")?;
        let recent = self.now - mins(45);
        for (k, approve) in [(0usize, false), (1, true)] {
            let n = REGISTRATIONS + k;
            let (name, id) = subject(draw, n)?;
            let form = RegisterQueryRequest {
                subject_name: name,
                subject_id: id,
                linked_id: None,
                purpose: QueryPurpose {
                    items: vec!["C0101".into(), "B0101".into()],
                    legal_basis: SOCIAL_ASSISTANCE_BASIS.into(),
                    relevance: format!(
                        "急難救助第 {} 號案，須確認最近投保及給付情形以核定救助金額",
                        1300 + k
                    ),
                    case_no: Some(format!("KS{}-{:04}", self.today.year() - 1911, 900 + k)),
                    companion_basis: None,
                    no_case_reason: None,
                    needer: None,
                    querier: lin.id.into(),
                },
            };
            let t = recent + mins(i64::try_from(k).unwrap_or(0) * 10);
            let no = settled(
                "register",
                registration::register(desk, lin, &form, t, &rid("reg", n)).await,
            )?
            .no;
            summary.registrations += 1;
            if approve {
                let cap = settled("approver", registration::approver_of(desk, chen, no).await)?;
                settled(
                    "approve",
                    registration::approve(desk, cap, None, t + mins(5), &rid("approve", n)).await,
                )?;
                summary.approved_waiting += 1;
            } else {
                summary.pending += 1;
            }
        }
        Ok(())
    }

    /// Everyone of the bureau signed in during the last week (§3 idle accounts are those not
    /// seen for 90 days; the organisation has been at work all quarter).
    async fn last_week_sign_ins(&self) -> Result<(), AppError> {
        let week = self.last_week()[4];
        for person in self.cast.0.values() {
            Sitting::begin(self.store, person, at(week, 8, 30)?)
                .await?
                .end(self.store, at(week, 17, 30)?)
                .await?;
        }
        Ok(())
    }
}

/// Runs the approved registration the way the demo is configured: through the connector
/// (connected mode, the in-process simulator) or as reported from the portal. Returns
/// whether a result is now held here (portal mode keeps none; a simulator started with
/// faults may fail an item, which then stays open like any failed query, §5).
async fn execute(
    app: &App,
    who: &SignedIn,
    no: RegistrationNo,
    t: Timestamp,
    request_id: &str,
) -> Result<bool, AppError> {
    let desk = app.desk();
    match app.connector() {
        Some(connector) => {
            let report = settled(
                "execute",
                execution::execute_connected(&desk, connector, who, no, None, t, request_id).await,
            )?;
            Ok(report.items.iter().all(|i| {
                matches!(
                    i.outcome,
                    execution::ItemOutcome::Received { .. } | execution::ItemOutcome::NoData { .. }
                )
            }))
        }
        None => {
            let report = execution::PortalReport {
                queried_at: Some(t),
                ..execution::PortalReport::default()
            };
            settled(
                "record portal execution",
                execution::record_portal_execution(&desk, who, no, &report, t, request_id).await,
            )?;
            Ok(false)
        }
    }
}
