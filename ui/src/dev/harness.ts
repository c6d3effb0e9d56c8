// Dev harness (mock.html): runs the console in a plain browser against MockCore, with a
// simulated customer writing every few seconds. Query: ?n=50000 conversations, ?as=email
// to start signed in, ?quiet to stop the simulated traffic. Never part of the app's build.
import type { InvokeArgs, InvokeOptions } from "@tauri-apps/api/core";
import { emit } from "@tauri-apps/api/event";
import { mockIPC } from "@tauri-apps/api/mocks";
import type { ConsoleEvent, ShellEvent } from "../lib/protocol";
import { MockCore } from "./mockCore";

const params = new URLSearchParams(location.search);
const core = new MockCore({ conversations: Number(params.get("n") ?? 1200), signedInAs: params.get("as") });
// A first message ("New message") takes the "hub" a moment, as it does over the network.
core.hubDelayMs = 1200;

mockIPC((cmd, args) => core.handle(cmd, args ?? {}), { shouldMockEvents: true });
core.emit = (e: ConsoleEvent) => void emit("console", e);
// mockIPC gives its callback no options, and a file to stage has its name and type in them.
const mocked = window.__TAURI_INTERNALS__.invoke;
window.__TAURI_INTERNALS__.invoke = async (cmd, args, options) =>
  cmd === "stage_attachment" ? core.handle(cmd, args ?? {}, options) : mocked(cmd, args, options);

declare global {
  interface Window {
    mock: { core: MockCore; console: (e: ConsoleEvent) => void; shell: (e: ShellEvent) => void };
    __TAURI_INTERNALS__: { invoke: (cmd: string, args?: InvokeArgs, options?: InvokeOptions) => Promise<unknown> };
  }
}
window.mock = { core, console: (e) => void emit("console", e), shell: (e) => void emit("shell", e) };

if (!params.has("quiet")) {
  let k = 0;
  setInterval(() => {
    const row = core.rows[(k++ * 7) % Math.min(core.rows.length, 40)];
    if (row) core.customerWrites(row.id, `Any update on this? (${new Date().toLocaleTimeString()})`);
  }, 8000);
}

await import("../main");
