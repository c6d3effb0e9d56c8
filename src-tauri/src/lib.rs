//! The Switchboard desktop shell: a Tauri window over switchboard-core. It wires the
//! commands, the desktop (notifications, tray, badge), `switchboard://` links, single
//! instance and remembered window placement; it decides nothing the core can decide.
//!
//! # Layout
//! - `commands`: what the window may call, one line each.
//! - `shell`: the signed-in console, the embedded demo hub, the event forwarder.
//! - `demo`: the local demo, linked only with the `demo` cargo feature (on by default).
//! - `desktop`: notifications, the tray and the badge, opening files and links.
//! - `credentials`: the token in the OS credential store.
//! - `webkit`: the webview tuned for a single long-lived page (memory).
//! - `memory`: handing memory back to the system once the console is quiet.
//! - `updates`: signed console updates, installed when the agent chooses to restart.

mod commands;
mod credentials;
mod demo;
mod desktop;
mod memory;
mod shell;
pub mod updates;
mod webkit;
mod words;

use shell::Shell;
use std::path::PathBuf;
use switchboard_protocol::console::ShellEvent;
use tauri::{Emitter, Manager, WindowEvent};
use tauri_plugin_deep_link::DeepLinkExt;

/// How the app was asked to start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Launch {
    /// `--demo`: open the embedded demo, as `--as EMAIL` or its first agent.
    pub demo: Option<Option<String>>,
    /// `--empty-window`: an empty Tauri window and nothing else, the baseline the desktop
    /// benchmark measures the console against in the same run.
    pub empty_window: bool,
}

/// Reads `--demo` and `--as EMAIL`; anything else is left to the platform.
pub fn launch_options(args: impl IntoIterator<Item = String>) -> Launch {
    let args: Vec<String> = args.into_iter().collect();
    let demo = args.iter().any(|a| a == "--demo");
    let who = args.windows(2).find(|w| w[0] == "--as").map(|w| w[1].clone());
    let empty_window = args.iter().any(|a| a == "--empty-window");
    Launch { demo: demo.then_some(who), empty_window }
}

/// The console's data folder: `SWITCHBOARD_DATA_DIR`, or the platform's app data folder.
fn data_dir(app: &tauri::App) -> PathBuf {
    match std::env::var_os("SWITCHBOARD_DATA_DIR") {
        Some(d) => PathBuf::from(d),
        None => app.path().app_data_dir().unwrap_or_else(|_| std::env::temp_dir().join("switchboard")),
    }
}

