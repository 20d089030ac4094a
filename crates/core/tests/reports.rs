//! Reports and the site manager's review on a real store: CSV, XLSX and print HTML hold the
//! cohort's rows with masked ID numbers only; the review's filters, attendance weeks and pass
//! rates agree with the records; staff and settings changes are checked.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use calamine::{Reader, Xlsx};
use chrono::{TimeZone, Utc};
use siteline_core::store::progress;
use siteline_core::store::reports::{self, ReportFormat};
use siteline_core::store::review::{self, ReviewFilter};
use siteline_core::store::{settings, staff};
use siteline_core::{Site, demo};

fn demo_site() -> (
    Site,
    siteline_core::Actor,
    siteline_core::Actor,
    siteline_domain::ids::CohortId,
) {
    let mut site = Site::open_in_memory().unwrap();
    let (m, i) = demo::staff(&mut site).unwrap();
    let today = Utc
        .with_ymd_and_hms(2026, 11, 28, 16, 0, 0)
        .single()
        .unwrap();
    let done = demo::seed_finished_cohort(&mut site, &m, &i, today).unwrap();
    demo::seed_first_look(&mut site, &m, &i, today).unwrap();
    (site, m, i, done)
}

fn full_ids() -> Vec<String> {
    (0..12).map(|n| demo::resident_id(710_000 + n)).collect()
}

#[test]
fn csv_xlsx_and_html_hold_the_cohorts_rows_and_never_a_full_id_number() {
    let (site, _, _, cohort) = demo_site();
    let table = progress::cohort_progress(site.conn(), cohort).unwrap();
    assert_eq!(table.learners.len(), 12);
    let dir = tempfile::tempdir().unwrap();
    let ids = full_ids();

    let csv_path = reports::export(site.conn(), cohort, ReportFormat::Csv, dir.path()).unwrap();
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    assert!(csv.starts_with('\u{feff}'), "BOM for Excel");
    assert_eq!(csv.lines().count(), 13);
    assert!(csv.lines().next().unwrap().contains("证件号（脱敏）"));
    for l in &table.learners {
        assert!(
            csv.contains(&l.name) && csv.contains(&l.id_masked),
            "{}",
            l.name
        );
    }

    let xlsx_path = reports::export(site.conn(), cohort, ReportFormat::Xlsx, dir.path()).unwrap();
    assert!(
        xlsx_path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .ends_with(".xlsx")
    );
    let mut book: Xlsx<_> = calamine::open_workbook(&xlsx_path).unwrap();
    let sheet = book.worksheet_range("培训进度").unwrap();
    let rows: Vec<Vec<String>> = sheet
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert!(rows[0][0].contains("家务服务员"), "{:?}", rows[0]);
    assert_eq!(rows[1][0], "姓名");
    assert_eq!(rows.len(), 2 + 12);
    let passed = table
        .learners
        .iter()
        .filter(|l| l.status == siteline_domain::scores::PassStatus::Passed)
        .count();
    // Nobody reads 合格 for a learner who attended too little.
    assert_eq!(
        rows[2..].iter().filter(|r| r[9] == "合格").count(),
        passed - 1
    );
    assert_eq!(
        rows[2..]
            .iter()
            .filter(|r| r[9] == "考核合格 · 出勤不足" && r[5] == "否")
            .count(),
        1
    );
    // One failed theory, one a critical item; the one who missed sessions passed on scores
    // but is not eligible (a separate column), so cannot be claimed.
    assert_eq!(passed, 10);
    assert_eq!(rows[2..].iter().filter(|r| r[5] == "否").count(), 1);
    // Attended hours are numbers in the sheet.
    assert!(matches!(
        sheet.get_value((2, 2)),
        Some(calamine::Data::Float(_))
    ));

    let html_path = reports::export(site.conn(), cohort, ReportFormat::Html, dir.path()).unwrap();
    let html = std::fs::read_to_string(&html_path).unwrap();
    for words in [
        "培训站点",
        "培训日期",
        "站点负责人（签字）",
        "考评员（签字）",
        "<table>",
    ] {
        assert!(html.contains(words), "{words}");
    }
    assert!(!html.contains("<script"));

    let all = [csv, html, rows.concat().join(",")];
    for id in &ids {
        for (n, text) in all.iter().enumerate() {
            assert!(
                !text.contains(id.as_str()),
                "format {n} holds a full ID number"
            );
        }
    }
    // Nothing half-written left in the folder.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
}

#[test]
fn a_name_with_slashes_makes_a_safe_file_name() {
    let (site, _, _, cohort) = demo_site();
    let mut table = progress::cohort_progress(site.conn(), cohort).unwrap();
    table.cohort.name = "A/B:班*?".into();
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
    assert_eq!(
        reports::file_name(&table, ReportFormat::Xlsx, day),
        "A_B_班__-20261129.xlsx"
    );
}

