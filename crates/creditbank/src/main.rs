//! `creditbank` command line.

fn main() {
    eprintln!(
        "creditbank {} (protocol {}): the server is not built yet; see the credit bank issue",
        env!("CARGO_PKG_VERSION"),
        creditbank::PROTOCOL_VERSION
    );
    std::process::exit(2);
}
