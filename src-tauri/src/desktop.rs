//! The desktop around the window: notifications (through notify-rust, which reports a
//! failed delivery so it can be shown in the app instead), clicking one to open its
//! thread, the unread badge on the dock and tray, bringing the window forward, and handing
//! files and links to the desktop's own handlers.

use crate::words::{self, Shown, Words};
use std::sync::Arc;
use switchboard_core::files::Opening;
use switchboard_protocol::console::{Notification, OpenedAttachment, ShellEvent};
use switchboard_protocol::{ApiError, ErrorCode};
use tauri::menu::{Menu, MenuItem};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Emitter, Manager};
use tauri_plugin_opener::OpenerExt;

/// The tray icon's id.
const TRAY: &str = "main";

/// The window event that carries shell events (failed notifications, clicked ones).
pub const SHELL_EVENT: &str = "shell";

/// Shows the main window and gives it focus.
pub fn focus_main(app: &AppHandle) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
}

/// Sends the window a shell event.
pub fn shell_event(app: &AppHandle, event: &ShellEvent) {
    if let Err(e) = app.emit(SHELL_EVENT, event) {
        tracing::warn!("the window missed a shell event: {e}");
    }
}

/// Raises a desktop notification the core decided on, in the window's language, with the
/// system's sound or silently as the agent prefers. A failure is logged and sent to the
/// window, which shows the notification itself, so no customer reply goes unannounced.
pub fn notify(app: &AppHandle, notification: Notification, sound: bool, words: Arc<Words>) {
    let app = app.clone();
    std::thread::spawn(move || {
        let Shown { title, body, conversation } = words::shown(&notification, &words);
        let mut n = notify_rust::Notification::new();
        // The bundle identifier names the app's icon (its desktop entry) on Linux and its
        // AppUserModelID on Windows, under which the installers register it.
        let id = app.config().identifier.clone();
        n.appname("Switchboard").summary(&title).icon(&id);
        // Empty when the agent keeps the customer's words off the screen.
        if !body.is_empty() {
            n.body(&as_plain_text(&body));
        }
        #[cfg(all(unix, not(target_os = "macos")))]
        {
            n.action("default", &words.get("notice.open", &[])).hint(notify_rust::Hint::Category("im.received".into()));
            if sound {
                n.hint(notify_rust::Hint::SoundName("message-new-instant".into()));
            } else {
                n.hint(notify_rust::Hint::SuppressSound(true));
            }
        }
        #[cfg(not(all(unix, not(target_os = "macos"))))]
        if sound {
            n.sound_name("Default");
        }
        // Windows shows a toast under the app's registered AppUserModelID, and a click on
        // it activates it.
        #[cfg(windows)]
        n.app_id(&id);
        match n.show() {
            // Each platform reports the click its own way (D-Bus `ActionInvoked`, a Windows
            // toast's activation, macOS's click response); each arrives here as a response.
            Ok(handle) => {
                let answered = handle.wait_for_response(|response: &notify_rust::NotificationResponse| {
                    if opens(response) {
                        focus_main(&app);
                        if let Some(conversation_id) = conversation {
                            shell_event(&app, &ShellEvent::OpenConversation { conversation_id });
                        }
                    }
                });
                if let Err(e) = answered {
                    tracing::warn!("no answer from a desktop notification: {e}");
                    // macOS sends the notification only here, so a failure means it was
                    // never shown: the window shows it instead.
                    #[cfg(target_os = "macos")]
                    shell_event(&app, &ShellEvent::NotificationFailed { reason: e.to_string(), notification });
                }
            }
            Err(e) => {
                tracing::error!("a desktop notification could not be shown: {e}");
                shell_event(&app, &ShellEvent::NotificationFailed { reason: e.to_string(), notification });
            }
        }
    });
}

/// Whether the agent's answer to a notification asks for its conversation: a click on its
/// body (or the Linux "Open" action, which is the default one). A close, a timeout or a
/// dismissal does nothing.
fn opens(response: &notify_rust::NotificationResponse) -> bool {
    use notify_rust::NotificationResponse as R;
    match response {
        R::Default => true,
        R::Action(key) => key == "default",
        _ => false,
    }
}

/// Text for a notification's body, shown as written: notification daemons on Linux read
/// the body as markup, so its markup characters are escaped there
/// ([`switchboard_core::notify::escape_markup`]); elsewhere the body is plain text already.
fn as_plain_text(text: &str) -> String {
    if cfg!(all(unix, not(target_os = "macos"))) {
        switchboard_core::notify::escape_markup(text)
    } else {
        text.to_owned()
    }
}

/// Sets the unread number on the dock (macOS, Unity launchers) and the tray.
pub fn set_badge(app: &AppHandle, unread: u64, words: &Words) {
    if let Some(w) = app.get_webview_window("main") {
        let count = (unread > 0).then(|| i64::try_from(unread).unwrap_or(i64::MAX));
        // Not every desktop has a badge; the tray still shows the number.
        let _ = w.set_badge_count(count);
    }
    if let Some(tray) = app.tray_by_id(TRAY) {
        let _ = tray.set_tooltip(Some(&words::tray_tooltip(words, unread)));
        let _ = tray.set_title((unread > 0).then(|| unread.to_string()).as_deref());
    }
}

