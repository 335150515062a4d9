//! One HTTP client for the tests: a browser signed in through the demo card dance (§3), with
//! its session cookie and CSRF token, posting forms, multipart uploads and JSON.

use base64::Engine;
use querywarden_pki::SignatureFormat;
use querywarden_pki::demo_ca::DemoCard;
use serde_json::Value;

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "demo-password-115";

/// A client that does not follow redirects: the tests read each `303` and its `Location`.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client")
}

/// Cookie values from `Set-Cookie` headers.
pub fn set_cookies(r: &reqwest::Response) -> Vec<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect()
}

/// The value of cookie `name` among `Set-Cookie` headers.
pub fn cookie_value(set: &[String], name: &str) -> Option<String> {
    set.iter().find_map(|c| {
        c.split(';')
            .next()
            .and_then(|kv| kv.strip_prefix(&format!("{name}=")))
            .map(str::to_string)
    })
}

/// A login nonce: the `qw_login` flow cookie and the nonce to sign.
pub async fn nonce(url: &str) -> (String, String) {
    let r = client()
        .post(format!("{url}/auth/nonce"))
        .send()
        .await
        .expect("POST /auth/nonce");
    let flow = cookie_value(&set_cookies(&r), "qw_login").expect("the qw_login cookie");
    let nonce = r.json::<Value>().await.expect("the nonce answer")["nonce"]
        .as_str()
        .expect("a nonce")
        .to_string();
    (flow, nonce)
}

/// The whole card dance with the DEMO signer; returns the login response (or the signer's
/// refusal: the demo card signs only with the account's password).
pub async fn login(
    url: &str,
    account: &str,
    password: &str,
    extra_cookie: &str,
) -> reqwest::Response {
    let c = client();
    let (flow, nonce) = nonce(url).await;
    let signer = c
        .post(format!("{url}/demo/card/sign"))
        .json(&serde_json::json!({ "account": account, "nonce": nonce, "password": password }))
        .send()
        .await
        .expect("POST /demo/card/sign");
    if !signer.status().is_success() {
        return signer;
    }
    let signed: Value = signer.json().await.expect("the signer's answer");
    c.post(format!("{url}/login"))
        .header("cookie", format!("qw_login={flow}; {extra_cookie}"))
        .form(&[
            ("account", account),
            ("password", password),
            ("nonce", &nonce),
            (
                "signature",
                signed["signature"].as_str().expect("a signature"),
            ),
            (
                "certificate",
                signed["certificate"].as_str().expect("a certificate"),
            ),
            ("format", "PKCS7"),
        ])
        .send()
        .await
        .expect("POST /login")
}

/// A form that carries the card's answer (the sign-in and enrolment forms), posted to `path`
/// with a card the test holds: `fields`, then a fresh nonce for this browser's flow cookie
/// signed by `card` as the card component would sign it (PKCS#7, its certificate beside it).
pub async fn post_card_signed(
    url: &str,
    path: &str,
    fields: &[(&str, &str)],
    card: &DemoCard,
) -> reqwest::Response {
    let (flow, nonce) = nonce(url).await;
    let b64 = base64::engine::general_purpose::STANDARD;
    let signature = b64.encode(
        card.sign(nonce.as_bytes(), SignatureFormat::Pkcs7)
            .expect("the card signs"),
    );
    let certificate = b64.encode(card.certificate_der().expect("the card's certificate"));
    let mut form = fields.to_vec();
    form.extend([
        ("nonce", nonce.as_str()),
        ("signature", &signature),
        ("certificate", &certificate),
        ("format", "PKCS7"),
    ]);
    client()
        .post(format!("{url}{path}"))
        .header("cookie", format!("qw_login={flow}"))
        .form(&form)
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {path}: {e}"))
}

/// The card dance with a card the test holds, for a server without the DEMO signer (`serve`
/// trusting the demo CA): the nonce signed by `card` as the card component would, then the
/// login form.
pub async fn login_with_card(
    url: &str,
    account: &str,
    password: &str,
    card: &DemoCard,
) -> reqwest::Response {
    post_card_signed(
        url,
        "/login",
        &[("account", account), ("password", password)],
        card,
    )
    .await
}

/// Sends a request built by the test and reads its answer as JSON.
pub async fn fetch_json(req: reqwest::RequestBuilder) -> Value {
    req.send()
        .await
        .expect("a response")
        .json()
        .await
        .expect("a JSON answer")
}

/// Sends a request built by the test and reads its answer as text.
pub async fn fetch_text(req: reqwest::RequestBuilder) -> String {
    req.send()
        .await
        .expect("a response")
        .text()
        .await
        .expect("a body")
}

/// The `Location` of a redirect.
pub fn location(r: &reqwest::Response) -> String {
    r.headers()["location"]
        .to_str()
        .expect("a Location header")
        .to_string()
}

