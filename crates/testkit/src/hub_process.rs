//! The real hub binary as its own process: the command-line set-up steps, `serve`
//! started on a settings file, and waiting until it answers. The abuse benchmark and the
//! chaos run use it.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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

/// How long a hub told to stop may take (its drain, then the work in flight) before it is
/// killed, as a service manager's stop timeout would.
pub const STOP_DEADLINE: Duration = Duration::from_secs(30);

/// Stops the hub as a service manager does: SIGTERM, then SIGKILL past [`STOP_DEADLINE`].
/// A hub that had to be killed fails the run (unless it is already failing), since one that
/// does not stop when told is a defect.
pub fn stop(child: &mut Child) {
    stop_within(child, STOP_DEADLINE);
}

/// [`stop`] with its own deadline.
pub fn stop_within(child: &mut Child, deadline: Duration) {
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    let until = Instant::now() + deadline;
    loop {
        match child.try_wait() {
            Ok(Some(_)) | Err(_) => return,
            Ok(None) if Instant::now() >= until => break,
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    if !std::thread::panicking() {
        panic!("process {} did not stop within {deadline:?} of SIGTERM and was killed", child.id());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spawn_sh(script: &str) -> Child {
        Command::new("sh").arg("-c").arg(script).spawn().unwrap()
    }

    #[test]
    fn a_process_that_stops_when_told_is_waited_for() {
        let mut child = spawn_sh("exec sleep 30");
        let began = Instant::now();
        stop_within(&mut child, Duration::from_secs(10));
        assert!(began.elapsed() < Duration::from_secs(5));
        assert!(child.try_wait().unwrap().is_some());
    }

    #[test]
    fn a_process_that_ignores_sigterm_is_killed_at_the_deadline_and_fails_the_run() {
        let mut child = spawn_sh("trap '' TERM; exec sleep 30");
        // Gives the shell time to ignore SIGTERM before it is sent.
        std::thread::sleep(Duration::from_millis(200));
        let began = Instant::now();
        let stopped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            stop_within(&mut child, Duration::from_millis(300));
        }));
        let message = stopped.unwrap_err().downcast::<String>().unwrap();
        assert!(message.contains("did not stop within 300ms"), "{message}");
        assert!(began.elapsed() < Duration::from_secs(5));
        assert!(child.try_wait().unwrap().is_some(), "killed");
    }
}
