//! Sign-in over HTTP against the real binary: cookies, session fixation, CSRF, the locked
//! screen, sign-out — and the audit trail surviving SIGKILL under load.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use querywarden_testkit::binary::{command as bin, stdout};
use querywarden_testkit::browser::{client, cookie_value, login, set_cookies};
use querywarden_testkit::browser::{fetch_json, fetch_text};
use querywarden_testkit::{Demo, code_of, rt};

#[test]
fn sign_in_sets_a_fresh_strict_cookie_and_csrf_and_lock_are_enforced() {
    let demo = Demo::start();
    let url = demo.url.clone();
    rt().block_on(async {
        let c = client();
        let cookie = a_planted_cookie_is_never_adopted(&c, &url).await;
        let me: serde_json::Value =
            fetch_json(c.get(format!("{url}/api/v1/me")).header("cookie", &cookie)).await;
        assert_eq!(me["name"], "林美玲");
        let csrf = me["csrf_token"].as_str().unwrap().to_string();

        without_the_csrf_token_nothing_changes(&c, &url, &cookie).await;
        the_locked_screen_holds_until_the_password(&c, &url, &cookie, &csrf).await;

        // Sign-out ends the session for good.
        let r = post_form_with(&c, &url, &cookie, "/logout", &[("csrf", csrf.as_str())]).await;
        assert_eq!(r.status(), 303);
        let gone = get_with(&c, &url, &cookie, "/api/v1/me").await;
        assert_eq!(gone.status(), 401);
    });
}

