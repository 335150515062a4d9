//! What the pages say, over HTTP against the real binary: results read as results (§6: 有資料
//! or 查無資料 in words, a print that names its legal basis, case number and approver and reads
//! 列印第 N 份), and the audit-trail search in words, with its count, paging and CSV export
//! (§7, §8); and every page the demo links, as every demo person, in one language at a time.

use querywarden_testkit::people::{CHEN, LIN};
use querywarden_testkit::{Browser, Demo, Form2, rt, with_demo};

/// Registers `items` for a subject (lin for herself), has chen approve and lin execute;
/// returns the registration number.
async fn executed(
    lin: &Browser,
    chen: &Browser,
    subject_id: &str,
    relevance: &str,
    items: &[&str],
) -> String {
    let form = Form2 {
        subject_id,
        relevance,
        items: items.to_vec(),
        ..Form2::default()
    };
    querywarden_testkit::executed(lin, chen, &form).await
}

/// The text of the third cell (what the result holds) of each row of the result list.
fn result_kinds(page: &str) -> Vec<(String, String)> {
    let table = page
        .split("id=\"reg-results\"")
        .nth(1)
        .expect("the result list")
        .split("</table>")
        .next()
        .unwrap();
    table
        .split("<tr data-item=\"")
        .skip(1)
        .map(|row| {
            let item = row.split('"').next().unwrap().to_string();
            let kind = row
                .split("<td>")
                .nth(3)
                .unwrap()
                .split('<')
                .next()
                .unwrap()
                .to_string();
            (item, kind)
        })
        .collect()
}

#[test]
fn results_read_as_results_and_the_print_names_its_basis_case_and_approver() {
    with_demo([LIN, CHEN], async |demo, [lin, chen]| {
        // Two subjects, so that the simulator's population gives both answers.
        let mut seen = Vec::new();
        for (id, relevance) in [
            (
                "F131104093",
                "申請人申請低收入戶資格，須查核其投保薪資以核算家庭總收入",
            ),
            (
                "A123456789",
                "申請人之配偶為家庭成員，須查核其就業收入以核算家庭總收入",
            ),
        ] {
            let no = executed(&lin, &chen, id, relevance, &["C0101", "B0101", "P0401"]).await;
            seen.extend(the_results_read_as_results(&lin, &no).await);
            the_print_names_its_basis_case_and_approver(&lin, &no).await;
        }
        assert!(seen.iter().any(|k| k == "有資料"), "{seen:?}");

        let zheng = demo.sign_in("zheng.zhihao").await;
        the_audit_search_reads_in_words(&zheng).await;
        the_export_holds_every_record_without_the_id(&zheng).await;
    });
}

/// §6: each result of registration `no` reads 有資料 or 查無資料 in words, on its list and its
/// view, in English too. Returns the kinds seen.
async fn the_results_read_as_results(lin: &Browser, no: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let page = lin.page(&format!("/registrations/{no}")).await;
    let kinds = result_kinds(&page);
    assert_eq!(kinds.len(), 3, "{page}");
    for (item, kind) in kinds {
        assert!(
            ["有資料", "查無資料", "查無投保資料"].contains(&kind.as_str()),
            "{item}: {kind}"
        );
        let view = lin
            .page(&format!("/registrations/{no}/results/{item}"))
            .await;
        if kind == "有資料" {
            assert!(view.contains("id=\"result-records\""), "{view}");
            assert!(!view.contains("查無資料"), "{view}");
        } else {
            assert!(!view.contains("id=\"result-records\""), "{view}");
            assert!(view.contains(&format!("勞保局回覆：{kind}")), "{view}");
        }
        seen.push(kind);
    }
    // The English page says the same in English.
    let en = lin
        .in_language("en")
        .page(&format!("/registrations/{no}"))
        .await;
    for (_, kind) in result_kinds(&en) {
        assert!(
            ["Records found", "No records", "Not insured"].contains(&kind.as_str()),
            "{kind}"
        );
    }
    assert!(!page.contains(">not_found<") && !page.contains(">records<"));
    seen
}

