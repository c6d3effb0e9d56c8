// The test double against the real core: the word matching of its search, the one rule it
// cannot look up, gives the core's answers on the examples crates/core/tests/ui_fixtures.rs
// searched with the real cache; and its answers come from the fixtures, not its own rules.
import { describe, expect, test } from "vitest";
import composeRules from "./fixtures/compose.json";
import searchRules from "./fixtures/search.json";
import type {
  ArticleEntry,
  ArticleHit,
  AudienceCheck,
  Campaign,
  ConsoleEvent,
  Directory,
  History,
  RecipientPage,
  ReportView,
  Segment,
} from "../lib/protocol";
import { matchWords, MockCore, renderMarkdown, route } from "./mockCore";

describe("mockCore answers as the core does", () => {
  test.each(searchRules.words)("search $query in $text", ({ query, text, matches, highlighted }) => {
    const ranges = matchWords(query, text);
    expect(ranges !== null, "matches").toBe(matches);
    const bytes = new TextEncoder().encode(text);
    const words = (ranges ?? []).map(([a, b]) => new TextDecoder().decode(bytes.slice(a, b)));
    expect(words).toEqual(highlighted);
  });

  test("a route's window and refusal are the core's, with the route's own end time", () => {
    const now = 5_000_000;
    for (const r of composeRules.routes) {
      const at = r.example_expires_at === null ? null : now + (r.example_expires_at - composeRules.example_now);
      const got = route(r.channel as never, at, r.opted_out, now);
      expect(got.refusal).toEqual(r.refusal);
      expect(got.window.state).toBe(r.window.state);
      if (got.window.state === "open") expect(got.window.expires_at).toBe(at);
      if (got.window.state === "closed") expect(got.window.closed_at).toBe(at);
    }
  });

  test("every view, count and load row of a generated workspace is answered", () => {
    for (const who of ["ada@demo.switchboard", "lena@demo.switchboard"]) {
      const core = new MockCore({ conversations: 400, signedInAs: who });
      const counts = core.handle("counts") as Array<{ view: string; total: number }>;
      expect(counts.length).toBeGreaterThan(0);
      for (const c of counts) expect(c.total).toBe(core.filter(c.view as never).length);
      const load = core.handle("team_load") as Array<{ agent_id: number | null; open: number }>;
      expect(load.at(-1)?.agent_id).toBeNull();
      expect(load.reduce((n, l) => n + l.open, 0)).toBe(core.rows.filter((r) => r.status === "open").length);
    }
  });
});

describe("mockCore's made-up reports", () => {
  test("add up, are the same for the same query, and only for those who oversee", () => {
    const core = new MockCore({ conversations: 10, signedInAs: "lena@demo.switchboard" });
    const query = { from: "2024-02-20", to: "2024-03-05" };
    const view = core.handle("report", { query }) as ReportView;
    const r = view.report;
    expect(view.offline).toBe(false);
    expect(r.by_day.map((d) => d.date)).toHaveLength(15);
    expect(r.by_day[9]!.date).toBe("2024-02-29");
    expect(r.by_hour).toHaveLength(24);
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    expect(sum(r.by_hour)).toBe(r.conversations);
    expect(sum(r.by_day.map((d) => d.conversations))).toBe(r.conversations);
    expect(sum(r.by_channel.map((c) => c.conversations))).toBe(r.conversations);
    expect(sum(r.csat.scores)).toBe(r.csat.responses);
    expect(r.sla.map((s) => s.target)).toEqual(["first_response", "next_response", "resolution"]);
    expect((core.handle("report", { query }) as ReportView).report).toEqual(r);
    // A shorter period is part of a longer one.
    const week = (core.handle("report", { query: { from: "2024-02-26", to: "2024-03-03" } }) as ReportView).report;
    expect(week.by_day).toEqual(r.by_day.slice(6, 13));
    expect(core.handle("export_report", { query })).toBe("/home/demo/Downloads/switchboard-report-2024-02-20-2024-03-05.csv");
    expect(() => core.handle("report", { query: { from: "2024-01-01", to: "2025-01-01" } })).toThrow();
    core.signIn("ada@demo.switchboard");
    expect(() => core.handle("report", { query })).toThrow();
  });
});

