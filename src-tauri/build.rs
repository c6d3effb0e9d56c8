//! Declares the app's commands, so that the capability files can grant each one by name.

const COMMANDS: &[&str] = &[
    "session",
    "demo_logins",
    "sign_in",
    "try_demo",
    "restore_session",
    "sign_out",
    "connection",
    "reconnect_now",
    "counts",
    "view",
    "thread",
    "history",
    "profile",
    "load_older_history",
    "search",
    "directory",
    "team_load",
    "composer",
    "expand_canned",
    "canned",
    "save_canned",
    "delete_canned",
    "send_reply",
    "add_note",
    "send_template",
    "reassign",
    "set_status",
    "mark_read",
    "merge_contacts",
    "queued_replies",
    "retry",
    "discard",
    "set_open_conversation",
    "open_attachment",
    "find_contacts",
    "open_crm_record",
    "refresh_crm",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("the Tauri build configuration is valid");
}
