//! The window's WebKit, set for a forms app that runs all day on a 4–8 GB laptop, often one
//! without a usable graphics driver. Measured in `docs/BENCHMARKS.md` (memory after the
//! end-to-end scenario: about 640 MiB before these settings, under 300 with them).
//!
//! - The "document viewer" cache model (no large memory caches; everything the UI shows is
//!   embedded in the binary anyway) and no back/forward page cache.
//! - No accelerated compositing: the pages are forms and tables, painted on the processor. With
//!   a software OpenGL (no GPU driver, a virtual machine, Xvfb) compositing cost about 200 MiB
//!   of layer textures and a 7 s cold start; without it the first screen is up in about 1 s.
//! - The script engine sizes its heap for a small machine and runs its interpreter only (the
//!   screens' scripts are small; a roll-call mark stays near 20 ms, click to saved).
//! - The web process measures itself every 10 s and, above a quarter of 256 MB, collects and
//!   drops its caches, above 35 % also hands freed memory back to the system (WebKit's
//!   memory-pressure settings, through the vendored wry, `vendor/README.md`). It is never
//!   killed for its size.
//! - The C allocator of the app and its web processes keeps two arenas and returns freed
//!   memory above 128 KiB at once, instead of holding on to a thread's arena for ever.

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

/// The C allocator's arenas, in this process and the web processes.
const MALLOC_ARENAS: i32 = 2;
/// Freed memory above this many bytes goes back to the system at once (trim and mmap
/// thresholds), in this process and the web processes.
const MALLOC_RETURN_ABOVE: i32 = 128 * 1024;

/// The process environment the window's web process inherits, and the app's own allocator
/// and WebKit settings, set first thing in `main`, before any other thread starts (see the
/// module's notes). A WebKit or allocator variable already set (to measure, or to debug) is
/// kept. `TZ` is the site's time zone (`time_zone`, from its settings), so every date and time
/// the screens show, and "today", are the site's whatever zone the laptop's clock is set to.
#[allow(unsafe_code)]
pub fn prepare_environment(time_zone: &str) {
    for (name, value) in [
        ("JSC_forceRAMSize", "134217728".to_string()),
        ("JSC_useJIT", "false".to_string()),
        ("WEBKIT_DISABLE_COMPOSITING_MODE", "1".to_string()),
        ("MALLOC_ARENA_MAX", MALLOC_ARENAS.to_string()),
        ("MALLOC_TRIM_THRESHOLD_", MALLOC_RETURN_ABOVE.to_string()),
        ("MALLOC_MMAP_THRESHOLD_", MALLOC_RETURN_ABOVE.to_string()),
    ] {
        if std::env::var_os(name).is_none() {
            // SAFETY: called at the top of `main`, before any other thread exists, so no
            // thread can read the environment while it changes.
            unsafe { std::env::set_var(name, value) };
        }
    }
    // SAFETY: as above.
    unsafe { std::env::set_var("TZ", time_zone) };
    #[cfg(target_os = "linux")]
    {
        // The same allocator settings for this process, whose allocator started before `main`.
        // SAFETY: mallopt only changes the allocator's tunables, and no other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, MALLOC_ARENAS);
            libc::mallopt(libc::M_TRIM_THRESHOLD, MALLOC_RETURN_ABOVE);
            libc::mallopt(libc::M_MMAP_THRESHOLD, MALLOC_RETURN_ABOVE);
        }
        wry::set_memory_pressure(wry::MemoryPressure {
            limit_mb: 256,
            conservative: 0.25,
            strict: 0.35,
            kill: 0.0,
            poll_seconds: 10.0,
        });
    }
}
