// One list of desktop commands: the `#[tauri::command]` functions in src-tauri/src/commands.rs
// are the list. build.rs declares them to Tauri and writes the permission set the capability
// grants; everything still typed by hand must name the same commands: the app's
// `generate_handler!`, the capability, `api.ts` and the test double `mockCore.ts`.
import { describe, expect, test } from "vitest";
import commandsRs from "../../../src-tauri/src/commands.rs?raw";
import libRs from "../../../src-tauri/src/lib.rs?raw";
import capabilityJson from "../../../src-tauri/capabilities/main.json?raw";
import mockCoreTs from "../dev/mockCore.ts?raw";
import apiTs from "./api.ts?raw";

/** The `#[tauri::command]` functions of commands.rs, as build.rs reads them. */
function declared(rust: string): string[] {
  const names: string[] = [];
  let attributed = false;
  for (const raw of rust.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("#[tauri::command")) {
      attributed = true;
      continue;
    }
    if (!attributed || line.startsWith("#[") || line.startsWith("//")) continue;
    const fn = /^(?:pub\s+)?(?:async\s+)?fn\s+([A-Za-z0-9_]+)/.exec(line);
    if (fn) names.push(fn[1]!);
    attributed = false;
  }
  return names;
}

/** The commands `generate_handler![…]` registers in lib.rs. */
function registered(rust: string): string[] {
  const list = /generate_handler!\[([^\]]*)\]/.exec(rust)?.[1] ?? "";
  return [...list.matchAll(/commands::([A-Za-z0-9_]+)/g)].map((m) => m[1]!);
}

/** The commands the capability grants one by name (`allow-<command>`), and whether it grants the set. */
function granted(capability: string): { commands: string[]; set: boolean; other: string[] } {
  const permissions = (JSON.parse(capability) as { permissions: Array<string | { identifier: string }> }).permissions.map(
    (p) => (typeof p === "string" ? p : p.identifier),
  );
  const own = permissions.filter((p) => !p.includes(":"));
  return {
    commands: own.filter((p) => p.startsWith("allow-")).map((p) => p.slice("allow-".length).replaceAll("-", "_")),
    set: own.includes("console-commands"),
    other: own.filter((p) => !p.startsWith("allow-") && p !== "console-commands"),
  };
}

/** The commands api.ts invokes. */
function invoked(ts: string): string[] {
  return [...ts.matchAll(/invoke\s*(?:<[^(]*>)?\(\s*"([a-z0-9_]+)"/g)].map((m) => m[1]!);
}

/** The commands the test double answers (the `case "…":` labels of its command switch). */
function answered(ts: string): string[] {
  const body = ts.slice(ts.indexOf("#answer(cmd"));
  return [...body.matchAll(/case\s+"([a-z0-9_]+)"\s*:/g)].map((m) => m[1]!);
}

/** What `have` lacks of `want` and holds beyond it, for a message. */
function difference(want: string[], have: string[]): string {
  const missing = want.filter((n) => !have.includes(n));
  const extra = have.filter((n) => !want.includes(n));
  const dup = have.filter((n, i) => have.indexOf(n) !== i);
  return [
    missing.length ? `missing: ${missing.join(", ")}` : "",
    extra.length ? `not commands of commands.rs: ${extra.join(", ")}` : "",
    dup.length ? `named twice: ${dup.join(", ")}` : "",
  ]
    .filter(Boolean)
    .join("; ");
}

describe("the desktop commands are one list", () => {
  const commands = declared(commandsRs);
  const sorted = (xs: string[]) => [...new Set(xs)].sort();

  test("commands.rs declares commands, each once", () => {
    expect(commands.length).toBeGreaterThan(10);
    const diff = difference(sorted(commands), commands);
    expect(diff, `src-tauri/src/commands.rs: ${diff}`).toBe("");
  });

  const places: Array<[string, () => string[]]> = [
    ["generate_handler! in src-tauri/src/lib.rs", () => registered(libRs)],
    ["ui/src/lib/api.ts (invoke)", () => invoked(apiTs)],
    ["ui/src/dev/mockCore.ts (the command switch)", () => answered(mockCoreTs)],
  ];
  for (const [place, names] of places) {
    test(`${place} names the commands of commands.rs`, () => {
      const diff = difference(commands, names());
      expect(diff, `${place} disagrees with src-tauri/src/commands.rs (${diff})`).toBe("");
    });
  }

  test("the capability grants the commands build.rs lists, through the set or by name", () => {
    const { commands: byName, set, other } = granted(capabilityJson);
    expect(other, "src-tauri/capabilities/main.json names permissions that are not commands").toEqual([]);
    if (set) {
      // build.rs writes the set from commands.rs; naming a command besides is a second list.
      expect(byName, "the capability grants console-commands; it names no command besides").toEqual([]);
    } else {
      const diff = difference(commands, byName);
      expect(diff, `src-tauri/capabilities/main.json disagrees with src-tauri/src/commands.rs (${diff})`).toBe("");
    }
  });

  test("the readers find what they look for", () => {
    const rust = `
#[tauri::command(rename_all = "snake_case")]
pub async fn send_template(
    shell: State<'_, Shell>,
) -> Answer<Id> {}

/// Opens it.
#[tauri::command]
pub fn open_it() {}

pub fn helper() {}
`;
    expect(declared(rust)).toEqual(["send_template", "open_it"]);
    expect(registered("tauri::generate_handler![\n  commands::a,\n  commands::b_c,\n]")).toEqual(["a", "b_c"]);
    expect(invoked(`x: () => invoke<Session | null>("session"), y: (a) => invoke<number[]>("re_assign", { a })`)).toEqual([
      "session",
      "re_assign",
    ]);
    expect(granted(JSON.stringify({ permissions: ["core:event:allow-listen", "allow-sign-in", "console-commands"] }))).toEqual({
      commands: ["sign_in"],
      set: true,
      other: [],
    });
  });
});
