//! Helpers that make valid test data (ID numbers, phones, sites with staff). Used by tests,
//! the benchmark and the demo data; never by production paths.

use chrono::NaiveDate;

use crate::domain::resident_id::check_char;

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
