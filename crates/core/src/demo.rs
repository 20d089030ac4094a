//! Demo and test data: valid generated people (ID numbers, phones, names), the one fixture of
//! "a site with a manager and an instructor" ([`staff`]), whole cohorts run to the end, and
//! the demo cohorts a first look at the app starts with. Used by tests, benchmarks and the
//! app's "load demo data"; never by a production write path.

use chrono::NaiveDate;

use siteline_domain::resident_id::check_char;

/// The `n`th distinct valid resident ID number (adults born 1960–2005 in Shenzhen districts).
pub fn resident_id(n: u64) -> String {
    let areas = ["440303", "440304", "440305", "440306", "440307", "440308"];
    let area = areas[(n % areas.len() as u64) as usize];
    let rest = n / areas.len() as u64;
    let order = rest % 1000;
    let day = rest / 1000;
    let birth =
        NaiveDate::from_ymd_opt(1960, 1, 1).unwrap_or_default() + chrono::Days::new(day % 16_000);
    let first17 = format!("{area}{}{order:03}", birth.format("%Y%m%d"));
    let mut digits = [0u8; 17];
    digits.copy_from_slice(first17.as_bytes());
    format!("{first17}{}", check_char(&digits))
}

/// The `n`th distinct valid mobile number.
pub fn mobile(n: u64) -> String {
    format!("13{:09}", n % 1_000_000_000)
}

/// Common given names and surnames for generated learners.
pub fn name(n: u64) -> String {
    const SURNAMES: [&str; 20] = [
        "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡",
        "郭", "何", "高", "林", "罗",
    ];
    const GIVEN: [&str; 25] = [
        "秀英", "桂英", "秀兰", "玉兰", "桂兰", "秀珍", "凤英", "玉梅", "丽", "敏", "静", "燕",
        "艳", "娟", "霞", "芳", "红梅", "小红", "春梅", "海燕", "雪梅", "建华", "丽娟", "美玲",
        "淑珍",
    ];
    let s = SURNAMES[(n % 20) as usize];
    let g = GIVEN[((n / 20) % 25) as usize];
    format!("{s}{g}")
}

use chrono::{Duration, TimeZone, Utc};

use crate::store::assessments::{self, Marks, NewAttempt};
use crate::store::attendance::{self, Mark};
use crate::store::cohorts::{self, NewCohort, NewSession};
use crate::store::learners::{self, ConsentInput, ConsentPurpose, IdType, NewLearner};
use crate::store::staff::{self, NewStaff};
use crate::store::{catalogue, claims};
use crate::{Actor, Result, Role, Site};
use siteline_domain::ids::{CohortId, EnrolmentId, LearnerId};
use siteline_domain::scores::{Component, RubricMark};

/// A new site's first manager and an instructor.
pub fn staff(site: &mut Site) -> Result<(Actor, Actor)> {
    let manager = staff::create_first_manager(
        site,
        &NewStaff {
            username: "manager".into(),
            display_name: "李站长".into(),
            role: Role::SiteManager,
            password: "manager-pass".into(),
        },
    )?;
    let instructor = staff::create_staff(
        site,
        &manager,
        &NewStaff {
            username: "teacher".into(),
            display_name: "王老师".into(),
            role: Role::Instructor,
            password: "teacher-pass".into(),
        },
    )?;
    Ok((manager, instructor))
}

/// Registers the `n`th generated person (valid ID, consent to the credit bank).
pub fn register(site: &mut Site, by: &Actor, n: u64) -> Result<LearnerId> {
    learners::register(
        site,
        by,
        &NewLearner {
            name: name(n),
            id_type: IdType::ResidentId,
            id_number: resident_id(n),
            phone: Some(mobile(n)),
            consents: vec![ConsentInput {
                purpose: ConsentPurpose::CreditBank,
                granted: true,
            }],
        },
    )
}

/// Runs a whole cohort of `pv` for `learners` (see [`run_cohort`]) and claims everyone who
/// passed.
pub fn complete_cohort(
    site: &mut Site,
    manager: &Actor,
    instructor: &Actor,
    pv: &str,
    learners: &[LearnerId],
    theory: i64,
) -> Result<(CohortId, Vec<EnrolmentId>)> {
    let (cohort, enrolments) = run_cohort(site, manager, instructor, pv, learners, theory)?;
    if theory >= 60 {
        for e in &enrolments {
            claims::submit(site, manager, *e)?;
        }
    }
    Ok((cohort, enrolments))
}

