// Test stand-ins for the window boundary (@tauri-apps/api core and event): commands answer
// from per-test handlers (given the call's options too, e.g. a staged file's headers), events
// are delivered by `fire`. Used through vi.mock in tests.
import type { InvokeArgs, InvokeOptions } from "@tauri-apps/api/core";
import { vi } from "vitest";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- handlers read loosely typed arguments
type Handler = (args: any, options?: InvokeOptions) => unknown;

export const handlers = new Map<string, Handler>();
const listeners = new Map<string, Set<(e: { payload: unknown }) => void>>();

type Fallback = (cmd: string, args: InvokeArgs, options?: InvokeOptions) => unknown;

let fallback: Fallback | null = null;

export const invoke = vi.fn(async (cmd: string, args?: InvokeArgs, options?: InvokeOptions) => {
  const h = handlers.get(cmd);
  if (h) return h(args ?? {}, options);
  if (fallback) return fallback(cmd, args ?? {}, options);
  throw { code: "not_found", message: `no handler for ${cmd}` };
});

/** Answers every command without its own handler with `f` (e.g. a MockCore). */
export function answerWith(f: Fallback | null) {
  fallback = f;
}

export const listen = vi.fn(async (event: string, handler: (e: { payload: unknown }) => void) => {
  const set = listeners.get(event) ?? new Set();
  set.add(handler);
  listeners.set(event, set);
  return () => set.delete(handler);
});

/** Delivers an event to the window's listeners. */
export function fire(event: string, payload: unknown) {
  for (const h of listeners.get(event) ?? []) h({ payload });
}

/** Answers commands with these handlers (replacing all others). */
export function answer(map: Record<string, Handler>) {
  handlers.clear();
  for (const [k, v] of Object.entries(map)) handlers.set(k, v);
  invoke.mockClear();
}

/** The arguments of every call to `cmd`. */
export function callsTo(cmd: string): Array<Record<string, unknown>> {
  return invoke.mock.calls.filter((c) => c[0] === cmd).map((c) => (c[1] ?? {}) as Record<string, unknown>);
}
