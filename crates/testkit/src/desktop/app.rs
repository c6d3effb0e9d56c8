//! The real desktop app under WebDriver: tauri-driver (with Debian's WebKitWebDriver)
//! launches the built `switchboard` binary in the test's X and D-Bus session, and
//! fantoccini drives its window the way an agent would.

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn tauri_driver() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_default();
    let installed = home.join("bin/tauri-driver");
    assert!(
        installed.exists(),
        "tauri-driver is missing: `cargo install tauri-driver --version '^2' --locked` (scripts/test.sh does this)"
    );
    installed
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A helper process that is stopped (SIGTERM, then SIGKILL after 10 s) when dropped, so
/// a failed test leaves nothing running.
pub struct Background(Option<Child>);

impl Background {
    /// Stops it now.
    pub fn stop(&mut self) {
        if let Some(child) = self.0.take() {
            stop(child);
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts a Secret Service (gnome-keyring) on the test's session bus, unlocked, keeping its
/// keyring under `home`: the OS credential store the app keeps its token in. It stops when
/// the returned guard is dropped.
pub fn credential_store(home: &Path) -> Background {
    use std::io::Write;
    let mut daemon = Command::new("gnome-keyring-daemon")
        .args(["--unlock", "--components=secrets", "--foreground"])
        .env("XDG_DATA_HOME", home.join("share"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("gnome-keyring-daemon: `apt-get install gnome-keyring` (scripts/test.sh does this)");
    let mut stdin = daemon.stdin.take().unwrap();
    stdin.write_all(b"switchboard-test-keyring").unwrap();
    drop(stdin);
    std::thread::sleep(Duration::from_millis(500));
    Background(Some(daemon))
}

/// One running app and the driver that launched it. A failed test still stops the driver,
/// and with it the app and WebKitWebDriver.
pub struct App {
    pub client: Client,
    driver: Background,
    data_dir: PathBuf,
}

impl App {
    /// Launches the app `binary` (the test's `env!("CARGO_BIN_EXE_switchboard")`, which
    /// embeds the front end) with `args`, keeping its data, settings and window state under
    /// `home`.
    pub async fn launch(binary: &str, home: &Path, args: &[&str]) -> App {
        assert!(
            Path::new("/usr/bin/WebKitWebDriver").exists(),
            "WebKitWebDriver is missing: `apt-get install webkit2gtk-driver`"
        );
        let (port, native) = (free_port(), free_port());
        let driver = Command::new(tauri_driver())
            .args(["--port", &port.to_string(), "--native-port", &native.to_string()])
            .args(["--native-driver", "/usr/bin/WebKitWebDriver"])
            .env("SWITCHBOARD_DATA_DIR", home.join("data"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_DATA_HOME", home.join("share"))
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env("RUST_LOG", "warn,switchboard=info,switchboard_core=info")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("tauri-driver starts");
        let app_driver = Background(Some(driver));
        // tauri-driver starts WebKitWebDriver beside itself and listens at once; a session
        // asked for before WebKitWebDriver listens too is dropped, so wait for both.
        let until = Instant::now() + Duration::from_secs(20);
        for (p, who) in [(port, "tauri-driver"), (native, "WebKitWebDriver")] {
            while tokio::net::TcpStream::connect(("127.0.0.1", p)).await.is_err() {
                assert!(Instant::now() < until, "{who} did not listen on port {p}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("wry"));
        caps.insert("tauri:options".into(), json!({ "application": binary, "args": args }));
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client =
            match ClientBuilder::new(connector).capabilities(caps).connect(&format!("http://127.0.0.1:{port}")).await {
                Ok(c) => c,
                Err(e) => panic!("the app did not start under WebDriver: {e}"),
            };
        App { client, driver: app_driver, data_dir: home.join("data") }
    }

    /// Opens `link` as the desktop does when one is clicked on Linux: launches `binary` again
    /// with the link as its argument, which must hand it to this running app and exit.
    pub async fn open_link(&self, binary: &str, home: &Path, link: &str) {
        let mut second = Command::new(binary)
            .arg(link)
            .env("SWITCHBOARD_DATA_DIR", home.join("data"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_DATA_HOME", home.join("share"))
            .env("XDG_CACHE_HOME", home.join("cache"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the app starts a second time");
        let until = Instant::now() + Duration::from_secs(20);
        loop {
            match second.try_wait() {
                Ok(Some(status)) => {
                    assert!(status.success(), "the second launch failed: {status}");
                    return;
                }
                Ok(None) if Instant::now() < until => tokio::time::sleep(Duration::from_millis(50)).await,
                Ok(None) => {
                    let _ = second.kill();
                    let _ = second.wait();
                    panic!("a second app kept running instead of handing {link} to the first");
                }
                Err(e) => panic!("the second launch: {e}"),
            }
        }
    }

    /// Closes the window and stops the driver (SIGTERM, so WebKitWebDriver goes too), then
    /// waits for the app to exit. Now and then the app outlives a window WebDriver closed;
    /// it then gets SIGTERM, as the session ending would send it, so that the next launch
    /// is not handed to it as a second instance.
    pub async fn quit(mut self) {
        let _ = self.client.clone().close().await;
        self.driver.stop();
        let gone = |pids: &[u32]| pids.iter().all(|p| !Path::new(&format!("/proc/{p}")).exists());
        let pids = app_processes(&self.data_dir);
        let until = Instant::now() + Duration::from_secs(5);
        while !gone(&pids) && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        if !gone(&pids) {
            eprintln!("the app ({pids:?}) was still running 5 s after its window closed: SIGTERM");
            for pid in &pids {
                terminate(*pid);
            }
            let until = Instant::now() + Duration::from_secs(10);
            while !gone(&pids) {
                assert!(Instant::now() < until, "the app did not stop on SIGTERM");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }

    /// The app's process (the one started with this app's data directory).
    #[allow(dead_code)] // the desktop benchmark measures it; the end-to-end test does not
    pub fn pid(&self) -> u32 {
        *app_processes(&self.data_dir).first().expect("the app's process")
    }

    /// The first element matching `css`, waiting up to `secs` for it.
    pub async fn find(&self, css: &str, secs: u64) -> Element {
        let until = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Ok(e) = self.client.find(Locator::Css(css)).await {
                return e;
            }
            assert!(Instant::now() < until, "no `{css}` after {secs}s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until `check` (a JavaScript expression) is true in the window.
    pub async fn until(&self, what: &str, js: &str, secs: u64) {
        let until = Instant::now() + Duration::from_secs(secs);
        loop {
            let v = self.client.execute(&format!("return !!({js});"), vec![]).await;
            if matches!(v, Ok(serde_json::Value::Bool(true))) {
                return;
            }
            assert!(Instant::now() < until, "timed out after {secs}s waiting for: {what}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Runs JavaScript in the window and returns its value.
    pub async fn js(&self, js: &str) -> serde_json::Value {
        self.client.execute(js, vec![]).await.unwrap()
    }

    /// Runs axe-core (from the front end's packages, `ui/node_modules/axe-core`) over the
    /// window as it is now; the serious and critical violations, each as "rule: what it
    /// says (where)". The script goes in as WebDriver's own, so the window's content
    /// security policy (no `eval`) is kept.
    pub async fn accessibility_violations(&self) -> Vec<String> {
        let axe = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/node_modules/axe-core/axe.min.js");
        let source = std::fs::read_to_string(&axe)
            .unwrap_or_else(|e| panic!("{}: {e} (`npm install` in ui/ installs axe-core)", axe.display()));
        self.client.execute(&format!("{source}\n;window.axe = axe; return null"), vec![]).await.unwrap();
        let found = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] }).then(
                   (r) => done(r.violations
                     .filter((v) => v.impact === 'serious' || v.impact === 'critical')
                     .map((v) => `${v.id}: ${v.help} (${v.nodes.slice(0, 4).map((n) => n.target.join(' ')).join('; ')})`)),
                   (e) => done([`axe failed: ${e}`]));",
                vec![],
            )
            .await
            .unwrap();
        serde_json::from_value(found).unwrap_or_else(|e| panic!("axe's answer: {e}"))
    }

    pub async fn click(&self, css: &str) {
        self.find(css, 15).await.click().await.unwrap_or_else(|e| panic!("clicking `{css}`: {e}"));
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css, 15).await;
        e.click().await.unwrap();
        e.send_keys(text).await.unwrap();
    }

    /// Saves a screenshot of the window as a PNG.
    pub async fn screenshot(&self, path: &Path) {
        let png = self.client.screenshot().await.unwrap();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(path, png).unwrap();
    }
}

/// The app processes started with `data_dir` as their data directory.
fn app_processes(data_dir: &Path) -> Vec<u32> {
    let wanted = format!("SWITCHBOARD_DATA_DIR={}", data_dir.display()).into_bytes();
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "switchboard"))
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|env| env.split(|b| *b == 0).any(|v| v == wanted))
        })
        .collect()
}

/// Sends SIGTERM: tauri-driver then stops its WebKitWebDriver too, where SIGKILL would
/// leave it running.
fn terminate(pid: u32) {
    let _ = Command::new("kill").args(["-TERM", &pid.to_string()]).status();
}

fn stop(mut child: Child) {
    terminate(child.id());
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Runs the calling test again inside its own Xvfb display and private D-Bus session
/// (so notifications go to the test's own server, and no bus daemon is left behind).
/// Returns true when already inside; otherwise runs it there with `args` and returns false
/// after asserting that it passed.
pub fn in_desktop_session(args: &[String]) -> bool {
    if std::env::var_os("SWITCHBOARD_E2E_SESSION").is_some() {
        return true;
    }
    let exe = std::env::current_exe().unwrap();
    let status = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1440x900x24", "dbus-run-session", "--"])
        .arg(exe)
        .args(args)
        .env("SWITCHBOARD_E2E_SESSION", "1")
        .status()
        .expect("xvfb-run and dbus-run-session: `apt-get install xvfb dbus-x11` (scripts/test.sh does this)");
    assert!(status.success(), "{args:?} failed inside its desktop session");
    false
}
