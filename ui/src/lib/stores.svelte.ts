// The console's shared state, as runes: the session, the directory and permissions, view
// counts, connection and sync progress, the offline queue size, notifications the system
// could not show (one notice of why, and each shown in the app instead), toasts, and a
// shared clock that ticks every second for every live duration on screen.
import { api, reason } from "./api";
import { ChangeBus } from "./changes";
import { t } from "./i18n.svelte";
import { MAX_IN_APP, notificationTrouble } from "./notices";
import type {
  ConsoleEvent,
  Connection,
  Directory,
  Notification,
  OutboxItem,
  Permissions,
  Session,
  SyncProgress,
  Team,
  UpdateReady,
  ViewCount,
} from "./protocol";

export const NO_PERMISSIONS: Permissions = { reassign: false, oversee: false, merge_contacts: false, share_canned: false, edit_articles: false };

/** One second ticks for waiting times, countdowns and "fetched … ago". */
class Clock {
  now = $state(Date.now());
  #timer: ReturnType<typeof setInterval> | null = null;
  #users = 0;

  /** Starts ticking (counted: each start needs a stop). */
  start(): () => void {
    this.#users++;
    this.now = Date.now();
    this.#timer ??= setInterval(() => (this.now = Date.now()), 1000);
    return () => {
      this.#users--;
      if (this.#users <= 0 && this.#timer) {
        clearInterval(this.#timer);
        this.#timer = null;
        this.#users = 0;
      }
    };
  }
}

export const clock = new Clock();

export type Toast = {
  id: number;
  tone: "info" | "error";
  text: string;
  /** An outbox item that is stuck or lost a conflict: the toast offers Retry and Discard. */
  item?: OutboxItem;
  /** A button on the toast (e.g. Open), which also dismisses it. */
  action?: ToastAction;
};

export type ToastAction = { label: string; run: () => void };

/** A notification the system could not show, shown in the app instead. */
export type InAppNotice = { id: number; notification: Notification };

/** How long an in-app notification stays before it gives way by itself. */
const IN_APP_MS = 20_000;

let nextId = 1;

class AppState {
  session = $state<Session | null>(null);
  /** Why the session ended, shown on the sign-in screen. */
  endedReason = $state<string | null>(null);
  directory = $state<Directory | null>(null);
  counts = $state<ViewCount[]>([]);
  connection = $state<Connection>({ state: "connecting", attempt: 0 });
  progress = $state<SyncProgress | null>(null);
  queued = $state(0);
  /** Why the system shows no notifications (said once per signed-in session), until
   *  dismissed. */
  notifyTrouble = $state<string | null>(null);
  #troubleTold = false;
  inAppNotices = $state<InAppNotice[]>([]);
  toasts = $state<Toast[]>([]);
  /** A conversation to open (a clicked notification), taken by the inbox. */
  pendingOpen = $state<number | null>(null);
  /** Counts `switchboard://` links opened; the inbox takes each from the shell. */
  linksOpened = $state(0);
  /** A newer console downloaded and verified, waiting for the agent to restart. */
  updateReady = $state<UpdateReady | null>(null);
  /** "Later" on the update: the banner stays away until then (ms since the epoch). */
  updateLaterUntil = $state(0);

  readonly changes = new ChangeBus(150);
  #outboxWatchers = new Set<(item: OutboxItem) => void>();

  get permissions(): Permissions {
    return this.directory?.permissions ?? NO_PERMISSIONS;
  }

  /** Lead tools (assign, bulk assign) are shown. */
  get lead(): boolean {
    return this.permissions.reassign;
  }

  /** The hub cannot be reached: replies queue and cached threads are shown. */
  get offline(): boolean {
    return this.connection.state === "offline";
  }

  /** The teams a lead oversees: their own, or every team for an admin. */
  get myTeams(): Team[] {
    const me = this.directory?.me;
    const teams = this.directory?.teams ?? [];
    return me?.role === "admin" ? teams : teams.filter((t) => (me?.teams ?? []).includes(t.id));
  }

  agentName(id: number | null | undefined): string | null {
    if (id == null) return null;
    return this.directory?.agents.find((a) => a.id === id)?.name ?? null;
  }

  teamName(id: number | null | undefined): string | null {
    if (id == null) return null;
    return this.directory?.teams.find((t) => t.id === id)?.name ?? null;
  }

  signedIn(session: Session | null): void {
    this.session = session;
    if (session) this.endedReason = null;
    else this.#forget();
  }

