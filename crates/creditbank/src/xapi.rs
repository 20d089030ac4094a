//! Learning records in the format the field speaks: xAPI 2.0 statements HQ sends to a Learning
//! Record Store (registered, attended, passed, failed, completed, and voided for a correction
//! or a reversal). The few serde types are written here: the existing xAPI crates are GPL.
//!
//! The actor is the learner's credit account (`account {homePage: HQ, name: account number}`),
//! never an ID number, and only learners with an account (who consented to the credit bank)
//! appear. A statement's id is derived from what it says happened (UUID v5 of its kind and the
//! record's id), so sending it again is harmless: the LRS already has that id.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The xAPI version HQ speaks (header `X-Experience-API-Version` and each statement's
/// `version`).
pub const VERSION: &str = "2.0.0";

/// The namespace of statement ids (UUID v5).
pub const NAMESPACE: Uuid = Uuid::from_u128(0x5e7e_11e0_c4ed_4b4a_9a4e_0f1c_2b3d_4e5f);

/// A statement's id: the same happening always gets the same id.
pub fn statement_id(kind: &str, source: Uuid) -> Uuid {
    Uuid::new_v5(&NAMESPACE, format!("{kind}:{source}").as_bytes())
}

/// An xAPI statement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    /// Deterministic id ([`statement_id`]).
    pub id: Uuid,
    /// [`VERSION`].
    pub version: String,
    /// The learner.
    pub actor: Agent,
    /// What happened.
    pub verb: Verb,
    /// To what.
    pub object: Object,
    /// How it went.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Outcome>,
    /// Where it belongs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    /// When it happened.
    pub timestamp: DateTime<Utc>,
}

/// A learner, by credit account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    /// Always `Agent`.
    #[serde(rename = "objectType")]
    pub object_type: String,
    /// The credit account.
    pub account: Account,
}

/// An account on a system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// HQ's address.
    #[serde(rename = "homePage")]
    pub home_page: String,
    /// The credit account number.
    pub name: String,
}

impl Agent {
    /// The learner holding `account_no` at HQ `home_page`.
    pub fn credit_account(home_page: &str, account_no: &str) -> Self {
        Agent {
            object_type: "Agent".into(),
            account: Account {
                home_page: home_page.into(),
                name: account_no.into(),
            },
        }
    }
}

/// A verb: its IRI and display names by language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verb {
    /// ADL verb IRI.
    pub id: String,
    /// `zh-CN` and `en-US`.
    pub display: BTreeMap<String, String>,
}

/// The verbs HQ uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Happened {
    /// Enrolled in a cohort.
    Registered,
    /// Present at a session.
    Attended,
    /// Passed an assessment.
    Passed,
    /// Failed an assessment.
    Failed,
    /// Accredited for a programme.
    Completed,
    /// An earlier statement no longer stands.
    Voided,
}

impl Happened {
    /// The ADL verb.
    pub fn verb(self) -> Verb {
        let (name, zh) = match self {
            Happened::Registered => ("registered", "报名"),
            Happened::Attended => ("attended", "出勤"),
            Happened::Passed => ("passed", "考核合格"),
            Happened::Failed => ("failed", "考核不合格"),
            Happened::Completed => ("completed", "获认定"),
            Happened::Voided => ("voided", "作废"),
        };
        Verb {
            id: format!("http://adlnet.gov/expapi/verbs/{name}"),
            display: BTreeMap::from([("zh-CN".into(), zh.into()), ("en-US".into(), name.into())]),
        }
    }
}

/// What a statement is about: an activity, or an earlier statement (to void it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "objectType")]
pub enum Object {
    /// A cohort, session, assessment or programme.
    Activity {
        /// Its IRI at HQ.
        id: String,
        /// Its name and type.
        definition: Definition,
    },
    /// An earlier statement.
    StatementRef {
        /// Its id.
        id: Uuid,
    },
}

/// An activity's name (by language) and type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Definition {
    /// `zh-CN` and `en-US`.
    pub name: BTreeMap<String, String>,
    /// ADL activity type IRI.
    #[serde(rename = "type")]
    pub kind: String,
}

impl Object {
    /// An activity at HQ, named in Chinese and English, of ADL type `kind` (`course`,
    /// `meeting`, `assessment`).
    pub fn activity(id: String, zh: &str, en: &str, kind: &str) -> Self {
        Object::Activity {
            id,
            definition: Definition {
                name: BTreeMap::from([("zh-CN".into(), zh.into()), ("en-US".into(), en.into())]),
                kind: format!("http://adlnet.gov/expapi/activities/{kind}"),
            },
        }
    }
}

/// How it went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Outcome {
    /// Passed (or accredited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success: Option<bool>,
    /// Finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion: Option<bool>,
    /// The score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<Score>,
    /// Credits and the like, by IRI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<BTreeMap<String, serde_json::Value>>,
}

