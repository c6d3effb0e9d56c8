//! The shell's one piece of state: the signed-in console (if any), the embedded demo hub
//! (if the agent chose it; see `demo`), the `switchboard://` link waiting for the window,
//! the language the window speaks (for the shell's own words, `words`), and the task that carries the core's events to the window and the desktop. Signing in,
//! restoring a session at start-up and signing out live here; everything they decide is in
//! `switchboard_core::session`.

use crate::credentials::{self, Remembered};
use crate::words::Words;
use crate::{demo, desktop, memory};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;
use switchboard_core::lead::badge;
use switchboard_core::{session, Console};
use switchboard_protocol::console::{ConsoleEvent, DemoLogin, Session, ShellEvent, SignIn};
use switchboard_protocol::links::{self, Link};
use switchboard_protocol::{ApiError, ErrorCode, Id};
use tauri::{AppHandle, Emitter, Manager};

/// The window event that carries [`ConsoleEvent`]s.
pub const CONSOLE_EVENT: &str = "console";

#[derive(Debug, Default)]
struct Focus {
    window_focused: bool,
    open: Option<Id>,
}

#[derive(Debug)]
struct Signed {
    console: Arc<Console>,
    session: Session,
    forwarder: tauri::async_runtime::JoinHandle<()>,
}

/// What the commands work on.
#[derive(Debug)]
pub struct Shell {
    data: PathBuf,
    signed: RwLock<Option<Signed>>,
    demo: tokio::sync::Mutex<Option<demo::Hub>>,
    /// Serialises sign-in, restore and sign-out.
    switching: tokio::sync::Mutex<()>,
    focus: Mutex<Focus>,
    /// The last `switchboard://` link opened, until the window takes it.
    link: Mutex<Option<Link>>,
    /// The window's language, for the notifications and the tray.
    words: RwLock<Arc<Words>>,
}

fn signed_out() -> ApiError {
    ApiError::new(ErrorCode::Unauthorized, "not signed in")
}

impl Shell {
    pub fn new(data: PathBuf) -> Shell {
        Shell {
            data,
            signed: RwLock::new(None),
            demo: tokio::sync::Mutex::new(None),
            switching: tokio::sync::Mutex::new(()),
            focus: Mutex::new(Focus { window_focused: true, open: None }),
            link: Mutex::new(None),
            words: RwLock::default(),
        }
    }

    /// The words of the language the window speaks.
    pub fn words(&self) -> Arc<Words> {
        self.words.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Takes the language the window now speaks; returns whether it changed.
    pub fn set_language(&self, language: &str) -> bool {
        let chosen = Words::resolve(language);
        let mut words = self.words.write().unwrap_or_else(PoisonError::into_inner);
        if chosen == words.language() {
            return false;
        }
        *words = Arc::new(Words::of(chosen));
        true
    }

    /// Keeps the link opened last, for the window to take (a newer one replaces it).
    pub fn put_link(&self, link: Link) {
        *self.link.lock().unwrap_or_else(PoisonError::into_inner) = Some(link);
    }

    /// The conversation the link opened last goes to, taking the link; `None` when no link
    /// waits. Signed out, the link waits for the sign-in.
    pub fn take_link(&self) -> Result<Option<Id>, ApiError> {
        let console = self.console()?;
        let Some(link) = self.link.lock().unwrap_or_else(PoisonError::into_inner).take() else { return Ok(None) };
        console.link_target(link).map(Some).map_err(ApiError::from)
    }

    /// The signed-in console.
    pub fn console(&self) -> Result<Arc<Console>, ApiError> {
        let signed = self.signed.read().unwrap_or_else(PoisonError::into_inner);
        signed.as_ref().map(|s| s.console.clone()).ok_or_else(signed_out)
    }

    /// Runs a cache read or a local write off the async runtime.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Console) -> switchboard_core::error::Result<T> + Send + 'static,
    ) -> Result<T, ApiError> {
        let console = self.console()?;
        tauri::async_runtime::spawn_blocking(move || f(&console))
            .await
            .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?
            .map_err(ApiError::from)
    }

    pub fn session(&self) -> Option<Session> {
        self.signed.read().unwrap_or_else(PoisonError::into_inner).as_ref().map(|s| s.session.clone())
    }

    /// The demo's logins (agents and a lead), for the sign-in screen.
    pub fn demo_logins() -> Vec<DemoLogin> {
        demo::logins()
    }

