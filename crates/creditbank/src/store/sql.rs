//! The few things HQ's rules need from a SQL database, the same over SQLite and PostgreSQL:
//! run a statement with arguments, read rows back as typed values, and take the locks that
//! keep concurrent writers correct. The rules (`apply`, `claims`, the [`super::Bank`]) are
//! written once against [`Tx`]; each backend (`sqlite`, `postgres`) implements it.
//!
//! SQL is written once, in the dialect both databases share: `?1`-style placeholders (the
//! PostgreSQL backend rewrites them to `$1`), `INSERT … ON CONFLICT`, `RETURNING`, `CAST(… AS
//! BIGINT)`. What differs is behind [`Tx`]'s methods ([`Tx::lock`], [`Tx::next_value`]).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{Error, Result};

/// Which database a transaction runs on, for the few statements that must differ (the audit's
/// catalogue queries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// The embedded default.
    Sqlite,
    /// A server database for a national HQ.
    Postgres,
}

/// An argument or a column value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// Any integer (BIGINT on PostgreSQL).
    Int(i64),
    /// A float.
    Real(f64),
    /// Text.
    Text(String),
    /// Bytes (BLOB / BYTEA).
    Bytes(Vec<u8>),
    /// An id (16-byte BLOB on SQLite, UUID on PostgreSQL).
    Uuid(Uuid),
    /// An instant (RFC 3339 text on SQLite, TIMESTAMPTZ on PostgreSQL).
    Time(DateTime<Utc>),
    /// A boolean (0/1 on SQLite).
    Bool(bool),
}

/// Turns a Rust value into an argument.
pub trait ToValue {
    /// The argument.
    fn to_value(&self) -> Value;
}

macro_rules! to_value {
    ($($t:ty => |$v:ident| $e:expr),* $(,)?) => {
        $(impl ToValue for $t {
            fn to_value(&self) -> Value {
                let $v = self;
                $e
            }
        })*
    };
}

to_value! {
    i64 => |v| Value::Int(*v),
    i32 => |v| Value::Int(i64::from(*v)),
    u32 => |v| Value::Int(i64::from(*v)),
    u16 => |v| Value::Int(i64::from(*v)),
    u8 => |v| Value::Int(i64::from(*v)),
    // Sequence numbers and counters stay far below 2^63; a larger one is stored saturated
    // (and refused by the checks that compare it).
    u64 => |v| Value::Int(i64::try_from(*v).unwrap_or(i64::MAX)),
    usize => |v| Value::Int(i64::try_from(*v).unwrap_or(i64::MAX)),
    bool => |v| Value::Bool(*v),
    str => |v| Value::Text(v.to_string()),
    String => |v| Value::Text(v.clone()),
    [u8] => |v| Value::Bytes(v.to_vec()),
    Vec<u8> => |v| Value::Bytes(v.clone()),
    Uuid => |v| Value::Uuid(*v),
    DateTime<Utc> => |v| Value::Time(*v),
    Value => |v| v.clone(),
}

impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}

impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToValue::to_value)
    }
}

/// Arguments for a statement: `args![a, b, c]`.
macro_rules! args {
    ($($e:expr),* $(,)?) => {
        &[$($crate::store::sql::ToValue::to_value(&$e)),*][..]
    };
}
pub(crate) use args;

/// Reads a column value as a Rust value.
pub trait FromValue: Sized {
    /// The value, or why it is not one.
    fn from_value(v: Value) -> std::result::Result<Self, String>;
}

fn wrong<T>(want: &str, got: &Value) -> std::result::Result<T, String> {
    Err(format!("expected {want}, the database returned {got:?}"))
}

impl FromValue for i64 {
    fn from_value(v: Value) -> std::result::Result<Self, String> {
        match v {
            Value::Int(i) => Ok(i),
            Value::Bool(b) => Ok(i64::from(b)),
            v => wrong("an integer", &v),
        }
    }
}

macro_rules! from_int {
    ($($t:ty),*) => {
        $(impl FromValue for $t {
            fn from_value(v: Value) -> std::result::Result<Self, String> {
                let i = i64::from_value(v)?;
                <$t>::try_from(i).map_err(|_| format!("{i} is out of range for {}", stringify!($t)))
            }
        })*
    };
}
from_int!(u64, u32, u16, u8, i32);

impl FromValue for bool {
    fn from_value(v: Value) -> std::result::Result<Self, String> {
        match v {
            Value::Bool(b) => Ok(b),
            Value::Int(i) => Ok(i != 0),
            v => wrong("a boolean", &v),
        }
    }
}

impl FromValue for String {
    fn from_value(v: Value) -> std::result::Result<Self, String> {
        match v {
            Value::Text(s) => Ok(s),
            v => wrong("text", &v),
        }
    }
}

impl FromValue for Vec<u8> {
    fn from_value(v: Value) -> std::result::Result<Self, String> {
        match v {
            Value::Bytes(b) => Ok(b),
            v => wrong("bytes", &v),
        }
    }
}

