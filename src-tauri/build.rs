//! Generates Tauri's context (config, capabilities, icons) for the desktop shell.

fn main() {
    tauri_build::build()
}
