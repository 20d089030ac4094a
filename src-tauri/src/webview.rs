//! The window's WebKit, set for a forms app that runs all day on a 4–8 GB laptop: the
//! "document viewer" cache model (no large memory caches; everything the UI shows is
//! embedded in the binary anyway), no back/forward page cache, and a script engine that sizes
//! its heap for a small machine and skips its optimising compilers (the screens' scripts are
//! small; the roll call stays at a median 15 ms a mark). Measured in `docs/BENCHMARKS.md`
//! (memory after the end-to-end scenario).

use tauri::{Manager, Runtime};

/// Applies the settings to the main window's web view (Linux; elsewhere nothing to do).
pub fn tune<R: Runtime>(app: &tauri::App<R>) {
    let Some(window) = app.get_webview_window("main") else {
        return;
    };
    let result = window.with_webview(|view| {
        #[cfg(target_os = "linux")]
        {
            use webkit2gtk::{CacheModel, SettingsExt, WebContextExt, WebViewExt};
            let view = view.inner();
            if let Some(context) = view.context() {
                context.set_cache_model(CacheModel::DocumentViewer);
            }
            if let Some(settings) = WebViewExt::settings(&view) {
                settings.set_enable_page_cache(false);
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = view;
    });
    if let Err(e) = result {
        eprintln!("could not tune the web view's memory use: {e}");
    }
}

/// The process environment the window's web process inherits, set first thing in `main`,
/// before any thread starts:
///
/// - JavaScriptCore collects as if the machine had 128 MiB (JSC sizes its heap from the RAM it
///   sees, so on a 24 GB machine it lets garbage pile up) and stops at the baseline compiler;
///   a value already set (to measure, or to debug) is kept;
/// - `TZ` is the site's time zone (`time_zone`, from its settings), so every date and time the
///   screens show, and "today", are the site's whatever zone the laptop's clock is set to.
#[allow(unsafe_code)]
pub fn prepare_environment(time_zone: &str) {
    for (name, value) in [
        ("JSC_forceRAMSize", "134217728"),
        ("JSC_useDFGJIT", "false"),
    ] {
        if std::env::var_os(name).is_none() {
            // SAFETY: called at the top of `main`, before any other thread exists, so no
            // thread can read the environment while it changes.
            unsafe { std::env::set_var(name, value) };
        }
    }
    // SAFETY: as above.
    unsafe { std::env::set_var("TZ", time_zone) };
}
