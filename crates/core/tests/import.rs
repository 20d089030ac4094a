//! Bulk import from the Excel template: a class of 40 with two bad rows imports 38 and says
//! why the two were refused; duplicates in the file and at the site, a full cohort, a file
//! that is not the template, and a closed cohort are refused with nothing written.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::NaiveDate;
use rust_xlsxwriter::Workbook;
use siteline_core::store::cohorts::{self, NewCohort};
use siteline_core::store::import;
use siteline_core::{Actor, Site, demo};
use siteline_domain::Rule;
use siteline_domain::ids::CohortId;

fn site() -> (Site, Actor, CohortId) {
    let mut site = Site::open_in_memory().unwrap();
    let (manager, _) = demo::staff(&mut site).unwrap();
    let cohort = cohorts::create(
        &mut site,
        &manager,
        &NewCohort {
            programme_version_id: "maternity-L5-v1".into(),
            name: "2026年第3期母婴护理员（五级）班".into(),
            start_date: NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
            end_date: NaiveDate::from_ymd_opt(2026, 10, 31).unwrap(),
            capacity: 40,
            instructors: vec![],
        },
    )
    .unwrap();
    (site, manager, cohort)
}

/// A workbook with the template's header and `rows` (name, type, number, mobile, consent).
fn workbook(rows: &[[String; 5]]) -> Vec<u8> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    for (c, title) in import::COLUMNS.iter().enumerate() {
        sheet.write_string(0, c as u16, *title).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, value) in row.iter().enumerate() {
            if !value.is_empty() {
                sheet.write_string(r as u32 + 1, c as u16, value).unwrap();
            }
        }
    }
    book.save_to_buffer().unwrap()
}

fn row(n: u64) -> [String; 5] {
    [
        demo::name(n),
        "居民身份证".into(),
        demo::resident_id(n),
        format!("1380013{:04}", n),
        "是".into(),
    ]
}