describe("mockCore's inboxes", () => {
  test("every conversation is in an inbox of its channel, its team's or else Support's", () => {
    const core = new MockCore({ conversations: 300, signedInAs: "lena@demo.switchboard" });
    const dir = core.handle("directory") as Directory;
    expect(dir.inboxes.map((i) => i.name)).toEqual([...dir.inboxes.map((i) => i.name)].sort());
    for (const row of core.rows) {
      const box = dir.inboxes.find((i) => i.id === row.inbox_id);
      expect(box?.kind).toBe(row.channel);
      expect([row.team_id, 1]).toContain(box?.team_id);
    }
    expect(new Set(core.rows.map((r) => r.inbox_id)).size).toBeGreaterThan(7);
  });

  test("set_routing and set_sla set and clear an inbox's own, and refuse another team's inbox", () => {
    const core = new MockCore({ conversations: 10, signedInAs: "lena@demo.switchboard" });
    const events: ConsoleEvent[] = [];
    core.emit = (e) => events.push(e);
    const own = (id: number) => (core.handle("directory") as Directory).inboxes.find((i) => i.id === id)!;
    const routing = { mode: "least_loaded", sticky: true, skills: [], reassign_after_mins: 15 };
    const sla = { first_response_mins: 10, warn_before_mins: 5 };

    expect(core.handle("set_routing", { team_id: 2, inbox_id: 8, policy: routing })).toBe(1);
    expect(core.handle("set_sla", { team_id: 2, inbox_id: 8, policy: sla })).toBe(1);
    expect(own(8)).toMatchObject({ routing, sla, version: 3 });
    expect(core.teams[1]!.routing.mode).toBe("manual");
    expect(events).toHaveLength(2);
    expect(events.every((e) => e.type === "changed" && e.directory)).toBe(true);

    core.handle("set_routing", { team_id: 2, inbox_id: 8, policy: null });
    core.handle("set_sla", { team_id: 2, inbox_id: 8, policy: null });
    expect("routing" in own(8)).toBe(false);
    expect("sla" in own(8)).toBe(false);
    expect(own(8).version).toBe(5);
    expect(events).toHaveLength(4);

    for (const cmd of ["set_routing", "set_sla"]) {
      expect(() => core.handle(cmd, { team_id: 1, inbox_id: 8, policy: null })).toThrow(expect.objectContaining({ code: "bad_request" }));
      expect(() => core.handle(cmd, { team_id: 1, inbox_id: 99, policy: null })).toThrow(expect.objectContaining({ code: "not_found" }));
    }
    expect(() => core.handle("set_routing", { team_id: 1, inbox_id: null, policy: null })).toThrow(expect.objectContaining({ code: "bad_request" }));
    expect(events).toHaveLength(4);

    core.handle("set_routing", { team_id: 1, inbox_id: null, policy: routing });
    expect(core.teams[0]).toMatchObject({ routing, version: 2 });
    expect(own(1).routing).toBeUndefined();
  });
});