/// GET `path` with the cookie header `cookie` (no CSRF token): the answer.
async fn get_with(c: &reqwest::Client, url: &str, cookie: &str, path: &str) -> reqwest::Response {
    c.get(format!("{url}{path}"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
}

/// A form POST of `fields` to `path` with the cookie header `cookie`: the answer.
async fn post_form_with(
    c: &reqwest::Client,
    url: &str,
    cookie: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    c.post(format!("{url}{path}"))
        .header("cookie", cookie)
        .form(fields)
        .send()
        .await
        .unwrap()
}

/// Session fixation: a cookie planted before sign-in is never adopted; the new one is
/// HttpOnly and SameSite=Strict. Returns the session cookie.
async fn a_planted_cookie_is_never_adopted(c: &reqwest::Client, url: &str) -> String {
    let planted = "attacker-chosen-session-token-0000000000000";
    let r = login(
        url,
        "lin.meiling",
        "demo-password-115",
        &format!("qw_session={planted}"),
    )
    .await;
    assert_eq!(r.status(), 303);
    let set = set_cookies(&r);
    let session = cookie_value(&set, "qw_session").unwrap();
    assert_ne!(session, planted);
    let attrs = set.iter().find(|c| c.starts_with("qw_session=")).unwrap();
    assert!(
        attrs.contains("HttpOnly") && attrs.contains("SameSite=Strict"),
        "{attrs}"
    );
    let planted_me = get_with(c, url, &format!("qw_session={planted}"), "/api/v1/me").await;
    assert_eq!(planted_me.status(), 401);

    let cookie = format!("qw_session={session}");
    cookie
}

/// CSRF: a state change without the token is refused and changes nothing.
async fn without_the_csrf_token_nothing_changes(c: &reqwest::Client, url: &str, cookie: &str) {
    let r = c
        .post(format!("{url}/api/v1/session/lock"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(code_of(r).await, (403, "session.csrf".into()));
    let r = post_form_with(c, url, cookie, "/logout", &[("csrf", "wrong")]).await;
    assert_eq!(r.status(), 403);
    let still = get_with(c, url, cookie, "/api/v1/me").await;
    assert_eq!(still.status(), 200);
}

/// The locked screen: the API refuses everything, pages go to the lock page (which remembers
/// where to return and shows no personal data) until the password unlocks it.
async fn the_locked_screen_holds_until_the_password(
    c: &reqwest::Client,
    url: &str,
    cookie: &str,
    csrf: &str,
) {
    let r = c
        .post(format!("{url}/api/v1/session/lock"))
        .header("cookie", cookie)
        .header("x-csrf-token", csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let locked = get_with(c, url, cookie, "/api/v1/me").await;
    assert_eq!(code_of(locked).await, (423, "session.locked".into()));
    let page = get_with(c, url, cookie, "/account/password").await;
    assert_eq!(page.status(), 303);
    // The lock page remembers the page that was asked for, to return there.
    assert_eq!(
        page.headers()["location"],
        "/session/locked?return=/account/password"
    );
    let lock_page = fetch_text(
        c.get(format!("{url}/session/locked"))
            .header("cookie", cookie),
    )
    .await;
    assert!(lock_page.contains("螢幕已鎖定"));
    assert!(
        !lock_page.contains("林美玲"),
        "the lock page shows no personal data"
    );
    let r = post_form_with(
        c,
        url,
        cookie,
        "/session/unlock",
        &[("csrf", csrf), ("password", "demo-password-115")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let back = get_with(c, url, cookie, "/api/v1/me").await;
    assert_eq!(back.status(), 200);
}

#[test]
fn a_wrong_password_shows_the_reason_and_sets_no_session() {
    let demo = Demo::start();
    let url = demo.url.clone();
    rt().block_on(async {
        let r = login(&url, "lin.meiling", "not-the-password", "").await;
        assert_eq!(r.status(), 401);
        assert!(cookie_value(&set_cookies(&r), "qw_session").is_none());
        let page = r.text().await.unwrap();
        assert!(page.contains("login.wrong_password"), "{page}");
        assert!(page.contains("密碼錯誤"));
    });
}

/// Kills the server with SIGKILL while clients hammer an audited action; after a restart the
/// trail verifies and every response a client received has its audit record.
#[test]
fn every_acknowledged_action_survives_sigkill_and_the_trail_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut demo = Demo::start_in(&data, &[]);
    let url = demo.url.clone();
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut workers = Vec::new();
    for w in 0..4 {
        let (url, acknowledged, stop) = (url.clone(), acknowledged.clone(), stop.clone());
        workers.push(std::thread::spawn(move || {
            rt().block_on(async {
                let c = client();
                let deadline = Instant::now() + Duration::from_secs(20);
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) && Instant::now() < deadline
                {
                    n += 1;
                    // A refused sign-in (unknown nonce) is an audited action.
                    let r = c
                        .post(format!("{url}/login"))
                        .form(&[
                            ("account", "lin.meiling"),
                            ("password", "x"),
                            ("nonce", &format!("w{w}-{n}")),
                            ("signature", "AAAA"),
                            ("certificate", ""),
                            ("format", "PKCS7"),
                        ])
                        .send()
                        .await;
                    match r {
                        Ok(r) if r.status() == 401 => {
                            let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
                            // Acknowledged only once the whole body has arrived.
                            if r.text().await.is_ok() {
                                acknowledged.lock().unwrap().push(id);
                            }
                        }
                        _ => break,
                    }
                }
            })
        }));
    }
    std::thread::sleep(Duration::from_millis(1500));
    demo.kill();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let acked: HashSet<String> = acknowledged.lock().unwrap().iter().cloned().collect();
    assert!(
        acked.len() > 20,
        "only {} actions acknowledged",
        acked.len()
    );

    let o = bin()
        .args(["audit", "verify", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        stdout(&o),
        String::from_utf8_lossy(&o.stderr)
    );
    let recorded: HashSet<String> = rt().block_on(async {
        let mut c = querywarden_testkit::trail::connect(&data.join("querywarden.sqlite")).await;
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT request_id FROM audit_records WHERE action = 'auth.login.failed'",
        )
        .fetch_all(&mut c)
        .await
        .unwrap();
        rows.into_iter().map(|(r,)| r).collect()
    });
    let missing: Vec<_> = acked.difference(&recorded).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged actions have no record",
        missing.len()
    );
}
