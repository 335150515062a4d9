//! The administrator's and auditor's pages over HTTP: role checks, the usage-log upload
//! (all or nothing, idempotent) and the audit search by subject (POST only, itself audited).

use querywarden_app::testing::simulator_usage_csv;
use querywarden_bli::BliItem;

use querywarden_testkit::people::WU;
use querywarden_testkit::{Browser, Demo, assert_page, assert_refused, rt, with_demo};

/// The simulator's export after four C0101 queries over two subjects.
async fn usage_csv() -> String {
    simulator_usage_csv(&["A123456789", "F131104093"], &[BliItem::C0101], 4).await
}

/// The usage-log upload page's form, with `csrf` as its token.
async fn upload(admin: &Browser, csrf: &str, csv: String) -> reqwest::Response {
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.to_string())
        .part(
            "file",
            reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("usage.csv"),
        );
    admin.multipart("/admin/usage-log", form).await
}

#[test]
fn the_administrator_imports_usage_logs_and_the_auditor_searches_by_subject() {
    let demo = Demo::start();
    rt().block_on(async {
        // A querier may do none of it.
        let lin = demo.sign_in("lin.meiling").await;
        for page in ["/audit", "/admin/usage-log", "/admin/bind-card"] {
            assert_eq!(lin.get(page).await.status(), 403, "{page}");
        }

        let admin = demo.sign_in("wu.zhiming").await;
        let csrf = &admin.csrf;
        let csv = usage_csv().await;
        let r = upload(&admin, csrf, csv.clone()).await;
        assert_eq!(r.status(), 200);
        let page = r.text().await.unwrap();
        assert!(page.contains("新增 4 筆"), "{page}");
        let again = upload(&admin, csrf, csv.clone())
            .await
            .text()
            .await
            .unwrap();
        assert!(again.contains("新增 0 筆"), "idempotent: {again}");
        let broken = csv.replacen("A123456789", "A123456788", 1);
        let r = upload(&admin, csrf, broken).await;
        assert_eq!(r.status(), 422);
        let page = r.text().await.unwrap();
        assert!(page.contains("第 2 行"), "{page}");
        assert!(!page.contains("A123456788"), "the bad value is not echoed");
        let r = upload(&admin, "forged", csv).await;
        assert_eq!(r.status(), 403);

        // Card renewal: the administrator binds lin's card again (the certificate only).
        let bundle =
            std::fs::read_to_string(demo.data().join("demo-ca/cards/lin.meiling.pem")).unwrap();
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
            admin.multipart("/admin/bind-card", form)
        };
        let r = bind("lin.meiling", cert.clone()).await;
        assert_page(r, 200, "已綁定 lin.meiling").await;
        // The same card for someone else: refused with the reason.
        let r = bind("chen.jianhong", cert).await;
        assert_page(r, 422, "binding.name_mismatch").await;

        // The ethics auditor searches by subject: POST only, the ID never in a URL.
        let auditor = demo.sign_in("zheng.zhihao").await;
        let r = auditor
            .post("/audit/search", &[("action", "auth.login.succeeded")], true)
            .await;
        assert_eq!(r.status(), 200);
        let page = r.text().await.unwrap();
        assert!(
            page.contains("auth.login.succeeded") && page.contains("吳志明"),
            "{page}"
        );
        auditor
            .post_shows(
                "/audit/search",
                &[("subject", "A123456788")],
                422,
                "national_id.check_digit",
            )
            .await;
        let r = auditor
            .post("/audit/search", &[("action", "audit_trail.searched")], true)
            .await;
        let page = r.text().await.unwrap();
        assert!(
            page.contains("audit_trail.searched"),
            "searches are audited: {page}"
        );
        assert!(page.contains("鄭志豪"));
    });
}

#[test]
fn a_usage_log_over_its_limit_is_refused_on_the_trail() {
    let got = with_demo([WU], async |demo, [admin]| {
        // One byte over the page's 20 MB: refused before anything is read as CSV (§7).
        let csv = "x".repeat(20 * 1024 * 1024 + 1);
        let r = upload(&admin, &admin.csrf, csv).await;
        assert_eq!(r.status(), 413);
        let page = r.text().await.unwrap();
        assert!(page.contains("usage_log.too_large"), "{page}");
        assert!(page.contains("20 MB"), "{page}");
        demo.trail().await
    });
    assert_refused(&got, &[("access.refused", "usage_log.too_large")]);
}