describe("mockCore's first messages", () => {
  function setup() {
    const core = new MockCore({ conversations: 50, signedInAs: "ada@demo.switchboard" });
    const events: ConsoleEvent[] = [];
    core.emit = (e) => events.push(e);
    return { core, events };
  }
  /** Lets the "hub" apply what was queued. */
  const applied = () => new Promise((r) => setTimeout(r, 0));
  const draft = (extra: Record<string, unknown>) => ({ draft: { inbox_id: 1, body: "Hello", params: [], ...extra } });

  test("refuses at once what the core refuses: web chat, in-app, a new Messenger id, email without a subject, nothing to say", async () => {
    const { core, events } = setup();
    const refused = (extra: Record<string, unknown>, message: string) =>
      expect(() => core.handle("start_conversation", draft(extra))).toThrow(expect.objectContaining({ code: "bad_request", message: expect.stringContaining(message) }));
    refused({ inbox_id: 5, contact_id: 1 }, "the customer starts the conversation");
    refused({ inbox_id: 6, contact_id: 1 }, "the customer starts the conversation");
    refused({ inbox_id: 3, address: "1234567" }, "only to a customer who has written before");
    refused({ inbox_id: 7, address: "ben@example.com" }, "an email needs a subject");
    refused({ address: "+14155550199", body: " " }, "write a message or choose a template");
    refused({ address: " " }, "choose a customer");
    expect(() => core.handle("start_conversation", draft({ inbox_id: 99, address: "+14155550199" }))).toThrow(expect.objectContaining({ code: "not_found" }));
    await applied();
    expect(events).toEqual([]);
    expect(core.outboxItems).toEqual([]);
  });

  test("a new number gets a pending conversation of the agent's, with one outbound line and a new customer", async () => {
    const { core, events } = setup();
    const started = core.handle("start_conversation", draft({ address: "(415) 555-0199", name: "Ben Okafor" })) as { outbox_id: number; client_msg_id: string };
    // Queued: the hub has not applied it yet.
    expect(core.handle("started_conversation", { client_msg_id: started.client_msg_id })).toBeNull();
    expect(core.handle("queued_replies")).toBe(1);
    await applied();
    const id = core.handle("started_conversation", { client_msg_id: started.client_msg_id }) as number;
    const row = core.rows.find((r) => r.id === id)!;
    expect(row).toMatchObject({ status: "pending", assignee_id: core.me.id, inbox_id: 1, channel: "sms", customer_address: "+14155550199", contact_name: "Ben Okafor", preview: "Hello", team_id: 1 });
    const contact = core.contacts.get(row.contact_id)!;
    expect(contact.identities).toEqual([{ channel: "sms", address: "+14155550199" }]);
    const history = core.handle("history", { contact_id: contact.id, limit: 50, before: null }) as History;
    expect(history.lines).toEqual([expect.objectContaining({ conversation_id: id, direction: "outbound", body: "Hello", client_msg_id: started.client_msg_id, outbox: null })]);
    expect(events).toEqual([
      { type: "outbox", item: expect.objectContaining({ id: started.outbox_id, state: "acknowledged" }) },
      { type: "changed", conversations: [id], read: [], contacts: [contact.id], directory: false, canned: false, articles: false, everything: false },
    ]);
    expect(core.handle("started_conversation", { client_msg_id: "unknown" })).toBeNull();
  });

  test("the hub refuses later what it refuses: free text to a new WhatsApp number, an opted-out customer", async () => {
    const { core, events } = setup();
    const started = core.handle("start_conversation", draft({ inbox_id: 2, address: "+14155550199" })) as { outbox_id: number; client_msg_id: string };
    expect(events).toEqual([]);
    await applied();
    expect(events).toEqual([{ type: "outbox", item: expect.objectContaining({ id: started.outbox_id, name: "start_conversation", state: "stuck", error: expect.objectContaining({ code: "reply_window_closed" }) }) }]);
    expect(core.handle("started_conversation", { client_msg_id: started.client_msg_id })).toBeNull();

    const ana = core.contacts.get(1)!;
    ana.identities = [{ channel: "sms", address: "+14155550777" }];
    ana.opted_out = [{ channel: "sms", address: "+14155550777" }];
    core.handle("start_conversation", draft({ contact_id: 1 }));
    await applied();
    expect(events.at(-1)).toEqual({ type: "outbox", item: expect.objectContaining({ state: "stuck", error: expect.objectContaining({ code: "opted_out" }) }) });
    expect(core.rows.filter((r) => r.status === "pending" && r.contact_id === 1 && r.customer_address === "+14155550777")).toEqual([]);
  });

  test("a template is filled with its values; a wrong number of values is refused", async () => {
    const { core, events } = setup();
    const started = core.handle("start_conversation", draft({ inbox_id: 2, address: "+14155550199", body: "", template: "order_update", params: ["Ben", "#42"] })) as { client_msg_id: string };
    await applied();
    const id = core.handle("started_conversation", { client_msg_id: started.client_msg_id }) as number;
    expect(core.rows.find((r) => r.id === id)?.preview).toBe("Hi Ben, your order #42 has shipped.");
    core.handle("start_conversation", draft({ inbox_id: 2, address: "+14155550198", body: "", template: "order_update", params: ["Ben"] }));
    await applied();
    expect(events.at(-1)).toEqual({ type: "outbox", item: expect.objectContaining({ state: "stuck", error: expect.objectContaining({ code: "bad_request", message: "template `order_update` takes 2 values, not 1" }) }) });
  });
});

