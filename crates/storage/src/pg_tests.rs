//! The PostgreSQL half: the PostgreSQL schema matches the SQLite one, every statement of this
//! crate prepares on PostgreSQL, and the audit trail is append-only there too. Each test has
//! a schema of its own ([`TestSchema`]); without a server they are skipped with one line.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::{Executor, Row};

use querywarden_domain::audit_event::{AuditAction, AuditEvent};
use querywarden_ledger::chain::{GENESIS, chain_hash};

use crate::pg_testing::TestSchema;
use crate::sqlite::{Backend, POSTGRES_MIGRATOR, PendingMigrations, Store};

/// A table's columns: name → (declared type, NOT NULL, part of the primary key).
type Columns = BTreeMap<String, (String, bool, bool)>;

/// A unique index as both engines can tell it: table, columns in order, partial or not.
type UniqueKey = (String, Vec<String>, bool);

struct SqliteCatalogue {
    tables: BTreeMap<String, Columns>,
    unique: BTreeSet<UniqueKey>,
    indexes: BTreeSet<String>,
    triggers: BTreeSet<String>,
}

/// A SQLite store, whatever `QUERYWARDEN_TEST_BACKEND` says (with its directory).
async fn sqlite_store() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("qw.sqlite")).await.unwrap();
    (store, dir)
}

async fn sqlite_catalogue() -> SqliteCatalogue {
    let (store, _dir) = sqlite_store().await;
    let db = &store.reader;
    let names: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(db)
    .await
    .unwrap();
    let mut tables = BTreeMap::new();
    let mut unique = BTreeSet::new();
    for (table,) in names {
        let cols: Vec<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT name, upper(type), \"notnull\", pk FROM pragma_table_info($1) ORDER BY cid",
        )
        .bind(&table)
        .fetch_all(db)
        .await
        .unwrap();
        // SQLite's `INTEGER PRIMARY KEY` is the rowid: unique without an index of its own.
        let pk: Vec<&(String, String, i64, i64)> = cols.iter().filter(|c| c.3 > 0).collect();
        if let [only] = pk.as_slice()
            && only.1 == "INTEGER"
        {
            unique.insert((table.clone(), vec![only.0.clone()], false));
        }
        let indexes: Vec<(String, i64, i64)> =
            sqlx::query_as("SELECT name, \"unique\", partial FROM pragma_index_list($1)")
                .bind(&table)
                .fetch_all(db)
                .await
                .unwrap();
        for (index, is_unique, partial) in indexes {
            if is_unique == 0 {
                continue;
            }
            // An expression column has no name: "" on both sides.
            let cols: Vec<(String,)> = sqlx::query_as(
                "SELECT coalesce(name, '') FROM pragma_index_info($1) ORDER BY seqno",
            )
            .bind(&index)
            .fetch_all(db)
            .await
            .unwrap();
            unique.insert((
                table.clone(),
                cols.into_iter().map(|(c,)| c).collect(),
                partial != 0,
            ));
        }
        tables.insert(
            table,
            cols.into_iter()
                .map(|(name, ty, not_null, pk)| (name, (ty, not_null != 0, pk > 0)))
                .collect(),
        );
    }
    let named = |kind: &'static str| {
        let db = db.clone();
        async move {
            let rows: Vec<(String,)> = sqlx::query_as(
                "SELECT name FROM sqlite_master WHERE type = $1 AND sql IS NOT NULL",
            )
            .bind(kind)
            .fetch_all(&db)
            .await
            .unwrap();
            rows.into_iter().map(|(n,)| n).collect::<BTreeSet<_>>()
        }
    };
    SqliteCatalogue {
        tables,
        unique,
        indexes: named("index").await,
        triggers: named("trigger").await,
    }
}

/// The PostgreSQL type a SQLite column's declared type must have.
fn postgres_type_of(sqlite: &str) -> Option<&'static str> {
    match sqlite {
        "INTEGER" => Some("bigint"),
        "TEXT" => Some("text"),
        "BLOB" => Some("bytea"),
        "REAL" => Some("double precision"),
        _ => None,
    }
}

