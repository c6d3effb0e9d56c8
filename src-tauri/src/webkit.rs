//! The webview tuned for what the console is: one long-lived page of our own, no browsing.
//! On Linux that means WebKitGTK's smallest caches, no page cache, no GPU compositing (a
//! software GL context costs tens of megabytes for nothing on a list and a thread) and no
//! WebGL; a window process that never starts OpenGL at all (left alone, GTK probes GLX
//! when it opens the display and WebKitGTK probes EGL before each web process starts, and
//! either probe maps Mesa and its LLVM: over 20 MB per process, never unloaded); and
//! JavaScript run without the JIT, whose code and buffers cost about 8 MB while the page's
//! own script is small and DOM-bound (thread switches measure within a few milliseconds).

use std::ffi::OsString;

/// The environment the app's processes start with (WebKit's processes inherit it), each
/// set only where the user has not set it: what the user asks for wins.
pub const DEFAULTS: &[(&str, &str)] = &[
    // GTK 3 skips its GLX probe at display open (the app draws nothing with GL).
    ("GDK_GL", "disable"),
    // WebKitGTK renders into shared memory instead of DMA-BUF: no EGL probe for buffer
    // formats, and no GPU compositing to fall into.
    ("WEBKIT_DISABLE_DMABUF_RENDERER", "1"),
    // WebKitGTK names the web process's render device without asking EGL for it. The
    // device is opened only for GPU buffers and WebGL, which the console never uses.
    ("WEBKIT_WEB_RENDER_DEVICE_FILE", "/dev/null"),
    // JavaScriptCore interprets; no JIT tiers, no executable memory.
    ("JSC_useJIT", "0"),
];

/// Which of `DEFAULTS` to set, given what the environment already holds.
pub fn missing(get: impl Fn(&str) -> Option<OsString>) -> Vec<(&'static str, &'static str)> {
    DEFAULTS.iter().copied().filter(|(name, _)| get(name).is_none_or(|v| v.is_empty())).collect()
}

/// Sets `DEFAULTS` for this process and the WebKit processes it starts. Call first thing
/// in `main`, before any thread exists.
pub fn set_defaults() {
    if !cfg!(target_os = "linux") {
        return;
    }
    // Before any thread exists, nothing reads the environment while it changes.
    for (name, value) in missing(|n| std::env::var_os(n)) {
        #[allow(clippy::disallowed_methods)] // the one write, before any thread exists
        std::env::set_var(name, value);
    }
}

/// Tunes the window's webview.
pub fn tune<R: tauri::Runtime>(window: &tauri::WebviewWindow<R>) {
    let tuned = window.with_webview(|_webview| {
        #[cfg(target_os = "linux")]
        {
            use webkit2gtk::{CacheModel, HardwareAccelerationPolicy, SettingsExt, WebContextExt, WebViewExt};
            let view = _webview.inner();
            if let Some(context) = view.context() {
                context.set_cache_model(CacheModel::DocumentViewer);
            }
            if let Some(settings) = WebViewExt::settings(&view) {
                settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
                settings.set_enable_page_cache(false);
                settings.set_enable_webgl(false);
                settings.set_enable_back_forward_navigation_gestures(false);
            }
        }
    });
    if let Err(e) = tuned {
        tracing::warn!("the webview could not be tuned: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_the_user_left_unset_is_set() {
        fn names(v: Vec<(&'static str, &'static str)>) -> Vec<&'static str> {
            v.into_iter().map(|(n, _)| n).collect()
        }
        let all = names(DEFAULTS.to_vec());
        type Env = &'static [(&'static str, &'static str)];
        let cases: &[(Env, Vec<&str>)] = &[
            (&[], all.clone()),
            (
                &[("GDK_GL", "always")],
                vec!["WEBKIT_DISABLE_DMABUF_RENDERER", "WEBKIT_WEB_RENDER_DEVICE_FILE", "JSC_useJIT"],
            ),
            (&[("WEBKIT_DISABLE_DMABUF_RENDERER", "0")], vec!["GDK_GL", "WEBKIT_WEB_RENDER_DEVICE_FILE", "JSC_useJIT"]),
            (&[("JSC_useJIT", "1")], vec!["GDK_GL", "WEBKIT_DISABLE_DMABUF_RENDERER", "WEBKIT_WEB_RENDER_DEVICE_FILE"]),
            (&[("WEBKIT_WEB_RENDER_DEVICE_FILE", "")], all.clone()),
            (
                &[
                    ("GDK_GL", "gles"),
                    ("WEBKIT_DISABLE_DMABUF_RENDERER", "1"),
                    ("WEBKIT_WEB_RENDER_DEVICE_FILE", "/dev/dri/renderD128"),
                    ("JSC_useJIT", "1"),
                ],
                vec![],
            ),
        ];
        for (env, want) in cases {
            let got = missing(|n| env.iter().find(|(k, _)| *k == n).map(|(_, v)| OsString::from(v)));
            assert_eq!(names(got), *want, "with {env:?}");
        }
    }
}
