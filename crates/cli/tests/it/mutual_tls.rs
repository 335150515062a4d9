//! Mutual-TLS sign-in (`auth.certificate_mode = "mutual_tls"`) against the
//! real `querywarden serve`: the server terminates TLS, requires a client certificate, and
//! signs in the holder of a bound demo card who types the right password — nobody else.
//!
//! The server's own certificate (for 127.0.0.1) is made here with the `openssl` command;
//! the cards are the demo CA's, and a look-alike CA (same names, other keys) stands in for
//! a card from another CA.

use std::path::{Path, PathBuf};
use std::process::Command;

use querywarden_testkit::browser::fetch_json;
use querywarden_testkit::{Demo, Served, card, rt};

const PASSWORD: &str = "demo-password-115";

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the `openssl` command makes the test server certificate");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A throw-away CA and a server certificate for 127.0.0.1 under it; returns the CA PEM path.
fn server_certificate(dir: &Path) -> PathBuf {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "tls-ca.key",
        "-out",
        "tls-ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=querywarden test TLS CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ]);
    openssl(dir, &ca);
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend([
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    openssl(dir, &csr);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n\
         keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "tls-ca.pem",
            "-CAkey",
            "tls-ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    );
    dir.join("tls-ca.pem")
}

fn client(server_ca: &Path, card_pem: Option<&[u8]>) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(&std::fs::read(server_ca).unwrap()).unwrap();
    let mut b = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(ca)
        .redirect(reqwest::redirect::Policy::none());
    if let Some(pem) = card_pem {
        b = b.identity(reqwest::Identity::from_pem(pem).unwrap());
    }
    b.build().unwrap()
}

/// The audit records written under an operation id: (action, entry JSON).
async fn audited(db: &Path, request_id: &str) -> Vec<(String, String)> {
    let mut c = querywarden_testkit::trail::connect(db).await;
    sqlx::query_as(
        "SELECT action, CAST(entry AS TEXT) FROM audit_records WHERE request_id = ? ORDER BY seq",
    )
    .bind(request_id)
    .fetch_all(&mut c)
    .await
    .unwrap()
}

/// Posts account + password; the card is whatever the client presented in the handshake.
async fn login(c: &reqwest::Client, url: &str, account: &str, password: &str) -> reqwest::Response {
    c.post(format!("{url}/login"))
        .form(&[("account", account), ("password", password)])
        .send()
        .await
        .unwrap()
}

async fn refused_and_audited(r: reqwest::Response, db: &Path, code: &str) {
    assert_eq!(r.status(), 401);
    assert!(r.headers().get("set-cookie").is_none(), "no session cookie");
    let op = r.headers()["x-request-id"].to_str().unwrap().to_string();
    let page = r.text().await.unwrap();
    assert!(page.contains(code), "{page}");
    let records = audited(db, &op).await;
    assert!(
        records
            .iter()
            .any(|(action, entry)| action == "auth.login.failed" && entry.contains(code)),
        "{records:?}"
    );
}

/// The production configuration serving `data` over TLS (the server's certificate in `dir`),
/// signing in by mutual TLS with the demo CA's cards and its revocation list.
fn mutual_tls_config(dir: &Path, data: &Path) -> PathBuf {
    let config = dir.join("querywarden.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\ntls_cert = \"{d}/server.pem\"\ntls_key = \"{d}/server.key\"\n\
             [storage]\ndata_dir = \"{data}\"\n\
             [auth]\ncertificate_mode = \"mutual_tls\"\ntrust_anchors = \"{data}/demo-ca/anchors.pem\"\n\
             crl_files = [\"{data}/demo-ca/crl.der\"]\n\
             [log]\nformat = \"json\"\n",
            d = dir.display(),
            data = data.display(),
        ),
    )
    .unwrap();
    config
}

