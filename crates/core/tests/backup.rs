//! Backups and restore on real database files: a backup is a whole Siteline database; a
//! restore refuses anything else and changes nothing when it refuses; a restore takes a new
//! device epoch and batches never mix epochs; daily backups are pruned by age.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use siteline_core::store::backup::{self, BackupKind};
use siteline_core::store::outbox;
use siteline_core::sync::outgoing;
use siteline_core::{Site, demo};

fn learners(site: &Site) -> i64 {
    site.conn()
        .query_row("SELECT count(*) FROM learner", [], |r| r.get(0))
        .unwrap()
}

fn new_site(dir: &Path) -> (Site, siteline_core::Actor) {
    let mut site = Site::open(&dir.join("site.db")).unwrap();
    let (m, _) = demo::staff(&mut site).unwrap();
    (site, m)
}

#[test]
fn a_restore_brings_back_the_backup_takes_a_new_epoch_and_keeps_a_safety_copy() {
    let dir = tempfile::tempdir().unwrap();
    let backups = dir.path().join("backups");
    let (mut site, m) = new_site(dir.path());
    demo::enrol_with_stand_in_hq(&mut site).unwrap();
    demo::register(&mut site, &m, 1).unwrap();
    demo::register(&mut site, &m, 2).unwrap();
    let taken = backup::back_up(site.conn(), &backups, BackupKind::Manual).unwrap();
    assert!(
        taken.file_name.ends_with("-manual.sqlite"),
        "{}",
        taken.file_name
    );
    assert!(taken.bytes > 0);
    let before = outbox::device(site.conn()).unwrap();
    // Work after the backup, then a restore: that work is gone, the backup's is there.
    demo::register(&mut site, &m, 3).unwrap();
    assert_eq!(learners(&site), 3);
    let check = backup::check(&site, Path::new(&taken.path)).unwrap();
    assert_eq!((check.learners, check.epoch), (2, 1));
    let restored = backup::restore(&mut site, &m, Path::new(&taken.path), &backups).unwrap();
    assert_eq!(learners(&site), 2);
    let after = outbox::device(site.conn()).unwrap();
    assert_eq!(after.device_id, before.device_id);
    assert!(after.epoch > 1_000_000_000, "epoch {}", after.epoch);
    assert_eq!(after.epoch, restored.new_epoch);
    // The new epoch was set in the staging copy before it replaced the database, and the
    // staging copy (personal data) is gone.
    assert!(
        std::fs::read_dir(&backups).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with(".restoring")),
        "no staging copy left behind"
    );
    // seq goes on from the backup's: local ordering (latest mark wins by seq) still holds.
    assert_eq!(after.next_seq, before.next_seq);
    // The safety copy holds the three learners and is itself restorable.
    let safety = backup::check(&site, Path::new(&restored.safety_copy.path)).unwrap();
    assert_eq!(safety.learners, 3);
    assert_eq!(restored.safety_copy.kind, BackupKind::BeforeRestore);
    // New work takes the new epoch; a batch carries one epoch only.
    demo::register(&mut site, &m, 4).unwrap();
    let first = outgoing::next_batch(&site, usize::MAX).unwrap().unwrap();
    assert_eq!(first.epoch, 1);
    assert!(first.rows.iter().all(|r| r.epoch == 1));
    let pending = outbox::pending(site.conn(), 1000).unwrap();
    let newer: Vec<_> = pending.iter().filter(|r| r.epoch == after.epoch).collect();
    assert!(!newer.is_empty());
    assert!(newer.iter().all(|r| r.seq >= before.next_seq));
    // An acknowledgement of epoch 1 leaves the new epoch's rows waiting.
    let through = first.to_seq + 1_000;
    outbox::acknowledge(&mut site, 1, through).unwrap();
    let left = outbox::pending(site.conn(), 1000).unwrap();
    assert_eq!(left.len(), newer.len());
    let second = outgoing::next_batch(&site, usize::MAX).unwrap().unwrap();
    assert_eq!(second.epoch, after.epoch);
    // The restore is in the audit log.
    let audited: i64 = site
        .conn()
        .query_row(
            "SELECT count(*) FROM audit_log WHERE action = 'restore_backup'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(audited, 1);
    // Restoring the same backup again takes yet another epoch.
    let again = backup::restore(&mut site, &m, Path::new(&taken.path), &backups).unwrap();
    assert!(again.new_epoch > restored.new_epoch);
}