/// Runs a whole cohort of `pv` for `learners`: every hour attended (8-hour sessions, closed),
/// theory `theory` and full-marks practical, both locked; nobody claimed yet.
pub fn run_cohort(
    site: &mut Site,
    manager: &Actor,
    instructor: &Actor,
    pv: &str,
    learners: &[LearnerId],
    theory: i64,
) -> Result<(CohortId, Vec<EnrolmentId>)> {
    let programme = catalogue::programme_version(site.conn(), pv)?;
    let start = NaiveDate::from_ymd_opt(2026, 9, 1).unwrap_or_default();
    let cohort = cohorts::create(
        site,
        manager,
        &NewCohort {
            programme_version_id: pv.into(),
            name: format!("2026年{}班", programme.name_zh),
            start_date: start,
            end_date: start + chrono::Days::new(90),
            capacity: 200,
            instructors: vec![instructor.id],
        },
    )?;
    let enrolments = learners
        .iter()
        .map(|l| cohorts::enrol(site, manager, cohort, *l))
        .collect::<Result<Vec<_>>>()?;
    let first = Utc
        .with_ymd_and_hms(2026, 9, 1, 1, 0, 0)
        .single()
        .unwrap_or_default();
    for i in 0..programme.total_hours.div_ceil(8) {
        let starts_at = first + Duration::days(i64::from(i));
        let session = cohorts::schedule_session(
            site,
            instructor,
            cohort,
            &NewSession {
                unit_id: None,
                starts_at,
                ends_at: starts_at + Duration::hours(8),
                instructor_id: None,
            },
        )?;
        let marks: Vec<_> = learners.iter().map(|l| (*l, Mark::Present)).collect();
        attendance::roll_call(site, instructor, session, &marks)?;
        attendance::close_session(site, instructor, session)?;
    }
    let rubric = catalogue::rubric(site.conn(), pv)?;
    let held_at = first + Duration::days(85);
    for e in &enrolments {
        let items = rubric
            .iter()
            .map(|i| RubricMark {
                item_id: i.id.clone(),
                points: i.max_points,
                failed: false,
            })
            .collect();
        assess_and_lock(site, instructor, *e, held_at, theory, items)?;
    }
    Ok((cohort, enrolments))
}

/// Demo data for a first look: a maternity-care cohort of 40 learners with today's session
/// and the next nine days scheduled, taught by `instructor`.
pub fn seed_first_look(
    site: &mut Site,
    manager: &Actor,
    instructor: &Actor,
    today_start: chrono::DateTime<Utc>,
) -> Result<CohortId> {
    let start = today_start.date_naive();
    let cohort = cohorts::create(
        site,
        manager,
        &NewCohort {
            programme_version_id: "maternity-L5-v1".into(),
            name: "2026年第4期母婴护理员(五级)示范班".into(),
            start_date: start,
            end_date: start + chrono::Days::new(30),
            capacity: 40,
            instructors: vec![instructor.id],
        },
    )?;
    for n in 0..40 {
        let l = register(site, manager, 700_000 + n)?;
        cohorts::enrol(site, manager, cohort, l)?;
    }
    for d in 0..10 {
        let starts_at = today_start + Duration::days(d) + Duration::hours(1);
        cohorts::schedule_session(
            site,
            instructor,
            cohort,
            &NewSession {
                unit_id: None,
                starts_at,
                ends_at: starts_at + Duration::hours(6),
                instructor_id: Some(instructor.id),
            },
        )?;
    }
    Ok(cohort)
}