/// A look-alike card: 林美玲's, from a CA with the demo CA's very names and other keys; PEM.
fn an_impostor_card() -> String {
    let now = jiff::Timestamp::now();
    let impostor_ca = card::fixture_ca(now);
    impostor_ca
        .issue_citizen_with(
            card::fixture_key("card-a-key"),
            "林美玲",
            &querywarden_app::demo_cards::demo_last4(0),
            now,
            Default::default(),
        )
        .unwrap()
        .to_pem_bundle()
        .unwrap()
}

#[test]
fn mutual_tls_signs_in_the_bound_card_holder_and_refuses_everyone_else() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // The demo makes the CA, a card per demo person, the bindings and passwords; then it
    // is stopped and the same data directory is served in production mode.
    drop(Demo::start_in(&data, &[]));
    let server_ca = server_certificate(dir.path());
    let config = mutual_tls_config(dir.path(), &data);
    let server = Served::start(&config);
    assert!(server.url.starts_with("https://"), "{}", server.url);
    let url = server.url.clone();
    let db = data.join("querywarden.sqlite");
    let lin_card = std::fs::read(data.join("demo-ca/cards/lin.meiling.pem")).unwrap();
    let impostor_card = an_impostor_card();

    rt().block_on(async {
        // No client certificate: the handshake is refused, nothing is served.
        let anonymous = client(&server_ca, None);
        let err = anonymous
            .get(format!("{url}/login"))
            .send()
            .await
            .expect_err("a connection without a client certificate must not be served");
        // rustls' TLS 1.3 alert for "you sent no certificate".
        assert!(
            format!("{err:?}").contains("CertificateRequired"),
            "{err:?}"
        );

        let lin = client(&server_ca, Some(&lin_card));
        // The page asks only for account and password, and HSTS is on.
        let r = lin.get(format!("{url}/login")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000");
        let page = r.text().await.unwrap();
        assert!(page.contains("login-form-tls"), "{page}");
        assert!(
            !page.contains("card-pin") && !page.contains("name=\"signature\""),
            "{page}"
        );

        // The right card with a wrong password: refused, counted and audited.
        let r = login(&lin, &url, "lin.meiling", "not-the-password-at-all").await;
        refused_and_audited(r, &db, "login.wrong_password").await;

        // A card from another CA, even with the right account and password: refused.
        let impostor = client(&server_ca, Some(impostor_card.as_bytes()));
        let r = login(&impostor, &url, "lin.meiling", PASSWORD).await;
        refused_and_audited(r, &db, "pki.unknown_issuer").await;

        // The bound card, someone else's account: refused.
        let r = login(&lin, &url, "chen.jianhong", PASSWORD).await;
        refused_and_audited(r, &db, "login.certificate_other_account").await;

        // The bound card and the right password: signed in with a fresh Secure cookie.
        let r = login(&lin, &url, "lin.meiling", PASSWORD).await;
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000");
        let attrs = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("qw_session="))
            .unwrap()
            .to_string();
        assert!(
            attrs.contains("Secure")
                && attrs.contains("HttpOnly")
                && attrs.contains("SameSite=Strict"),
            "{attrs}"
        );
        let session = attrs.split(';').next().unwrap().to_string();
        let op = r.headers()["x-request-id"].to_str().unwrap().to_string();
        let records = audited(&db, &op).await;
        assert!(
            records
                .iter()
                .any(|(action, _)| action == "auth.login.succeeded"),
            "{records:?}"
        );
        let me: serde_json::Value = fetch_json(
            lin.get(format!("{url}/api/v1/me"))
                .header("cookie", &session),
        )
        .await;
        assert_eq!(me["name"], "林美玲");
        // The session is tied to the card it signed in with: the same cookie over a
        // connection with another certificate is no session at all.
        let stolen = impostor
            .get(format!("{url}/api/v1/me"))
            .header("cookie", &session)
            .send()
            .await
            .unwrap();
        assert_eq!(stolen.status(), 401);
    });
    drop(server);
}