describe("mockCore's consent", () => {
  test("set_consent refuses what the core refuses, records the agent's reason and keeps the opt-out with service", () => {
    const core = new MockCore({ conversations: 50, signedInAs: "ada@demo.switchboard" });
    const events: ConsoleEvent[] = [];
    core.emit = (e) => events.push(e);
    const ben = core.contacts.get(1)!;
    ben.identities = [{ channel: "sms", address: "+14155550777" }];
    ben.opted_out = [];
    ben.consents = [];
    const set = (extra: Record<string, unknown>) =>
      core.handle("set_consent", { consent: { contact_id: 1, channel: "sms", address: "+14155550777", purpose: "service", granted: false, reason: "Asked us to stop on a call", ...extra } });

    expect(() => set({ reason: "  " })).toThrow(expect.objectContaining({ code: "bad_request" }));
    expect(() => set({ reason: "x".repeat(1001) })).toThrow(expect.objectContaining({ code: "bad_request" }));
    expect(() => set({ address: "+14155550000" })).toThrow(expect.objectContaining({ code: "bad_request" }));
    expect(events).toEqual([]);

    expect(typeof set({})).toBe("number");
    expect(ben.opted_out).toEqual([{ channel: "sms", address: "+14155550777" }]);
    expect(ben.consents).toEqual([
      expect.objectContaining({ purpose: "service", granted: false, source: "agent", reason: "Asked us to stop on a call", by_agent_id: 1 }),
    ]);
    expect(events).toEqual([{ type: "changed", conversations: [], read: [], contacts: [1], directory: false, canned: false, articles: false, everything: false }]);

    set({ granted: true, reason: "Wants order updates again" });
    set({ purpose: "marketing", granted: true, reason: "Wants offers" });
    expect(ben.opted_out).toEqual([]);
    expect(ben.consents.map((c) => [c.purpose, c.granted])).toEqual([
      ["service", true],
      ["marketing", true],
    ]);
  });
});

