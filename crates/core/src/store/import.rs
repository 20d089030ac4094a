//! Bulk import of a class from an Excel file (批量导入): the site's template
//! ([`template`]) filled in, one learner per row, each row checked with the same rules as the
//! enrolment form (name, document number and its checksum, mobile, no duplicate in the file
//! or at the site), then every row that passed registered, and enrolled in a cohort if one is
//! given, in one transaction. Rows that fail are refused with their reason; nothing is half
//! imported: a row is imported whole (learner, consent, enrolment) or not at all, and a
//! failure of the store imports nothing.

use std::collections::HashMap;
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use rust_xlsxwriter::{Format, Workbook};
use serde::Serialize;
use siteline_domain::Rule;
use siteline_domain::ids::{CohortId, LearnerId};

use super::Site;
use super::actor::Actor;
use super::cohorts::{self, CohortStatus};
use super::learners::{self, ConsentInput, ConsentPurpose, IdType, NewLearner};
use crate::{Error, Result};

/// The template's columns, in order.
pub const COLUMNS: [&str; 5] = [
    "姓名 Name",
    "证件类型 ID type",
    "证件号码 ID number",
    "手机号码 Mobile",
    "同意报送学分银行 Credit bank consent",
];

/// Most rows one file may hold.
pub const MAX_ROWS: usize = 2000;

/// What happened to one row of the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImportRow {
    /// The row's number in the spreadsheet (the header is row 1).
    pub row: u32,
    /// The name as written.
    pub name: String,
    /// The document number masked, when it could be read.
    pub id_masked: Option<String>,
    /// The learner registered, when the row was imported.
    pub learner: Option<LearnerId>,
    /// Why the row was refused, in English (the UI words `code` and `rule` itself).
    pub problem: Option<String>,
    /// The kind of refusal: `invalid`, `duplicate`, `cohort_full`.
    pub code: Option<String>,
    /// The field at fault (`learner.id_number`, …), for an invalid row.
    pub field: Option<String>,
    /// The rule broken, with its parameters.
    pub rule: Option<Rule>,
    /// For a duplicate within the file: the row that has the same document.
    pub same_as_row: Option<u32>,
}

/// The outcome of an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImportReport {
    /// Rows registered.
    pub imported: u32,
    /// Rows refused.
    pub refused: u32,
    /// Every non-empty row, in file order.
    pub rows: Vec<ImportRow>,
}

/// The template an instructor fills in: the columns on the first sheet (document and mobile
/// columns formatted as text, so Excel keeps every digit), the rules on the second.
pub fn template() -> Result<Vec<u8>> {
    let err = |e: rust_xlsxwriter::XlsxError| Error::invalid("import.template", e);
    let mut book = Workbook::new();
    let header = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let sheet = book.add_worksheet();
    sheet.set_name("学员 Learners").map_err(err)?;
    for (i, title) in COLUMNS.iter().enumerate() {
        let col = i as u16;
        sheet
            .write_string_with_format(0, col, *title, &header)
            .map_err(err)?;
        sheet
            .set_column_width(col, if i == 4 { 34 } else { 22 })
            .map_err(err)?;
    }
    sheet.set_column_format(2, &text).map_err(err)?;
    sheet.set_column_format(3, &text).map_err(err)?;
    let help = book.add_worksheet();
    help.set_name("说明 Instructions").map_err(err)?;
    let lines = [
        "每行一名学员，从第 2 行开始填写；空行会被跳过。",
        "证件类型：居民身份证（默认）、护照、其他。",
        "证件号码：居民身份证为 18 位，末位可为 X；请保持本列为“文本”格式，以免位数丢失。",
        "手机号码：可不填；填写时为 11 位大陆手机号。",
        "同意报送学分银行：是／否；不填视为未记录。",
        "One learner per row from row 2; empty rows are skipped.",
        "ID type: 居民身份证 (resident ID, the default), 护照 (passport) or 其他 (other).",
        "ID number: 18 characters for a resident ID, the last may be X; keep the column as Text.",
        "Mobile: optional; an 11-digit mainland mobile number.",
        "Credit bank consent: 是 (yes) or 否 (no); empty records none.",
    ];
    for (i, line) in lines.iter().enumerate() {
        help.write_string(i as u32, 0, *line).map_err(err)?;
    }
    help.set_column_width(0, 90).map_err(err)?;
    book.save_to_buffer().map_err(err)
}

