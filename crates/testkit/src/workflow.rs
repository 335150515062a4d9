//! Workflow drivers over the pages and the API: Form 2 registered, approved, executed (§4,
//! §5), a Form 3 request filed (§5 ¶3), an unannounced audit opened and a violation case filed
//! (§8), a Form 1 drafted and a recertification round opened (§2) — each asserting the step
//! went through and handing back the number or id the next step needs.

use serde_json::{Value, json};

use crate::browser::{Browser, id_after};
use crate::trail::roc;

/// The demo's welfare-law basis for Form 2 (社會救助法 §44-3 ¶1).
pub const BASIS: &str = "social-assistance-44-3-1";

/// A relevance that passes §4 ¶1's purpose rules.
pub const RELEVANCE: &str = "申請人申請低收入戶資格，須查核其投保薪資以核算家庭總收入";

/// The subject of the demo's registrations (a valid, made-up national ID).
pub const SUBJECT_ID: &str = "F131104093";

/// Form 2 (查詢登記表) as the registration page posts it. The default is lin.meiling's
/// registration for herself of C0101 on 王大同.
#[derive(Clone, Debug)]
pub struct Form2<'a> {
    pub subject_name: &'a str,
    pub subject_id: &'a str,
    pub items: Vec<&'a str>,
    pub legal_basis: &'a str,
    pub relevance: &'a str,
    pub case_no: &'a str,
    pub needer: &'a str,
    pub querier: &'a str,
}

impl Default for Form2<'_> {
    fn default() -> Self {
        Form2 {
            subject_name: "王大同",
            subject_id: SUBJECT_ID,
            items: vec!["C0101"],
            legal_basis: BASIS,
            relevance: RELEVANCE,
            case_no: "115社助字第12號",
            needer: "",
            querier: "",
        }
    }
}

impl<'a> Form2<'a> {
    /// The form's fields, `items` repeated as the page posts them.
    pub fn fields(&self) -> Vec<(&'a str, &'a str)> {
        let mut f = vec![
            ("subject_name", self.subject_name),
            ("subject_id", self.subject_id),
        ];
        f.extend(self.items.iter().map(|i| ("items", *i)));
        f.extend([
            ("legal_basis", self.legal_basis),
            ("relevance", self.relevance),
            ("case_no", self.case_no),
            ("needer", self.needer),
            ("querier", self.querier),
        ]);
        f
    }

    /// The same form as the JSON API's body, filed for `querier` (a person id).
    pub fn api_body(&self, querier: i64) -> serde_json::Value {
        serde_json::json!({
            "subject_name": self.subject_name,
            "subject_id": self.subject_id,
            "items": self.items,
            "legal_basis": self.legal_basis,
            "relevance": self.relevance,
            "case_no": self.case_no,
            "querier": querier,
        })
    }
}

/// The default [`Form2`] on `subject_id` as the JSON API's body, its relevance naming the
/// subject (so that each one reads differently), filed for `querier` on behalf of `needer`
/// (person ids).
pub fn form2_api_body(querier: i64, needer: Option<i64>, subject_id: &str) -> Value {
    let relevance = format!("{RELEVANCE}（{subject_id}）");
    let mut body = Form2 {
        subject_id,
        relevance: &relevance,
        ..Form2::default()
    }
    .api_body(querier);
    body["needer"] = json!(needer);
    body
}

/// The national ID of subject `n` in the `Q2` series, distinct for every `n` below 10⁷: unique
/// subjects keep the snooping checks of §4 from asking for a second approval in the crash
/// rounds and the load benchmark.
pub fn fresh_subject_id(n: u64) -> String {
    crate::org::nid(
        "Q2",
        u32::try_from(n % 10_000_000).expect("below ten million"),
    )
}

/// Form 2 of C0101 on the fresh subject `n` ([`fresh_subject_id`]), run by `querier` (a
/// person id), as the JSON API takes it; the relevance carries `n` too, as §4 ¶1 refuses one
/// copied from the querier's recent registrations.
pub fn fresh_registration(n: u64, querier: i64) -> Value {
    json!({
        "subject_name": "測試甲",
        "subject_id": fresh_subject_id(n),
        "items": ["C0101"],
        "legal_basis": BASIS,
        "relevance": format!("第 {n} 號{RELEVANCE}"),
        "case_no": format!("115社助字第{n}號"),
        "querier": querier,
    })
}