/// Demo data for the site manager's review: a housekeeping cohort of 12 that finished last
/// month, with its whole attendance (two learners missed sessions), theory and practical
/// results locked (one failed theory, one failed a critical item) and no claims submitted yet.
pub fn seed_finished_cohort(
    site: &mut Site,
    manager: &Actor,
    instructor: &Actor,
    today_start: chrono::DateTime<Utc>,
) -> Result<CohortId> {
    let pv = "housekeeping-L5-v1";
    let programme = catalogue::programme_version(site.conn(), pv)?;
    let sessions = programme.total_hours.div_ceil(8);
    // Three sessions a week, finishing ten days ago.
    let first = today_start - Duration::days(10 + i64::from(sessions) * 7 / 3) + Duration::hours(1);
    let cohort = cohorts::create(
        site,
        manager,
        &NewCohort {
            programme_version_id: pv.into(),
            name: "2026年第3期家务服务员(五级)班".into(),
            start_date: first.date_naive(),
            end_date: (today_start - Duration::days(9)).date_naive(),
            capacity: 20,
            instructors: vec![instructor.id],
        },
    )?;
    let mut people = Vec::new();
    let mut enrolments = Vec::new();
    for n in 0..12 {
        let l = register(site, manager, 710_000 + n)?;
        enrolments.push(cohorts::enrol(site, manager, cohort, l)?);
        people.push(l);
    }
    for i in 0..sessions {
        let starts_at = first + Duration::days(i64::from(i / 3 * 7 + i % 3 * 2));
        let session = cohorts::schedule_session(
            site,
            instructor,
            cohort,
            &NewSession {
                unit_id: None,
                starts_at,
                ends_at: starts_at + Duration::hours(8),
                instructor_id: Some(instructor.id),
            },
        )?;
        let marks: Vec<_> = people
            .iter()
            .enumerate()
            .map(|(n, l)| {
                let mark = match n {
                    10 if i % 3 == 0 => Mark::Absent,
                    11 if i % 4 == 1 => Mark::Late {
                        at: starts_at + Duration::hours(3),
                    },
                    _ => Mark::Present,
                };
                (*l, mark)
            })
            .collect();
        attendance::roll_call(site, instructor, session, &marks)?;
        attendance::close_session(site, instructor, session)?;
    }
    let rubric = catalogue::rubric(site.conn(), pv)?;
    let held_at = first + Duration::days(i64::from(sessions) * 7 / 3);
    for (n, e) in enrolments.iter().enumerate() {
        let theory = if n == 9 { 55 } else { 62 + (n as i64 * 7) % 36 };
        let items = rubric
            .iter()
            .enumerate()
            .map(|(k, i)| RubricMark {
                item_id: i.id.clone(),
                // Some learners fall short on one unit's task (30 % of its points).
                points: if i.unit_id.is_some() && (n + k) % 5 == 0 {
                    i.max_points * 3 / 10
                } else {
                    i.max_points.saturating_sub((n % 3) as u8)
                },
                failed: n == 8 && i.critical,
            })
            .collect();
        assess_and_lock(site, instructor, *e, held_at, theory, items)?;
    }
    Ok(cohort)
}

/// Records a theory score and a practical rubric for an enrolment, then locks both.
fn assess_and_lock(
    site: &mut Site,
    instructor: &Actor,
    enrolment: EnrolmentId,
    held_at: chrono::DateTime<Utc>,
    theory: i64,
    items: Vec<RubricMark>,
) -> Result<()> {
    let attempt = |component, marks| NewAttempt {
        enrolment_id: enrolment,
        component,
        held_at,
        assessors: vec![instructor.id],
        marks,
    };
    let t = assessments::record(
        site,
        instructor,
        &attempt(Component::Theory, Marks::Score { score: theory }),
    )?;
    let p = assessments::record(
        site,
        instructor,
        &attempt(Component::Practical, Marks::Rubric { items }),
    )?;
    assessments::lock(site, instructor, t)?;
    assessments::lock(site, instructor, p)?;
    Ok(())
}

/// Records an enrolment with a stand-in HQ (fresh keys that nobody keeps), so a site that is
/// never synced can still build the batches and bundles an enrolled one would (tests, benches).
pub fn enrol_with_stand_in_hq(site: &mut Site) -> Result<()> {
    use base64::Engine;
    let b64 = |k: [u8; 32]| base64::engine::general_purpose::STANDARD.encode(k);
    let signing = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
    let seal = siteline_domain::crypto::SealKey::generate();
    let site_id = uuid::Uuid::now_v7();
    let device = crate::store::outbox::device(site.conn())?.device_id;
    let device_certificate =
        crate::sync::peer::certify(&signing, device, site_id, "DEMO-000", &b64([0; 32]));
    crate::sync::engine::record_enrolment(
        site,
        "https://hq.invalid",
        &siteline_proto::sync::EnrolResponse {
            device_certificate,
            site_id,
            site_code: "DEMO-000".into(),
            site_name: "演示站点".into(),
            hq_public_key: b64(signing.verifying_key().to_bytes()),
            hq_seal_key: b64(seal.public_bytes()),
        },
    )
}