describe("mockCore's campaigns", () => {
  const lead = () => new MockCore({ conversations: 50, signedInAs: "lena@demo.switchboard" });
  const spec = (extra: Record<string, unknown> = {}) => ({
    name: "Restock",
    inbox_id: 2,
    template: "order_update",
    purpose: "marketing",
    audience: { kind: "csv", csv: "phone,name,1,2\n+14155559001,Ana,Ana,#1\n+14155559002,Ben,Ben,#2\n" },
    ...extra,
  });

  test("start with a sent campaign (opted-out recipients skipped, failures, replies in conversations), a scheduled one and a draft", () => {
    const core = lead();
    const list = core.handle("campaigns") as Campaign[];
    expect(list.map((c) => [c.name, c.state])).toEqual([
      ["Order follow-up", "draft"],
      ["Renewal reminder", "scheduled"],
      ["Spring offers", "done"],
    ]);
    const spring = list[2]!;
    const all = core.recipients.get(spring.id)!;
    const sum = (["queued", "sent", "delivered", "read", "replied", "failed", "skipped"] as const).reduce((n, s) => n + spring.counts[s], 0);
    expect(sum).toBe(spring.counts.total);
    expect(spring.counts.queued).toBe(0);
    expect(all.filter((r) => r.state === "skipped").every((r) => r.reason?.includes("opted out"))).toBe(true);
    expect(spring.counts.skipped).toBeGreaterThan(0);
    expect(spring.counts.failed).toBeGreaterThan(0);
    const replied = all.filter((r) => r.state === "replied");
    expect(replied.length).toBeGreaterThan(0);
    expect(replied.every((r) => core.rows.some((row) => row.id === r.conversation_id))).toBe(true);
  });

  test("results come 200 at a time after a row, in one state or all", () => {
    const core = lead();
    const first = core.handle("campaign_recipients", { id: 1, state: null, after: 0 }) as RecipientPage;
    expect(first.recipients).toHaveLength(200);
    expect(first.next).toBe(201);
    const rest = core.handle("campaign_recipients", { id: 1, state: null, after: first.next }) as RecipientPage;
    expect(rest.recipients).toHaveLength(40);
    expect(rest.next).toBeUndefined();
    const failed = core.handle("campaign_recipients", { id: 1, state: "failed", after: 0 }) as RecipientPage;
    expect(failed.recipients.every((r) => r.state === "failed" && r.reason)).toBe(true);
    expect(() => core.handle("campaign_recipients", { id: 99, state: null, after: 0 })).toThrow(expect.objectContaining({ code: "not_found" }));
  });

  test("a check reads the file row by row: problems, the rows that would be sent to, and a filled-in preview", () => {
    const core = lead();
    const ana = core.contacts.get(1)!;
    ana.identities = [{ channel: "whatsapp", address: "+14155559003" }];
    ana.opted_out = [{ channel: "whatsapp", address: "+14155559003" }];
    const csv = "phone,name,1,2\n+14155559001,Ana,Ana,#1\nnope,Ben,Ben,#2\n+14155559001,Ana,Ana,#3\n+14155559002,Chloé,,#4\n+14155559003,Ana O,Ana,#5\n";
    const check = core.handle("check_campaign", { spec: spec({ audience: { kind: "csv", csv } }) }) as AudienceCheck;
    expect(check).toEqual({
      rows: 5,
      valid: 1,
      problems: [
        { row: 3, column: "phone", problem: "`nope` is not a phone number" },
        { row: 4, column: "phone", problem: "the same phone number as row 2" },
        { row: 5, column: "1", problem: "no value for {{1}}" },
      ],
      more_problems: 0,
      preview: [{ row: 2, address: "+14155559001", name: "Ana", text: "Hi Ana, your order #1 has shipped." }],
    });
    const noColumn = core.handle("check_campaign", { spec: spec({ audience: { kind: "csv", csv: "email,1\nx@y.z,A\n" } }) }) as AudienceCheck;
    expect(noColumn.problems).toEqual([
      { row: 1, column: "phone", problem: "no `phone` column" },
      { row: 1, column: "2", problem: "no column `2` for the placeholder {{2}}" },
    ]);
    expect(() => core.handle("check_campaign", { spec: spec({ inbox_id: 5 }) })).toThrow(expect.objectContaining({ code: "bad_request" }));
    expect(() => core.handle("check_campaign", { spec: spec({ template: "nope" }) })).toThrow(expect.objectContaining({ code: "bad_request" }));
  });

  test("a filter or a segment matches the contacts with an address on the channel, fields filling the placeholders", () => {
    const core = lead();
    const filter = { conditions: [{ field: "city", op: "equals", value: "lisbon" }] };
    const check = core.handle("check_campaign", { spec: spec({ audience: { kind: "filter", filter, params: ["name", "plan"] } }) }) as AudienceCheck;
    const expected = [...core.contacts.values()].filter((c) => c.profile.city === "Lisbon" && c.identities.some((i) => i.channel === "whatsapp"));
    expect(check.rows).toBe(expected.length);
    expect(check.problems).toEqual([]);
    expect(check.preview[0]?.text).toBe(`Hi ${expected[0]!.name}, your order ${expected[0]!.profile.plan} has shipped.`);
    const missing = core.handle("check_campaign", { spec: spec({ audience: { kind: "filter", filter, params: ["name", "crm.nothing"] } }) }) as AudienceCheck;
    expect(missing.problems.length).toBe(expected.length);
    expect(missing.valid).toBe(0);
    expect(() => core.handle("check_campaign", { spec: spec({ audience: { kind: "filter", filter, params: ["name"] } }) })).toThrow(
      expect.objectContaining({ message: "template `order_update` takes 2 values, not 1" }),
    );
    const seg = core.handle("check_campaign", { spec: spec({ audience: { kind: "segment", segment_id: 1, params: ["name", "plan"] } }) }) as AudienceCheck;
    expect(seg).toEqual(check);
    expect(() => core.handle("check_campaign", { spec: spec({ audience: { kind: "segment", segment_id: 99, params: [] } }) })).toThrow(
      expect.objectContaining({ code: "not_found" }),
    );
  });

  test("a file with problems is refused; a clean one makes a draft, a scheduled or a sending campaign", () => {
    const core = lead();
    expect(() => core.handle("create_campaign", { spec: spec({ audience: { kind: "csv", csv: "phone,1,2\nnope,A,B\n+14155559001,A,B\n" } }) })).toThrow(
      expect.objectContaining({ code: "bad_request", message: "the audience file has 1 problem: check it, fix them and try again" }),
    );
    const draft = core.handle("create_campaign", { spec: spec() }) as Campaign;
    expect(draft).toMatchObject({ state: "draft", audience: "csv", rate: 20, counts: { total: 2, queued: 2 }, frequency_cap: { messages: 2, days: 7 } });
    const later = core.handle("create_campaign", { spec: spec({ scheduled_at: Date.now() + 3_600_000 }) }) as Campaign;
    expect(later.state).toBe("scheduled");
    const now = core.handle("create_campaign", { spec: spec({ scheduled_at: Date.now() }) }) as Campaign;
    expect(now.state).toBe("running");
    core.advanceCampaigns(Date.now() + 1000);
    const done = core.handle("campaign", { id: now.id }) as Campaign;
    expect(done.state).toBe("done");
    expect(done.counts.queued).toBe(0);
  });

  test("actions follow the state; others are refused as conflicts", () => {
    const core = lead();
    const act = (id: number, action: Record<string, unknown>) => core.handle("campaign_action", { id, action }) as Campaign;
    expect(() => act(3, { action: "pause" })).toThrow(expect.objectContaining({ code: "conflict" }));
    expect(act(2, { action: "unschedule" }).state).toBe("draft");
    expect(act(2, { action: "schedule", at: Date.now() + 60_000 }).state).toBe("scheduled");
    const c = core.campaigns.find((x) => x.id === 3)!;
    c.rate = 1;
    expect(act(3, { action: "schedule", at: 0 }).state).toBe("running");
    expect(act(3, { action: "pause" }).state).toBe("paused");
    expect(act(3, { action: "resume" }).state).toBe("running");
    const cancelled = act(3, { action: "cancel" });
    expect(cancelled.state).toBe("cancelled");
    expect(cancelled.counts.queued).toBe(0);
    expect(() => act(3, { action: "resume" })).toThrow(expect.objectContaining({ code: "conflict" }));
    expect(() => act(1, { action: "cancel" })).toThrow(expect.objectContaining({ code: "conflict" }));
  });

  test("segments are saved and deleted; agents, and anyone while the hub is out of reach, are refused", () => {
    const core = lead();
    const filter = { conditions: [{ field: "plan", op: "present", value: "" }] };
    const saved = core.handle("create_segment", { segment: { name: "Any plan", filter } }) as Segment;
    expect((core.handle("segments") as Segment[]).map((s) => s.name)).toEqual(["Lisbon customers", "Pro plan", "Any plan"]);
    expect(() => core.handle("create_segment", { segment: { name: "any plan", filter } })).toThrow(expect.objectContaining({ code: "conflict" }));
    expect(core.handle("delete_segment", { id: saved.id })).toBeNull();
    expect(() => core.handle("delete_segment", { id: saved.id })).toThrow(expect.objectContaining({ code: "not_found" }));
    expect(core.handle("export_campaign", { id: 1 })).toBe("/home/demo/Downloads/campaign-1-results.csv");
    core.hubReachable = false;
    expect(() => core.handle("campaigns")).toThrow(expect.objectContaining({ code: "unavailable" }));
    core.hubReachable = true;
    core.signIn("ada@demo.switchboard");
    expect(() => core.handle("campaigns")).toThrow(expect.objectContaining({ code: "forbidden" }));
  });
});

