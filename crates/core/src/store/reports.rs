//! Cohort reports for site managers: the progress table as CSV (UTF-8 with BOM, so Excel shows
//! Chinese correctly) and XLSX, and a print-ready HTML report in Chinese with the site's name,
//! the cohort's dates and a signatures block. Every format carries the masked ID number only:
//! a report is a file that travels, and a full ID never leaves the store in one.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension};
use rust_xlsxwriter::{Format, FormatAlign, Workbook};
use serde::{Deserialize, Serialize};
use siteline_proto::sync::DecisionStatus;

use super::progress::{self, CohortProgress, LearnerProgress};
use crate::{Error, Result};
use siteline_domain::attendance::hours_text;
use siteline_domain::credits::Credits;
use siteline_domain::ids::CohortId;
use siteline_domain::scores::PassStatus;

/// A report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ReportFormat {
    /// Comma-separated values.
    Csv,
    /// Excel workbook.
    Xlsx,
    /// Print-ready HTML (print to paper or PDF from any browser).
    Html,
}

impl ReportFormat {
    fn ext(self) -> &'static str {
        match self {
            ReportFormat::Csv => "csv",
            ReportFormat::Xlsx => "xlsx",
            ReportFormat::Html => "html",
        }
    }
}

const HEADERS: [&str; 14] = [
    "姓名",
    "证件号（脱敏）",
    "出勤学时",
    "要求学时",
    "出勤率",
    "考核资格",
    "理论成绩",
    "实操成绩",
    "关键项",
    "结论",
    "已提交认定",
    "学分银行认定",
    "学分",
    "证书编号",
];

fn yes(b: bool) -> &'static str {
    if b { "是" } else { "否" }
}

/// The status a report shows: a learner who passed on scores but attended too little has not
/// passed, and the report says why.
fn status_zh(s: PassStatus, eligible: bool) -> &'static str {
    match s {
        PassStatus::Passed if !eligible => "考核合格 · 出勤不足",
        PassStatus::Passed => "合格",
        PassStatus::Failed => "不合格",
        PassStatus::Pending => "待考核",
    }
}

fn hq_zh(s: Option<DecisionStatus>) -> &'static str {
    match s {
        Some(DecisionStatus::Accredited) => "已认定",
        Some(DecisionStatus::NeedsInfo) => "需补充材料",
        Some(DecisionStatus::Rejected) => "未通过",
        None => "",
    }
}

/// One learner's cells, in `HEADERS` order.
fn cells(l: &LearnerProgress) -> [String; 14] {
    [
        l.name.clone(),
        l.id_masked.clone(),
        hours_text(l.attended_minutes),
        hours_text(l.required_minutes),
        format!(
            "{}.{}%",
            l.attendance_permille / 10,
            l.attendance_permille % 10
        ),
        yes(l.eligible).into(),
        l.results
            .theory
            .map(|s| s.get().to_string())
            .unwrap_or_default(),
        l.results
            .practical
            .map(|(s, _)| s.get().to_string())
            .unwrap_or_default(),
        match l.results.practical {
            Some((_, true)) => "未通过".into(),
            Some((_, false)) => "通过".into(),
            None => String::new(),
        },
        status_zh(l.status, l.eligible).into(),
        yes(l.claimed).into(),
        hq_zh(l.hq_status).into(),
        if l.credits_tenths == 0 {
            String::new()
        } else {
            Credits(l.credits_tenths).to_string()
        },
        l.certificate.clone().unwrap_or_default(),
    ]
}

/// The site's name for report headings: HQ's name once enrolled.
pub fn site_name(conn: &Connection) -> Result<String> {
    Ok(conn
        .query_row(
            "SELECT site_name FROM sync_state WHERE site_name IS NOT NULL",
            [],
            |r| r.get::<_, String>(0),
        )
        .optional()?
        .unwrap_or_else(|| "（未登记站点）".into()))
}

/// A CSV cell a spreadsheet would run as a formula (it starts with `=`, `+`, `-` or `@`, or a
/// tab or carriage return that hides one) gets a leading apostrophe, so a name typed as
/// `=HYPERLINK(…)` opens as text in Excel or WPS.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// The cohort table as CSV bytes (cells neutralised, see [`neutralise`]).
pub fn csv(table: &CohortProgress) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let err = |e: csv::Error| Error::invalid("report.csv", e);
    w.write_record(HEADERS).map_err(err)?;
    for l in &table.learners {
        w.write_record(cells(l).iter().map(|c| neutralise(c).into_owned()))
            .map_err(err)?;
    }
    w.into_inner()
        .map_err(|e| Error::invalid("report.csv", e.to_string()))
}

