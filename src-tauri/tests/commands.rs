//! The commands through Tauri's mock runtime: real core, real (in-memory) database, the IPC
//! layer the UI uses, and errors as `{kind, message}`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use siteline_core::Site;
use siteline_core::store::db::Db;
use siteline_desktop_lib::events::Changes;
use siteline_desktop_lib::handlers;
use siteline_desktop_lib::state::Shell;
use tauri::Manager;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{
    INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder, mock_context, noop_assets,
};
use tauri::webview::InvokeRequest;

fn app() -> (
    tauri::App<MockRuntime>,
    tauri::WebviewWindow<MockRuntime>,
    tempfile::TempDir,
) {
    let dir = tempfile::tempdir().unwrap();
    let db =
        tauri::async_runtime::block_on(Db::from_site(Site::open_in_memory().unwrap())).unwrap();
    let (changes, _rx) = Changes::detached();
    let app = mock_builder()
        .invoke_handler(handlers!())
        .build(mock_context(noop_assets()))
        .unwrap();
    app.manage(Shell::new(db, dir.path().join("site.db"), changes));
    let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    (app, webview, dir)
}

fn call(w: &tauri::WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
    get_ipc_response(
        w,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|b| b.deserialize::<Value>().unwrap())
}

#[test]
fn first_run_roles_and_errors_through_the_ipc_layer() {
    let (_app, w, _dir) = app();
    assert_eq!(
        call(&w, "app_status", json!({})).unwrap()["first_run"],
        true
    );
    let err = call(&w, "list_cohorts", json!({})).unwrap_err();
    assert_eq!(err["kind"], "signed_out");
    let me = call(&w, "create_first_manager", json!({ "new": {
        "username": "manager", "display_name": "李站长", "role": "site_manager", "password": "manager-pass" } }))
    .unwrap();
    assert_eq!(me["actor"]["role"], "site_manager");
    let bad = call(
        &w,
        "create_staff",
        json!({ "new": {
        "username": "t", "display_name": " ", "role": "instructor", "password": "teacher-pass" } }),
    )
    .unwrap_err();
    assert_eq!(bad["kind"], "invalid");
    assert!(
        bad["message"]
            .as_str()
            .unwrap()
            .starts_with("staff.display_name")
    );
    call(&w, "create_staff", json!({ "new": {
        "username": "teacher", "display_name": "王老师", "role": "instructor", "password": "teacher-pass" } }))
    .unwrap();
    let learner = call(&w, "register_learner", json!({ "new": {
        "name": "张秀英", "id_type": "resident_id", "id_number": siteline_core::demo::resident_id(3),
        "phone": null, "consents": [{ "purpose": "credit_bank", "granted": true }] } }))
    .unwrap();
    assert!(learner["id_masked"].as_str().unwrap().contains('*'));
    // The instructor may not unmask an ID number: refused in core, whatever the UI shows.
    call(
        &w,
        "sign_in",
        json!({ "username": "teacher", "password": "teacher-pass" }),
    )
    .unwrap();
    let err = call(&w, "unmask_learner", json!({ "id": learner["id"] })).unwrap_err();
    assert_eq!(err["kind"], "forbidden");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("may not see full ID numbers")
    );
    let err = call(
        &w,
        "create_staff",
        json!({ "new": {
        "username": "x", "display_name": "x", "role": "instructor", "password": "12345678" } }),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "forbidden");
    let wrong = call(
        &w,
        "sign_in",
        json!({ "username": "teacher", "password": "nope" }),
    )
    .unwrap_err();
    assert_eq!(wrong["kind"], "invalid");
}

#[test]
fn a_roll_call_mark_through_the_commands_returns_the_saved_line() {
    let (_app, w, _dir) = app();
    call(&w, "create_first_manager", json!({ "new": {
        "username": "manager", "display_name": "李站长", "role": "site_manager", "password": "manager-pass" } }))
    .unwrap();
    let learner = call(&w, "register_learner", json!({ "new": {
        "name": "张秀英", "id_type": "resident_id", "id_number": siteline_core::demo::resident_id(4),
        "phone": "13800138000", "consents": [] } }))
    .unwrap();
    let check = call(
        &w,
        "check_id_number",
        json!({ "idType": "resident_id", "number": siteline_core::demo::resident_id(4) }),
    )
    .unwrap();
    assert_eq!(check["duplicate"]["name"], "张秀英");
    let cohort = call(&w, "create_cohort", json!({ "new": {
        "programme_version_id": "maternity-L5-v1", "name": "母婴护理员班", "start_date": "2026-11-02",
        "end_date": "2026-12-30", "capacity": 40, "instructors": [] } }))
    .unwrap();
    call(
        &w,
        "enrol_learner",
        json!({ "cohort": cohort["id"], "learner": learner["id"] }),
    )
    .unwrap();
    let session = call(&w, "schedule_session", json!({ "cohort": cohort["id"], "new": {
        "unit_id": null, "starts_at": "2026-11-28T01:00:00Z", "ends_at": "2026-11-28T04:00:00Z", "instructor_id": null } }))
    .unwrap();
    let line = call(&w, "mark", json!({ "session": session["id"], "learner": learner["id"], "mark": { "mark": "present" } })).unwrap();
    assert_eq!(
        (line["status"].as_str(), line["minutes"].as_i64()),
        (Some("present"), Some(180))
    );
    call(&w, "close_session", json!({ "session": session["id"] })).unwrap();
    let err = call(
        &w,
        "mark",
        json!({ "session": session["id"], "learner": learner["id"], "mark": { "mark": "absent" } }),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "locked");
}