#[tokio::test]
async fn the_postgres_schema_has_every_sqlite_table_column_index_and_trigger() {
    let Some(pg) = TestSchema::migrated().await else {
        return;
    };
    let lite = sqlite_catalogue().await;
    let db = pg.pool();

    let rows = sqlx::query(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text \
         FROM information_schema.columns WHERE table_schema = current_schema() \
         AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(db)
    .await
    .unwrap();
    let mut pg_tables: BTreeMap<String, BTreeMap<String, (String, bool)>> = BTreeMap::new();
    for r in rows {
        pg_tables.entry(r.get(0)).or_default().insert(
            r.get(1),
            (r.get::<String, _>(2), r.get::<String, _>(3) == "NO"),
        );
    }

    let mut wrong = Vec::new();
    for (table, cols) in &lite.tables {
        let Some(pg_cols) = pg_tables.get(table) else {
            wrong.push(format!("table {table} is missing on PostgreSQL"));
            continue;
        };
        for (col, (ty, not_null, pk)) in cols {
            let Some((pg_ty, pg_not_null)) = pg_cols.get(col) else {
                wrong.push(format!("column {table}.{col} is missing on PostgreSQL"));
                continue;
            };
            match postgres_type_of(ty) {
                Some(want) if want == pg_ty => {}
                want => wrong.push(format!(
                    "column {table}.{col}: SQLite {ty} wants {want:?}, PostgreSQL has {pg_ty}"
                )),
            }
            // A key column is NOT NULL on PostgreSQL whatever SQLite says of it.
            if !pk && not_null != pg_not_null {
                wrong.push(format!(
                    "column {table}.{col}: NOT NULL is {not_null} on SQLite, {pg_not_null} on PostgreSQL"
                ));
            }
        }
        // Only the insertion-order column that stands in for SQLite's rowid may be extra.
        for col in pg_cols.keys() {
            if !cols.contains_key(col) && col != "rowid" {
                wrong.push(format!("column {table}.{col} exists only on PostgreSQL"));
            }
        }
    }
    for table in pg_tables.keys() {
        if !lite.tables.contains_key(table) {
            wrong.push(format!("table {table} exists only on PostgreSQL"));
        }
    }

    let rows = sqlx::query(
        "SELECT t.relname::text, x.indpred IS NOT NULL, \
         ARRAY(SELECT coalesce(a.attname::text, '') \
               FROM unnest(x.indkey) WITH ORDINALITY AS k(attnum, n) \
               LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum \
               ORDER BY k.n) \
         FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid \
         JOIN pg_namespace s ON s.oid = t.relnamespace \
         WHERE s.nspname = current_schema() AND x.indisunique AND t.relname <> '_sqlx_migrations'",
    )
    .fetch_all(db)
    .await
    .unwrap();
    let pg_unique: BTreeSet<UniqueKey> = rows
        .iter()
        .map(|r| (r.get(0), r.get(2), r.get(1)))
        .collect();
    for key in lite.unique.difference(&pg_unique) {
        wrong.push(format!("unique index {key:?} is missing on PostgreSQL"));
    }
    for key in pg_unique.difference(&lite.unique) {
        if key.1 != ["rowid"] {
            wrong.push(format!("unique index {key:?} exists only on PostgreSQL"));
        }
    }

    let pg_indexes: BTreeSet<String> = sqlx::query_scalar(
        "SELECT indexname::text FROM pg_indexes WHERE schemaname = current_schema()",
    )
    .fetch_all(db)
    .await
    .unwrap()
    .into_iter()
    .collect();
    for index in lite.indexes.difference(&pg_indexes) {
        wrong.push(format!("index {index} is missing on PostgreSQL"));
    }
    let pg_triggers: BTreeSet<String> = sqlx::query_scalar(
        "SELECT t.tgname::text FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND NOT t.tgisinternal",
    )
    .fetch_all(db)
    .await
    .unwrap()
    .into_iter()
    .collect();
    for trigger in lite.triggers.difference(&pg_triggers) {
        wrong.push(format!("trigger {trigger} is missing on PostgreSQL"));
    }

    assert!(
        lite.tables.len() > 40 && lite.unique.len() > 40 && !lite.triggers.is_empty(),
        "the SQLite catalogue was not read: {} tables",
        lite.tables.len()
    );
    assert!(wrong.is_empty(), "schemas differ:\n{}", wrong.join("\n"));
    pg.drop_now().await;
}

#[tokio::test]
async fn the_audit_trail_refuses_update_delete_and_truncate_on_postgres() {
    let Some(pg) = TestSchema::migrated().await else {
        return;
    };
    let db = pg.pool();
    sqlx::query(
        "INSERT INTO audit_records (seq, at, action, object_type, object_id, outcome, \
         request_id, entry, chain_hash) \
         VALUES (1, '2026-01-01T00:00:00Z', 'system.configuration_changed', 'system', '-', \
         'ok', 'req-1', $1, $2)",
    )
    .bind(vec![1u8; 8])
    .bind(vec![2u8; 32])
    .execute(db)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO audit_checkpoints (size, root, number, peaks, note, key_name, created_at) \
         VALUES (1, $1, 1, $1, 'note', 'key', '2026-01-01T00:00:00Z')",
    )
    .bind(vec![3u8; 32])
    .execute(db)
    .await
    .unwrap();
    for (statement, refusal) in [
        ("UPDATE audit_records SET outcome = 'x'", "append-only"),
        ("DELETE FROM audit_records", "append-only"),
        ("TRUNCATE audit_records", "append-only"),
        ("UPDATE audit_checkpoints SET note = 'x'", "append-only"),
        ("DELETE FROM audit_checkpoints", "append-only"),
        ("TRUNCATE audit_checkpoints", "append-only"),
    ] {
        let err = sqlx::query(statement).execute(db).await.unwrap_err();
        assert!(err.to_string().contains(refusal), "{statement}: {err}");
    }
    let (records, checkpoints): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM audit_records), (SELECT count(*) FROM audit_checkpoints)",
    )
    .fetch_one(db)
    .await
    .unwrap();
    assert_eq!((records, checkpoints), (1, 1));
    let outcome: String = sqlx::query_scalar("SELECT outcome FROM audit_records")
        .fetch_one(db)
        .await
        .unwrap();
    assert_eq!(outcome, "ok");
    pg.drop_now().await;
}

