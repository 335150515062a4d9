//! The optional daily e-mail digest, against a local SMTP sink that speaks just enough SMTP to
//! capture what it is sent: one message a day to each person who chose it and has something
//! waiting, addressed to them, with counts and a link to the home page and no personal data
//! at all; never twice the same day; a failure recorded, audited and sent on the next run;
//! the person's own setting validated and audited, the address kept out of the trail.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::common::person;
use base64::Engine as _;
use jiff::Timestamp;
use querywarden_app::App;
use querywarden_app::config::RawConfig;
use querywarden_app::mail::{
    DigestChoice, MailRefusal, SetMailPreferenceRequest, digest_day, send_due_digests,
};
use querywarden_app::registration;
use querywarden_testkit::org::audit;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::Mutex;

/// The address of a `MAIL FROM:` or `RCPT TO:` line, without its parameters.
fn first_word(rest: &str) -> String {
    rest.split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// One message as the sink received it.
#[derive(Debug, Clone, Default)]
struct Captured {
    from: String,
    to: Vec<String>,
    data: String,
}

/// A local SMTP sink: answers EHLO, MAIL, RCPT, DATA, RSET, NOOP and QUIT, and keeps every
/// message. While `refuse` is set it refuses `MAIL FROM` with a temporary failure, as a
/// relay that is down for maintenance would.
#[derive(Clone, Default)]
struct Sink {
    messages: Arc<Mutex<Vec<Captured>>>,
    refuse: Arc<AtomicBool>,
}

impl Sink {
    async fn start(&self) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let sink = self.clone();
        tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let sink = sink.clone();
                tokio::spawn(async move { sink.session(socket).await });
            }
        });
        port
    }

    async fn session(&self, socket: tokio::net::TcpStream) {
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read);
        let mut current = Captured::default();
        let _ = write.write_all(b"220 sink ESMTP\r\n").await;
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            let command = line.trim_end().to_string();
            let upper = command.to_ascii_uppercase();
            let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                b"250-sink\r\n250 8BITMIME\r\n"
            } else if upper.starts_with("MAIL FROM:") {
                if self.refuse.load(Ordering::SeqCst) {
                    b"451 4.3.2 try again later\r\n"
                } else {
                    current = Captured {
                        from: first_word(&command[10..]),
                        ..Captured::default()
                    };
                    b"250 ok\r\n"
                }
            } else if upper.starts_with("RCPT TO:") {
                current.to.push(first_word(&command[8..]));
                b"250 ok\r\n"
            } else if upper == "DATA" {
                let _ = write.write_all(b"354 go ahead\r\n").await;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    if line == ".\r\n" {
                        break;
                    }
                    data.push_str(&line);
                }
                current.data = data;
                self.messages.lock().await.push(current.clone());
                b"250 queued\r\n"
            } else if upper == "QUIT" {
                let _ = write.write_all(b"221 bye\r\n").await;
                return;
            } else if upper.starts_with("RSET") || upper.starts_with("NOOP") {
                b"250 ok\r\n"
            } else {
                b"502 not implemented\r\n"
            };
            if write.write_all(reply).await.is_err() {
                return;
            }
        }
    }

    async fn messages(&self) -> Vec<Captured> {
        self.messages.lock().await.clone()
    }
}