/// The id in a location after `prefix`: `/requests/7?notice=…` → `7`.
pub fn id_after(location: &str, prefix: &str) -> String {
    location
        .strip_prefix(prefix)
        .and_then(|s| s.split(['?', '/']).next())
        .unwrap_or_else(|| panic!("{location} does not start with {prefix}"))
        .to_string()
}

/// Status and error code of a JSON answer; the body must be JSON (the code is empty for a
/// success).
pub async fn code_of(r: reqwest::Response) -> (u16, String) {
    let status = r.status().as_u16();
    let j: Value = r.json().await.expect("a JSON answer");
    (
        status,
        j["error"]["code"].as_str().unwrap_or_default().to_string(),
    )
}

/// [`code_of`] for an answer that may have no JSON body (it reads as no code).
pub async fn answer(r: reqwest::Response) -> (u16, String) {
    let status = r.status().as_u16();
    let j: Value = r.json().await.unwrap_or(Value::Null);
    (
        status,
        j["error"]["code"].as_str().unwrap_or_default().to_string(),
    )
}

/// Asserts that `r` has `status` and that its body shows `text` (a refusal's code on a page,
/// a value on a JSON answer); the body is printed when it does not.
pub async fn assert_page(r: reqwest::Response, status: u16, text: &str) {
    let got = r.status().as_u16();
    let body = r.text().await.expect("a body");
    assert_eq!(got, status, "{body}");
    assert!(body.contains(text), "no {text:?} in {body}");
}

/// A signed-in browser: its session cookie and CSRF token.
pub struct Browser {
    pub url: String,
    pub cookie: String,
    pub csrf: String,
    pub c: reqwest::Client,
}

impl Browser {
    /// `account` signs in with the demo card and the demo password.
    pub async fn sign_in(url: &str, account: &str) -> Browser {
        let r = login(url, account, DEMO_PASSWORD, "").await;
        assert_eq!(r.status(), 303, "{account} signs in");
        let session = cookie_value(&set_cookies(&r), "qw_session").expect("a session cookie");
        Browser::with_session(url, &format!("qw_session={session}")).await
    }

    /// `account` signs in with `card` (e.g. [`crate::binary::demo_card`]) and the demo
    /// password, on a server without the DEMO signer.
    pub async fn sign_in_with_card(url: &str, account: &str, card: &DemoCard) -> Browser {
        Browser::sign_in_with_card_and_password(url, account, DEMO_PASSWORD, card).await
    }

    /// `account` signs in with `card` and `password` (an account enrolled with its own), on a
    /// server without the DEMO signer.
    pub async fn sign_in_with_card_and_password(
        url: &str,
        account: &str,
        password: &str,
        card: &DemoCard,
    ) -> Browser {
        let r = login_with_card(url, account, password, card).await;
        let status = r.status();
        let set = set_cookies(&r);
        assert_eq!(
            status,
            303,
            "{account} signs in with the card: {}",
            r.text().await.unwrap_or_default()
        );
        let session = cookie_value(&set, "qw_session").expect("a session cookie");
        Browser::with_session(url, &format!("qw_session={session}")).await
    }

    /// The browser holding session cookie `cookie` (`qw_session=…`); its CSRF token is read
    /// from `/api/v1/me`.
    pub async fn with_session(url: &str, cookie: &str) -> Browser {
        let c = client();
        let me: Value = c
            .get(format!("{url}/api/v1/me"))
            .header("cookie", cookie)
            .send()
            .await
            .expect("GET /api/v1/me")
            .json()
            .await
            .expect("the me answer");
        Browser {
            url: url.to_string(),
            csrf: me["csrf_token"].as_str().expect("a CSRF token").to_string(),
            cookie: cookie.to_string(),
            c,
        }
    }

    /// The same session with the interface language cookie set (`zh-TW`, `en`).
    pub fn in_language(&self, lang: &str) -> Browser {
        Browser {
            url: self.url.clone(),
            cookie: format!("{}; qw_lang={lang}", self.cookie),
            csrf: self.csrf.clone(),
            c: self.c.clone(),
        }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.c
            .get(format!("{}{path}", self.url))
            .header("cookie", &self.cookie)
            .send()
            .await
            .expect("GET")
    }

    /// The page at `path` as text.
    pub async fn page(&self, path: &str) -> String {
        self.get(path).await.text().await.expect("a page")
    }

    /// A page's status and text.
    pub async fn read(&self, path: &str) -> (u16, String) {
        let r = self.get(path).await;
        (r.status().as_u16(), r.text().await.expect("a body"))
    }

    /// A form POST with the CSRF token: the status, the `Location` (empty when there is
    /// none) and the body.
    pub async fn submit(&self, path: &str, fields: &[(&str, &str)]) -> (u16, String, String) {
        let r = self.post(path, fields, true).await;
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        (status, location, r.text().await.expect("a body"))
    }