    /// Signs in to a hub with email and password; the token goes to the credential store.
    pub async fn sign_in(&self, app: &AppHandle, req: SignIn) -> Result<Session, ApiError> {
        let _switching = self.switching.lock().await;
        let (hub, token) = session::sign_in(&req).await?;
        let email = req.email.trim().to_owned();
        if let Err(reason) = credentials::store_token(&hub, &email, &token) {
            tracing::warn!("the sign-in will not be remembered: no credential store ({reason})");
        }
        credentials::remember(&self.data, &Remembered { hub: hub.clone(), email: email.clone(), demo: false });
        self.open(app, Session { hub, email, demo: false }, &token)
    }

    /// Starts the demo hub inside the app (seeding it on first use) and signs in as one of
    /// its people: `email`, or the first agent. A build without the `demo` feature answers
    /// that it has no demo.
    pub async fn try_demo(&self, app: &AppHandle, email: Option<String>) -> Result<Session, ApiError> {
        let _switching = self.switching.lock().await;
        let logins = demo::people()?;
        let login = match &email {
            Some(e) => logins.iter().find(|l| l.email.eq_ignore_ascii_case(e.trim())),
            None => logins.first(),
        }
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such person in the demo workspace"))?;
        let hub = {
            let mut running = self.demo.lock().await;
            if running.is_none() {
                *running = Some(demo::Hub::start(&self.data.join("demo").join("hub.sqlite3")).await?);
            }
            running.as_ref().map(|d| d.url().to_owned()).unwrap_or_default()
        };
        let req = SignIn { hub: hub.clone(), email: login.email.clone(), password: login.password.clone() };
        let (hub, token) = session::sign_in(&req).await?;
        credentials::remember(&self.data, &Remembered { hub: hub.clone(), email: login.email.clone(), demo: true });
        self.open(app, Session { hub, email: login.email.clone(), demo: true }, &token)
    }

    /// Restores the last session at start-up: the demo is started again; a real hub's
    /// console opens from its cache at once, online or not.
    pub async fn restore(&self, app: &AppHandle) -> Result<Option<Session>, ApiError> {
        let Some(r) = credentials::remembered(&self.data) else { return Ok(None) };
        if r.demo {
            return self.try_demo(app, Some(r.email)).await.map(Some);
        }
        let _switching = self.switching.lock().await;
        let Some(token) = credentials::token(&r.hub, &r.email) else { return Ok(None) };
        self.open(app, Session { hub: r.hub, email: r.email, demo: false }, &token).map(Some)
    }

    fn open(&self, app: &AppHandle, session: Session, token: &str) -> Result<Session, ApiError> {
        self.close();
        let dir = self.data.join(session::cache_folder(&session.hub, &session.email));
        let console = Arc::new(Console::open(&dir, &session.hub, token)?);
        let forwarder = tauri::async_runtime::spawn(forward(app.clone(), console.clone()));
        console.start();
        *self.signed.write().unwrap_or_else(PoisonError::into_inner) =
            Some(Signed { console, session: session.clone(), forwarder });
        self.apply_focus();
        Ok(session)
    }

    fn close(&self) -> Option<Signed> {
        let old = self.signed.write().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(s) = &old {
            s.forwarder.abort();
            s.console.stop();
        }
        old
    }

    /// Signs out: the hub forgets the token, and so does the credential store. With
    /// `forget`, this computer forgets the account's conversations too: the cache, the
    /// replies not yet sent and every attachment downloaded are deleted.
    pub async fn sign_out(&self, app: &AppHandle, forget: bool) -> Result<(), ApiError> {
        let _switching = self.switching.lock().await;
        if let Some(s) = self.close() {
            if let Err(e) = s.console.sign_out().await {
                tracing::warn!("signing out on the hub failed (the token is forgotten here anyway): {e}");
            }
            if !s.session.demo {
                credentials::forget_token(&s.session.hub, &s.session.email);
            }
            let dir = self.data.join(session::cache_folder(&s.session.hub, &s.session.email));
            // The console's files close with it, before they are deleted.
            drop(s);
            if forget {
                forget_folder(&dir)?;
            }
        }
        credentials::forget(&self.data);
        desktop::set_badge(app, 0, &self.words());
        Ok(())
    }

    /// The conversation the agent has on screen.
    pub fn set_open_conversation(&self, conversation: Option<Id>) {
        self.focus.lock().unwrap_or_else(PoisonError::into_inner).open = conversation;
        self.apply_focus();
    }

    /// The window gained or lost focus.
    pub fn set_window_focused(&self, focused: bool) {
        self.focus.lock().unwrap_or_else(PoisonError::into_inner).window_focused = focused;
        self.apply_focus();
    }

