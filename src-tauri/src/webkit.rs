//! The webview tuned for what the console is: one long-lived page of our own, no browsing.
//! On Linux that means WebKitGTK's smallest caches, no page cache, no GPU compositing (a
//! software GL context costs tens of megabytes for nothing on a list and a thread) and no
//! WebGL.

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