#[test]
fn a_restore_refuses_what_is_not_this_devices_siteline_backup_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let backups = dir.path().join("backups");
    let (mut site, m) = new_site(dir.path());
    demo::register(&mut site, &m, 1).unwrap();
    let good = backup::back_up(site.conn(), &backups, BackupKind::Manual).unwrap();
    let device = outbox::device(site.conn()).unwrap();

    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "这不是备份").unwrap();
    let other_sqlite = dir.path().join("other.sqlite");
    rusqlite::Connection::open(&other_sqlite)
        .unwrap()
        .execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    let truncated = dir.path().join("truncated.sqlite");
    let bytes = std::fs::read(&good.path).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let other_dir = tempfile::tempdir().unwrap();
    let (other, _) = new_site(other_dir.path());
    let foreign = backup::back_up(other.conn(), other_dir.path(), BackupKind::Manual).unwrap();
    let newer = dir.path().join("newer.sqlite");
    std::fs::copy(&good.path, &newer).unwrap();
    rusqlite::Connection::open(&newer)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();

    let negative = dir.path().join("negative.sqlite");
    std::fs::copy(&good.path, &negative).unwrap();
    rusqlite::Connection::open(&negative)
        .unwrap()
        .pragma_update(None, "user_version", -1)
        .unwrap();

    let cases = [
        (dir.path().join("missing.sqlite"), "does not exist"),
        (negative, "schema version -1"),
        (text, "not a Siteline backup"),
        (other_sqlite, "not a Siteline backup"),
        (truncated, ""),
        (Path::new(&foreign.path).to_path_buf(), "another device"),
        (newer, "schema version 99"),
    ];
    for (path, words) in cases {
        let err = backup::restore(&mut site, &m, &path, &backups).unwrap_err();
        assert!(err.to_string().contains(words), "{}: {err}", path.display());
        assert_eq!(learners(&site), 1, "{}", path.display());
        assert_eq!(outbox::device(site.conn()).unwrap(), device);
    }
    // Refusals wrote no safety copies: only the one good backup is in the folder.
    assert_eq!(backup::list(&backups).unwrap().len(), 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&backups), 0o700, "the backup folder is owner-only");
        assert_eq!(mode(Path::new(&good.path)), 0o600, "a backup is owner-only");
    }
    // An instructor may not restore.
    let (_, instructor) = {
        let s = siteline_core::store::staff::list(site.conn()).unwrap();
        let i = s
            .iter()
            .find(|x| x.role == siteline_core::Role::Instructor)
            .unwrap();
        (
            (),
            siteline_core::store::staff::actor(site.conn(), i.id).unwrap(),
        )
    };
    let err = backup::restore(&mut site, &instructor, Path::new(&good.path), &backups).unwrap_err();
    assert_eq!(err.kind(), "forbidden");
}

#[test]
fn a_backup_sealed_with_another_site_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (mut site, m) = new_site(dir.path());
    demo::register(&mut site, &m, 1).unwrap();
    let taken = backup::back_up(site.conn(), dir.path(), BackupKind::Manual).unwrap();
    drop(site);
    // The same database file, but this computer lost the site key and made a new one.
    std::fs::remove_file(dir.path().join("site.key")).unwrap();
    let site = Site::open(&dir.path().join("site.db")).unwrap();
    let err = backup::check(&site, Path::new(&taken.path)).unwrap_err();
    assert!(err.to_string().contains("another site key"), "{err}");
}

#[test]
fn the_daily_backup_is_taken_once_a_day_and_old_ones_are_pruned() {
    let dir = tempfile::tempdir().unwrap();
    let backups = dir.path().join("daily");
    let (site, _) = new_site(dir.path());
    let first = backup::daily(site.conn(), &backups, 7).unwrap();
    assert!(first.is_some());
    assert!(backup::daily(site.conn(), &backups, 7).unwrap().is_none());
    // Old backups (names carry the time): 3 and 10 days old, and a manual one of 30 days.
    let bytes = std::fs::read(&first.unwrap().path).unwrap();
    let now = chrono::Utc::now();
    let name = |days: i64, kind: &str| {
        format!(
            "siteline-{}Z-{kind}.sqlite",
            (now - chrono::Duration::days(days)).format("%Y%m%d-%H%M%S")
        )
    };
    for (days, kind) in [(3, "daily"), (10, "daily"), (30, "manual")] {
        std::fs::write(backups.join(name(days, kind)), &bytes).unwrap();
    }
    std::fs::write(backups.join("readme.txt"), "keep me").unwrap();
    assert!(backup::daily(site.conn(), &backups, 7).unwrap().is_none());
    let left: Vec<_> = backup::list(&backups)
        .unwrap()
        .into_iter()
        .map(|b| b.file_name)
        .collect();
    assert_eq!(left.len(), 3, "{left:?}");
    assert!(!left.contains(&name(10, "daily")), "{left:?}");
    assert!(left.contains(&name(3, "daily")));
    assert!(left.contains(&name(30, "manual")));
    assert!(backups.join("readme.txt").exists());
    // No half-written files are left behind.
    assert!(std::fs::read_dir(&backups).unwrap().all(|e| {
        !e.unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".partial")
    }));
}