    fn apply_focus(&self) {
        let focused = {
            let f = self.focus.lock().unwrap_or_else(PoisonError::into_inner);
            f.open.filter(|_| f.window_focused)
        };
        if let Ok(console) = self.console() {
            console.set_focus(focused);
        }
    }
}

/// Deletes an account's folder (its cache, outbox and downloaded attachments).
fn forget_folder(dir: &std::path::Path) -> Result<(), ApiError> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => {
            tracing::error!("the account's files could not be deleted: {e}");
            Err(ApiError::new(
                ErrorCode::Internal,
                format!(
                    "signed out, but this computer could not delete the account's files ({e}); delete {} by hand",
                    dir.display()
                ),
            ))
        }
    }
}

/// How long the badge waits for changes to settle before counting again: a burst of
/// changes (a sync page, a busy minute) costs one count, not one per change.
const BADGE_SETTLE: Duration = Duration::from_millis(300);

/// Sleeps until `at`, or forever when nothing is due.
/// How often the idle check runs.
const PRESENCE_EVERY: Duration = Duration::from_secs(15);

async fn until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Carries the core's events to the window, raises desktop notifications, keeps the badge
/// current and hands memory back once the core is quiet.
async fn forward(app: AppHandle, console: Arc<Console>) {
    use tokio::sync::broadcast::error::RecvError;
    let mut events = console.subscribe();
    // The first count waits until the window has had its first views.
    let mut badge_due = Some(tokio::time::Instant::now() + BADGE_SETTLE);
    let mut busy_since = Some(tokio::time::Instant::now());
    let mut release_due = busy_since.map(|t| memory::release_at(t, t));
    let mut presence = tokio::time::interval(PRESENCE_EVERY);
    loop {
        let received = tokio::select! {
            r = events.recv() => r,
            _ = presence.tick() => {
                // Away after the agent's idle time; the rule is the core's.
                let console = console.clone();
                let ticked = tauri::async_runtime::spawn_blocking(move || console.presence_tick(switchboard_core::now_ms()));
                if let Ok(Err(e)) = ticked.await {
                    tracing::debug!("the idle check failed: {e}");
                }
                continue;
            }
            () = until(badge_due) => {
                badge_due = None;
                let app = app.clone();
                let _ = tauri::async_runtime::spawn_blocking(move || refresh_badge(&app)).await;
                continue;
            }
            () = until(release_due) => {
                (release_due, busy_since) = (None, None);
                // Not awaited: events keep flowing while memory is handed back.
                let console = console.clone();
                drop(tauri::async_runtime::spawn_blocking(move || memory::release(&console)));
                continue;
            }
        };
        let now = tokio::time::Instant::now();
        release_due = Some(memory::release_at(now, *busy_since.get_or_insert(now)));
        let event = match received {
            Ok(e) => e,
            Err(RecvError::Lagged(_)) => ConsoleEvent::Changed {
                conversations: Vec::new(),
                read: Vec::new(),
                contacts: Vec::new(),
                directory: true,
                canned: true,
                articles: false,
                everything: true,
            },
            Err(RecvError::Closed) => return,
        };
        match &event {
            ConsoleEvent::Notify { notification, sound } => {
                let words = app.try_state::<Shell>().map(|s| s.words()).unwrap_or_default();
                desktop::notify(&app, notification.clone(), *sound, words);
            }
            ConsoleEvent::Changed { .. } => {
                badge_due.get_or_insert_with(|| tokio::time::Instant::now() + BADGE_SETTLE);
            }
            _ => {}
        }
        if let Err(e) = app.emit(CONSOLE_EVENT, &event) {
            tracing::warn!("the window missed an event: {e}");
        }
    }
}

/// Reads the counts from the signed-in console's cache and updates the badge.
pub fn refresh_badge(app: &AppHandle) {
    let Some(shell) = app.try_state::<Shell>() else { return };
    let unread = shell.console().ok().and_then(|c| c.cache().counts().ok()).map_or(0, |counts| badge(&counts));
    desktop::set_badge(app, unread, &shell.words());
}

/// Opens the `switchboard://` links among `args` (a second launch's arguments, the URLs the
/// system handed over): the last one wins; the window is brought forward and told, and
/// takes it with `take_link`. Anything else is ignored.
pub fn open_links<'a>(app: &AppHandle, args: impl IntoIterator<Item = &'a str>) {
    let Some(link) = args.into_iter().filter_map(|a| links::parse(a).ok()).last() else { return };
    if let Some(shell) = app.try_state::<Shell>() {
        shell.put_link(link);
    }
    desktop::focus_main(app);
    desktop::shell_event(app, &ShellEvent::LinkOpened);
}
