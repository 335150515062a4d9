//! The in-process organisation for app-level tests: a store with the demo organisation seeded
//! (units, people, roles), a key ring, everyone by account, and the readers the tests check
//! the trail with.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use querywarden_app::auth::SignedIn;
use querywarden_app::config::RawConfig;
use querywarden_app::demo;
use querywarden_app::{App, KeyRing};
use querywarden_domain::NationalId;
use querywarden_domain::org::{Account, Person};
use querywarden_storage::{AuditFilter, SessionRow, Store, StoredAuditRecord};

/// 2026-03-02 10:00 Asia/Taipei (民國 115 年 3 月 2 日), a Monday: the tests' usual "now".
pub fn t0() -> Timestamp {
    "2026-03-02T02:00:00Z".parse().expect("a timestamp")
}

/// A valid citizen ID `{prefix}nnnnnnnC` (prefix a letter and 1 or 2): the check digit is found.
pub fn nid(prefix: &str, n: u32) -> String {
    (0..10)
        .map(|c| format!("{prefix}{n:07}{c}"))
        .find(|s| NationalId::parse(s).is_ok())
        .expect("some check digit fits")
}

/// The person holding `account`.
pub async fn person(store: &Store, account: &str) -> Person {
    store
        .person_by_account(&Account::parse(account).expect("an account name"))
        .await
        .expect("the store answers")
        .unwrap_or_else(|| panic!("no person {account}"))
}

/// The audit records of `action`, newest first (up to 1,000).
pub async fn audit(store: &Store, action: &str) -> Vec<StoredAuditRecord> {
    search(
        store,
        AuditFilter {
            action: Some(action.into()),
            ..AuditFilter::default()
        },
    )
    .await
}

/// Every audit record, newest first (up to 1,000).
pub async fn audit_all(store: &Store) -> Vec<StoredAuditRecord> {
    search(store, AuditFilter::default()).await
}

async fn search(store: &Store, filter: AuditFilter) -> Vec<StoredAuditRecord> {
    store
        .audit_search(&AuditFilter {
            limit: 1000,
            ..filter
        })
        .await
        .expect("the audit search")
}

/// A live session of `p`'s card, opened at `at`. Its token hash `tok-{account}-…` is longer
/// than the 16 characters a session's audit record names it by, as a real hash is.
pub fn session_row(p: &Person, at: Timestamp) -> SessionRow {
    SessionRow {
        token_hash: format!("tok-{}-0123456789abcdef", p.account),
        person: p.id,
        csrf_token: "csrf".into(),
        created_at: at,
        last_seen_at: at,
        locked: false,
        ended: false,
        cert_fingerprint: "fp-card".into(),
        client_addr: None,
    }
}

/// `p` signed in with [`session_row`].
pub fn signed_in(p: &Person, at: Timestamp) -> SignedIn {
    SignedIn {
        session: session_row(p, at),
        person: p.clone(),
    }
}