    /// A form POST with the CSRF token that must be taken (`303 See Other`): its `Location`.
    pub async fn post_ok(&self, path: &str, fields: &[(&str, &str)]) -> String {
        let (status, location, body) = self.submit(path, fields).await;
        assert_eq!(status, 303, "POST {path}: {body}");
        location
    }

    /// A JSON POST with the CSRF header, its answer read by [`code_of`]: the status and the
    /// error code (empty for a success).
    pub async fn api_post_code(&self, path: &str, body: Value) -> (u16, String) {
        code_of(self.api_post(path, body).await).await
    }

    /// A form POST with the CSRF token answered with `status`, the page showing `text` (a
    /// refusal's code): see [`assert_page`].
    pub async fn post_shows(&self, path: &str, fields: &[(&str, &str)], status: u16, text: &str) {
        assert_page(self.post(path, fields, true).await, status, text).await;
    }

    /// An API request with the CSRF header: the status and the JSON answer (`Null` when the
    /// body is not JSON).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let r = self.api(method, path, body).await;
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// A JSON POST with the CSRF header: the status and the JSON answer (`Null` when the body
    /// is not JSON).
    pub async fn call_post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    /// A form POST; the CSRF token is added unless `csrf` is false.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)], csrf: bool) -> reqwest::Response {
        let mut body: Vec<(&str, &str)> = fields.to_vec();
        if csrf {
            body.push(("csrf", &self.csrf));
        }
        self.c
            .post(format!("{}{path}", self.url))
            .header("cookie", &self.cookie)
            .form(&body)
            .send()
            .await
            .expect("POST")
    }

    /// A multipart POST (the batch page): the fields, the CSRF token and `file` as a CSV.
    pub async fn post_csv(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        csv: &str,
    ) -> reqwest::Response {
        self.try_post_csv(path, fields, csv)
            .await
            .expect("POST multipart")
    }

    /// [`Self::post_csv`] that hands back a transport error: a server that refuses an
    /// oversize upload at its cap may close the connection while the client is still writing.
    pub async fn try_post_csv(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        csv: &str,
    ) -> Result<reqwest::Response, reqwest::Error> {
        let mut form = reqwest::multipart::Form::new().text("csrf", self.csrf.clone());
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        let file = reqwest::multipart::Part::bytes(csv.as_bytes().to_vec())
            .file_name("subjects.csv")
            .mime_str("text/csv")
            .expect("a media type");
        self.c
            .post(format!("{}{path}", self.url))
            .header("cookie", &self.cookie)
            .multipart(form.part("file", file))
            .send()
            .await
    }

    /// A multipart upload of `file` named `name` with the form's fields; the CSRF token goes
    /// as a field for a page, or as the header for the API.
    pub async fn upload(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        name: &str,
        bytes: Vec<u8>,
        api: bool,
    ) -> reqwest::Response {
        let mut form = reqwest::multipart::Form::new();
        if !api {
            form = form.text("csrf", self.csrf.clone());
        }
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(name.to_string())
            .mime_str("application/pdf")
            .expect("a media type");
        let mut req = self
            .c
            .post(format!("{}{path}", self.url))
            .header("cookie", &self.cookie);
        if api {
            req = req.header("x-csrf-token", &self.csrf);
        }
        req.multipart(form.part("file", part))
            .send()
            .await
            .expect("POST multipart")
    }

    /// A multipart POST of `form` as built by the test (its own CSRF field, or none).
    pub async fn multipart(&self, path: &str, form: reqwest::multipart::Form) -> reqwest::Response {
        self.c
            .post(format!("{}{path}", self.url))
            .header("cookie", &self.cookie)
            .multipart(form)
            .send()
            .await
            .expect("POST multipart")
    }

    /// A JSON GET, its body read as JSON.
    pub async fn api_get(&self, path: &str) -> Value {
        self.get(path).await.json().await.expect("a JSON answer")
    }

    /// A JSON POST with the CSRF header.
    pub async fn api_post(&self, path: &str, body: Value) -> reqwest::Response {
        self.api(reqwest::Method::POST, path, Some(body)).await
    }

    /// A JSON POST with the CSRF header that must create (`201 Created`): the new object's
    /// `id` as text.
    pub async fn api_created(&self, path: &str, body: Value) -> String {
        let (status, j) = self.call_post(path, body).await;
        assert_eq!(status, 201, "POST {path}: {j}");
        j["id"].to_string()
    }

    /// A POST with the CSRF header of a JSON body the test wrote out itself (oversize, or
    /// out of range for its type).
    pub async fn api_post_body(
        &self,
        path: &str,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        self.c
            .post(format!("{}{path}", self.url))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("POST")
    }

    /// Any API request with the CSRF header, with a JSON body or none.
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut req = self
            .c
            .request(method, format!("{}{path}", self.url))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.expect("an API request")
    }
}