// ---------------------------------------------------------------------------------------
// Every statement prepares on PostgreSQL

/// A statement of this crate's source, with where it was found.
#[derive(Debug)]
struct Statement {
    place: String,
    sql: String,
}

/// The files whose statements must serve both engines. `sqlite.rs` (each backend's own
/// housekeeping: pragmas, savepoints, advisory locks), `backup.rs` (SQLite's file backup)
/// and `copy.rs` (SQLite's catalogue read, PostgreSQL's sequences set) are engine-specific
/// by design; the test modules are cut off each file.
fn shared_sources() -> Vec<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if !name.ends_with(".rs")
                || [
                    "sqlite.rs",
                    "backup.rs",
                    "copy.rs",
                    "plans.rs",
                    "pg_testing.rs",
                    "pg_tests.rs",
                ]
                .contains(&name.as_str())
            {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let text = match text.find("#[cfg(test)]\nmod ") {
                Some(cut) => text[..cut].to_string(),
                None => text,
            };
            let shown = path.strip_prefix(&root).unwrap().display().to_string();
            files.push((shown, text));
        }
    }
    files.sort();
    files
}

/// Reads the Rust string literal (plain or raw) at the start of `s`: its value and length.
fn rust_literal(s: &str) -> Option<(String, usize)> {
    let b = s.as_bytes();
    if let Some(raw) = s.strip_prefix('r') {
        let hashes = raw.chars().take_while(|&c| c == '#').count();
        if b.get(1 + hashes) != Some(&b'"') {
            return None;
        }
        let body_start = 2 + hashes;
        let close = format!("\"{}", "#".repeat(hashes));
        let end = s[body_start..].find(&close)? + body_start;
        return Some((s[body_start..end].to_string(), end + close.len()));
    }
    if !s.starts_with('"') {
        return None;
    }
    let mut out = String::new();
    let mut chars = s.char_indices().skip(1).peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, i + 1)),
            '\\' => match chars.next()?.1 {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                '0' => out.push('\0'),
                '\\' => out.push('\\'),
                '"' => out.push('"'),
                '\'' => out.push('\''),
                '\n' => {
                    // A line continuation swallows the next line's leading white space.
                    while chars.peek().is_some_and(|(_, c)| c.is_whitespace()) {
                        chars.next();
                    }
                }
                other => {
                    out.push('\\');
                    out.push(other);
                }
            },
            c => out.push(c),
        }
    }
    None
}

