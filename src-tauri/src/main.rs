//! Siteline desktop entry point.
// Hides the console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    siteline_desktop_lib::webview::limit_script_engine();
    siteline_desktop_lib::run();
}
