//! Bulk import: a 200-row class from the Excel template into a file-backed site that already
//! holds 5,000 learners, enrolled in a cohort, every row checked like the form; 5 runs, each
//! on a fresh copy of the site. The bar is 200 rows in under 2 s.
//!
//! `cargo bench -p siteline-core --bench import`
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use rust_xlsxwriter::Workbook;
use siteline_core::store::cohorts::{self, NewCohort};
use siteline_core::store::import;
use siteline_core::store::learners::{self, IdType, NewLearner};
use siteline_core::{Site, demo};

const EXISTING: u64 = 5_000;
const ROWS: u64 = 200;
const RUNS: usize = 5;

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.db");
    {
        let mut site = Site::open(&base).unwrap();
        let (manager, _) = demo::staff(&mut site).unwrap();
        for n in 0..EXISTING {
            learners::register(
                &mut site,
                &manager,
                &NewLearner {
                    name: demo::name(n),
                    id_type: IdType::ResidentId,
                    id_number: demo::resident_id(n),
                    phone: None,
                    consents: vec![],
                },
            )
            .unwrap();
        }
    }
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    for (c, title) in import::COLUMNS.iter().enumerate() {
        sheet.write_string(0, c as u16, *title).unwrap();
    }
    for (r, n) in (EXISTING..EXISTING + ROWS).enumerate() {
        let r = r as u32 + 1;
        sheet.write_string(r, 0, demo::name(n)).unwrap();
        sheet.write_string(r, 1, "居民身份证").unwrap();
        sheet.write_string(r, 2, demo::resident_id(n)).unwrap();
        sheet.write_string(r, 3, demo::mobile(n)).unwrap();
        sheet.write_string(r, 4, "是").unwrap();
    }
    let file = book.save_to_buffer().unwrap();
    let mut times = Vec::new();
    for run in 0..RUNS {
        let path = dir.path().join(format!("run{run}.db"));
        std::fs::copy(&base, &path).unwrap();
        let _ = std::fs::copy(base.with_extension("key"), path.with_extension("key"));
        let mut site = Site::open(&path).unwrap();
        let manager =
            siteline_core::store::staff::sign_in(site.conn(), "manager", "manager-pass").unwrap();
        let cohort = cohorts::create(
            &mut site,
            &manager,
            &NewCohort {
                programme_version_id: "maternity-L5-v1".into(),
                name: "大班".into(),
                start_date: NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
                end_date: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
                capacity: 200,
                instructors: vec![],
            },
        )
        .unwrap();
        let t = Instant::now();
        let report = import::import(&mut site, &manager, &file, Some(cohort)).unwrap();
        times.push(t.elapsed());
        assert_eq!(report.imported as u64, ROWS, "{:?}", report.rows.first());
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "import of {ROWS} rows (checked, registered, enrolled) into a site of {EXISTING}: median {:.0} ms, max {:.0} ms over {RUNS} runs; file {} KiB",
        ms(times[RUNS / 2]),
        ms(times[RUNS - 1]),
        file.len() / 1024
    );
}
