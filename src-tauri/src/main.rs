//! Siteline desktop entry point.
// Hides the console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    let zone = siteline_desktop_lib::site_time_zone();
    siteline_desktop_lib::webview::prepare_environment(&zone);
    siteline_desktop_lib::run();
}
