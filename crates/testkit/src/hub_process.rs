//! The real hub binary as its own process: the command-line set-up steps, `serve`
//! started on a settings file, and waiting until it answers. The abuse benchmark and the
//! chaos run use it.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The password the agents these helpers add log in with.
pub const PASSWORD: &str = "correct horse battery";

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Runs one set-up command (`agent add …`, `inbox add …`) against the database at `url`.
pub fn cli(hub_bin: &Path, url: &str, args: &[&str]) {
    let out = Command::new(hub_bin)
        .args(args)
        .arg("--database")
        .arg(url)
        .env("SWITCHBOARD_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Starts `serve` on the database at `url` with the settings file `config`, quiet.
pub fn spawn(hub_bin: &Path, url: &str, config: &Path) -> Child {
    Command::new(hub_bin)
        .arg("serve")
        .arg("--database")
        .arg(url)
        .arg("--config")
        .arg(config)
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits until the hub at `base` answers `/healthz`; stops it and fails if it never does.
pub async fn wait_healthy(child: &mut Child, base: &str) {
    let http = reqwest::Client::new();
    for _ in 0..200 {
        if http.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the hub at {base} did not start");
}

/// Stops the hub as a service manager does (SIGTERM) and waits for it.
pub fn stop(child: &mut Child) {
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    let _ = child.wait();
}