/// The cohort table as an XLSX workbook: a title row, the headers, one row per learner.
pub fn xlsx(table: &CohortProgress, site: &str) -> Result<Vec<u8>> {
    let err = |e: rust_xlsxwriter::XlsxError| Error::invalid("report.xlsx", e);
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("培训进度").map_err(err)?;
    let title = Format::new().set_bold().set_font_size(14);
    let head = Format::new()
        .set_bold()
        .set_background_color("#E8EEF7")
        .set_align(FormatAlign::Center);
    let c = &table.cohort;
    sheet
        .write_with_format(
            0,
            0,
            format!("{site} · {} · {} 至 {}", c.name, c.start_date, c.end_date),
            &title,
        )
        .map_err(err)?;
    for (col, h) in HEADERS.iter().enumerate() {
        sheet
            .write_with_format(1, col as u16, *h, &head)
            .map_err(err)?;
    }
    for (i, l) in table.learners.iter().enumerate() {
        let row = 2 + i as u32;
        for (col, v) in cells(l).iter().enumerate() {
            // Numbers stay numbers so the manager can sum and sort them in Excel.
            match (col, v.parse::<f64>()) {
                (2 | 3 | 6 | 7 | 12, Ok(n)) => sheet.write_number(row, col as u16, n),
                _ => sheet.write_string(row, col as u16, v),
            }
            .map_err(err)?;
        }
    }
    let widths = [
        10.0, 22.0, 9.0, 9.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 10.0, 12.0, 6.0, 26.0,
    ];
    for (col, w) in widths.iter().enumerate() {
        sheet.set_column_width(col as u16, *w).map_err(err)?;
    }
    sheet.set_freeze_panes(2, 1).map_err(err)?;
    book.save_to_buffer().map_err(err)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A print-ready cohort report in Chinese: heading with the site and dates, summary, the
/// table, and the signatures block. Self-contained (no scripts, no external files).
pub fn html(table: &CohortProgress, site: &str, printed_on: chrono::NaiveDate) -> String {
    let c = &table.cohort;
    let p = &table.programme;
    let passed = table
        .learners
        .iter()
        .filter(|l| l.status == PassStatus::Passed)
        .count();
    let eligible = table.learners.iter().filter(|l| l.eligible).count();
    let mut rows = String::new();
    for l in &table.learners {
        rows.push_str("<tr>");
        for v in cells(l) {
            rows.push_str(&format!("<td>{}</td>", esc(&v)));
        }
        rows.push_str("</tr>\n");
    }
    let head: String = HEADERS.iter().map(|h| format!("<th>{h}</th>")).collect();
    format!(
        r#"<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title>
<style>
@page {{ size: A4 landscape; margin: 14mm; }}
body {{ font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; font-size: 11pt; color: #111; }}
h1 {{ font-size: 17pt; text-align: center; margin: 0 0 4mm; }}
.meta {{ display: flex; flex-wrap: wrap; gap: 4mm 10mm; margin-bottom: 4mm; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border: 1px solid #555; padding: 1.5mm 2mm; text-align: center; }}
th {{ background: #eef2f8; }}
thead {{ display: table-header-group; }}
tr {{ page-break-inside: avoid; }}
.sign {{ display: grid; grid-template-columns: repeat(3, 1fr); gap: 10mm; margin-top: 14mm; }}
.sign div {{ border-top: 1px solid #111; padding-top: 2mm; }}
.note {{ margin-top: 4mm; font-size: 9pt; color: #444; }}
</style></head>
<body>
<h1>{title}</h1>
<div class="meta">
<span>培训站点：{site}</span><span>班级：{cohort}</span><span>项目：{programme}（{level}级）</span>
<span>培训日期：{start} 至 {end}</span><span>要求学时：{hours}</span>
<span>学员 {n} 人，达到考核资格 {eligible} 人，考核合格 {passed} 人</span>
</div>
<table><thead><tr>{head}</tr></thead>
<tbody>
{rows}</tbody></table>
<p class="note">证件号已脱敏。出勤学时按签到、签退记录计算；合格须理论、实操均不低于60分且关键项全部通过。打印日期：{printed_on}</p>
<div class="sign">
<div>培训讲师（签字）：</div><div>考评员（签字）：</div><div>站点负责人（签字）：</div>
<div>日期：</div><div>日期：</div><div>站点（盖章）：</div>
</div>
</body></html>
"#,
        title = esc(&format!("{} 培训考核情况报告", c.name)),
        site = esc(site),
        cohort = esc(&c.name),
        programme = esc(&p.name_zh),
        level = p.level.get(),
        start = c.start_date,
        end = c.end_date,
        hours = p.total_hours,
        n = table.learners.len(),
    )
}

/// A file name for a cohort's report: the cohort's name made safe for any file system.
pub fn file_name(table: &CohortProgress, format: ReportFormat, on: chrono::NaiveDate) -> String {
    let safe: String = table
        .cohort
        .name
        .chars()
        .map(|ch| {
            if ch.is_control() || r#"/\:*?"<>|"#.contains(ch) {
                '_'
            } else {
                ch
            }
        })
        .collect();
    format!("{}-{}.{}", safe.trim(), on.format("%Y%m%d"), format.ext())
}

/// Writes a cohort's report into `dir` (created if missing) and returns its path. The file is
/// written under a temporary name and renamed when complete, so it is whole or absent.
pub fn export(
    conn: &Connection,
    cohort: CohortId,
    format: ReportFormat,
    dir: &Path,
) -> Result<PathBuf> {
    let table = progress::cohort_progress(conn, cohort)?;
    let site = site_name(conn)?;
    let today = super::now().date_naive();
    let bytes = match format {
        ReportFormat::Csv => csv(&table)?,
        ReportFormat::Xlsx => xlsx(&table, &site)?,
        ReportFormat::Html => html(&table, &site, today).into_bytes(),
    };
    write_whole(dir, &file_name(&table, format, today), &bytes)
}

/// Writes `bytes` to `dir/name` whole or not at all (a partial file renamed into place), the
/// folder made if missing.
pub(crate) fn write_whole(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
    let path = dir.join(name);
    let partial = path.with_extension("partial");
    std::fs::write(&partial, bytes).map_err(Error::io(&partial))?;
    std::fs::rename(&partial, &path).map_err(Error::io(&path))?;
    Ok(path)
}
