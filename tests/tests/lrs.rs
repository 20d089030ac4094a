//! Learning records sent to a real Learning Record Store (ralph from PyPI, file-system
//! backend, on 127.0.0.1; installed by scripts/lrs.sh): a site completes a class with a real
//! credit bank, a theory result is corrected and the credits are reversed; HQ's export sends
//! xAPI 2.0 statements (registered, attended, passed, completed, voided), which are read back
//! from the LRS and compared. A wrong password fails the batch, noted for the operator with
//! nothing marked sent; the next run resumes and sends all; sending again is harmless.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use creditbank::store::Store;
use creditbank::xapi::{Lrs, Statement, export};
use serde_json::Value;
use siteline_core::store::assessments;
use siteline_e2e::webdriver::free_port;
use siteline_e2e::{Hq, SiteNode};

/// A running ralph LRS, stopped when dropped.
struct Ralph {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Ralph {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const USER: &str = "creditbank";
const PASSWORD: &str = "lrs-test-password";

fn ralph_bin() -> PathBuf {
    std::env::var_os("SITELINE_RALPH").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/lrs-venv/bin/ralph"),
        PathBuf::from,
    )
}

/// Starts ralph with one Basic-auth user, its statements in a temporary folder.
async fn ralph() -> Ralph {
    let bin = ralph_bin();
    assert!(
        bin.exists(),
        "{} is missing: run scripts/lrs.sh (the README's test command does)",
        bin.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("app");
    let env = [
        ("RALPH_APP_DIR", app.display().to_string()),
        ("RALPH_RUNSERVER_BACKEND", "fs".to_string()),
    ];
    let made = Command::new(&bin)
        .args([
            "auth",
            "-u",
            USER,
            "-p",
            PASSWORD,
            "-s",
            "all",
            "-M",
            "mailto:hq@example.org",
            "-w",
        ])
        .envs(env.clone())
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let port = free_port();
    let child = Command::new(&bin)
        .args([
            "runserver",
            "-b",
            "fs",
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .arg("--fs-default-directory-path")
        .arg(dir.path().join("statements"))
        .envs(env)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Held at once, so that it is stopped (and waited for) however the test ends.
    let lrs = Ralph {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _dir: dir,
    };
    let client = creditbank::xapi::client().unwrap();
    for _ in 0..150 {
        if let Ok(r) = client
            .get(format!("{}/whoami", lrs.url))
            .basic_auth(USER, Some(PASSWORD))
            .send()
            .await
            && r.status().is_success()
        {
            return lrs;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("ralph did not start on {}", lrs.url);
}

/// The statement the LRS holds under `id`.
async fn read_back(lrs: &Ralph, id: &str) -> Value {
    let r = creditbank::xapi::client()
        .unwrap()
        .get(format!("{}/xAPI/statements?statementId={id}", lrs.url))
        .basic_auth(USER, Some(PASSWORD))
        .header("X-Experience-API-Version", "2.0.0")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let body: Value = r.json().await.unwrap();
    // ralph answers a single statement, or a result with one.
    match body.get("statements") {
        Some(list) => list[0].clone(),
        None => body,
    }
}

async fn count(lrs: &Ralph) -> usize {
    let body: Value = creditbank::xapi::client()
        .unwrap()
        .get(format!("{}/xAPI/statements?limit=500", lrs.url))
        .basic_auth(USER, Some(PASSWORD))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["statements"].as_array().unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn learning_records_reach_a_real_lrs_once_each_and_resume_after_a_failure() {
    let lrs = ralph().await;
    let hq = Hq::start().await.unwrap();
    let code = hq.site("GD-SZ-001").unwrap();
    let node = SiteNode::new(&hq.url).await.unwrap();
    node.enrol(&hq, &code).await.unwrap();
    let people = node.learners(0, 2).await.unwrap();
    let (m, t) = (node.manager, node.instructor);
    // Two learners complete housekeeping (12 sessions of 8 h, theory 85, practical full
    // marks) and are accredited.
    let enrolments = node
        .db
        .call(move |site| {
            siteline_core::demo::complete_cohort(site, &m, &t, "housekeeping-L5-v1", &people, 85)
                .map(|(_, e)| e)
        })
        .await
        .unwrap();
    node.engine.sync_once().await.unwrap();
    // The second learner's theory result is corrected (its first statement is voided), and
    // the first learner's credits are reversed (her completion is voided).
    let second = enrolments[1];
    node.db
        .call(move |site| {
            let theory = assessments::counting_attempts(site.conn(), second)?
                .into_iter()
                .find(|a| a.component == siteline_domain::scores::Component::Theory)
                .expect("a theory attempt");
            assessments::correct(
                site,
                &m,
                theory.id,
                &siteline_proto::records::Marks::Score { score: 90 },
                &siteline_core::store::corrections::Reason {
                    code: siteline_proto::vocab::ReasonCode::EntryError,
                    text: "录入错误，原卷 90 分".into(),
                },
            )
        })
        .await
        .unwrap();
    node.engine.sync_once().await.unwrap();
    let posting = hq
        .store
        .query_i64("SELECT min(id) FROM credit_posting")
        .unwrap();
    hq.store
        .reverse_posting(posting, "考核记录经复核不实")
        .unwrap();

    let store: Arc<dyn Store> = hq.store.clone();
    // A wrong password: the batch fails, the error is kept for the operator, nothing is
    // marked sent.
    let wrong = Lrs {
        url: format!("{}/xAPI", lrs.url),
        user: USER.into(),
        password: "not-the-password".into(),
    };
    let err = export(store.clone(), &wrong).await.unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
    let status = store.xapi_status().unwrap();
    assert_eq!(status.queued, 35, "{status:?}");
    assert_eq!(status.sent, 0);
    assert!(status.last_error.as_deref().unwrap().contains("401"));
    assert_eq!(count(&lrs).await, 0);

    // The right one: everything goes, in order, and the error clears.
    let right = Lrs {
        password: PASSWORD.into(),
        ..wrong
    };
    let status = export(store.clone(), &right).await.unwrap();
    assert_eq!(status.sent, status.queued, "{status:?}");
    assert!(status.last_error.is_none());
    assert!(status.last_success_at.is_some());
    assert_eq!(count(&lrs).await as i64, status.queued);

    // Each statement as HQ queued it is what the LRS holds.
    let queued = store.xapi_pending(10_000).unwrap();
    assert!(queued.is_empty(), "all sent");
    let bodies: Vec<String> = hq
        .store
        .query_strings("SELECT body FROM xapi_statement ORDER BY id")
        .unwrap();
    let mut verbs = std::collections::BTreeMap::<String, usize>::new();
    for body in &bodies {
        let ours: Statement = serde_json::from_str(body).unwrap();
        let theirs = read_back(&lrs, &ours.id.to_string()).await;
        let back: Statement = serde_json::from_value({
            let mut t = theirs.clone();
            for extra in ["stored", "authority"] {
                t.as_object_mut().unwrap().remove(extra);
            }
            t
        })
        .unwrap_or_else(|e| panic!("{e}: {theirs}"));
        assert_eq!(back.id, ours.id);
        assert_eq!(back.verb, ours.verb);
        assert_eq!(back.actor, ours.actor);
        assert_eq!(back.object, ours.object);
        assert_eq!(back.result, ours.result);
        assert_eq!(back.timestamp, ours.timestamp);
        // PIPL: the learner is her credit account, nothing else.
        assert!(ours.actor.account.name.starts_with("CB"));
        assert!(!body.contains(&siteline_core::demo::resident_id(0)));
        *verbs
            .entry(ours.verb.id.rsplit('/').next().unwrap().to_string())
            .or_default() += 1;
    }
    assert_eq!(verbs.get("registered"), Some(&2), "{verbs:?}");
    assert_eq!(verbs.get("attended"), Some(&24), "{verbs:?}");
    // Theory and practical for each, and the corrected theory.
    assert_eq!(verbs.get("passed"), Some(&5), "{verbs:?}");
    assert_eq!(verbs.get("failed"), None, "{verbs:?}");
    assert_eq!(verbs.get("completed"), Some(&2), "{verbs:?}");
    // The corrected theory result and the reversed completion.
    assert_eq!(verbs.get("voided"), Some(&2), "{verbs:?}");

    // Sending again (a crash after the LRS accepted, before HQ marked the batch) is harmless:
    // the ids are the same, and the LRS keeps one of each.
    hq.store
        .execute_for_tests("UPDATE xapi_statement SET sent_at = NULL")
        .unwrap();
    let status = export(store.clone(), &right).await.unwrap();
    assert_eq!(status.sent, status.queued);
    assert_eq!(count(&lrs).await as i64, status.queued);
    // Nothing new to queue: a second collection adds nothing.
    assert_eq!(store.xapi_collect().unwrap(), 0);
}