  /** The hub ended the session (token refused). */
  ended(why: string): void {
    this.endedReason = why;
    this.session = null;
    this.#forget();
  }

  #forget(): void {
    this.directory = null;
    this.counts = [];
    this.progress = null;
    this.queued = 0;
    this.toasts = [];
    this.inAppNotices = [];
    this.notifyTrouble = null;
    this.#troubleTold = false;
    this.changes.clear();
  }

  async loadDirectory(): Promise<void> {
    try {
      this.directory = await api.directory();
    } catch {
      // Before the first sync the cache does not know who we are yet; a change event retries.
    }
  }

  async loadCounts(): Promise<void> {
    try {
      this.counts = await api.counts();
    } catch {
      // As above: retried on the next change.
    }
  }

  async loadQueued(): Promise<void> {
    try {
      this.queued = await api.queuedReplies();
    } catch {
      /* keeps the last number */
    }
  }

  /** Counts connection events, so an older answer of `api.connection()` never overwrites a newer event. */
  #connectionEvents = 0;

  async loadConnection(): Promise<void> {
    const seen = this.#connectionEvents;
    try {
      const c = await api.connection();
      if (seen === this.#connectionEvents) this.connection = c;
    } catch {
      /* an event brings it */
    }
  }

  /** Handles one event of the core. */
  handle(e: ConsoleEvent): void {
    switch (e.type) {
      case "connection":
        this.#connectionEvents++;
        this.connection = e.connection;
        if (e.connection.state === "signed_out") this.ended(e.connection.reason);
        else void this.loadQueued();
        break;
      case "progress":
        this.progress = e.progress.finished ? null : e.progress;
        break;
      case "changed":
        this.changes.push(e);
        break;
      case "outbox":
        if (e.item.state === "stuck" || e.item.state === "conflict") this.outboxToast(e.item);
        for (const w of [...this.#outboxWatchers]) {
          try {
            w(e.item);
          } catch (err) {
            console.error("an outbox watcher failed", err);
          }
        }
        void this.loadQueued();
        break;
      case "notify":
        // The shell raises the desktop notification; a failure arrives as a shell event.
        break;
    }
  }

  /** Calls `watcher` with every outbox item the core reports (e.g. a first message the hub
   *  refused), until the returned function is called. */
  watchOutbox(watcher: (item: OutboxItem) => void): () => void {
    this.#outboxWatchers.add(watcher);
    return () => this.#outboxWatchers.delete(watcher);
  }

  toast(text: string, tone: Toast["tone"] = "info", ms = 6000, action?: ToastAction): void {
    const id = nextId++;
    this.toasts = [...this.toasts, action ? { id, tone, text, action } : { id, tone, text }];
    if (ms > 0) setTimeout(() => this.dismissToast(id), ms);
  }

  error(e: unknown, prefix?: string): void {
    this.toast(prefix ? `${prefix}: ${reason(e)}` : reason(e), "error", 8000);
  }

  outboxToast(item: OutboxItem): void {
    const rest = this.toasts.filter((t) => t.item?.id !== item.id);
    this.toasts = [...rest, { id: nextId++, tone: "error", text: "", item }];
  }

  dismissToast(id: number): void {
    this.toasts = this.toasts.filter((t) => t.id !== id);
  }

  dismissOutbox(outboxId: number): void {
    this.toasts = this.toasts.filter((t) => t.item?.id !== outboxId);
  }

  /** Retries or discards a stuck (or conflicting) outbox item; its toast goes either way it succeeds. */
  async settleOutbox(outboxId: number, kind: "retry" | "discard"): Promise<void> {
    try {
      if (kind === "retry") await api.retry(outboxId);
      else await api.discard(outboxId);
      this.dismissOutbox(outboxId);
    } catch (e) {
      this.error(e, kind === "retry" ? t("outbox.retryFailed") : t("outbox.discardFailed"));
    }
  }

  /** The system could not show `notification`: says why once, and shows it in the app. */
  notifyFailed(reasonText: string, notification: Notification): void {
    if (!this.#troubleTold) {
      this.#troubleTold = true;
      this.notifyTrouble = notificationTrouble(reasonText);
    }
    const id = nextId++;
    this.inAppNotices = [...this.inAppNotices, { id, notification }].slice(-MAX_IN_APP);
    setTimeout(() => this.dismissInApp(id), IN_APP_MS);
  }

  dismissInApp(id: number): void {
    this.inAppNotices = this.inAppNotices.filter((n) => n.id !== id);
  }

  dismissNotifyTrouble(): void {
    this.notifyTrouble = null;
  }
}

export const app = new AppState();
