//! Audits of what HQ's database holds, over every text column of every table: where a given
//! text appears, and whether anything reads as a resident ID number (there must be none).
//! Used by the tests, the end-to-end suites and `creditbank audit`.

use rusqlite::Connection;

use super::sqlite::SqliteStore;
use crate::Result;

impl SqliteStore {
    /// Every `table.column` of the database where `needle` appears in a value's text.
    pub fn find_text(&self, needle: &str) -> Result<Vec<String>> {
        let conn = self.lock();
        let mut found = Vec::new();
        for (table, column) in columns(&conn)? {
            let hit = conn
                .prepare(&format!(
                    "SELECT 1 FROM \"{table}\" WHERE instr(CAST(\"{column}\" AS TEXT), ?1) > 0 LIMIT 1"
                ))?
                .exists([needle])?;
            if hit {
                found.push(format!("{table}.{column}"));
            }
        }
        Ok(found)
    }

    /// Every `table.column` holding something that reads as a resident ID number (17 digits and
    /// a check character that passes GB 11643, with a real birth date): the audit, run after
    /// the end-to-end suite, that HQ keeps none in clear.
    pub fn find_resident_ids(&self) -> Result<Vec<String>> {
        let conn = self.lock();
        let mut found = Vec::new();
        for (table, column) in columns(&conn)? {
            let mut stmt = conn.prepare(&format!(
                "SELECT CAST(\"{column}\" AS TEXT) FROM \"{table}\" WHERE typeof(\"{column}\") = 'text'"
            ))?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                if holds_resident_id(&r.get::<_, String>(0)?) {
                    found.push(format!("{table}.{column}"));
                    break;
                }
            }
        }
        Ok(found)
    }
}

/// Every `(table, column)` of the database, SQLite's own tables aside.
fn columns(conn: &Connection) -> Result<Vec<(String, String)>> {
    let tables: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::new();
    for table in tables {
        let names: Vec<String> = conn
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        out.extend(names.into_iter().map(|c| (table.clone(), c)));
    }
    Ok(out)
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