/// Quoted-printable (RFC 2045 §6.7) to bytes: soft line breaks dropped, `=XX` decoded.
fn quoted_printable(text: &str) -> Vec<u8> {
    let joined = text.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// The subject and the body of a captured message, decoded (RFC 2047 encoded words; a
/// base64, quoted-printable or 7-bit body) so the test reads what the person reads.
fn decoded(data: &str) -> (String, String) {
    let (head, body) = data.split_once("\r\n\r\n").unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    let subject_raw = unfolded
        .lines()
        .find_map(|l| l.strip_prefix("Subject: "))
        .unwrap()
        .to_string();
    // Adjacent encoded words join without the space between them (RFC 2047 §6.2); their
    // bytes are joined before decoding, since a character may be split across two words.
    // Any other space between words stays.
    let mut subject = Vec::new();
    let mut after_encoded = None;
    for word in subject_raw.split(' ') {
        let encoded = word
            .strip_prefix("=?utf-8?b?")
            .or_else(|| word.strip_prefix("=?UTF-8?B?"))
            .and_then(|w| w.strip_suffix("?="));
        if after_encoded.is_some() && !(encoded.is_some() && after_encoded == Some(true)) {
            subject.push(b' ');
        }
        match encoded {
            Some(encoded) => subject.extend(b64.decode(encoded).unwrap()),
            None => subject.extend(word.as_bytes()),
        }
        after_encoded = Some(encoded.is_some());
    }
    let body = if unfolded.contains("Content-Transfer-Encoding: base64") {
        let joined: String = body.split_whitespace().collect();
        b64.decode(joined).unwrap()
    } else if unfolded.contains("Content-Transfer-Encoding: quoted-printable") {
        quoted_printable(body)
    } else {
        body.as_bytes().to_vec()
    };
    (
        String::from_utf8(subject).unwrap(),
        String::from_utf8(body).unwrap().replace("\r\n", "\n"),
    )
}

struct World {
    app: App,
    sink: Sink,
    _dir: tempfile::TempDir,
}

async fn world() -> World {
    let sink = Sink::default();
    let port = sink.start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut raw = RawConfig::default();
    raw.server.demo = true;
    raw.storage.data_dir = dir.path().to_path_buf();
    raw.mail.enabled = true;
    raw.mail.smtp_host = "127.0.0.1".into();
    raw.mail.smtp_port = port;
    raw.mail.tls = "none".into();
    raw.mail.from = "查調守門員 <querywarden@example.gov.tw>".into();
    raw.mail.base_url = "https://qw.example.gov.tw/".into();
    raw.mail.digest_hour = 0;
    let app = App::open(raw.validate().unwrap()).await.unwrap();
    app.seed_demo().await.unwrap();
    World {
        app,
        sink,
        _dir: dir,
    }
}

/// lin registers a query for 王大同 (F131104093): it waits for her supervisor chen.
async fn a_registration_waits_for_chen(app: &App, now: Timestamp) -> String {
    querywarden_testkit::org::grant_demo_queriers(app.store(), app.keys(), now).await;
    let lin = person(app, "lin.meiling").await;
    let form = querywarden_app::testing::form2_for_wang(lin.id);
    registration::register(&app.desk(), &lin, &form, now, "r")
        .await
        .unwrap()
        .unwrap()
        .no
        .to_string()
}

fn daily(address: &str) -> SetMailPreferenceRequest {
    SetMailPreferenceRequest {
        address: address.into(),
        digest: "daily".into(),
    }
}

async fn records(app: &App, action: &str) -> Vec<(String, String)> {
    audit(app.store(), action)
        .await
        .into_iter()
        .map(|r| (r.outcome, String::from_utf8(r.entry).unwrap()))
        .collect()
}

#[tokio::test]
async fn a_person_with_something_waiting_gets_one_digest_a_day_with_counts_a_link_and_no_personal_data()
 {
    let w = world().await;
    let now = Timestamp::now();
    let no = a_registration_waits_for_chen(&w.app, now).await;
    let chen = person(&w.app, "chen.jianhong").await;
    let lin = person(&w.app, "lin.meiling").await;
    // chen chose the digest; lin too, but nothing waits for her.
    let set = w
        .app
        .set_mail_preference(&chen, &daily("chen.jianhong@example.gov.tw"), now, "m")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(set.digest, DigestChoice::Daily);
    w.app
        .set_mail_preference(&lin, &daily("lin.meiling@example.gov.tw"), now, "m")
        .await
        .unwrap()
        .unwrap();

    assert_eq!(send_due_digests(&w.app, now, "job").await.unwrap(), 1);
    let sent = w.sink.messages().await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    let message = &sent[0];
    assert_eq!(
        message.to,
        vec!["<chen.jianhong@example.gov.tw>".to_string()]
    );
    assert_eq!(message.from, "<querywarden@example.gov.tw>");
    let (subject, body) = decoded(&message.data);
    assert_eq!(
        subject,
        "【查調守門員】您有 1 件待辦事項 / 1 item(s) wait for you"
    );
    assert!(body.contains("查調登記待核准：1 件"), "{body}");
    assert!(body.contains("query registrations to approve: 1"), "{body}");
    assert!(body.contains("https://qw.example.gov.tw/\n"), "{body}");
    assert!(
        body.find("您好").unwrap() < body.find("Hello").unwrap(),
        "zh-TW first"
    );
    // No personal data at all: not the subject, not the number, not the staff.
    for secret in [
        "王大同",
        "F131104093",
        no.as_str(),
        chen.name.as_str(),
        lin.name.as_str(),
        "lin.meiling",
    ] {
        assert!(
            !message.data.contains(secret),
            "{secret} in the raw message"
        );
        assert!(
            !body.contains(secret) && !subject.contains(secret),
            "{secret}"
        );
    }

    // The same day again (a restart, a second instance): nothing more is sent.
    assert_eq!(send_due_digests(&w.app, now, "job").await.unwrap(), 0);
    assert_eq!(w.sink.messages().await.len(), 1);

    // Audited: who, how many items, the outcome; the address is not in the trail.
    let audited = records(&w.app, "mail.digest.sent").await;
    assert_eq!(audited.len(), 1, "{audited:?}");
    assert_eq!(audited[0].0, "succeeded");
    assert!(audited[0].1.contains("\"items\":1") && audited[0].1.contains("chen.jianhong"));
    for (_, entry) in records(&w.app, "account.mail.changed").await {
        assert!(!entry.contains("@example.gov.tw"), "{entry}");
    }
    assert!(!audited[0].1.contains("@example.gov.tw"));
    w.app.close().await;
}

#[tokio::test]
async fn a_digest_the_relay_refuses_is_recorded_audited_and_sent_on_the_next_run() {
    let w = world().await;
    let now = Timestamp::now();
    a_registration_waits_for_chen(&w.app, now).await;
    let chen = person(&w.app, "chen.jianhong").await;
    w.app
        .set_mail_preference(&chen, &daily("chen.jianhong@example.gov.tw"), now, "m")
        .await
        .unwrap()
        .unwrap();
    let day = digest_day(now, 0).unwrap();
    let (store, day) = (w.app.store(), day.as_str());
    let chens_digest =
        move || async move { store.mail_digest(chen.id, day).await.unwrap().unwrap() };

    w.sink.refuse.store(true, Ordering::SeqCst);
    let failed = send_due_digests(&w.app, now, "job").await;
    assert!(failed.is_err(), "{failed:?}");
    assert!(w.sink.messages().await.is_empty());
    let row = chens_digest().await;
    assert_eq!((row.state.as_str(), row.attempts), ("failed", 1));
    let audited = records(&w.app, "mail.digest.sent").await;
    assert_eq!(audited.len(), 1);
    assert!(audited[0].0.contains("mail.smtp"), "{audited:?}");

    // The relay is back: the next run (the same day) sends it, once.
    w.sink.refuse.store(false, Ordering::SeqCst);
    assert_eq!(send_due_digests(&w.app, now, "job").await.unwrap(), 1);
    assert_eq!(send_due_digests(&w.app, now, "job").await.unwrap(), 0);
    assert_eq!(w.sink.messages().await.len(), 1);
    let row = chens_digest().await;
    assert_eq!((row.state.as_str(), row.attempts), ("sent", 2));
    w.app.close().await;
}

#[tokio::test]
async fn a_wrong_address_or_choice_is_refused_with_its_code_audited_and_nothing_changes() {
    let w = world().await;
    let now = Timestamp::now();
    let chen = person(&w.app, "chen.jianhong").await;
    let cases = [
        (daily("not-an-address"), MailRefusal::AddressInvalid),
        (daily("chen@localhost"), MailRefusal::AddressInvalid),
        (daily(""), MailRefusal::AddressRequired),
        (
            SetMailPreferenceRequest {
                address: "chen@example.gov.tw".into(),
                digest: "hourly".into(),
            },
            MailRefusal::ChoiceInvalid,
        ),
    ];
    for (form, refusal) in &cases {
        let got = w
            .app
            .set_mail_preference(&chen, form, now, "m")
            .await
            .unwrap();
        assert_eq!(got.as_ref().unwrap_err(), refusal, "{form:?}");
    }
    let pref = w.app.mail_preference(&chen).await.unwrap();
    assert_eq!(
        (pref.address.as_str(), pref.digest),
        ("", DigestChoice::None)
    );
    let audited = records(&w.app, "account.mail.changed").await;
    assert_eq!(audited.len(), cases.len());
    assert!(
        audited.iter().all(|(o, _)| o.starts_with("refused")),
        "{audited:?}"
    );
    assert!(
        audited
            .iter()
            .any(|(o, _)| o.contains("mail.address_invalid"))
    );
    // Choosing none keeps no mail going out, address or not.
    let none = w
        .app
        .set_mail_preference(
            &chen,
            &SetMailPreferenceRequest {
                address: String::new(),
                digest: "none".into(),
            },
            now,
            "m",
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(none.digest, DigestChoice::None);
    assert_eq!(send_due_digests(&w.app, now, "job").await.unwrap(), 0);
    w.app.close().await;
}

#[test]
fn the_digest_is_due_from_its_hour_in_taipei() {
    // 2026-03-02 07:59 and 08:00 in Taipei (UTC+8).
    let before: Timestamp = "2026-03-01T23:59:00Z".parse().unwrap();
    let at: Timestamp = "2026-03-02T00:00:00Z".parse().unwrap();
    assert_eq!(digest_day(before, 8), None);
    assert_eq!(digest_day(at, 8).as_deref(), Some("2026-03-02"));
    // From 07:00 on 2 March, 07:59 is already that day's digest.
    assert_eq!(digest_day(before, 7).as_deref(), Some("2026-03-02"));
    // 22:59 in Taipei is before a digest hour of 23, though it is 14:59 in UTC.
    let late: Timestamp = "2026-03-01T14:59:00Z".parse().unwrap();
    assert_eq!(digest_day(late, 23), None);
    assert_eq!(digest_day(late, 22).as_deref(), Some("2026-03-01"));
}