/// Starts the app; returns when its last window closes.
pub fn run() {
    let launch = launch_options(std::env::args().skip(1));
    let context = tauri::generate_context!();
    // The baseline keeps Tauri's and WebKit's own defaults.
    if launch.empty_window {
        return empty_window(context);
    }
    webkit::set_defaults();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn,switchboard=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = tauri::Builder::default()
        // A second launch (a `switchboard://` link clicked on Linux or Windows) hands its
        // arguments to this one and exits.
        .plugin(tauri_plugin_single_instance::init(|app, args, _cwd| {
            desktop::focus_main(app);
            shell::open_links(app, args.iter().map(String::as_str));
        }))
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_updater::Builder::new().build())
        .setup(move |app| {
            if let Some(window) = app.get_webview_window("main") {
                webkit::tune(&window);
            }
            let data = data_dir(app);
            std::fs::create_dir_all(&data)?;
            app.manage(Shell::new(data));
            app.manage(updates::Updates::default());
            updates::start(app.handle());
            if let Err(e) = desktop::tray(app.handle(), &app.state::<Shell>().words()) {
                tracing::warn!("no tray icon on this desktop: {e}");
            }
            // Started by a link: as an argument on Linux and Windows; through the system's
            // open-URL event on macOS, at start and while running.
            let args: Vec<String> = std::env::args().skip(1).collect();
            shell::open_links(app.handle(), args.iter().map(String::as_str));
            let handle = app.handle().clone();
            app.deep_link().on_open_url(move |event| {
                let urls: Vec<String> = event.urls().iter().map(ToString::to_string).collect();
                shell::open_links(&handle, urls.iter().map(String::as_str));
            });
            if let Some(who) = launch.demo.clone() {
                let handle = app.handle().clone();
                tauri::async_runtime::spawn(async move {
                    let shell = handle.state::<Shell>();
                    if let Err(e) = shell.try_demo(&handle, who).await {
                        tracing::error!("the demo could not start: {e}");
                    }
                    let _ = handle.emit(desktop::SHELL_EVENT, &ShellEvent::SessionChanged { session: shell.session() });
                });
            }
            Ok(())
        })
        .register_asynchronous_uri_scheme_protocol(desktop::PICTURES, |ctx, request, responder| {
            let console = ctx.app_handle().try_state::<Shell>().and_then(|s| s.console().ok());
            tauri::async_runtime::spawn(async move {
                responder.respond(desktop::picture(console, request.uri().path()).await);
            });
        })
        .on_window_event(|window, event| {
            if let WindowEvent::Focused(focused) = event {
                if let Some(shell) = window.try_state::<Shell>() {
                    shell.set_window_focused(*focused);
                }
            }
        })
        .invoke_handler(tauri::generate_handler![
            commands::session,
            commands::demo_logins,
            commands::sign_in,
            commands::try_demo,
            commands::restore_session,
            commands::sign_out,
            commands::connection,
            commands::reconnect_now,
            commands::counts,
            commands::view,
            commands::thread,
            commands::history,
            commands::profile,
            commands::load_older_history,
            commands::search,
            commands::directory,
            commands::team_load,
            commands::composer,
            commands::expand_canned,
            commands::canned,
            commands::save_canned,
            commands::delete_canned,
            commands::articles,
            commands::article,
            commands::save_article,
            commands::delete_article,
            commands::article_versions,
            commands::render_article,
            commands::article_insertion,
            commands::suggested_articles,
            commands::send_reply,
            commands::stage_attachment,
            commands::discard_attachment,
            commands::add_note,
            commands::send_template,
            commands::start_conversation,
            commands::started_conversation,
            commands::reassign,
            commands::set_status,
            commands::block_visitor,
            commands::set_presence,
            commands::take_link,
            commands::pending_update,
            commands::restart_into_update,
            commands::preferences,
            commands::set_preferences,
            commands::set_language,
            commands::note_activity,
            commands::away_after_mins,
            commands::set_away_after_mins,
            commands::set_priority,
            commands::set_consent,
            commands::campaigns,
            commands::campaign,
            commands::check_campaign,
            commands::create_campaign,
            commands::campaign_action,
            commands::campaign_recipients,
            commands::export_campaign,
            commands::segments,
            commands::create_segment,
            commands::delete_segment,
            commands::set_routing,
            commands::set_sla,
            commands::set_agent_routing,
            commands::mark_read,
            commands::merge_contacts,
            commands::refresh_crm,
            commands::queued_replies,
            commands::retry,
            commands::discard,
            commands::set_open_conversation,
            commands::report,
            commands::export_report,
            commands::open_attachment,
            commands::find_contacts,
            commands::open_crm_record,
        ])
        .run(context);
    if let Err(e) = result {
        tracing::error!("Switchboard could not start: {e}");
        std::process::exit(1);
    }
}

/// One window on a blank page, no plugins, no state, no front end: what Tauri and the
/// system webview cost on their own.
fn empty_window(mut context: tauri::Context<tauri::Wry>) {
    context.config_mut().app.windows.clear();
    let result = tauri::Builder::default()
        .setup(|app| {
            let blank = tauri::WebviewUrl::External("about:blank".parse()?);
            tauri::WebviewWindowBuilder::new(app, "main", blank)
                .title("Empty window")
                .inner_size(1280.0, 820.0)
                .build()?;
            Ok(())
        })
        .run(context);
    if let Err(e) = result {
        tracing::error!("the empty window could not start: {e}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launch_arguments() {
        let args = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
        assert_eq!(launch_options(args("")), Launch { demo: None, empty_window: false });
        assert_eq!(launch_options(args("--demo")), Launch { demo: Some(None), empty_window: false });
        assert_eq!(
            launch_options(args("--demo --as priya@northwind.example")),
            Launch { demo: Some(Some("priya@northwind.example".into())), empty_window: false }
        );
        assert_eq!(launch_options(args("--as x@y")), Launch { demo: None, empty_window: false });
        assert_eq!(launch_options(args("--empty-window")), Launch { demo: None, empty_window: true });
    }
}