#[test]
fn the_review_filters_cohorts_and_counts_attendance_and_pass_rates_from_the_records() {
    let (mut site, m, i, done) = demo_site();
    let all = review::site_review(site.conn(), &ReviewFilter::default()).unwrap();
    assert_eq!(all.cohorts.len(), 2);
    let line = all.cohorts.iter().find(|c| c.cohort.id == done).unwrap();
    // Ten passed every component, but one of them attended too little: 9 passed, 1 apart.
    assert_eq!(
        (
            line.passed,
            line.passed_not_eligible,
            line.failed,
            line.eligible
        ),
        (9, 1, 2, 11)
    );
    assert_eq!(line.instructors, vec!["王老师".to_string()]);
    // Pass rate by programme: 10 of the 12 with results.
    let rate = all
        .by_programme
        .iter()
        .find(|p| p.key == "housekeeping-L5-v1")
        .unwrap();
    assert_eq!((rate.passed, rate.assessed), (10, 12));
    let theory = all
        .by_component
        .iter()
        .find(|p| p.key == "housekeeping-L5-v1/theory")
        .unwrap();
    assert_eq!((theory.passed, theory.assessed), (11, 12));
    // Pass rate per competency unit: each of housekeeping L5's four units' tasks, for all 12.
    let units: Vec<_> = all
        .by_unit
        .iter()
        .filter(|u| u.key.contains("housekeeping-L5"))
        .collect();
    assert_eq!(units.len(), 4);
    assert!(units.iter().all(|u| u.assessed == 12));
    assert!(
        units.iter().any(|u| u.passed < 12),
        "some learners fell short on a unit"
    );
    for u in &units {
        let below: i64 = site
            .conn()
            .query_row(
                "SELECT count(*) FROM rubric_score rs JOIN rubric_item ri ON ri.id = rs.rubric_item_id
                  WHERE ri.unit_id = ?1 AND rs.points * 10 < ri.max_points * 6",
                [&u.key],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(i64::from(u.assessed - u.passed), below, "{}", u.label_zh);
        assert!(u.label_zh.contains("家务服务员"), "{}", u.label_zh);
    }
    // Attendance weeks: closed sessions only; the ongoing demo has none closed.
    let attended: i64 = all.attendance.iter().map(|w| w.attended_minutes).sum();
    let scheduled: i64 = all.attendance.iter().map(|w| w.scheduled_minutes).sum();
    assert_eq!(scheduled, 12 * 12 * 8 * 60);
    assert!(
        attended < scheduled && attended > scheduled * 9 / 10,
        "{attended}/{scheduled}"
    );
    assert!(all.attendance.len() >= 4);
    // Filters.
    let by_programme = review::site_review(
        site.conn(),
        &ReviewFilter {
            programme_version_id: Some("maternity-L5-v1".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(by_programme.cohorts.len(), 1);
    assert!(by_programme.attendance.is_empty());
    let other = staff::create_staff(
        &mut site,
        &m,
        &staff::NewStaff {
            username: "zhao".into(),
            display_name: "赵老师".into(),
            role: siteline_core::Role::Instructor,
            password: "zhao-pass-1".into(),
        },
    )
    .unwrap();
    let none = review::site_review(
        site.conn(),
        &ReviewFilter {
            instructor_id: Some(other.id),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(none.cohorts.is_empty());
    let mine = review::site_review(
        site.conn(),
        &ReviewFilter {
            instructor_id: Some(i.id),
            to: Some(chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(mine.cohorts.len(), 1);
    assert_eq!(mine.cohorts[0].cohort.id, done);
}

#[test]
fn a_manager_disables_and_resets_accounts_but_never_locks_the_site_out() {
    let mut site = Site::open_in_memory().unwrap();
    let (m, i) = demo::staff(&mut site).unwrap();
    let err = staff::set_active(&mut site, &i, m.id, false).unwrap_err();
    assert_eq!(err.kind(), "forbidden");
    let err = staff::set_active(&mut site, &m, m.id, false).unwrap_err();
    assert!(err.to_string().contains("your own account"), "{err}");
    staff::set_active(&mut site, &m, i.id, false).unwrap();
    let err = staff::sign_in(site.conn(), "teacher", "teacher-pass").unwrap_err();
    assert!(err.to_string().contains("disabled"), "{err}");
    staff::set_active(&mut site, &m, i.id, true).unwrap();
    let err = staff::reset_password(&mut site, &m, i.id, "short").unwrap_err();
    assert!(err.to_string().contains("at least 8"), "{err}");
    staff::reset_password(&mut site, &m, i.id, "new-teacher-pass").unwrap();
    assert!(staff::sign_in(site.conn(), "teacher", "teacher-pass").is_err());
    staff::sign_in(site.conn(), "teacher", "new-teacher-pass").unwrap();
    // A second manager can disable the first; the last active one cannot be disabled.
    let m2 = staff::create_staff(
        &mut site,
        &m,
        &staff::NewStaff {
            username: "deputy".into(),
            display_name: "副站长".into(),
            role: siteline_core::Role::SiteManager,
            password: "deputy-pass".into(),
        },
    )
    .unwrap();
    staff::set_active(&mut site, &m2, m.id, false).unwrap();
    let active: Vec<_> = staff::list(site.conn())
        .unwrap()
        .into_iter()
        .filter(|s| s.active)
        .map(|s| s.username)
        .collect();
    assert_eq!(active.len(), 2, "{active:?}");
}

#[test]
fn settings_are_checked_and_kept() {
    let mut site = Site::open_in_memory().unwrap();
    let (m, i) = demo::staff(&mut site).unwrap();
    let d = settings::get(site.conn()).unwrap();
    assert_eq!(
        (
            d.backup_keep_days,
            d.idle_minutes,
            d.language.as_str(),
            d.time_zone.as_str()
        ),
        (14, 10, "zh-CN", "Asia/Shanghai")
    );
    let mut s = d.clone();
    s.backup_keep_days = 30;
    s.idle_minutes = 5;
    s.language = "en".into();
    s.time_zone = "Asia/Urumqi".into();
    s.backup_dir = Some("/srv/backups".into());
    assert_eq!(
        settings::update(&mut site, &i, &s).unwrap_err().kind(),
        "forbidden"
    );
    let saved = settings::update(&mut site, &m, &s).unwrap();
    assert_eq!(saved, s);
    for bad in [
        SettingsCase::Keep(0),
        SettingsCase::Idle(241),
        SettingsCase::Lang("fr"),
        SettingsCase::Dir("relative/folder"),
        SettingsCase::Zone("Europe/Paris"),
        SettingsCase::Zone("asia/shanghai"),
    ] {
        let mut b = s.clone();
        match bad {
            SettingsCase::Keep(v) => b.backup_keep_days = v,
            SettingsCase::Idle(v) => b.idle_minutes = v,
            SettingsCase::Lang(v) => b.language = v.into(),
            SettingsCase::Dir(v) => b.backup_dir = Some(v.into()),
            SettingsCase::Zone(v) => b.time_zone = v.into(),
        }
        assert_eq!(
            settings::update(&mut site, &m, &b).unwrap_err().kind(),
            "invalid"
        );
        assert_eq!(settings::get(site.conn()).unwrap(), s, "nothing changed");
    }
}

#[test]
fn the_site_time_zone_is_read_from_the_database_before_the_app_starts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site.db");
    // No database yet (first run): China Standard Time.
    assert_eq!(settings::stored_time_zone(&path), "Asia/Shanghai");
    let mut site = Site::open(&path).unwrap();
    let (m, _) = demo::staff(&mut site).unwrap();
    assert_eq!(settings::stored_time_zone(&path), "Asia/Shanghai");
    let mut s = settings::get(site.conn()).unwrap();
    s.time_zone = "Asia/Urumqi".into();
    settings::update(&mut site, &m, &s).unwrap();
    assert_eq!(settings::stored_time_zone(&path), "Asia/Urumqi");
    // A file that is not a site database: the default, not a failed start.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database").unwrap();
    assert_eq!(settings::stored_time_zone(&junk), "Asia/Shanghai");
}

enum SettingsCase {
    Keep(u32),
    Idle(u32),
    Lang(&'static str),
    Dir(&'static str),
    Zone(&'static str),
}

#[test]
fn a_csv_cell_that_would_run_as_a_formula_opens_as_text() {
    let (site, _, _, cohort) = demo_site();
    let mut table = progress::cohort_progress(site.conn(), cohort).unwrap();
    let attacks = [
        "=HYPERLINK(\"http://evil\",\"点我\")",
        "+1+1",
        "-2+3",
        "@SUM(A1)",
        "\t=1",
    ];
    for (l, name) in table.learners.iter_mut().zip(attacks) {
        l.name = name.into();
    }
    let csv = String::from_utf8(reports::csv(&table).unwrap()).unwrap();
    let mut reader = ::csv::Reader::from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    let names: Vec<String> = reader
        .records()
        .map(|r| r.unwrap()[0].to_string())
        .take(attacks.len())
        .collect();
    for (got, attack) in names.iter().zip(attacks) {
        assert_eq!(got, &format!("'{attack}"), "{attack:?}");
    }
    assert_eq!(reports::neutralise("王芳"), "王芳");
    assert_eq!(
        reports::neutralise("4403**********123X"),
        "4403**********123X"
    );
}