/// The print: legal basis, case number, approver, 列印第 N 份.
async fn the_print_names_its_basis_case_and_approver(lin: &Browser, no: &str) {
    for n in 1..=2 {
        // §6 ¶2: the copy beyond the print limit (one) carries its reason.
        let reason = (n > 1).then_some("正本送簽後補印一份存查");
        let r = lin.print(no, "C0101", reason).await;
        assert_eq!(r.status(), 200);
        let print = r.text().await.unwrap();
        assert!(print.contains(&format!("列印第 {n} 份")), "{print}");
        let cell = |id: &str| {
            print
                .split(&format!("id=\"{id}\">"))
                .nth(1)
                .and_then(|s| s.split('<').next())
                .unwrap_or_default()
                .to_string()
        };
        assert!(cell("result-basis").contains("社會救助法"), "{print}");
        assert_eq!(cell("result-case-no"), "115社助字第12號");
        assert_eq!(cell("result-approver"), "陳建宏（chen.jianhong）");
    }
}

/// The audit search (§7, §8), as the ethics office reads it: the action offered as a list,
/// the rows in words with their objects linked; bad input refused with its code.
async fn the_audit_search_reads_in_words(zheng: &Browser) {
    let r = zheng
        .post(
            "/audit/search",
            &[("action", "query.registration.created")],
            true,
        )
        .await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    // The action offered as a list, selected; the rows in words with their objects linked.
    assert!(
        page.contains("<option value=\"query.registration.created\" selected>查調登記</option>"),
        "{page}"
    );
    assert!(
        page.contains("id=\"audit-total\">符合 2 筆，本頁 2 筆"),
        "{page}"
    );
    let rows: Vec<&str> = page.split("<tr data-seq=").skip(1).collect();
    assert_eq!(rows.len(), 2);
    for row in &rows {
        assert!(row.contains(">查調登記</td>"), "{row}");
        assert!(row.contains("<a href=\"/registrations/115-"), "{row}");
        assert!(row.contains(">成功</td>"), "{row}");
        assert!(!row.contains("<code>"), "{row}");
    }
    // An action that is not on the list, and a Western year typed as an ROC one: refused,
    // with the code for machines in an attribute, not under the message.
    zheng
        .post_shows(
            "/audit/search",
            &[("action", "drop table")],
            422,
            "data-code=\"audit.action\"",
        )
        .await;
    let r = zheng
        .post("/audit/search", &[("from", "26/03/05")], true)
        .await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("data-code=\"audit.from\""), "{page}");
    assert!(page.contains("西元年"), "{page}");
}

/// Export: every matching record as CSV, no whole ID in it, and the export recorded.
async fn the_export_holds_every_record_without_the_id(zheng: &Browser) {
    let r = zheng
        .post("/audit/export", &[("subject", "F131104093")], true)
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"audit-trail-")
    );
    let csv = r.text().await.unwrap();
    let csv = csv.trim_start_matches('\u{feff}');
    assert!(
        csv.starts_with(
            "序號,時間（臺北）,執行者帳號,動作,動作代碼,物件類型,物件編號,結果,結果代碼"
        )
    );
    assert!(
        !csv.contains("F131104093") && !csv.contains("王大同"),
        "{csv}"
    );
    // The subject's registration, its approval, its executions and its views are there.
    assert!(
        csv.contains(",查調登記,query.registration.created,registration,115-"),
        "{csv}"
    );
    assert!(
        csv.contains(",核准查調,query.registration.approved,"),
        "{csv}"
    );
    let r = zheng
        .post("/audit/search", &[("action", "audit_trail.exported")], true)
        .await;
    let page = r.text().await.unwrap();
    assert!(page.contains("符合 1 筆"), "{page}");
}

/// `key = value` lines of one language's catalogues (single-line messages without
/// placeholders: the text a page shows verbatim).
fn catalogue(lang: &str) -> std::collections::BTreeMap<String, String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../web/locales")
        .join(lang);
    let mut out = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for line in text.lines() {
            if let Some((k, v)) = line.split_once(" = ")
                && !k.starts_with('#')
                && !k.starts_with(' ')
                && !v.contains('{')
            {
                out.insert(k.trim().to_string(), v.trim().to_string());
            }
        }
    }
    out
}

/// The page's text with tags and attribute values dropped (what a reader sees).
fn visible_text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// The visible text of an English page without what it marks as Chinese (`lang="zh-…"`:
/// the legal-basis catalogue's wording, which has no English version). Elements so marked
/// must not nest an element of their own name.
fn english_text(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&visible_text(&rest[..start]));
        let after = &rest[start..];
        let end = after.find('>').map_or(after.len(), |e| e + 1);
        let tag = &after[..end];
        rest = &after[end..];
        if tag.contains("lang=\"zh") && !tag.starts_with("<html") {
            let name: String = tag[1..]
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect();
            let close = format!("</{name}>");
            rest = rest.find(&close).map_or("", |i| &rest[i + close.len()..]);
        }
        out.push(' ');
    }
    out.push_str(&visible_text(rest));
    out
}

