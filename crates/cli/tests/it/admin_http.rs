//! The administrator's and auditor's pages over HTTP: role checks, the usage-log upload
//! (all or nothing, idempotent) and the audit search by subject (POST only, itself audited).

use querywarden_bli::simulator::{self, SimulatorConfig};
use querywarden_bli::{BliItem, Connector, HttpConnector, HttpConnectorConfig, QueryRequest};
use querywarden_domain::NationalId;

use super::sign_in_http::{client, cookie_value, login, set_cookies};
use super::support::{reqwest::rt, spawn_demo_fast};

async fn session(url: &str, account: &str) -> (String, String) {
    let r = login(url, account, "demo-password-115", "").await;
    assert_eq!(r.status(), 303, "{account} could not sign in");
    let cookie = format!(
        "qw_session={}",
        cookie_value(&set_cookies(&r), "qw_session").unwrap()
    );
    let me: serde_json::Value = client()
        .get(format!("{url}/api/v1/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (cookie, me["csrf_token"].as_str().unwrap().to_string())
}

async fn usage_csv() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = simulator::spawn(SimulatorConfig::default(), listener)
        .await
        .unwrap();
    let connector = HttpConnector::new(HttpConnectorConfig::new(sim.base_url())).unwrap();
    for (i, id) in ["A123456789", "F131104093"]
        .iter()
        .cycle()
        .take(4)
        .enumerate()
    {
        let req = QueryRequest::new(
            format!("req-{i}"),
            BliItem::C0101,
            NationalId::parse(id).unwrap(),
            "KHH-SOCBU",
            "lin.meiling",
        )
        .unwrap();
        let _ = connector.query(&req).await;
    }
    sim.usage_log().to_csv()
}

async fn upload(url: &str, cookie: &str, csrf: &str, csv: String) -> reqwest::Response {
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.to_string())
        .part(
            "file",
            reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("usage.csv"),
        );
    client()
        .post(format!("{url}/admin/usage-log"))
        .header("cookie", cookie)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[test]
fn the_administrator_imports_usage_logs_and_the_auditor_searches_by_subject() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let demo = spawn_demo_fast(&data);
    let url = demo.url.clone();
    rt().block_on(async move {
        let c = client();
        // A querier may do none of it.
        let (lin, _) = session(&url, "lin.meiling").await;
        for page in ["/audit", "/admin/usage-log", "/admin/bind-card"] {
            let r = c
                .get(format!("{url}{page}"))
                .header("cookie", &lin)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 403, "{page}");
        }

        let (admin, csrf) = session(&url, "wu.zhiming").await;
        let csv = usage_csv().await;
        let r = upload(&url, &admin, &csrf, csv.clone()).await;
        assert_eq!(r.status(), 200);
        let page = r.text().await.unwrap();
        assert!(page.contains("新增 4 筆"), "{page}");
        let again = upload(&url, &admin, &csrf, csv.clone())
            .await
            .text()
            .await
            .unwrap();
        assert!(again.contains("新增 0 筆"), "idempotent: {again}");
        let broken = csv.replacen("A123456789", "A123456788", 1);
        let r = upload(&url, &admin, &csrf, broken).await;
        assert_eq!(r.status(), 422);
        let page = r.text().await.unwrap();
        assert!(page.contains("第 2 行"), "{page}");
        assert!(!page.contains("A123456788"), "the bad value is not echoed");
        let r = upload(&url, &admin, "forged", csv).await;
        assert_eq!(r.status(), 403);

        // Card renewal: the administrator binds lin's card again (the certificate only).
        let bundle = std::fs::read_to_string(data.join("demo-ca/cards/lin.meiling.pem")).unwrap();
        let start = bundle.find("-----BEGIN CERTIFICATE-----").unwrap();
        let end = bundle.find("-----END CERTIFICATE-----").unwrap() + 25;
        let cert = bundle[start..end].to_string();
        let bind = |account: &str, cert: String| {
            let form = reqwest::multipart::Form::new()
                .text("csrf", csrf.clone())
                .text("account", account.to_string())
                .part(
                    "certificate",
                    reqwest::multipart::Part::bytes(cert.into_bytes()).file_name("card.pem"),
                );
            c.post(format!("{url}/admin/bind-card"))
                .header("cookie", &admin)
                .multipart(form)
                .send()
        };
        let r = bind("lin.meiling", cert.clone()).await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.text().await.unwrap().contains("已綁定 lin.meiling"));
        // The same card for someone else: refused with the reason.
        let r = bind("chen.jianhong", cert).await.unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("binding.name_mismatch"));

        // The ethics auditor searches by subject: POST only, the ID never in a URL.
        let (auditor, csrf) = session(&url, "zheng.zhihao").await;
        let r = c
            .post(format!("{url}/audit/search"))
            .header("cookie", &auditor)
            .form(&[("csrf", csrf.as_str()), ("action", "auth.login.succeeded")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let page = r.text().await.unwrap();
        assert!(
            page.contains("auth.login.succeeded") && page.contains("吳志明"),
            "{page}"
        );
        let r = c
            .post(format!("{url}/audit/search"))
            .header("cookie", &auditor)
            .form(&[("csrf", csrf.as_str()), ("subject", "A123456788")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("national_id.check_digit"));
        let r = c
            .post(format!("{url}/audit/search"))
            .header("cookie", &auditor)
            .form(&[("csrf", csrf.as_str()), ("action", "audit_trail.searched")])
            .send()
            .await
            .unwrap();
        let page = r.text().await.unwrap();
        assert!(
            page.contains("audit_trail.searched"),
            "searches are audited: {page}"
        );
        assert!(page.contains("鄭志豪"));
    });
}