/// A cell as text: numbers that Excel stored as numbers are written back without decimals.
/// `Err` for a number that lost digits.
fn cell_text(cell: Option<&Data>) -> std::result::Result<String, ()> {
    match cell {
        None | Some(Data::Empty) => Ok(String::new()),
        Some(Data::String(s)) => Ok(s.trim().to_string()),
        Some(Data::Int(i)) => Ok(i.to_string()),
        Some(Data::Float(f)) if f.fract() == 0.0 && f.abs() < 1e15 => Ok(format!("{f:.0}")),
        Some(Data::Float(_)) => Err(()),
        Some(Data::Bool(b)) => Ok(if *b { "是" } else { "否" }.to_string()),
        Some(other) => Ok(other.to_string().trim().to_string()),
    }
}

fn id_type(text: &str) -> Option<IdType> {
    match text.trim().to_lowercase().as_str() {
        "" | "居民身份证" | "身份证" | "resident id" | "resident_id" => {
            Some(IdType::ResidentId)
        }
        "护照" | "passport" => Some(IdType::Passport),
        "其他" | "其它" | "other" => Some(IdType::Other),
        _ => None,
    }
}

fn consent(text: &str) -> std::result::Result<Option<bool>, ()> {
    match text.trim().to_lowercase().as_str() {
        "" => Ok(None),
        "是" | "同意" | "yes" | "y" | "true" | "1" => Ok(Some(true)),
        "否" | "不同意" | "no" | "n" | "false" | "0" => Ok(Some(false)),
        _ => Err(()),
    }
}

/// A row of the file: its number, the name as written, and the learner to register or why
/// the row cannot be read.
type FileRow = (u32, String, Result<NewLearner>);

/// Reads the file's rows.
fn read(bytes: &[u8]) -> Result<Vec<FileRow>> {
    let not_a_workbook = || Error::rule("import.file", Rule::NotAWorkbook);
    let mut book = Xlsx::new(Cursor::new(bytes)).map_err(|_| not_a_workbook())?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(not_a_workbook)?
        .map_err(|_| not_a_workbook())?;
    let mut rows = range.rows();
    let header = rows.next().unwrap_or_default();
    let first = cell_text(header.first()).unwrap_or_default();
    if !first.contains("姓名") && !first.to_lowercase().contains("name") {
        return Err(Error::rule("import.file", Rule::ImportHeader));
    }
    let mut out = Vec::new();
    for (i, cells) in rows.enumerate() {
        let row = i as u32 + 2;
        let texts: Vec<std::result::Result<String, ()>> = (0..COLUMNS.len())
            .map(|c| cell_text(cells.get(c)))
            .collect();
        if texts.iter().all(|t| t.as_ref().is_ok_and(String::is_empty)) {
            continue;
        }
        if out.len() == MAX_ROWS {
            return Err(Error::rule(
                "import.file",
                Rule::ImportTooManyRows {
                    max: MAX_ROWS as u32,
                },
            ));
        }
        let name = texts[0].clone().unwrap_or_default();
        let parsed = (|| {
            let text = |c: usize| {
                texts[c].clone().map_err(|()| {
                    Error::rule(
                        "learner.id_number",
                        Rule::NumberLostDigits {
                            column: COLUMNS[c].to_string(),
                        },
                    )
                })
            };
            let id_type = id_type(&text(1)?)
                .ok_or_else(|| Error::rule("learner.id_type", Rule::IdTypeUnknown))?;
            let granted = consent(&text(4)?)
                .map_err(|()| Error::rule("learner.consent", Rule::ConsentYesNo))?;
            let phone = text(3)?;
            Ok(NewLearner {
                name: name.clone(),
                id_type,
                id_number: text(2)?,
                phone: (!phone.is_empty()).then_some(phone),
                consents: granted
                    .map(|granted| ConsentInput {
                        purpose: ConsentPurpose::CreditBank,
                        granted,
                    })
                    .into_iter()
                    .collect(),
            })
        })();
        out.push((row, name, parsed));
    }
    Ok(out)
}

