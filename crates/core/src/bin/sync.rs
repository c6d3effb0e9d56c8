//! `switchboard-sync`: syncs a console cache from a hub without a window, for scripts,
//! diagnosis and the crash tests. It prints progress and the connection state, and with
//! `--until-online` exits once the cache has caught up with the hub.
//!
//! Usage: `switchboard-sync --dir DIR --hub URL --token TOKEN [--until-online]`
//! (the token may also come from `SWITCHBOARD_TOKEN`).

use std::path::PathBuf;
use switchboard_core::Console;
use switchboard_protocol::console::{Connection, ConsoleEvent};

fn usage() -> ! {
    eprintln!("usage: switchboard-sync --dir DIR --hub URL [--token TOKEN] [--until-online]");
    std::process::exit(2)
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let mut dir = None;
    let mut hub = None;
    let mut token = std::env::var("SWITCHBOARD_TOKEN").ok();
    let mut until_online = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--dir" => dir = args.next().map(PathBuf::from),
            "--hub" => hub = args.next(),
            "--token" => token = args.next(),
            "--until-online" => until_online = true,
            _ => usage(),
        }
    }
    let (Some(dir), Some(hub), Some(token)) = (dir, hub, token) else { usage() };
    let console = match Console::open(&dir, &hub, &token) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cannot open the cache in {}: {e}", dir.display());
            std::process::exit(1);
        }
    };
    let mut events = console.subscribe();
    console.start();
    loop {
        match events.recv().await {
            Ok(ConsoleEvent::Progress { progress }) => println!("progress {}/{}", progress.done, progress.total),
            Ok(ConsoleEvent::Connection { connection }) => {
                println!("connection {}", serde_json::to_string(&connection).unwrap_or_default());
                match connection {
                    Connection::Online if until_online => return,
                    Connection::SignedOut { reason } => {
                        eprintln!("signed out: {reason}");
                        std::process::exit(1);
                    }
                    _ => {}
                }
            }
            Ok(_) => {}
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        }
    }
}
