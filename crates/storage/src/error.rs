//! The storage layer's error type. Messages are for logs and operators; the web layer maps
//! them to safe user-facing text.

/// What went wrong below the domain. Never carries personal data.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the database file is not a valid SQLite database or is damaged; refusing to start (restore it from a backup; it is never re-created automatically)"
    )]
    Corrupt(#[source] sqlx::Error),
    #[error(
        "the database was written by a newer querywarden (schema version {found}, this build knows up to {known}); refusing to start"
    )]
    NewerSchema { found: i64, known: i64 },
    #[error(
        "the database schema is at version {found} and this build needs version {known}; run `querywarden migrate` first (storage.auto_migrate is off)"
    )]
    OlderSchema { found: i64, known: i64 },
    #[error("a schema migration failed: {0}")]
    Migration(#[source] sqlx::migrate::MigrateError),
    #[error("the database is read-only or the disk is full; nothing was written")]
    NotWritable(#[source] sqlx::Error),
    #[error("the group commit failed; this change was not saved: {message}")]
    CommitFailed { not_writable: bool, message: String },
    #[error("the database rejected the change: {0}")]
    Constraint(String),
    #[error("not possible on this database engine: {0}")]
    Unsupported(String),
    #[error("the copy was refused; nothing was written: {0}")]
    Copy(String),
    #[error("stored data could not be decoded: {0}")]
    Decode(String),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl StorageError {
    /// Stable code for machines.
    pub fn code(&self) -> &'static str {
        match self {
            Self::DataDir { .. } => "storage.data_dir",
            Self::Corrupt(_) => "storage.corrupt",
            Self::NewerSchema { .. } => "storage.newer_schema",
            Self::OlderSchema { .. } => "storage.older_schema",
            Self::Migration(_) => "storage.migration",
            Self::NotWritable(_) => "storage.not_writable",
            Self::CommitFailed {
                not_writable: true, ..
            } => "storage.not_writable",
            Self::CommitFailed { .. } => "storage.commit_failed",
            Self::Constraint(_) => "storage.constraint",
            Self::Unsupported(_) => "storage.unsupported",
            Self::Copy(_) => "storage.copy_refused",
            Self::Decode(_) => "storage.decode",
            Self::Database(_) => "storage.database",
        }
    }
}

/// Classifies an sqlx error so that callers can tell "disk full / read-only" and "damaged
/// file" from ordinary failures.
pub(crate) fn classify(e: sqlx::Error) -> StorageError {
    if let sqlx::Error::Database(db) = &e {
        let code = db.code().map(|c| c.to_string()).unwrap_or_default();
        if db
            .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
            .is_some()
        {
            // PostgreSQL SQLSTATE classes: 23 integrity constraint violation; 53 insufficient
            // resources (53100 disk full); 25006 read-only transaction (a standby after a
            // fail-over); XX001/XX002 damaged data.
            return match code.as_str() {
                c if c.starts_with("23") => StorageError::Constraint(db.message().to_string()),
                c if c.starts_with("53") || c == "25006" => StorageError::NotWritable(e),
                "XX001" | "XX002" => StorageError::Corrupt(e),
                _ => StorageError::Database(e),
            };
        }
        // SQLite primary result codes (the low byte of extended codes): 8 READONLY,
        // 13 FULL, 11 CORRUPT, 26 NOTADB, 19 CONSTRAINT, 10 IOERR.
        let primary = code.parse::<i64>().map(|c| c & 0xff).unwrap_or(-1);
        return match primary {
            8 | 13 | 10 => StorageError::NotWritable(e),
            11 | 26 => StorageError::Corrupt(e),
            19 => StorageError::Constraint(db.message().to_string()),
            _ => StorageError::Database(e),
        };
    }
    StorageError::Database(e)
}
