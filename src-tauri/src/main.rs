//! The `switchboard` desktop console. `--demo` opens it on the embedded demo workspace.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    switchboard_app::run();
}
