//! The audit trail and dates as a test reads them from outside: a stopped demo's database
//! opened read-only, and today in the ROC calendar the forms take.

/// A connection to the SQLite database file `db`, to read or edit it directly.
pub async fn connect(db: &std::path::Path) -> sqlx::SqliteConnection {
    use sqlx::Connection;
    sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .expect("the database opens")
}

/// The one number `query` (a `SELECT count(*)`) gives on the database file `db`.
pub fn count(db: &std::path::Path, query: &str) -> i64 {
    use sqlx::Connection;
    crate::rt().block_on(async {
        let mut c = connect(db).await;
        let (n,): (i64,) = sqlx::query_as(query)
            .fetch_one(&mut c)
            .await
            .expect("a count");
        c.close().await.expect("the database closes");
        n
    })
}

/// Every `(action, outcome)` of the trail's records in order, read from a stopped demo's
/// database.
pub async fn outcomes(db: &std::path::Path) -> Vec<(String, String)> {
    use sqlx::Connection;
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=ro", db.display()))
        .await
        .expect("the database opens read-only");
    sqlx::query_as("SELECT action, outcome FROM audit_records ORDER BY seq")
        .fetch_all(&mut c)
        .await
        .expect("the audit records")
}

/// Asserts that each `(action, code)` of `refusals` stands on the trail `got` (read by
/// [`outcomes`]) as a refusal with that code: outcome `refused:{code}`.
pub fn assert_refused(got: &[(String, String)], refusals: &[(&str, &str)]) {
    for (action, code) in refusals {
        let outcome = format!("refused:{code}");
        assert!(
            got.iter().any(|(a, o)| a == action && *o == outcome),
            "{action} {outcome} not in the trail {got:?}"
        );
    }
}

/// Today in Asia/Taipei plus `days`, as a ROC date (`format_short` types it as the forms do,
/// `115/03/05`).
pub fn roc_date(days: i64) -> querywarden_domain::roc_date::RocDate {
    let today = querywarden_domain::roc_date::taipei_date(jiff::Timestamp::now());
    let day = today
        .civil()
        .checked_add(jiff::Span::new().days(days))
        .expect("a date");
    querywarden_domain::roc_date::RocDate::from_civil(day).expect("a ROC date")
}

/// Today in Asia/Taipei plus `days`, as `民國年/月/日` (the forms' date format).
pub fn roc(days: i64) -> String {
    let d = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::get("Asia/Taipei").expect("the Taipei zone"))
        .date()
        .checked_add(jiff::Span::new().days(days))
        .expect("a date");
    format!("{}/{}/{}", d.year() - 1911, d.month(), d.day())
}
