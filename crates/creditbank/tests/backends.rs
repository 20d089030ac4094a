//! Opening the credit bank's database: created and migrated at start, reopened as it was, and
//! refused when it is at a newer schema than this creditbank knows (a downgrade must not
//! write into a schema it does not understand). On SQLite, and on PostgreSQL when the suite
//! runs there.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use creditbank::store::postgres::Scratch;
use creditbank::store::{Bank, Store, TEST_DATABASE_ENV};

fn server() -> Option<String> {
    std::env::var(TEST_DATABASE_ENV)
        .ok()
        .filter(|s| !s.trim().is_empty())
}

/// Opens the store in `dir` on the test's database, runs `f` on it, reopens it, and returns
/// what the reopened store says about the site `f` created.
fn reopened(dir: &std::path::Path, database: Option<&str>) -> Vec<String> {
    let store = Bank::open(dir, database).unwrap();
    store.create_site("GD-SZ-001", "深圳站", "44").unwrap();
    let before = store.create_site("GD-SZ-001", "again", "44").unwrap_err();
    assert!(before.to_string().contains("already exists"), "{before}");
    drop(store);
    let store = Bank::open(dir, database).unwrap();
    store
        .list_sites(chrono::Utc::now())
        .unwrap()
        .into_iter()
        .map(|s| format!("{} {} {}", s.code, s.name, s.province))
        .collect()
}

#[test]
fn a_store_reopens_with_what_it_held() {
    let dir = tempfile::tempdir().unwrap();
    match server() {
        None => assert_eq!(reopened(dir.path(), None), ["GD-SZ-001 深圳站 44"]),
        Some(server) => {
            let (_scratch, url) = Scratch::create(&server).unwrap();
            assert_eq!(reopened(dir.path(), Some(&url)), ["GD-SZ-001 深圳站 44"]);
        }
    }
}

#[test]
fn a_database_at_a_newer_schema_is_refused_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let error = match server() {
        None => {
            drop(Bank::open(dir.path(), None).unwrap());
            let conn = rusqlite::Connection::open(dir.path().join("creditbank.db")).unwrap();
            conn.pragma_update(None, "user_version", 99).unwrap();
            drop(conn);
            let error = Bank::open(dir.path(), None).err().unwrap();
            let conn = rusqlite::Connection::open(dir.path().join("creditbank.db")).unwrap();
            let version: i64 = conn
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .unwrap();
            assert_eq!(version, 99, "nothing migrated");
            error
        }
        Some(server) => {
            let (_scratch, url) = Scratch::create(&server).unwrap();
            drop(Bank::open(dir.path(), Some(&url)).unwrap());
            let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            client
                .batch_execute("UPDATE schema_version SET version = 99")
                .unwrap();
            let error = Bank::open(dir.path(), Some(&url)).err().unwrap();
            let version: i64 = client
                .query_one("SELECT version FROM schema_version", &[])
                .unwrap()
                .get(0);
            assert_eq!(version, 99, "nothing migrated");
            error
        }
    };
    let message = error.to_string();
    assert!(
        message.contains("schema 99") && message.contains("run the newer creditbank"),
        "{message}"
    );
}

#[test]
fn an_unreachable_or_malformed_database_address_is_refused_with_what_to_check() {
    let dir = tempfile::tempdir().unwrap();
    let malformed = Bank::open(dir.path(), Some("postgres://[::1"))
        .err()
        .unwrap();
    assert!(
        malformed
            .to_string()
            .contains("not a PostgreSQL connection string"),
        "{malformed}"
    );
    // Nothing listens on port 1.
    let unreachable = Bank::open(
        dir.path(),
        Some("host=127.0.0.1 port=1 user=creditbank password=s3cret dbname=creditbank connect_timeout=2"),
    )
    .err()
    .unwrap();
    let message = unreachable.to_string();
    assert!(
        message.contains("cannot connect to PostgreSQL") && message.contains("127.0.0.1"),
        "{message}"
    );
    assert!(
        !message.contains("s3cret"),
        "the password is not repeated: {message}"
    );
}