#[test]
fn the_managers_commands_export_claim_and_refuse_an_instructor() {
    let (_app, w, dir) = app();
    call(&w, "create_first_manager", json!({ "new": {
        "username": "manager", "display_name": "李站长", "role": "site_manager", "password": "manager-pass" } }))
    .unwrap();
    call(&w, "create_staff", json!({ "new": {
        "username": "teacher", "display_name": "王老师", "role": "instructor", "password": "teacher-pass" } }))
    .unwrap();
    let running = call(
        &w,
        "load_demo",
        json!({ "todayStart": "2026-11-28T16:00:00Z" }),
    )
    .unwrap();
    let review = call(&w, "site_review", json!({ "filter": {
        "programme_version_id": "housekeeping-L5-v1", "cohort_id": null, "instructor_id": null, "from": null, "to": null } }))
    .unwrap();
    let cohorts = review["cohorts"].as_array().unwrap();
    assert_eq!(cohorts.len(), 1);
    assert_ne!(cohorts[0]["cohort"]["id"], running);
    let done = cohorts[0]["cohort"]["id"].clone();
    // A relative folder is refused with what to do; a full one gets the file.
    let err = call(
        &w,
        "export_cohort",
        json!({ "cohort": done, "format": "xlsx", "dir": "exports" }),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "invalid");
    let out = dir.path().join("out");
    let path = call(
        &w,
        "export_cohort",
        json!({ "cohort": done, "format": "csv", "dir": out }),
    )
    .unwrap();
    let csv = std::fs::read_to_string(path.as_str().unwrap()).unwrap();
    assert_eq!(csv.lines().count(), 13);
    let claims = call(&w, "submit_claims", json!({ "cohort": done })).unwrap();
    assert_eq!(claims["submitted"], 9);
    assert_eq!(claims["skipped"].as_array().unwrap().len(), 3);
    // Submitting again submits nothing new.
    let again = call(&w, "submit_claims", json!({ "cohort": done })).unwrap();
    assert_eq!(again["submitted"], 0);
    // Settings are checked; the idle lock is applied.
    let bad = call(
        &w,
        "save_settings",
        json!({ "new": {
        "backup_dir": null, "backup_keep_days": 0, "idle_minutes": 5, "language": "zh-CN",
        "time_zone": "Asia/Shanghai" } }),
    )
    .unwrap_err();
    assert_eq!(bad["kind"], "invalid");
    // An instructor may not export, claim, back up, restore or change settings.
    call(
        &w,
        "sign_in",
        json!({ "username": "teacher", "password": "teacher-pass" }),
    )
    .unwrap();
    for (cmd, args) in [
        (
            "export_cohort",
            json!({ "cohort": done, "format": "xlsx", "dir": out }),
        ),
        ("submit_claims", json!({ "cohort": done })),
        ("back_up_now", json!({ "dir": out })),
        ("restore_backup", json!({ "path": out.join("x.sqlite") })),
        (
            "save_settings",
            json!({ "new": {
            "backup_dir": null, "backup_keep_days": 7, "idle_minutes": 5, "language": "en",
            "time_zone": "Asia/Shanghai" } }),
        ),
    ] {
        let err = call(&w, cmd, args).unwrap_err();
        assert_eq!(err["kind"], "forbidden", "{cmd}: {err}");
    }
}

#[test]
fn before_sign_in_only_the_first_run_and_sign_in_commands_answer() {
    let (_app, w, _dir) = app();
    call(&w, "create_first_manager", json!({ "new": {
        "username": "manager", "display_name": "李站长", "role": "site_manager", "password": "manager-pass" } }))
    .unwrap();
    call(&w, "sign_out", json!({})).unwrap();
    for (cmd, args) in [
        ("site_overview", json!({})),
        ("programme_versions", json!({})),
        ("rubric", json!({ "programmeVersionId": "maternity-L5-v1" })),
        ("default_export_dir", json!({})),
        ("sync_status", json!({})),
        ("list_cohorts", json!({})),
        ("search_learners", json!({ "query": "王", "limit": 10 })),
    ] {
        let err = call(&w, cmd, args).unwrap_err();
        assert_eq!(err["kind"], "signed_out", "{cmd}: {err}");
    }
    assert_eq!(
        call(&w, "app_status", json!({})).unwrap()["first_run"],
        false
    );
}

#[test]
fn wrong_passwords_are_throttled_and_a_reset_password_ends_the_session() {
    let (_app, w, _dir) = app();
    let me = call(&w, "create_first_manager", json!({ "new": {
        "username": "manager", "display_name": "李站长", "role": "site_manager", "password": "manager-pass" } }))
    .unwrap();
    // The manager resets their own password: the session ends at the next command.
    call(
        &w,
        "reset_staff_password",
        json!({ "id": me["actor"]["id"], "password": "a-new-password" }),
    )
    .unwrap();
    let err = call(&w, "list_staff", json!({})).unwrap_err();
    assert_eq!(err["kind"], "signed_out", "{err}");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("password changed")
    );

    for i in 0..5 {
        let err = call(
            &w,
            "sign_in",
            json!({ "username": "manager", "password": "guess" }),
        )
        .unwrap_err();
        assert_eq!(
            err["params"]["rule"]["rule"], "sign_in_wrong",
            "try {i}: {err}"
        );
    }
    // Now even the right password waits.
    let err = call(
        &w,
        "sign_in",
        json!({ "username": "manager", "password": "a-new-password" }),
    )
    .unwrap_err();
    assert_eq!(err["params"]["rule"]["rule"], "sign_in_throttled", "{err}");
    let seconds = err["params"]["rule"]["seconds"].as_u64().unwrap();
    assert!((1..=30).contains(&seconds), "{seconds}");
}