/// `const NAME: &str = "…";` of the given files, for the `format!`s that use them.
fn string_consts(files: &[(String, String)]) -> BTreeMap<String, String> {
    let mut consts = BTreeMap::new();
    for (_, text) in files {
        for (at, _) in text.match_indices("const ") {
            let rest = &text[at + 6..];
            let Some(colon) = rest.find(':') else {
                continue;
            };
            let name = rest[..colon].trim();
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
                continue;
            }
            let after = rest[colon + 1..].trim_start();
            let Some(after) = after
                .strip_prefix("&str")
                .or_else(|| after.strip_prefix("&'static str"))
            else {
                continue;
            };
            let Some(value) = after.trim_start().strip_prefix('=') else {
                continue;
            };
            if let Some((sql, _)) = rust_literal(value.trim_start()) {
                consts.insert(name.to_string(), sql);
            }
        }
    }
    consts
}

/// Expands `format!`'s `{NAME}`s from `consts`; `None` if one is not a known constant.
fn expand(format: &str, consts: &BTreeMap<String, String>) -> Option<String> {
    let mut out = String::new();
    let mut rest = format;
    while let Some(open) = rest.find(['{', '}']) {
        out.push_str(&rest[..open]);
        let tail = &rest[open..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        let close = tail.find('}')?;
        out.push_str(consts.get(&tail[1..close])?);
        rest = &tail[close + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// The string literals of Rust source `text` (comments and char literals skipped): where
/// each starts, and its value.
fn literals(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let prev_ident = text[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        if rest.starts_with("//") {
            i += rest.find('\n').unwrap_or(rest.len());
        } else if rest.starts_with("/*") {
            i += rest.find("*/").map_or(rest.len(), |e| e + 2);
        } else if (rest.starts_with('"') || rest.starts_with("r\"") || rest.starts_with("r#"))
            && !(prev_ident && rest.starts_with('r'))
        {
            match rust_literal(rest) {
                Some((value, len)) => {
                    out.push((i, value));
                    i += len;
                }
                None => i += 1,
            }
        } else if let Some(quoted) = rest.strip_prefix('\'') {
            // A char literal ('x', '\'', '"'); a lifetime ('a) has no closing quote there.
            let len = if quoted.starts_with('\\') {
                rest.get(3..).and_then(|r| r.find('\'')).map(|e| e + 4)
            } else {
                quoted
                    .char_indices()
                    .nth(1)
                    .filter(|&(_, c)| c == '\'')
                    .map(|(e, _)| e + 2)
            };
            i += len.unwrap_or(1);
        } else {
            i += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    out
}

/// Every statement of the shared sources: each string literal that is a statement, and each
/// `format!` of literals and constants that makes one. Fragments pushed into a
/// `QueryBuilder` are left out (they are not whole statements; `builder` numbers their
/// placeholders as the literals do), and so
/// are `format!`s with run-time parts (covered by [`built_statements`] where they matter).
fn source_statements() -> Vec<Statement> {
    let files = shared_sources();
    let everywhere = string_consts(&files);
    let is_statement = |sql: &str| {
        ["SELECT ", "INSERT ", "UPDATE ", "DELETE ", "WITH "]
            .iter()
            .any(|verb| sql.trim_start().starts_with(verb))
    };
    let mut out = Vec::new();
    for (file, text) in &files {
        // A file's own constants first: two modules may each have a `REQUEST_COLUMNS`.
        let mut consts = everywhere.clone();
        consts.extend(string_consts(std::slice::from_ref(&(
            file.clone(),
            text.clone(),
        ))));
        for (at, value) in literals(text) {
            let before = text[..at].trim_end();
            if before.ends_with("QueryBuilder::new(") || before.ends_with(".push(") {
                continue;
            }
            let sql = if before.ends_with("format!(") {
                expand(&value, &consts)
            } else {
                Some(value)
            };
            if let Some(sql) = sql.filter(|s| is_statement(s)) {
                let line = text[..at].lines().count();
                out.push(Statement {
                    place: format!("{file}:{line}"),
                    sql,
                });
            }
        }
    }
    out
}

/// Statements assembled by functions at run time, in the shapes they take.
fn built_statements() -> Vec<Statement> {
    [(true, 1), (false, 3)]
        .into_iter()
        .map(|(bounded, pairs)| Statement {
            place: format!("usage::usage_by_operator_sql({bounded}, {pairs})"),
            sql: crate::usage::usage_by_operator_sql(bounded, pairs),
        })
        .collect()
}

#[test]
fn the_statement_collector_reads_literals_constants_and_formats() {
    let statements = source_statements();
    // The crate has well over a hundred statements; a parser that lost them would pass
    // the PostgreSQL test below vacuously.
    assert!(statements.len() > 150, "{}", statements.len());
    assert!(
        statements.iter().all(|s| !s.sql.contains('?')),
        "a `?` placeholder is left: {:#?}",
        statements
            .iter()
            .filter(|s| s.sql.contains('?'))
            .collect::<Vec<_>>()
    );
    // A continued line joins with its next line's white space removed, and a `format!`
    // gets its constants.
    assert!(statements.iter().any(|s| {
        s.sql.starts_with("SELECT seq, at, actor_person_id")
            && s.sql
                .contains("FROM audit_records WHERE seq > $1 ORDER BY seq LIMIT $2")
    }));
    assert_eq!(
        rust_literal("\"a \\\n     b\\\"c\" tail"),
        Some(("a b\"c".to_string(), 15))
    );
    assert_eq!(
        rust_literal("r#\"x \"y\"\"#,"),
        Some(("x \"y\"".to_string(), 10))
    );
}

#[tokio::test]
async fn every_statement_of_the_storage_crate_prepares_on_postgres() {
    let Some(pg) = TestSchema::migrated().await else {
        return;
    };
    let statements: Vec<Statement> = source_statements()
        .into_iter()
        .chain(built_statements())
        .collect();
    let mut conn = pg.pool().acquire().await.unwrap();
    let mut failed = Vec::new();
    for s in &statements {
        if let Err(e) = conn.prepare(s.sql.as_str()).await {
            failed.push(format!("{}: {e}\n    {}", s.place, s.sql));
        }
    }
    drop(conn);
    assert!(
        failed.is_empty(),
        "{} of {} statements do not prepare on PostgreSQL:\n{}",
        failed.len(),
        statements.len(),
        failed.join("\n")
    );
    pg.drop_now().await;
}

/// A store on the test server's fresh schema, opened the way `storage.url` opens one.
async fn postgres_store(schema: &TestSchema) -> Store {
    Store::open_url(&schema.url(), 2, PendingMigrations::Apply)
        .await
        .unwrap()
}

fn event(n: usize) -> AuditEvent {
    AuditEvent::system(
        jiff::Timestamp::from_second(1_764_000_000 + n as i64).unwrap(),
        AuditAction::ConfigurationChanged,
        format!("req-{n}"),
    )
}

/// The whole trail in order: every sequence number once, each hash following from the one
/// before (no gap, no fork).
/// The record a copy leaves on its target, with what the copy counted.
fn copied_event(tables: &[crate::CopiedTable]) -> AuditEvent {
    let records = tables
        .iter()
        .find(|t| t.table == "audit_records")
        .map_or(0, |t| t.rows);
    AuditEvent::system(jiff::Timestamp::now(), AuditAction::DatabaseCopied, "copy")
        .detail("records", records)
}

async fn assert_one_chain(store: &Store, expected: u64) {
    let records = store.audit_batch(0, 100_000).await.unwrap();
    assert_eq!(records.len() as u64, expected);
    let mut prev = GENESIS;
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r.seq, i as u64 + 1, "a gap before {}", r.seq);
        assert_eq!(
            r.chain_hash,
            chain_hash(&prev, &r.entry),
            "a fork at {}",
            r.seq
        );
        prev = r.chain_hash;
    }
}

#[tokio::test]
async fn a_store_opens_migrates_commits_and_reopens_on_postgres() {
    let Some(schema) = TestSchema::empty().await else {
        return;
    };
    let store = postgres_store(&schema).await;
    assert_eq!(store.backend(), Backend::Postgres);
    let applied: Vec<i64> = store
        .migrations_applied()
        .iter()
        .map(|m| m.version)
        .collect();
    let known: Vec<i64> = POSTGRES_MIGRATOR.iter().map(|m| m.version).collect();
    assert_eq!(applied, known);
    assert!(store.readiness().await.ready());
    let mut tx = store.begin().await.unwrap();
    tx.put_setting("k", "v").await.unwrap();
    tx.append_audit(&event(1)).await.unwrap();
    tx.commit().await.unwrap();
    // A dropped use case leaves nothing.
    let mut tx = store.begin().await.unwrap();
    tx.put_setting("k", "dropped").await.unwrap();
    drop(tx);
    assert_eq!(store.setting("k").await.unwrap().as_deref(), Some("v"));
    store.close().await;
    let again = postgres_store(&schema).await;
    assert!(again.migrations_applied().is_empty());
    assert_eq!(again.audit_extent().await.unwrap(), (1, 1));
    // Refusing pending migrations refuses nothing when the schema is current.
    again.close().await;
    Store::open_url(&schema.url(), 1, PendingMigrations::Refuse)
        .await
        .unwrap()
        .close()
        .await;
    schema.drop_now().await;
}

#[tokio::test]
async fn an_unreachable_server_is_refused_at_once_with_its_reason() {
    let started = std::time::Instant::now();
    let err = Store::open_url(
        "postgres://qw:secret@127.0.0.1:1/none",
        1,
        PendingMigrations::Apply,
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "storage.database", "{err}");
    assert!(!err.to_string().contains("secret"), "{err}");
    // The server's own reason, not a pool's timeout.
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_append_to_one_chain_without_gap_or_fork() {
    let Some(schema) = TestSchema::empty().await else {
        return;
    };
    let a = postgres_store(&schema).await;
    let b = postgres_store(&schema).await;
    let mut tasks = Vec::new();
    for n in 0..40 {
        let store = if n % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            let mut tx = store.begin().await.unwrap();
            tx.append_audit(&event(n)).await.unwrap();
            tx.append_audit_batch(&[event(n + 100), event(n + 200)])
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_one_chain(&a, 120).await;
    a.close().await;
    b.close().await;
    schema.drop_now().await;
}

#[tokio::test]
async fn one_instance_at_a_time_holds_the_scheduled_jobs_lease() {
    let Some(schema) = TestSchema::empty().await else {
        return;
    };
    let a = postgres_store(&schema).await;
    let b = postgres_store(&schema).await;
    let held = a.job_lease().await.unwrap().expect("the first asks first");
    assert!(
        b.job_lease().await.unwrap().is_none(),
        "a second scheduler runs nothing"
    );
    assert!(
        a.job_lease().await.unwrap().is_none(),
        "not twice on one instance either"
    );
    held.release().await;
    let next = b
        .job_lease()
        .await
        .unwrap()
        .expect("free again after release");
    // An instance that dies holding it frees it with its connection.
    drop(next);
    let mut granted = None;
    for _ in 0..50 {
        granted = a.job_lease().await.unwrap();
        if granted.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(granted.is_some());
    a.close().await;
    b.close().await;
    schema.drop_now().await;
}

#[tokio::test]
async fn a_copy_from_sqlite_keeps_ids_order_and_the_chain_and_continues_the_sequences() {
    let Some(schema) = TestSchema::empty().await else {
        return;
    };
    let (lite, _dir) = sqlite_store().await;
    let mut tx = lite.begin().await.unwrap();
    for n in 0..25 {
        tx.append_audit(&event(n)).await.unwrap();
    }
    tx.put_setting("bureau", "高雄市政府社會局").await.unwrap();
    tx.commit().await.unwrap();
    for (id, parent) in [("root", None), ("b", Some("root")), ("a", Some("b"))] {
        sqlx::query(
            "INSERT INTO units (id, name_zh, kind, parent_id) VALUES ($1, $1, 'office', $2)",
        )
        .bind(id)
        .bind(parent)
        .execute(&lite.writer)
        .await
        .unwrap();
    }
    sqlx::query(
        "INSERT INTO persons (id, account, name, title, unit_id, status, created_at) \
         VALUES (41, 'p41', 'n', 't', 'a', 'active', 'x')",
    )
    .execute(&lite.writer)
    .await
    .unwrap();
    let target = postgres_store(&schema).await;
    let copied = lite.copy_into(&target, copied_event).await.unwrap();
    let rows = |t: &str| copied.iter().find(|c| c.table == t).map(|c| c.rows);
    assert_eq!(rows("audit_records"), Some(25));
    assert_eq!(rows("units"), Some(3));
    assert_eq!(rows("persons"), Some(1));
    // The copied trail as it was, and the copy's own record chained after it.
    assert_one_chain(&target, 26).await;
    assert_eq!(
        lite.audit_batch(0, 100).await.unwrap(),
        target.audit_batch(0, 25).await.unwrap()
    );
    let last = target.audit_batch(25, 10).await.unwrap();
    let entry = String::from_utf8(last[0].entry.clone()).unwrap();
    assert!(
        entry.contains("\"action\":\"system.database_copied\""),
        "{entry}"
    );
    assert!(entry.contains("\"records\":25"), "{entry}");
    assert_eq!(
        target.setting("bureau").await.unwrap().as_deref(),
        Some("高雄市政府社會局")
    );
    // Units in their insertion order (parents first), and the next id after the copied ones.
    let units: Vec<(String,)> = sqlx::query_as("SELECT id FROM units ORDER BY rowid")
        .fetch_all(&target.reader)
        .await
        .unwrap();
    assert_eq!(units, [("root".into(),), ("b".into(),), ("a".into(),)]);
    let (next,): (i64,) = sqlx::query_as(
        "INSERT INTO persons (account, name, title, unit_id, status, created_at) \
         VALUES ('p', 'n', 't', 'a', 'active', 'x') RETURNING id",
    )
    .fetch_one(&target.writer)
    .await
    .unwrap();
    assert_eq!(next, 42);
    // A second copy into a database that now holds rows is refused, and writes nothing.
    let err = lite.copy_into(&target, copied_event).await.unwrap_err();
    assert_eq!(err.code(), "storage.copy_refused", "{err}");
    assert_eq!(target.audit_extent().await.unwrap(), (26, 26));
    target.close().await;
    schema.drop_now().await;
}