describe("mockCore's files for replies", () => {
  test("a staged file goes with the reply that names it; one over 25 MB is refused; a removed one is forgotten", () => {
    const core = new MockCore({ conversations: 60, signedInAs: "ada@demo.switchboard" });
    const row = core.rows.find((r) => r.channel === "email" && !core.contacts.get(r.contact_id)?.opted_out.length)!;
    const headers = (name: string, type: string) => ({ headers: { "x-file-name": encodeURIComponent(name), "x-file-type": type } });

    const photo = core.handle("stage_attachment", new Uint8Array(1500), headers("été.png", "image/png"));
    expect(photo).toEqual({ name: "été.png", mime: "image/png", size: 1500, url: "staged:1" });
    const notes = core.handle("stage_attachment", new Uint8Array(20), headers("notes.txt", ""));
    expect(notes).toEqual({ name: "notes.txt", mime: "application/octet-stream", size: 20, url: "staged:2" });
    const gone = core.handle("stage_attachment", new Uint8Array(5), headers("gone.pdf", "application/pdf"));
    expect(core.handle("discard_attachment", { id: "3" })).toBeNull();
    expect(core.staged.has("3")).toBe(false);

    const big = new Uint8Array(26 * 1024 * 1024);
    expect(() => core.handle("stage_attachment", big, headers("big.mov", "video/quicktime"))).toThrow(
      expect.objectContaining({ code: "payload_too_large", message: "big.mov is 26.0 MB; files up to 25 MB can be sent" }),
    );
    expect(core.staged.size).toBe(2);

    expect(() => core.handle("send_reply", { conversation_id: row.id, body: " ", attachments: [] })).toThrow(
      expect.objectContaining({ code: "bad_request" }),
    );
    expect(() => core.handle("send_reply", { conversation_id: row.id, body: "", attachments: [(gone as { url: string }).url] })).toThrow(
      expect.objectContaining({ code: "bad_request" }),
    );
    core.handle("send_reply", { conversation_id: row.id, body: "", attachments: ["staged:2", "staged:1"] });
    const pending = (core.handle("history", { contact_id: row.contact_id, limit: 500, before: null }) as History).lines.at(-1)!;
    expect(pending.id).toBeNull();
    expect(pending.body).toBe("");
    expect(pending.attachments).toEqual([notes, photo]);
    expect(core.staged.size).toBe(0);
  });
});