fn refused(row: u32, name: String, id_masked: Option<String>, e: &Error) -> ImportRow {
    let (field, rule, code) = match e {
        Error::Invalid { field, rule, .. } => (Some(field.to_string()), rule.clone(), "invalid"),
        Error::Duplicate { .. } => (None, None, "duplicate"),
        _ => (None, None, e.kind()),
    };
    ImportRow {
        row,
        name,
        id_masked,
        learner: None,
        problem: Some(e.to_string()),
        code: Some(code.to_string()),
        field,
        rule,
        same_as_row: None,
    }
}

/// Imports the learners of an `.xlsx` file filled in from [`template`], enrolling each in
/// `cohort` when one is given. Every row is checked first; then the rows that passed are
/// registered in one transaction.
pub fn import(
    site: &mut Site,
    actor: &Actor,
    bytes: &[u8],
    cohort: Option<CohortId>,
) -> Result<ImportReport> {
    let rows = read(bytes)?;
    let target = cohort.map(|id| cohorts::get(site.conn(), id)).transpose()?;
    if let Some(c) = &target
        && c.status == CohortStatus::Closed
    {
        return Err(Error::Locked {
            what: format!("cohort {}", c.name),
            hint: "import into an open cohort, or without a cohort",
        });
    }
    let mut places = target.as_ref().map_or(usize::MAX, |c| {
        c.capacity.saturating_sub(c.enrolled) as usize
    });
    let mut report = Vec::with_capacity(rows.len());
    let mut accepted = Vec::new();
    let mut seen: HashMap<(&'static str, String), u32> = HashMap::new();
    for (row, name, parsed) in rows {
        let checked = parsed.and_then(|new| Ok((learners::check(site, &new)?, new)));
        let (checked, new) = match checked {
            Ok(c) => c,
            Err(e) => {
                report.push(refused(row, name, None, &e));
                continue;
            }
        };
        let masked = Some(checked.masked());
        if let Some(first) = seen.get(&(new.id_type.as_str(), checked.number().to_string())) {
            let e = Error::Duplicate {
                what: "learner",
                detail: format!(
                    "row {row} has the same ID number as row {first}; keep one of them"
                ),
            };
            let mut r = refused(row, name, masked, &e);
            r.same_as_row = Some(*first);
            report.push(r);
            continue;
        }
        seen.insert((new.id_type.as_str(), checked.number().to_string()), row);
        if let (0, Some(c)) = (places, &target) {
            let e = Error::rule(
                "enrolment.cohort",
                Rule::CohortFull {
                    name: c.name.clone(),
                    capacity: c.capacity,
                },
            );
            let mut r = refused(row, name, masked, &e);
            r.code = Some("cohort_full".into());
            report.push(r);
            continue;
        }
        places = places.saturating_sub(1);
        report.push(ImportRow {
            row,
            name,
            id_masked: masked,
            learner: None,
            problem: None,
            code: None,
            field: None,
            rule: None,
            same_as_row: None,
        });
        accepted.push((report.len() - 1, checked, new.consents));
    }
    let (tx, keys) = site.write()?;
    for (at, checked, consents) in &accepted {
        let learner = learners::insert(&tx, keys, actor, checked, consents)?;
        if let Some(cohort) = cohort {
            cohorts::enrol_in(&tx, actor, cohort, learner)?;
        }
        report[*at].learner = Some(learner);
    }
    tx.commit()?;
    let imported = accepted.len() as u32;
    Ok(ImportReport {
        imported,
        refused: report.len() as u32 - imported,
        rows: report,
    })
}
