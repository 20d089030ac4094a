//! Push load benchmark (written below).
fn main() {}
