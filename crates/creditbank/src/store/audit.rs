//! Audits of what HQ's database holds, over every text column of every table: where a given
//! text appears, and whether anything reads as a resident ID number (there must be none).
//! Used by the tests, the end-to-end suites and `creditbank audit`.

use super::bank::Bank;
use super::sql::{Dialect, Tx, args};
use crate::Result;

impl Bank {
    /// Every `table.column` of the database where `needle` appears in a value's text.
    pub fn find_text(&self, needle: &str) -> Result<Vec<String>> {
        self.tx(|tx| {
            let mut found = Vec::new();
            for (table, column) in columns(tx)? {
                let sql = match tx.dialect() {
                    Dialect::Sqlite => format!(
                        "SELECT 1 FROM \"{table}\" WHERE instr(CAST(\"{column}\" AS TEXT), ?1) > 0 LIMIT 1"
                    ),
                    Dialect::Postgres => format!(
                        "SELECT 1 FROM \"{table}\" WHERE strpos(CAST(\"{column}\" AS TEXT), ?1) > 0 LIMIT 1"
                    ),
                };
                if tx.exists(&sql, args![needle])? {
                    found.push(format!("{table}.{column}"));
                }
            }
            Ok(found)
        })
    }

    /// Every `table.column` holding something that reads as a resident ID number (17 digits and
    /// a check character that passes GB 11643, with a real birth date): the audit, run after
    /// the end-to-end suite, that HQ keeps none in clear.
    pub fn find_resident_ids(&self) -> Result<Vec<String>> {
        self.tx(|tx| {
            let mut found = Vec::new();
            for (table, column) in columns(tx)? {
                let sql = match tx.dialect() {
                    Dialect::Sqlite => format!(
                        "SELECT CAST(\"{column}\" AS TEXT) FROM \"{table}\" WHERE typeof(\"{column}\") = 'text'"
                    ),
                    Dialect::Postgres => {
                        format!("SELECT CAST(\"{column}\" AS TEXT) FROM \"{table}\"")
                    }
                };
                let texts: Vec<Option<String>> = tx.column(&sql, &[])?;
                if texts.iter().flatten().any(|t| holds_resident_id(t)) {
                    found.push(format!("{table}.{column}"));
                }
            }
            Ok(found)
        })
    }
}

/// Every `(table, column)` of the database, the database's own tables aside (on PostgreSQL,
/// the text columns of the current schema: the others cannot hold a number in text).
fn columns(tx: &dyn Tx) -> Result<Vec<(String, String)>> {
    match tx.dialect() {
        Dialect::Sqlite => {
            let tables: Vec<String> = tx.column(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
                &[],
            )?;
            let mut out = Vec::new();
            for table in tables {
                let names: Vec<String> = tx.column(
                    &format!("SELECT name FROM pragma_table_info('{table}')"),
                    &[],
                )?;
                out.extend(names.into_iter().map(|c| (table.clone(), c)));
            }
            Ok(out)
        }
        Dialect::Postgres => Ok(tx
            .query(
                "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT) FROM information_schema.columns
                 WHERE table_schema = current_schema() AND data_type IN ('text', 'character varying', 'jsonb', 'json')
                 ORDER BY table_name, ordinal_position",
                &[],
            )?
            .iter()
            .map(|r| Ok((r.get(0)?, r.get(1)?)))
            .collect::<Result<_>>()?),
    }
}

/// Some 18-character window of `text` parses as a resident ID number.
fn holds_resident_id(text: &str) -> bool {
    let b = text.as_bytes();
    (0..b.len().saturating_sub(17)).any(|i| {
        b[i..i + 17].iter().all(u8::is_ascii_digit)
            && matches!(b[i + 17], b'0'..=b'9' | b'X' | b'x')
            && std::str::from_utf8(&b[i..i + 18])
                .is_ok_and(|s| siteline_domain::resident_id::ResidentId::parse(s).is_ok())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_number_is_found_inside_any_text_and_a_wrong_check_digit_is_not() {
        assert!(holds_resident_id(r#"{"id":"11010519491231002X"}"#));
        assert!(!holds_resident_id(
            "110105194912310021 is a wrong check digit"
        ));
        assert!(!holds_resident_id("short 1101051949"));
    }
}