fn count(site: &Site, table: &str) -> i64 {
    site.conn()
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_class_of_40_with_two_bad_rows_imports_38_and_says_why_the_two_were_refused() {
    let (mut site, manager, cohort) = site();
    let mut rows: Vec<[String; 5]> = (1..=40).map(row).collect();
    // Row 6 (the fifth learner): a check digit typed wrong.
    let mut wrong = demo::resident_id(5);
    let last = if wrong.ends_with('1') { '2' } else { '1' };
    wrong.pop();
    wrong.push(last);
    rows[4][2] = wrong;
    // Row 31: the same person as row 11.
    rows[29] = row(10);
    rows[29][0] = "另一个名字".into();
    let report = import::import(&mut site, &manager, &workbook(&rows), Some(cohort)).unwrap();
    assert_eq!((report.imported, report.refused), (38, 2), "{report:#?}");
    let refused: Vec<_> = report.rows.iter().filter(|r| r.learner.is_none()).collect();
    assert_eq!(refused[0].row, 6);
    assert_eq!(refused[0].code.as_deref(), Some("invalid"));
    assert_eq!(refused[0].rule, Some(Rule::IdChecksum), "{:?}", refused[0]);
    assert_eq!(refused[1].row, 31);
    assert_eq!(refused[1].code.as_deref(), Some("duplicate"));
    assert_eq!(refused[1].same_as_row, Some(11));
    assert_eq!(count(&site, "learner"), 38);
    assert_eq!(
        count(&site, "enrolment"),
        38,
        "each imported learner is enrolled"
    );
    assert_eq!(
        count(&site, "consent"),
        38,
        "each with the consent its row gave"
    );
    // The ID numbers are sealed like the form's: none in clear in the database.
    let clear: i64 = site
        .conn()
        .query_row(
            "SELECT count(*) FROM learner WHERE CAST(id_cipher AS TEXT) LIKE ?1",
            [format!("%{}%", demo::resident_id(1))],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(clear, 0);

    // The same file again: every row is a duplicate of a learner the site has; nothing added.
    let again = import::import(&mut site, &manager, &workbook(&rows), Some(cohort)).unwrap();
    assert_eq!(again.imported, 0);
    assert!(
        again
            .rows
            .iter()
            .filter(|r| r.row != 6)
            .all(|r| r.code.as_deref() == Some("duplicate")),
        "{again:#?}"
    );
    assert_eq!(count(&site, "learner"), 38);
}

#[test]
fn rows_past_the_cohorts_places_are_refused_and_the_rest_enrolled() {
    let (mut site, manager, cohort) = site();
    let rows: Vec<[String; 5]> = (1..=45).map(row).collect();
    let report = import::import(&mut site, &manager, &workbook(&rows), Some(cohort)).unwrap();
    assert_eq!((report.imported, report.refused), (40, 5));
    assert!(
        report.rows[40..]
            .iter()
            .all(|r| r.code.as_deref() == Some("cohort_full")
                && matches!(r.rule, Some(Rule::CohortFull { capacity: 40, .. })))
    );
    assert_eq!(count(&site, "enrolment"), 40);
}

#[test]
fn a_file_that_is_not_the_template_or_a_closed_cohort_writes_nothing() {
    let (mut site, manager, cohort) = site();
    let not_excel = import::import(&mut site, &manager, b"name,id\n", None).unwrap_err();
    assert!(
        not_excel.to_string().contains("not an Excel workbook"),
        "{not_excel}"
    );
    let mut book = Workbook::new();
    book.add_worksheet().write_string(0, 0, "编号").unwrap();
    let wrong_header =
        import::import(&mut site, &manager, &book.save_to_buffer().unwrap(), None).unwrap_err();
    assert!(
        wrong_header.to_string().contains("template"),
        "{wrong_header}"
    );
    cohorts::set_status(
        &mut site,
        &manager,
        cohort,
        siteline_core::store::cohorts::CohortStatus::Closed,
    )
    .unwrap();
    let before = count(&site, "outbox");
    let closed =
        import::import(&mut site, &manager, &workbook(&[row(1)]), Some(cohort)).unwrap_err();
    assert_eq!(closed.kind(), "locked", "{closed}");
    assert_eq!(count(&site, "learner"), 0);
    assert_eq!(count(&site, "outbox"), before);
}

#[test]
fn the_template_reads_back_as_an_empty_class_and_types_and_consents_are_read() {
    let (mut site, manager, _) = site();
    let report = import::import(&mut site, &manager, &import::template().unwrap(), None).unwrap();
    assert_eq!((report.imported, report.refused), (0, 0));
    let mut passport = row(2);
    passport[1] = "护照".into();
    passport[2] = "E12345678".into();
    passport[3] = String::new();
    passport[4] = "否".into();
    let mut bad_type = row(3);
    bad_type[1] = "驾驶证".into();
    let report = import::import(
        &mut site,
        &manager,
        &workbook(&[row(1), passport, bad_type]),
        None,
    )
    .unwrap();
    assert_eq!((report.imported, report.refused), (2, 1), "{report:#?}");
    assert!(
        report.rows[2]
            .problem
            .as_deref()
            .unwrap()
            .contains("ID type")
    );
    let refused_consents: i64 = site
        .conn()
        .query_row("SELECT count(*) FROM consent WHERE granted = 0", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(refused_consents, 1, "the passport holder said no");
}

#[test]
fn a_file_over_the_row_limit_or_an_id_number_stored_as_a_number_is_refused_plainly() {
    let (mut site, manager, _) = site();
    let rows: Vec<[String; 5]> = (1..=import::MAX_ROWS as u64 + 1).map(row).collect();
    let too_many = import::import(&mut site, &manager, &workbook(&rows), None).unwrap_err();
    assert!(too_many.to_string().contains("split it"), "{too_many}");
    assert_eq!(count(&site, "learner"), 0);
    // Excel turned an 18-digit number into a float and lost its last digits.
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    for (c, title) in import::COLUMNS.iter().enumerate() {
        sheet.write_string(0, c as u16, *title).unwrap();
    }
    sheet.write_string(1, 0, demo::name(1)).unwrap();
    sheet.write_number(1, 2, 440303199001011234.0).unwrap();
    let report =
        import::import(&mut site, &manager, &book.save_to_buffer().unwrap(), None).unwrap();
    assert_eq!((report.imported, report.refused), (0, 1));
    assert!(
        report.rows[0]
            .problem
            .as_deref()
            .unwrap()
            .contains("format the column as Text"),
        "{report:#?}"
    );
    assert_eq!(count(&site, "learner"), 0);
}