/// A score out of 100.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// `raw / max`.
    pub scaled: f64,
    /// The score.
    pub raw: f64,
    /// 0.
    pub min: f64,
    /// 100.
    pub max: f64,
}

impl Score {
    /// A score out of 100.
    pub fn percent(raw: i64) -> Self {
        let raw = raw.clamp(0, 100) as f64;
        Score {
            scaled: raw / 100.0,
            raw,
            min: 0.0,
            max: 100.0,
        }
    }
}

/// Where a statement belongs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    /// `Siteline`.
    pub platform: String,
    /// `zh-CN`.
    pub language: String,
    /// The cohort a session or assessment belongs to.
    #[serde(
        rename = "contextActivities",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub context_activities: Option<ContextActivities>,
}

/// Parent activities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextActivities {
    /// The cohort.
    pub parent: Vec<ActivityRef>,
}

/// An activity named by id alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityRef {
    /// Always `Activity`.
    #[serde(rename = "objectType")]
    pub object_type: String,
    /// Its IRI.
    pub id: String,
}

impl Context {
    /// Siteline's context, with the cohort as parent when there is one.
    pub fn siteline(parent: Option<String>) -> Self {
        Context {
            platform: "Siteline".into(),
            language: "zh-CN".into(),
            context_activities: parent.map(|id| ContextActivities {
                parent: vec![ActivityRef {
                    object_type: "Activity".into(),
                    id,
                }],
            }),
        }
    }
}

/// Where statements go: the LRS's statements endpoint and its Basic credentials.
#[derive(Debug, Clone)]
pub struct Lrs {
    /// e.g. `https://lrs.example.cn/xAPI` (statements are POSTed to `{url}/statements`).
    pub url: String,
    /// Basic auth user.
    pub user: String,
    /// Basic auth password.
    pub password: String,
}

/// How far the export got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExportStatus {
    /// Statements queued so far.
    pub queued: i64,
    /// Of those, accepted by the LRS.
    pub sent: i64,
    /// When the last attempt ran.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// When a batch last went through.
    pub last_success_at: Option<DateTime<Utc>>,
    /// What failed last (none once a batch goes through again).
    pub last_error: Option<String>,
}

/// An HTTP client for the LRS (rustls with ring, as HQ's TLS server uses; a minute per
/// request).
pub fn client() -> crate::Result<reqwest::Client> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .map_err(|e| crate::Error::Internal(format!("the LRS client: {e}")))
}

/// Statements per request.
pub const BATCH: usize = 100;

/// Sends every statement not yet accepted, in batches of [`BATCH`], oldest first: queued
/// statements are collected first; each batch the LRS accepts is marked sent, so a failure
/// (noted for the operator) leaves the rest for the next run, which resumes there.
pub async fn export(
    store: std::sync::Arc<dyn crate::store::Store>,
    lrs: &Lrs,
) -> crate::Result<ExportStatus> {
    let client = client()?;
    let s = store.clone();
    tokio::task::spawn_blocking(move || s.xapi_collect())
        .await
        .map_err(|e| crate::Error::Internal(e.to_string()))??;
    loop {
        let s = store.clone();
        let batch = tokio::task::spawn_blocking(move || s.xapi_pending(BATCH))
            .await
            .map_err(|e| crate::Error::Internal(e.to_string()))??;
        if batch.is_empty() {
            break;
        }
        let body = format!(
            "[{}]",
            batch
                .iter()
                .map(|(_, text)| text.as_str())
                .collect::<Vec<_>>()
                .join(",")
        );
        let sent = client
            .post(format!("{}/statements", lrs.url.trim_end_matches('/')))
            .basic_auth(&lrs.user, Some(&lrs.password))
            .header("X-Experience-API-Version", VERSION)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await;
        let failure = match sent {
            Ok(r) if r.status().is_success() => None,
            Ok(r) => {
                let status = r.status();
                let text = r.text().await.unwrap_or_default();
                Some(format!(
                    "the LRS answered {status}: {}",
                    text.chars().take(300).collect::<String>()
                ))
            }
            Err(e) => Some(format!("the LRS at {} could not be reached: {e}", lrs.url)),
        };
        let ids: Vec<i64> = batch.iter().map(|(id, _)| *id).collect();
        let s = store.clone();
        let noted = failure.clone();
        tokio::task::spawn_blocking(move || s.xapi_note(&ids, noted.as_deref()))
            .await
            .map_err(|e| crate::Error::Internal(e.to_string()))??;
        if let Some(reason) = failure {
            return Err(crate::Error::Internal(reason));
        }
    }
    let s = store.clone();
    tokio::task::spawn_blocking(move || s.xapi_status())
        .await
        .map_err(|e| crate::Error::Internal(e.to_string()))?
}