describe("mockCore's choices", () => {
  test("a reply's choices go on its pending line; SMS refuses them; one WhatsApp conversation shows choices answered", () => {
    const core = new MockCore({ conversations: 60, signedInAs: "ada@demo.switchboard" });
    const history = (contact_id: number) => (core.handle("history", { contact_id, limit: 500, before: null }) as History).lines;
    const demo = core.choicesDemo()!;
    expect(demo.channel).toBe("whatsapp");
    const [offer, answer] = history(demo.contact_id).slice(-2);
    expect(offer?.direction).toBe("outbound");
    expect(offer?.choices?.style).toBe("list");
    expect(offer?.choices?.options.map((o) => o.title)).toEqual(["Tuesday 10:00", "Wednesday 14:30", "Friday 09:00"]);
    expect(answer?.direction).toBe("inbound");
    expect(answer?.chosen).toEqual({ id: "wednesday-1430", title: "Wednesday 14:30", offered_in: offer?.id });

    const choices = { style: "buttons", options: [{ id: "yes", title: "Yes" }, { id: "no", title: "No" }] };
    core.handle("send_reply", { conversation_id: demo.id, body: "Did that help?", attachments: [], choices });
    const pending = history(demo.contact_id).at(-1)!;
    expect(pending.outbox?.state).toBe("pending");
    expect(pending.choices).toEqual(choices);
    core.handle("send_reply", { conversation_id: demo.id, body: "Plain", attachments: [], choices: null });
    expect(history(demo.contact_id).at(-1)?.choices).toBeNull();

    const four = { style: "buttons", options: ["a", "b", "c", "d"].map((id) => ({ id, title: id })) };
    expect(() => core.handle("send_reply", { conversation_id: demo.id, body: "Pick", attachments: [], choices: four })).toThrow(
      expect.objectContaining({ code: "bad_request", message: "WhatsApp offers 1 to 3 choices this way" }),
    );
    const sms = core.rows.find((r) => r.channel === "sms" && !core.contacts.get(r.contact_id)?.opted_out.length)!;
    expect(() => core.handle("send_reply", { conversation_id: sms.id, body: "Pick", attachments: [], choices })).toThrow(
      expect.objectContaining({ code: "bad_request", message: "SMS cannot carry buttons or lists" }),
    );
  });
});