/// What an English page must not show: Chinese punctuation, and dates in the ROC long form
/// (民國, or a number followed by 年/月/日). English pages write dates one way, ISO with the
/// ROC year beside it (`2026-03-05 (ROC 115)`). Each finding with a little context.
fn chinese_forms(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let around = |i: usize| -> String {
        chars[i.saturating_sub(12)..(i + 12).min(chars.len())]
            .iter()
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut out = Vec::new();
    for (i, c) in chars.iter().enumerate() {
        let punctuation = "，。：「」（）；、".contains(*c);
        let roc = *c == '民' && chars.get(i + 1) == Some(&'國');
        let date_part = "年月日".contains(*c)
            && chars[..i]
                .iter()
                .rev()
                .find(|c| !c.is_whitespace())
                .is_some_and(char::is_ascii_digit);
        if punctuation || roc || date_part {
            out.push(format!("{c:?} in \"{}\"", around(i)));
        }
    }
    out
}

/// Crawls the lived-in demo as each demo person and signed out, reading each page in English
/// and in Chinese: no sentence of the other catalogue, and on English pages no Chinese
/// punctuation or ROC long date outside what is marked `lang="zh…"`; a link that leads to an
/// error is a finding too.
#[test]
fn every_page_speaks_one_language() {
    let zh = catalogue("zh-TW");
    let en = catalogue("en");
    // Both catalogues carry every key (the page would show the bare key otherwise).
    let zh_keys: Vec<&String> = zh.keys().collect();
    let en_keys: Vec<&String> = en.keys().collect();
    assert_eq!(zh_keys, en_keys, "the catalogues differ in their keys");
    // The sentences that differ between the two, long enough not to be a name or a number.
    let only = |mine: &std::collections::BTreeMap<String, String>,
                other: &std::collections::BTreeMap<String, String>,
                min: usize| {
        mine.iter()
            .filter(|(k, v)| {
                k.as_str() != "lang-switch" && v.chars().count() >= min && other.get(*k) != Some(v)
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<Vec<_>>()
    };
    // Every Chinese word of two characters or more: on an English page the data that has no
    // English (a law's note, a name) is marked `lang="zh…"` and left out of the search.
    let zh_only = only(&zh, &en, 2);
    let en_only = only(&en, &zh, 16);

    // The lived-in demo: a quarter of history, so that registrations, requests, audits and
    // violations exist in every state and their pages are linked from the worklists.
    let dir = tempfile::tempdir().unwrap();
    let demo = Demo::start_lived_in(&dir.path().join("data"));
    let url = demo.url.clone();
    rt().block_on(async {
        let mut problems = Vec::new();
        let mut report = Vec::new();
        // Signed out first (the public home page and what it links), then every demo account.
        let accounts = std::iter::once(None).chain(
            querywarden_app::demo::DEMO_ACCOUNTS
                .iter()
                .map(|a| Some(a.account)),
        );
        for account in accounts {
            let cookie = match account {
                Some(a) => demo.sign_in(a).await.cookie,
                None => String::new(),
            };
            let who = account.unwrap_or("(signed out)");
            let pages = crawl(&url, &cookie, who, &zh_only, &en_only, &mut problems).await;
            report.push(format!("{who}: {pages}"));
            // A crawl that reaches next to nothing proves nothing.
            let least = if account.is_some() { 15 } else { 3 };
            assert!(pages >= least, "{who} reached only {pages} pages");
        }
        eprintln!("pages crawled: {}", report.join(", "));
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    });
}

/// Pages every signed-in person may not reach through a link but that must still speak one
/// language (the crawl starts from them as well as from `/`).
const SEEDS: &[&str] = &[
    "/",
    "/catalogue",
    "/rules",
    "/registrations/mine",
    "/registrations/new",
    "/registrations/batch",
    "/registrations/approvals",
    "/permissions",
    "/permissions/apply",
    "/permissions/grants",
    "/permissions/inbox",
    "/permissions/admin/grants",
    "/account/password",
    "/account/mail",
    "/requests",
    "/requests/new",
    "/audit",
    "/oversight",
    "/oversight/audits",
    "/admin/usage-log",
    "/admin/calendar",
    "/units/social-assistance/deputy",
];

/// At most this many pages per person, and this many of one shape (the same path with other
/// ids: `/registrations/115-0012` and `/registrations/115-0013`), so that the crawl covers
/// every kind of page within a minute or two rather than every registration of the quarter.
const MOST_PAGES: usize = 150;
const MOST_OF_A_SHAPE: usize = 6;

/// Links a crawl must not follow: they sign out, lock or unlock the session, switch the
/// language, start the demo's own sign-in, or fetch what is not a page.
fn followable(path: &str) -> bool {
    let skipped = [
        "/sign-out",
        "/session/",
        "/lang/",
        "/demo",
        "/login",
        "/auth/",
        "/static/",
        "/api/",
        "/favicon",
        "/healthz",
        "/readyz",
        "/metrics",
    ];
    path.starts_with('/')
        && !path.starts_with("//")
        && !skipped.iter().any(|s| path.starts_with(s))
        && !path.ends_with("/pdf")
        && !path.ends_with(".csv")
}

/// `/registrations/115-0012/results/C0101` → `/registrations/#/results/C#`: digits dropped;
/// a query keeps its names (`/registrations/mine?state=#`), so each filter is a shape.
fn shape(path: &str) -> String {
    let mut out = String::new();
    for c in path.chars() {
        if c.is_ascii_digit() || c == '-' {
            if !out.ends_with('#') {
                out.push('#');
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The same-origin links of a page (`href="/…"`), without their fragment, entities decoded.
fn links(html: &str, origin: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(|h| h.replace("&amp;", "&").replace("&#x2F;", "/"))
        .map(|h| h.strip_prefix(origin).map(str::to_string).unwrap_or(h))
        .map(|h| h.split('#').next().unwrap_or_default().to_string())
        .filter(|h| followable(h))
        .collect()
}

/// Crawls what `cookie` (empty when signed out) can reach from `/` and the seeds, reading
/// each page in English and in Chinese; every finding goes to `problems`. Returns the number
/// of distinct pages read.
async fn crawl(
    url: &str,
    cookie: &str,
    who: &str,
    zh_only: &[(String, String)],
    en_only: &[(String, String)],
    problems: &mut Vec<String>,
) -> usize {
    let client = querywarden_testkit::browser::client();
    // Each page with the page that linked it (a seed's own path for a seed).
    let mut queue: std::collections::VecDeque<(String, String)> = SEEDS
        .iter()
        .map(|s| ((*s).to_string(), (*s).to_string()))
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    let mut shapes = std::collections::BTreeMap::<String, usize>::new();
    let mut pages = 0;
    while let Some((path, from)) = queue.pop_front() {
        if pages >= MOST_PAGES || !seen.insert(path.clone()) {
            continue;
        }
        let n = shapes.entry(shape(&path)).or_default();
        if *n >= MOST_OF_A_SHAPE {
            continue;
        }
        *n += 1;
        let seed = SEEDS.contains(&path.as_str());
        let mut read = false;
        for (lang, other) in [("en", zh_only), ("zh-TW", en_only)] {
            let r = client
                .get(format!("{url}{path}"))
                .header("cookie", format!("{cookie}; qw_lang={lang}"))
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            if (300..400).contains(&status) {
                if let Some(to) = r.headers().get("location").and_then(|l| l.to_str().ok()) {
                    let to = links(&format!("href=\"{to}\""), url);
                    queue.extend(to.into_iter().map(|l| (l, from.clone())));
                }
                break;
            }
            let html_page = r
                .headers()
                .get("content-type")
                .and_then(|t| t.to_str().ok())
                .is_some_and(|t| t.starts_with("text/html"));
            if status != 200 || !html_page {
                // A seed the person may not open is expected; a link shown to them that
                // leads nowhere is not.
                if !seed {
                    problems.push(format!(
                        "{who} {lang} {path} (linked from {from}): status {status}"
                    ));
                }
                break;
            }
            read = true;
            let html = r.text().await.unwrap();
            // What an English page marks as Chinese (data with no English) is Chinese.
            let text = if lang == "en" {
                english_text(&html)
            } else {
                visible_text(&html)
            };
            for (k, v) in other {
                if text.contains(v.as_str()) {
                    problems.push(format!("{who} {lang} {path}: {k} = {v}"));
                }
            }
            if lang == "en" {
                for p in chinese_forms(&english_text(&html)) {
                    problems.push(format!("{who} en {path}: {p}"));
                }
            }
            queue.extend(links(&html, url).into_iter().map(|l| (l, path.clone())));
        }
        if read {
            pages += 1;
        }
    }
    pages
}