/// Does what the core decided with a saved customer file: opens an inert one with the
/// desktop's viewer, and shows anything else in its folder without opening it.
pub fn open_saved(app: &AppHandle, path: &std::path::Path, opening: Opening) -> Result<OpenedAttachment, ApiError> {
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    match opening {
        Opening::Open => {
            app.opener()
                .open_path(path.to_string_lossy(), None::<&str>)
                .map_err(|e| ApiError::new(ErrorCode::Internal, format!("cannot open the file: {e}")))?;
            Ok(OpenedAttachment { file_name, warning: None })
        }
        Opening::Reveal { warning } => {
            if let Err(e) = app.opener().reveal_item_in_dir(path) {
                tracing::warn!("the attachments folder could not be shown: {e}");
            }
            Ok(OpenedAttachment { file_name, warning: Some(warning) })
        }
    }
}

/// Opens a link in the browser.
/// Where files the agent saves go: their Downloads folder, or the app's own data folder
/// when the system names none.
pub fn downloads(app: &AppHandle) -> std::path::PathBuf {
    let paths = app.path();
    paths
        .download_dir()
        .or_else(|_| paths.app_data_dir().map(|d| d.join("downloads")))
        .unwrap_or_else(|_| std::env::temp_dir())
}

pub fn open_link(app: &AppHandle, link: String) -> Result<(), ApiError> {
    app.opener()
        .open_url(link, None::<&str>)
        .map_err(|e| ApiError::new(ErrorCode::Internal, format!("cannot open the browser: {e}")))
}

/// The tray's menu, Open and Quit, in `words`' language.
fn tray_menu(app: &AppHandle, words: &Words) -> tauri::Result<Menu<tauri::Wry>> {
    let open = MenuItem::with_id(app, "open", words.get("tray.open", &[]), true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", words.get("tray.quit", &[]), true, None::<&str>)?;
    Menu::with_items(app, &[&open, &quit])
}

/// Puts the tray's menu in `words`' language, after the window changed its own.
pub fn retell_tray(app: &AppHandle, words: &Words) {
    if let (Some(tray), Ok(menu)) = (app.tray_by_id(TRAY), tray_menu(app, words)) {
        if let Err(e) = tray.set_menu(Some(menu)) {
            tracing::warn!("the tray's menu kept its old language: {e}");
        }
    }
}

/// The tray icon with Open and Quit.
pub fn tray(app: &AppHandle, words: &Words) -> tauri::Result<TrayIcon> {
    let menu = tray_menu(app, words)?;
    let mut builder = TrayIconBuilder::with_id(TRAY).tooltip("Switchboard").menu(&menu).on_menu_event(|app, event| {
        match event.id().as_ref() {
            "open" => focus_main(app),
            "quit" => app.exit(0),
            _ => {}
        }
    });
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    builder.build(app)
}

/// The scheme the window shows pictures by (`sbfile://localhost/...`, on Windows
/// `http://sbfile.localhost/...`): a staged file (`/staged/<id>`) or a message's picture
/// (`/message/<id>/<index>`), served by the core; never anything but a picture.
pub const PICTURES: &str = "sbfile";

/// The answer to a picture request for `path`, from the signed-in `console` if any.
pub async fn picture(console: Option<Arc<switchboard_core::Console>>, path: &str) -> tauri::http::Response<Vec<u8>> {
    use tauri::http::{header, Response, StatusCode};
    let path = percent_decode(path);
    let found = match console {
        Some(console) => console.picture(&path).await.ok(),
        None => None,
    };
    let built = match found {
        Some((mime, bytes)) => Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, mime)
            .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
            .header(header::CACHE_CONTROL, "private, max-age=3600")
            .body(bytes),
        None => Response::builder().status(StatusCode::NOT_FOUND).body(Vec::new()),
    };
    built.unwrap_or_else(|_| Response::new(Vec::new()))
}

/// `s` with each `%XX` read as the byte it names (as the window encodes a file's name);
/// anything not valid UTF-8 afterwards is replaced.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_opens_the_conversation() {
        use notify_rust::{CloseReason, NotificationResponse as R};
        for (response, want) in [
            (R::Default, true),
            (R::Action("default".into()), true),
            (R::Action("mute".into()), false),
            (R::Reply("on my way".into()), false),
            (R::Closed(CloseReason::Dismissed), false),
            (R::Closed(CloseReason::Expired), false),
        ] {
            assert_eq!(opens(&response), want, "{response:?}");
        }
    }

    #[test]
    fn percent_decoding_table() {
        for (encoded, want) in [
            ("invoice.pdf", "invoice.pdf"),
            ("Gr%C3%BC%C3%9Fe%20und%20mehr.png", "Grüße und mehr.png"),
            ("100%", "100%"),
            ("%zz%4", "%zz%4"),
            ("%FF.txt", "\u{FFFD}.txt"),
        ] {
            assert_eq!(percent_decode(encoded), want, "{encoded}");
        }
    }
}