/// Form 3 (查詢申請表) as the request page posts it. The default is the district office's
/// request to the elderly-welfare unit for one subject.
#[derive(Clone, Debug)]
pub struct Form3<'a> {
    pub applicant_title: &'a str,
    pub phone: &'a str,
    pub fax: &'a str,
    pub responsible_unit: &'a str,
    pub legal_basis: &'a str,
    pub relevance: &'a str,
    pub items: Vec<&'a str>,
    pub subjects: &'a str,
    pub declared_subject_count: &'a str,
}

impl Default for Form3<'_> {
    fn default() -> Self {
        Form3 {
            applicant_title: "課員",
            phone: "07-5511111",
            fax: "",
            responsible_unit: "elderly-welfare",
            legal_basis: "senior-citizens-welfare-12-1-2",
            relevance: "中低收入老人生活津貼申請，需確認申請人就業收入",
            items: vec!["C0101"],
            subjects: "陳阿明,E123456783",
            declared_subject_count: "1",
        }
    }
}

impl<'a> Form3<'a> {
    /// The form's fields, `items` repeated as the page posts them.
    pub fn fields(&self) -> Vec<(&'a str, &'a str)> {
        let mut f = vec![
            ("applicant_title", self.applicant_title),
            ("phone", self.phone),
            ("fax", self.fax),
            ("responsible_unit", self.responsible_unit),
            ("legal_basis", self.legal_basis),
            ("relevance", self.relevance),
        ];
        f.extend(self.items.iter().map(|i| ("items", *i)));
        f.extend([
            ("subjects", self.subjects),
            ("declared_subject_count", self.declared_subject_count),
        ]);
        f
    }
}

impl Browser {
    /// Files Form 2 on the page; it must be registered. Returns its number (`115-000001`).
    pub async fn register(&self, form: &Form2<'_>) -> String {
        let loc = self.post_ok("/registrations", &form.fields()).await;
        id_after(&loc, "/registrations/")
    }

    /// Files Form 2 through the JSON API; it must be registered. Returns its number.
    pub async fn register_api(&self, body: serde_json::Value) -> String {
        let r = self.api_post("/api/v1/registrations", body).await;
        let status = r.status();
        let j: serde_json::Value = r.json().await.expect("a JSON answer");
        assert_eq!(status, 200, "{j}");
        j["no"].as_str().expect("its number").to_string()
    }

    /// Approves registration `no` on the page (同意); it must go through.
    pub async fn approve(&self, no: &str) {
        self.post_ok(
            &format!("/registrations/{no}/approve"),
            &[("comment", "同意")],
        )
        .await;
    }

    /// Executes every approved item of registration `no` on the page; it must go through.
    pub async fn execute(&self, no: &str) {
        self.post_ok(&format!("/registrations/{no}/execute"), &[])
            .await;
    }

    /// Runs `items` of registration `no` on its page, refused with `status` and the page
    /// showing `text` (a refusal's code): see [`crate::assert_page`].
    pub async fn execute_shows(&self, no: &str, items: &[&str], status: u16, text: &str) {
        let fields: Vec<(&str, &str)> = items.iter().map(|i| ("items", *i)).collect();
        self.post_shows(
            &format!("/registrations/{no}/execute"),
            &fields,
            status,
            text,
        )
        .await;
    }

    /// Runs `items` of registration `no` through the JSON API: the status and the JSON answer.
    pub async fn api_execute(&self, no: &str, items: &[&str]) -> (u16, Value) {
        self.call_post(&execution_path(no), json!({ "items": items }))
            .await
    }

    /// Runs `items` of registration `no` through the JSON API: the status and the error code
    /// (empty for a success).
    pub async fn api_execute_code(&self, no: &str, items: &[&str]) -> (u16, String) {
        self.api_post_code(&execution_path(no), json!({ "items": items }))
            .await
    }

    /// Prints result `item` of registration `no` on its page, giving `reason` (a copy beyond
    /// the print limit needs one) if any: the answer.
    pub async fn print(&self, no: &str, item: &str, reason: Option<&str>) -> reqwest::Response {
        let path = format!("/registrations/{no}/results/{item}/print");
        match reason {
            Some(reason) => self.post(&path, &[("reason", reason)], true).await,
            None => self.post(&path, &[], true).await,
        }
    }

    /// Files Form 3 on the page; it must be filed. Returns the request's number.
    pub async fn request(&self, form: &Form3<'_>) -> String {
        let loc = self.post_ok("/requests", &form.fields()).await;
        id_after(&loc, "/requests/")
    }

    /// The requesting office's supervisor consents to Form 3 request `rno` on its page (§5 ¶3);
    /// it must be taken.
    pub async fn consent(&self, rno: &str) {
        self.post_ok(
            &format!("/requests/{rno}/consent"),
            &[("decision", "consent"), ("reason", "")],
        )
        .await;
    }
}