/// Whether `needle` occurs in `hay` (for "nothing in clear" checks on database bytes).
pub fn contains(hay: &[u8], needle: impl AsRef<[u8]>) -> bool {
    let needle = needle.as_ref();
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The whole application opened in-process on data directory `data` (demo mode) with the
/// demo organisation seeded; `configure` adjusts the configuration first. Close it before a
/// command-line run reads the same directory.
pub async fn seeded_app(data: &Path, configure: impl FnOnce(&mut RawConfig)) -> App {
    let mut raw = RawConfig::default();
    raw.storage.data_dir = data.to_path_buf();
    raw.server.demo = true;
    configure(&mut raw);
    let app = App::open(raw.validate().expect("a valid configuration"))
        .await
        .expect("the application opens");
    app.seed_demo().await.expect("seed the demo");
    app
}

/// lin.meiling and li.guowei given every item at `at` through a real Form 1 in `store` (the
/// demo's grants, under the default permission policy).
pub async fn grant_demo_queriers(store: &Store, keys: &KeyRing, at: Timestamp) {
    querywarden_app::demo_grants::grant_demo_queriers(
        store,
        keys,
        &querywarden_app::permission::PermissionPolicy::default(),
        at,
        "t",
    )
    .await
    .expect("the demo grants");
}

/// The demo organisation in a store of its own, seeded at a given time.
pub struct Org {
    dir: tempfile::TempDir,
    /// The database file, `None` for an in-memory store.
    db: Option<PathBuf>,
    pub store: Store,
    pub keys: KeyRing,
    pub people: BTreeMap<String, Person>,
}

impl Org {
    /// The demo organisation initialised and seeded at `at` in a database file
    /// (`<tmp>/data/qw.sqlite`), its key ring in `<tmp>/keys`.
    pub async fn on_disk(at: Timestamp) -> Org {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let db = dir.path().join("data").join("qw.sqlite");
        let store = Store::open(&db).await.expect("the store opens");
        Org::seed(dir, Some(db), store, at).await
    }

    /// [`Org::on_disk`] in an in-memory store.
    pub async fn in_memory(at: Timestamp) -> Org {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = Store::open_in_memory().await.expect("the store opens");
        Org::seed(dir, None, store, at).await
    }

    async fn seed(dir: tempfile::TempDir, db: Option<PathBuf>, store: Store, at: Timestamp) -> Org {
        let keys = KeyRing::open_or_create(&dir.path().join("keys"), at).expect("the key ring");
        demo::initialise(&store, at, "t").await.expect("initialise");
        demo::seed_demo(&store, at, "t")
            .await
            .expect("seed the demo");
        let people = store
            .persons()
            .await
            .expect("the people")
            .into_iter()
            .map(|p| (p.account.as_str().to_string(), p))
            .collect();
        Org {
            dir,
            db,
            store,
            keys,
            people,
        }
    }

    /// The temporary directory everything lives in.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The key ring's folder.
    pub fn key_dir(&self) -> PathBuf {
        self.dir.path().join("keys")
    }

    /// The database file.
    pub fn db(&self) -> &Path {
        self.db.as_deref().expect("an on-disk store")
    }

    /// The person holding `account`.
    pub fn p(&self, account: &str) -> &Person {
        self.people
            .get(account)
            .unwrap_or_else(|| panic!("no person {account}"))
    }

    /// lin.meiling and li.guowei given every item at `at` through a real Form 1 (the demo's
    /// grants, under the default permission policy).
    pub async fn grant_demo_queriers(&self, at: Timestamp) {
        grant_demo_queriers(&self.store, &self.keys, at).await;
    }

    /// Opens a live card session for each of `accounts` (a session row at `at`).
    pub async fn open_sessions(&self, accounts: &[&str], at: Timestamp) {
        let mut tx = self.store.begin().await.expect("a transaction");
        for a in accounts {
            tx.insert_session(&session_row(self.p(a), at))
                .await
                .expect("a session");
        }
        tx.commit().await.expect("commit");
    }

    /// Opens a live card session for everyone in the organisation (a session row at `at`).
    pub async fn open_sessions_for_everyone(&self, at: Timestamp) {
        let everyone: Vec<&str> = self.people.keys().map(String::as_str).collect();
        self.open_sessions(&everyone, at).await;
    }

    /// The audit records of `action`, newest first (up to 1,000).
    pub async fn audit(&self, action: &str) -> Vec<StoredAuditRecord> {
        audit(&self.store, action).await
    }

    /// The outcomes of `action`'s audit records (`succeeded`, `refused:…`).
    pub async fn outcomes(&self, action: &str) -> Vec<String> {
        self.audit(action)
            .await
            .into_iter()
            .map(|r| r.outcome)
            .collect()
    }

    /// Runs SQL on the database file behind the application's back (to tamper, or to set up
    /// what no use case allows).
    pub fn sql(&self, sql: &str) {
        let c = rusqlite::Connection::open(self.db()).expect("the database opens");
        c.execute_batch(sql).expect("the SQL runs");
    }

    /// Every byte of the database files (the WAL too), for "nothing in clear" checks.
    pub fn db_bytes(&self) -> Vec<u8> {
        let folder = self.db().parent().expect("the data folder");
        let mut all = Vec::new();
        for e in std::fs::read_dir(folder).expect("read the data folder") {
            all.extend(std::fs::read(e.expect("an entry").path()).expect("read a file"));
        }
        all
    }
}
