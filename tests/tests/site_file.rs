//! Across crates: a site database file written by `siteline-core` yields outbox rows that
//! travel as `siteline-proto` wire types and come back unchanged.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use siteline_core::store::learners::{self, ConsentInput, ConsentPurpose, IdType, NewLearner};
use siteline_core::store::staff::{self, NewStaff};
use siteline_core::store::{outbox, progress};
use siteline_core::{Role, Site, demo};
use siteline_proto::{Entity, OutboxRow, PushBatch};

#[test]
fn outbox_rows_from_a_site_file_round_trip_as_a_push_batch() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("site.db");
    let mut site = Site::open(&path)?;
    let m = staff::create_first_manager(
        &mut site,
        &NewStaff {
            username: "manager".into(),
            display_name: "站长".into(),
            role: Role::SiteManager,
            password: "12345678".into(),
        },
    )?;
    for n in 0..3 {
        learners::register(
            &mut site,
            &m,
            &NewLearner {
                name: demo::name(n),
                id_type: IdType::ResidentId,
                id_number: demo::resident_id(n),
                phone: None,
                consents: vec![ConsentInput {
                    purpose: ConsentPurpose::CreditBank,
                    granted: true,
                }],
            },
        )?;
    }
    drop(site);
    // Reopened from the file, as the sync client would after a restart.
    let site = Site::open(&path)?;
    let rows = outbox::pending(site.conn(), 100)?;
    assert_eq!(rows.len(), 7);
    let batch = PushBatch {
        device_id: rows[0].device_id,
        epoch: rows[0].epoch,
        from_seq: rows[0].seq,
        to_seq: rows[rows.len() - 1].seq,
        rows: rows.clone(),
    };
    let wire = serde_json::to_vec(&batch)?;
    let back: PushBatch = serde_json::from_slice(&wire)?;
    assert_eq!(back, batch);
    let learners: Vec<&OutboxRow> = back
        .rows
        .iter()
        .filter(|r| r.entity == Entity::Learner)
        .collect();
    assert_eq!(learners.len(), 3);
    assert_eq!(learners[0].payload["name"], demo::name(0));
    // No clear ID number leaves the device in a payload.
    assert!(!String::from_utf8(wire)?.contains(&demo::resident_id(0)));
    let overview = progress::site_overview(site.conn())?;
    assert_eq!((overview.learners, overview.pending_changes), (3, 7));
    Ok(())
}