/// The API's address for running the items of registration `no`.
fn execution_path(no: &str) -> String {
    format!("/api/v1/registrations/{no}/execution")
}

/// Registered by `querier`, approved by `approver`: the number.
pub async fn approved(querier: &Browser, approver: &Browser, form: &Form2<'_>) -> String {
    let no = querier.register(form).await;
    approver.approve(&no).await;
    no
}

/// Registered by `querier`, approved by `approver`, executed by `querier`: the number.
pub async fn executed(querier: &Browser, approver: &Browser, form: &Form2<'_>) -> String {
    let no = approved(querier, approver, form).await;
    querier.execute(&no).await;
    no
}

/// The fields that open an unannounced audit (Form 4, §8) on the page: lin.meiling's last
/// thirty days, audited by the IT group (wu.zhiming) today, one case drawn uniformly, her
/// documents due in ten days. Tests change a field by its position or name.
pub fn audit_of_lin() -> Vec<(&'static str, String)> {
    vec![
        ("period_from", roc(-30)),
        ("period_to", roc(0)),
        ("audit_date", roc(0)),
        ("querier", "lin.meiling".to_string()),
        ("auditing_unit", "it-group".to_string()),
        ("auditing_unit_phone", "07-3368333#2101".to_string()),
        ("auditors", "wu.zhiming".to_string()),
        ("documents_deadline", roc(10)),
        ("cases", "1".to_string()),
        ("method", "uniform".to_string()),
    ]
}

/// Opens the unannounced audit of [`audit_of_lin`] on the page as `auditor` (Form 4, §8); it
/// must open. Returns the audit's id.
pub async fn audit_of_lin_opened(auditor: &Browser) -> String {
    let fields = audit_of_lin();
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let loc = auditor.post_ok("/oversight/audits", &refs).await;
    id_after(&loc, "/oversight/audits/")
}

/// Files a violation case against lin.meiling as `filer` (§8 ¶2: results sent by e-mail, §6),
/// her grants left alone; it must be filed. Returns the case's id.
pub async fn violation_against_lin(filer: &Browser) -> String {
    filer
        .api_created(
            "/api/v1/oversight/violations",
            json!({ "account": "lin.meiling", "rule": "§6 查調結果以電子郵件傳送",
                    "evidence": "資訊小組郵件紀錄", "suspend_grants": false }),
        )
        .await
}

/// lin.meiling's Form 1 (§2) as the API takes it: a new application for C0101, her own
/// national ID, every confirmation given.
pub fn form_one_of_lin() -> Value {
    json!({
        "kind": "new", "reason": "辦理急難救助", "national_id": "A100131234",
        "phone": "07-7344800", "email": "lin@example.org", "egov_account": "egov-lin",
        "items": ["C0101"], "read_pdpa_and_rules": true, "has_certificate_and_reader": true,
    })
}

/// lin drafts [`form_one_of_lin`] over the API; it must be kept. Returns the application's id.
pub async fn form_one_drafted(lin: &Browser) -> String {
    lin.api_created("/api/v1/permissions/applications", form_one_of_lin())
        .await
}

/// `supervisor` opens a recertification round of their unit's grants (§2); it must open.
/// Returns the round's id.
pub async fn recertification_opened(supervisor: &Browser) -> String {
    supervisor
        .api_created("/api/v1/permissions/recertifications", json!({}))
        .await
}

/// One of each object a person may be refused, by its number or id: lin's registration
/// (approved by chen, executed), cai's Form 3 request, an unannounced audit of lin and a
/// violation case against her (both by wu), lin's Form 1 draft and chen's recertification
/// round.
pub struct OneOfEach {
    pub no: String,
    pub rno: String,
    pub audit: String,
    pub case: String,
    pub app: String,
    pub round: String,
}

/// The parties make [`OneOfEach`], each step checked.
pub async fn one_of_each(lin: &Browser, chen: &Browser, wu: &Browser, cai: &Browser) -> OneOfEach {
    let no = executed(lin, chen, &Form2::default()).await;
    let rno = cai.request(&Form3::default()).await;
    // The audit samples lin's executed queries: it opens after the execution.
    let audit = audit_of_lin_opened(wu).await;
    let case = violation_against_lin(wu).await;
    let app = form_one_drafted(lin).await;
    let round = recertification_opened(chen).await;
    OneOfEach {
        no,
        rno,
        audit,
        case,
        app,
        round,
    }
}
