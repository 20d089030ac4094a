//! Site store benchmark: builds a large site through the real store API, then measures the
//! queries and writes a site uses every day. Run with
//! `cargo bench -p siteline-core --bench site_store` (release build; ~5 minutes on 2 cores).
//! Sizes: 50,000 learners, 2,000 cohorts, 1,000,000 attendance events, 200,000 attempts.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use siteline_core::store::assessments::{self, Marks, NewAttempt};
use siteline_core::store::attendance::{self, Mark};
use siteline_core::store::backup;
use siteline_core::store::cohorts::{self, NewCohort, NewSession};
use siteline_core::store::learners::{self, ConsentInput, ConsentPurpose, IdType, NewLearner};
use siteline_core::store::reports::{self, ReportFormat};
use siteline_core::store::{catalogue, outbox, progress, review};
use siteline_core::{Site, demo};
use siteline_domain::ids::{CohortId, LearnerId};
use siteline_domain::scores::{Component, RubricMark};

const LEARNERS: u64 = 50_000;
const BIG_COHORTS: usize = 500; // 40 learners each
const SMALL_COHORTS: usize = 1_500; // 20 learners each
const SESSIONS_PER_COHORT: usize = 20; // one event per learner per session

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let idx = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[idx]
}

fn report(name: &str, samples: &mut [Duration]) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{name:<40} n={:<5} p50={:>8.3} ms  p95={:>8.3} ms  max={:>8.3} ms",
        samples.len(),
        ms(percentile(samples, 0.5)),
        ms(percentile(samples, 0.95)),
        ms(*samples.iter().max().unwrap())
    );
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench-site.db");
    let mut site = Site::open(&path).unwrap();
    let mut rng = Rng(0x5173_11e5);
    let (manager, instructor) = demo::staff(&mut site).unwrap();

    // Learners.
    let t = Instant::now();
    let learners: Vec<LearnerId> = (0..LEARNERS)
        .map(|n| {
            learners::register(
                &mut site,
                &manager,
                &NewLearner {
                    name: demo::name(n),
                    id_type: IdType::ResidentId,
                    id_number: demo::resident_id(n),
                    phone: Some(demo::mobile(n)),
                    consents: vec![ConsentInput {
                        purpose: ConsentPurpose::CreditBank,
                        granted: true,
                    }],
                },
            )
            .unwrap()
        })
        .collect();
    println!(
        "generated {LEARNERS} learners in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    // Cohorts, enrolments, sessions, roll calls.
    let t = Instant::now();
    let pvs = catalogue::programme_versions(site.conn()).unwrap();
    let mut next_learner = 0usize;
    let mut big: Vec<(CohortId, Vec<LearnerId>)> = Vec::new();
    let mut all_cohorts = Vec::new();
    let mut events = 0u64;
    let mut enrolments = Vec::new();
    let base = Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap();
    for c in 0..BIG_COHORTS + SMALL_COHORTS {
        let size = if c < BIG_COHORTS { 40 } else { 20 };
        let pv = &pvs[c % pvs.len()];
        let start = base + chrono::Duration::days((c % 200) as i64);
        let cohort = cohorts::create(
            &mut site,
            &manager,
            &NewCohort {
                programme_version_id: pv.id.clone(),
                name: format!("2026年第{}期{}班", c + 1, pv.name_zh),
                start_date: start.date_naive(),
                end_date: (start + chrono::Duration::days(40)).date_naive(),
                capacity: 60,
                instructors: vec![instructor.id],
            },
        )
        .unwrap();
        let members: Vec<LearnerId> = learners[next_learner..next_learner + size].to_vec();
        next_learner += size;
        for l in &members {
            enrolments.push((
                cohort,
                pv.id.clone(),
                cohorts::enrol(&mut site, &manager, cohort, *l).unwrap(),
            ));
        }
        for s in 0..SESSIONS_PER_COHORT {
            let starts_at = start + chrono::Duration::days(s as i64);
            let session = cohorts::schedule_session(
                &mut site,
                &instructor,
                cohort,
                &NewSession {
                    unit_id: None,
                    starts_at,
                    ends_at: starts_at + chrono::Duration::hours(6),
                    instructor_id: Some(instructor.id),
                },
            )
            .unwrap();
            let marks: Vec<(LearnerId, Mark)> = members
                .iter()
                .map(|l| {
                    let m = match rng.below(20) {
                        0 => Mark::Absent,
                        1 => Mark::Excused,
                        2 => Mark::Late {
                            at: starts_at + chrono::Duration::minutes(rng.below(90) as i64),
                        },
                        _ => Mark::Present,
                    };
                    (*l, m)
                })
                .collect();
            events +=
                attendance::roll_call(&mut site, &instructor, session, &marks).unwrap() as u64;
            attendance::close_session(&mut site, &instructor, session).unwrap();
        }
        if c < BIG_COHORTS {
            big.push((cohort, members));
        }
        all_cohorts.push(cohort);
    }
    println!(
        "generated {} cohorts, {} enrolments, {} sessions, {events} attendance events in {:.1} s",
        all_cohorts.len(),
        enrolments.len(),
        all_cohorts.len() * SESSIONS_PER_COHORT,
        t.elapsed().as_secs_f64()
    );

    // Attempts: per learner a failed and a passed attempt at theory and at practical.
    let t = Instant::now();
    let mut rubrics = std::collections::HashMap::new();
    let mut attempts = 0u64;
    for (_, pv, enrolment) in &enrolments {
        let rubric = rubrics
            .entry(pv.clone())
            .or_insert_with(|| catalogue::rubric(site.conn(), pv).unwrap())
            .clone();
        let held_at = base + chrono::Duration::days(45);
        let practical = |off: u8, critical: bool| Marks::Rubric {
            items: rubric
                .iter()
                .map(|i| RubricMark {
                    item_id: i.id.clone(),
                    points: i.max_points.saturating_sub(off.min(i.max_points)),
                    failed: i.critical && critical,
                })
                .collect(),
        };
        let plan = [
            (
                Component::Theory,
                Marks::Score {
                    score: 30 + rng.below(30) as i64,
                },
            ),
            (
                Component::Theory,
                Marks::Score {
                    score: 60 + rng.below(41) as i64,
                },
            ),
            (Component::Practical, practical(rng.below(5) as u8, true)),
            (Component::Practical, practical(rng.below(8) as u8, false)),
        ];
        for (component, marks) in plan {
            assessments::record(
                &mut site,
                &instructor,
                &NewAttempt {
                    enrolment_id: *enrolment,
                    component,
                    held_at,
                    assessors: vec![instructor.id],
                    marks,
                },
            )
            .unwrap();
            attempts += 1;
        }
    }
    println!(
        "generated {attempts} assessment attempts in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let size_with_outbox = db_size(&site, &path);
    let (pending, _) = outbox::pending_summary(site.conn()).unwrap();

    // Measurements.
    println!("\n-- measurements (release build) --");
    let mut samples = Vec::new();
    for _ in 0..1000 {
        let n = rng.below(LEARNERS);
        let name = demo::name(n);
        // Half full names, half the given name only (a substring search).
        let q = if rng.below(2) == 0 {
            name
        } else {
            name.chars().skip(1).collect()
        };
        let t = Instant::now();
        let hits = learners::search(&site, &q, 50).unwrap();
        samples.push(t.elapsed());
        assert!(!hits.is_empty());
    }
    report("learner search by name (limit 50)", &mut samples);

    let mut samples = Vec::new();
    for _ in 0..1000 {
        let id = demo::resident_id(rng.below(LEARNERS));
        let t = Instant::now();
        let hits = learners::search(&site, &id[14..], 50).unwrap();
        samples.push(t.elapsed());
        assert!(!hits.is_empty());
    }
    report("learner search by ID tail (4 chars)", &mut samples);

    let mut samples = Vec::new();
    for _ in 0..500 {
        let c = all_cohorts[rng.below(all_cohorts.len() as u64) as usize];
        let t = Instant::now();
        let table = progress::cohort_progress(site.conn(), c).unwrap();
        samples.push(t.elapsed());
        assert!(table.learners.len() >= 20);
    }
    report("one cohort's progress view", &mut samples);

    let mut samples = Vec::new();
    let mut mark_samples = Vec::new();
    for (cohort, members) in big.iter().take(100) {
        let starts_at = base + chrono::Duration::days(300);
        let session = cohorts::schedule_session(
            &mut site,
            &instructor,
            *cohort,
            &NewSession {
                unit_id: None,
                starts_at,
                ends_at: starts_at + chrono::Duration::hours(3),
                instructor_id: None,
            },
        )
        .unwrap();
        let marks: Vec<(LearnerId, Mark)> = members.iter().map(|l| (*l, Mark::Present)).collect();
        let t = Instant::now();
        attendance::roll_call(&mut site, &instructor, session, &marks).unwrap();
        samples.push(t.elapsed());
        // Then the instructor fixes one mark at a time, as on the roll-call screen.
        for l in members.iter().take(5) {
            let t = Instant::now();
            attendance::mark(
                &mut site,
                &instructor,
                session,
                *l,
                Mark::Late {
                    at: starts_at + chrono::Duration::minutes(10),
                },
            )
            .unwrap();
            mark_samples.push(t.elapsed());
        }
    }
    report("40-learner roll call in one transaction", &mut samples);
    report("one roll-call mark (own transaction)", &mut mark_samples);

    let t = Instant::now();
    let summary = progress::site_summary(site.conn()).unwrap();
    println!(
        "{:<40} {:.1} ms ({} programme versions)",
        "site summary (all 50,000 enrolments)",
        t.elapsed().as_secs_f64() * 1000.0,
        summary.len()
    );

    // The site manager's review, as the screen asks for it: one programme version, and the
    // last 90 days across every programme.
    let pvs: Vec<String> = catalogue::programme_versions(site.conn())
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    let mut samples = Vec::new();
    let mut cohorts_seen = 0;
    for pv in pvs.iter().cycle().take(30) {
        let t = Instant::now();
        let r = review::site_review(
            site.conn(),
            &review::ReviewFilter {
                programme_version_id: Some(pv.clone()),
                ..Default::default()
            },
        )
        .unwrap();
        samples.push(t.elapsed());
        cohorts_seen = cohorts_seen.max(r.cohorts.len());
    }
    report(
        &format!("review, one programme (≤{cohorts_seen} cohorts)"),
        &mut samples,
    );
    let last_day = (base + chrono::Duration::days(300)).date_naive();
    let t = Instant::now();
    let r = review::site_review(
        site.conn(),
        &review::ReviewFilter {
            from: Some(last_day - chrono::Days::new(90)),
            to: Some(last_day),
            ..Default::default()
        },
    )
    .unwrap();
    println!(
        "{:<40} {:.1} ms ({} cohorts)",
        "review, last 90 days, all programmes",
        t.elapsed().as_secs_f64() * 1000.0,
        r.cohorts.len()
    );

    let out = dir.path().join("exports");
    for format in [ReportFormat::Csv, ReportFormat::Xlsx, ReportFormat::Html] {
        let mut samples = Vec::new();
        for (cohort, _) in big.iter().take(50) {
            let t = Instant::now();
            reports::export(site.conn(), *cohort, format, &out).unwrap();
            samples.push(t.elapsed());
        }
        report(
            &format!("40-learner cohort report, {format:?}"),
            &mut samples,
        );
    }

    let backups = dir.path().join("backups");
    let t = Instant::now();
    let taken = backup::daily_of_file(&path, &backups, 14).unwrap().unwrap();
    println!(
        "{:<40} {:.1} s ({:.1} MiB file)",
        "daily backup (own read-only connection)",
        t.elapsed().as_secs_f64(),
        taken.bytes as f64 / 1048576.0
    );
    let t = Instant::now();
    backup::check(&site, std::path::Path::new(&taken.path)).unwrap();
    println!(
        "{:<40} {:.1} s",
        "backup check before restore",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let restored = backup::restore(
        &mut site,
        &manager,
        std::path::Path::new(&taken.path),
        &backups,
    )
    .unwrap();
    println!(
        "{:<40} {:.1} s (safety copy included; new epoch {})",
        "restore of that backup",
        t.elapsed().as_secs_f64(),
        restored.new_epoch
    );

    println!("\n-- size --");
    println!(
        "database with {pending} unsynced outbox rows: {:.1} MiB",
        size_with_outbox as f64 / 1048576.0
    );
    let through = outbox::device(site.conn()).unwrap().next_seq - 1;
    outbox::acknowledge(&mut site, 1, through).unwrap();
    site.conn().execute_batch("VACUUM").unwrap();
    println!(
        "database after sync (outbox pruned, vacuumed): {:.1} MiB",
        db_size(&site, &path) as f64 / 1048576.0
    );
}

fn db_size(site: &Site, path: &std::path::Path) -> u64 {
    site.conn()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    std::fs::metadata(path).unwrap().len()
}