impl FromValue for Uuid {
    fn from_value(v: Value) -> std::result::Result<Self, String> {
        match v {
            Value::Uuid(u) => Ok(u),
            Value::Bytes(b) => Uuid::from_slice(&b).map_err(|e| e.to_string()),
            Value::Text(s) => s.parse().map_err(|e: uuid::Error| e.to_string()),
            v => wrong("an id", &v),
        }
    }
}

impl FromValue for DateTime<Utc> {
    fn from_value(v: Value) -> std::result::Result<Self, String> {
        match v {
            Value::Time(t) => Ok(t),
            // SQLite keeps instants as text in rusqlite's format; read them with its parser.
            Value::Text(s) => <DateTime<Utc> as rusqlite::types::FromSql>::column_result(
                rusqlite::types::ValueRef::Text(s.as_bytes()),
            )
            .map_err(|e| format!("{s:?} is not an instant: {e}")),
            v => wrong("an instant", &v),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: Value) -> std::result::Result<Self, String> {
        match v {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}

/// One result row.
#[derive(Debug, Clone)]
pub struct Row(pub Vec<Value>);

impl Row {
    /// Column `i` as a `T`.
    pub fn get<T: FromValue>(&self, i: usize) -> Result<T> {
        let v = self
            .0
            .get(i)
            .cloned()
            .ok_or_else(|| Error::Internal(format!("a query returned no column {i}")))?;
        T::from_value(v).map_err(|e| Error::Internal(format!("column {i}: {e}")))
    }
}

/// What a writer locks so that concurrent transactions stay correct (on SQLite, with one
/// writer at a time, every lock is already held).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lock {
    /// The change log of one site: its writers commit one at a time, so the log's sequence
    /// grows in commit order for every device of the site (its pull cursor never skips a
    /// change that commits late). Also serializes a site's pushes (exactly once per device).
    SiteLog(Uuid),
    /// The whole change log (a change for every site, like a catalogue): waits for every
    /// site's writers.
    AllLogs,
    /// A credit account: its claims are judged one at a time (accredited once per person).
    Account(i64),
}

/// A transaction: the statements of one unit of work, committed whole or not at all.
pub trait Tx {
    /// The database underneath.
    fn dialect(&self) -> Dialect;
    /// Runs a statement; the number of rows it changed.
    fn execute(&self, sql: &str, args: &[Value]) -> Result<u64>;
    /// Runs a query; every row.
    fn query(&self, sql: &str, args: &[Value]) -> Result<Vec<Row>>;
    /// Takes a lock held until the transaction ends.
    fn lock(&self, what: Lock) -> Result<()>;
    /// The next value of a named sequence (`site_seq`, `credit_account_id`): unique however
    /// many transactions ask at once; a rolled-back transaction may leave a gap.
    fn next_value(&self, sequence: &str) -> Result<i64>;
}

impl dyn Tx + '_ {
    /// The first row, if any.
    pub fn opt(&self, sql: &str, args: &[Value]) -> Result<Option<Row>> {
        Ok(self.query(sql, args)?.into_iter().next())
    }

    /// Exactly the first row.
    pub fn one(&self, sql: &str, args: &[Value]) -> Result<Row> {
        self.opt(sql, args)?
            .ok_or_else(|| Error::Internal(format!("no row for: {}", first_line(sql))))
    }

    /// Whether the query returns a row.
    pub fn exists(&self, sql: &str, args: &[Value]) -> Result<bool> {
        Ok(self.opt(sql, args)?.is_some())
    }

    /// The first column of the first row.
    pub fn value<T: FromValue>(&self, sql: &str, args: &[Value]) -> Result<T> {
        self.one(sql, args)?.get(0)
    }

    /// The first column of the first row, if there is a row.
    pub fn value_opt<T: FromValue>(&self, sql: &str, args: &[Value]) -> Result<Option<T>> {
        self.opt(sql, args)?.map(|r| r.get(0)).transpose()
    }

    /// The first column of every row.
    pub fn column<T: FromValue>(&self, sql: &str, args: &[Value]) -> Result<Vec<T>> {
        self.query(sql, args)?.iter().map(|r| r.get(0)).collect()
    }
}

fn first_line(sql: &str) -> &str {
    sql.trim().lines().next().unwrap_or_default()
}

/// A database HQ's store runs on.
pub(crate) trait Database: Send + Sync {
    /// Runs `f` in a write transaction and commits it; rolls back on error. A backend may run
    /// `f` again after a transient conflict (a deadlock between two writers), so `f` must
    /// depend on nothing but the database.
    fn write(&self, f: &mut (dyn FnMut(&dyn Tx) -> Result<()> + Send)) -> Result<()>;
    /// The dialect.
    fn dialect(&self) -> Dialect;
}

/// Runs `f` in a write transaction of `db` and returns what it returned.
pub(crate) fn write<T: Send>(
    db: &dyn Database,
    mut f: impl FnMut(&dyn Tx) -> Result<T> + Send,
) -> Result<T> {
    let mut out = None;
    db.write(&mut |tx| {
        out = Some(f(tx)?);
        Ok(())
    })?;
    out.ok_or_else(|| Error::Internal("a transaction returned nothing".into()))
}
