//! Shaped-link benchmark (below).
fn main() {}