describe("mockCore's knowledge base", () => {
  test("its Markdown stand-in escapes HTML and keeps only http(s) links", () => {
    const html = renderMarkdown("# Hi <b>\n\nA **b** [ok](https://x.test/a) [bad](javascript:alert(1))\n\n- one\n- two");
    expect(html).toBe(
      '<h2>Hi &lt;b&gt;</h2>\n<p>A <strong>b</strong> <a href="https://x.test/a">ok</a> [bad](javascript:alert(1))</p>\n<ul><li>one</li><li>two</li></ul>',
    );
  });

  test("saves refuse a stale version, stay pending while the hub is out of reach, and are for leads", () => {
    const core = new MockCore({ conversations: 10, signedInAs: "lena@demo.switchboard" });
    const draft = { key: "returns", version: 1, title: "Returns", body: "x", tags: [], locale: "en", collection: "", status: "published" };
    expect(() => core.handle("save_article", { draft })).toThrow(expect.objectContaining({ code: "conflict" }));
    core.hubReachable = false;
    expect(core.handle("save_article", { draft: { ...draft, version: 2 } })).toBe("returns");
    expect((core.handle("article", { key: "returns" }) as ArticleEntry).pending).toBe(true);
    expect(() => core.handle("article_versions", { article_id: 1 })).toThrow(expect.objectContaining({ code: "unavailable" }));
    const made = core.handle("save_article", { draft: { ...draft, key: null, version: null, title: "Returns" } });
    expect(made).toBe("returns-2");
    core.signIn("ada@demo.switchboard");
    expect(() => core.handle("save_article", { draft: { ...draft, version: 3 } })).toThrow(expect.objectContaining({ code: "forbidden" }));
  });

  test("insertion is the text on SMS and a link elsewhere; suggestions follow the customer's last message", () => {
    const core = new MockCore({ conversations: 200, signedInAs: "ada@demo.switchboard" });
    const sms = core.rows.find((r) => r.channel === "sms")!;
    const chat = core.rows.find((r) => r.channel === "webchat")!;
    const insert = (row: { id: number }, how: string | null) => core.handle("article_insertion", { conversation_id: row.id, article_id: 5, how });
    expect(insert(sms, null)).toMatch(/^Resetting your password\n\nOn the sign-in page choose Forgot password\./);
    expect(insert(chat, null)).toBe("Resetting your password: https://help.northwind.example/help/articles/reset-password");
    expect(insert(sms, "link")).toBe(insert(chat, null));
    core.customerWrites(chat.id, "My password reset email never arrived.");
    const hits = core.handle("suggested_articles", { conversation_id: chat.id }) as ArticleHit[];
    expect(hits.map((h) => h.key)).toEqual(["reset-password"]);
    expect((core.handle("articles", { query: "" }) as ArticleHit[]).some((h) => h.status === "draft")).toBe(true);
  });

  test("a hit carries the help centre's address when published and none as a draft; a draft is not linked", () => {
    const core = new MockCore({ conversations: 200, signedInAs: "lena@demo.switchboard" });
    const hits = core.handle("articles", { query: "" }) as ArticleHit[];
    const hit = (key: string) => hits.find((h) => h.key === key)!;
    expect(hit("returns").url).toBe("https://help.northwind.example/help/articles/returns");
    expect(hit("gift-cards").status).toBe("draft");
    expect(hit("gift-cards").url).toBeNull();
    const chat = core.rows.find((r) => r.channel === "webchat")!;
    const gift = core.articles.find((a) => a.key === "gift-cards")!;
    expect(() => core.handle("article_insertion", { conversation_id: chat.id, article_id: gift.id, how: "link" })).toThrow(
      expect.objectContaining({ code: "bad_request" }),
    );
    core.changeArticleElsewhere("gift-cards", { status: "published" });
    const published = (core.handle("articles", { query: "gift" }) as ArticleHit[]).find((h) => h.key === "gift-cards")!;
    expect(published.url).toBe("https://help.northwind.example/help/articles/gift-cards");
    expect(core.handle("article_insertion", { conversation_id: chat.id, article_id: gift.id, how: "link" })).toBe(
      "Paying with gift cards: https://help.northwind.example/help/articles/gift-cards",
    );
  });
});
