// Table tests for the campaigns screen's logic: the actions each state allows, progress,
// placeholders, what the form lacks before a check, the spec it sends, when a check still
// speaks for the form, and the hub being out of reach.
import { describe, expect, test } from "vitest";
import { inbox } from "../test/fixtures";
import {
  actionOf,
  actionsFor,
  buildSpec,
  campaignInboxes,
  capProblem,
  checkKey,
  checkPassed,
  conditionProblem,
  createBlocker,
  csvHeader,
  emptyForm,
  filterLabel,
  formProblems,
  hoursProblem,
  isUnreachable,
  placeholderCount,
  progress,
  scheduleProblem,
  type CampaignForm,
  type FormProblems,
} from "./campaigns";
import type { AudienceCheck, CampaignCounts, CampaignState, Condition } from "./protocol";

const templates = [
  { name: "order_update", language: "en_US", body: "Hi {{1}}, your order {{2}} has shipped." },
  { name: "news", language: "en_US", body: "Our spring news is out." },
];
const whatsapp = inbox(2, "whatsapp", "WhatsApp · Northwind", 1, { templates });
const email = inbox(7, "email", "support@northwind.example", 1, { templates: [{ name: "news", language: "en", body: "Hello {{1}}" }] });
const sms = inbox(1, "sms", "SMS", 1);
const inboxes = [whatsapp, email, sms];

const form = (extra: Partial<CampaignForm> = {}): CampaignForm => ({
  ...emptyForm(),
  name: "Spring offers",
  inboxId: 2,
  template: "order_update",
  csv: "phone,1,2\n+14155550100,Ana,#42\n",
  ...extra,
});

describe("actionsFor", () => {
  test.each<[CampaignState, string[]]>([
    ["draft", ["send_now", "schedule", "cancel"]],
    ["scheduled", ["unschedule", "cancel"]],
    ["running", ["pause", "cancel"]],
    ["paused", ["resume", "cancel"]],
    ["done", []],
    ["cancelled", []],
  ])("%s", (state, actions) => {
    expect(actionsFor(state)).toEqual(actions);
  });
});

describe("actionOf", () => {
  test.each([
    ["send_now", 1000, null, { action: "schedule", at: 1000 }],
    ["schedule", 1000, 5000, { action: "schedule", at: 5000 }],
    ["unschedule", 1000, null, { action: "unschedule" }],
    ["pause", 1000, null, { action: "pause" }],
    ["resume", 1000, null, { action: "resume" }],
    ["cancel", 1000, null, { action: "cancel" }],
  ] as const)("%s", (command, now, at, action) => {
    expect(actionOf(command, now, at)).toEqual(action);
  });
});

describe("progress", () => {
  const counts = (extra: Partial<CampaignCounts>): CampaignCounts => ({
    total: 0,
    queued: 0,
    sent: 0,
    delivered: 0,
    read: 0,
    replied: 0,
    failed: 0,
    skipped: 0,
    ...extra,
  });
  test.each<[string, Partial<CampaignCounts>, number]>([
    ["nobody to send to", {}, 0],
    ["nothing sent yet", { total: 10, queued: 10 }, 0],
    ["sent, delivered, read and replied count", { total: 10, sent: 1, delivered: 2, read: 1, replied: 1, queued: 5 }, 0.5],
    ["failed and skipped do not", { total: 4, failed: 2, skipped: 1, sent: 1 }, 0.25],
    ["all sent", { total: 3, delivered: 3 }, 1],
    ["never above 1", { total: 1, sent: 2 }, 1],
  ])("%s", (_name, c, share) => {
    expect(progress(counts(c))).toBeCloseTo(share);
  });
});

describe("placeholderCount", () => {
  test.each<[string, number]>([
    ["No placeholders.", 0],
    ["Hi {{1}}", 1],
    ["Hi {{1}}, your order {{2}} has shipped.", 2],
    ["{{2}} then {{1}}", 2],
    ["Only {{2}}", 0],
    ["{{1}} {{1}} {{3}}", 1],
  ])("%s", (body, n) => {
    expect(placeholderCount(body)).toBe(n);
  });
});

test("campaignInboxes: only channels that write first", () => {
  const all = [sms, whatsapp, inbox(3, "messenger", "M", 1), inbox(4, "instagram", "I", 1), inbox(5, "webchat", "W", 1), inbox(6, "in_app", "A", 1), email];
  expect(campaignInboxes(all).map((i) => i.kind)).toEqual(["sms", "whatsapp", "messenger", "instagram", "email"]);
});

test.each([
  ["sms", 2, "phone,name,time_zone,1,2"],
  ["whatsapp", 0, "phone,name,time_zone"],
  ["email", 1, "email,name,time_zone,1"],
  ["messenger", 1, "address,name,time_zone,1"],
] as const)("csvHeader %s with %d placeholders", (kind, n, header) => {
  expect(csvHeader(kind, n)).toBe(header);
});

describe("formProblems", () => {
  test.each<[string, Partial<CampaignForm>, FormProblems]>([
    ["a complete CSV campaign", {}, {}],
    ["no name", { name: "  " }, { name: "Name the campaign." }],
    ["a name too long", { name: "x".repeat(201) }, { name: "A campaign's name has at most 200 characters." }],
    ["no inbox", { inboxId: null }, { inbox: "Choose the inbox to send from." }],
    ["an inbox not offered", { inboxId: 99 }, { inbox: "Choose the inbox to send from." }],
    ["no template", { template: "" }, { template: "Choose the template to send." }],
    ["an inbox without templates", { inboxId: 1, template: "" }, { template: "This inbox has no approved templates: campaigns send approved templates only." }],
    ["email without a subject", { inboxId: 7, template: "news" }, { subject: "An email campaign needs a subject." }],
    ["email with a subject", { inboxId: 7, template: "news", subject: "Spring" }, {}],
    ["no file", { csv: " \n" }, { audience: "Choose the audience file (CSV)." }],
    ["a filter with its fields", { audience: "filter", conditions: [{ field: "city", op: "equals", value: "Lisbon" }], params: ["name", "crm.order"] }, {}],
    ["a filter without conditions", { audience: "filter", conditions: [], params: ["name", "crm.order"] }, { conditions: "Add at least one condition." }],
    [
      "a condition without a value",
      { audience: "filter", conditions: [{ field: "city", op: "present", value: "" }, { field: "plan", op: "contains", value: " " }], params: ["name", "x"] },
      { conditions: "Condition 2: give a value." },
    ],
    ["a placeholder without its field", { audience: "filter", conditions: [{ field: "city", op: "present", value: "" }], params: ["name"] }, { params: "Name the contact field for every placeholder." }],
    ["a template without placeholders needs no fields", { audience: "segment", segmentId: 1, template: "news", params: [] }, {}],
    ["no segment", { audience: "segment", segmentId: null, params: ["name", "plan"] }, { audience: "Choose a saved segment." }],
    ["half the allowed hours", { hoursFrom: "09:00" }, { hours: "Give both ends of the allowed hours, or neither." }],
    ["allowed hours", { hoursFrom: "09:00", hoursTo: "20:00" }, {}],
    ["no cap", { capMessages: null }, { cap: "The frequency cap is a whole number of messages (1 or more) in a whole number of days (1 or more)." }],
  ])("%s", (_name, extra, problems) => {
    expect(formProblems(form(extra), inboxes)).toEqual(problems);
  });
});

test.each<[string, string, string | null]>([
  ["", "", null],
  ["09:00", "20:00", null],
  ["22:00", "06:00", null],
  ["09:00", "", "Give both ends of the allowed hours, or neither."],
  ["", "20:00", "Give both ends of the allowed hours, or neither."],
  ["9", "20:00", "Write the hours as HH:MM, e.g. 09:00."],
  ["25:00", "20:00", "Write the hours as HH:MM, e.g. 09:00."],
  ["09:00", "09:00", "The allowed hours must not start and end at the same time."],
])("hoursProblem %s–%s", (from, to, problem) => {
  expect(hoursProblem(from, to)).toBe(problem);
});

test.each<[number | null, number | null, boolean]>([
  [2, 7, true],
  [1, 1, true],
  [0, 7, false],
  [2, 0, false],
  [1.5, 7, false],
  [null, 7, false],
  [2, 366, false],
])("capProblem %s in %s", (messages, days, ok) => {
  expect(capProblem(messages, days) === null).toBe(ok);
});

test.each<[Condition, string | null]>([
  [{ field: "city", op: "equals", value: "Lisbon" }, null],
  [{ field: "crm.plan", op: "present", value: "" }, null],
  [{ field: "", op: "present", value: "" }, "name the field"],
  [{ field: "crm.", op: "absent", value: "" }, "name the CRM field after crm."],
  [{ field: "name", op: "not_equals", value: "" }, "give a value"],
])("conditionProblem %j", (c, problem) => {
  expect(conditionProblem(c)).toBe(problem);
});

test("filterLabel", () => {
  expect(filterLabel({ conditions: [] })).toBe("every contact");
  expect(
    filterLabel({
      conditions: [
        { field: "city", op: "equals", value: "Lisbon" },
        { field: "crm.plan", op: "present", value: "" },
      ],
    }),
  ).toBe("city is “Lisbon” and crm.plan is filled in");
});

describe("buildSpec", () => {
  test("a CSV campaign: no subject off email, the cap given, no hours or zone when empty, no time for a check", () => {
    expect(buildSpec(form(), inboxes)).toEqual({
      name: "Spring offers",
      inbox_id: 2,
      template: "order_update",
      purpose: "marketing",
      audience: { kind: "csv", csv: "phone,1,2\n+14155550100,Ana,#42\n" },
      frequency_cap: { messages: 2, days: 7 },
    });
  });

  test("an email campaign to a filter, scheduled, with hours, zone and purpose", () => {
    const f = form({
      name: "  News ",
      inboxId: 7,
      template: "news",
      subject: " Spring news ",
      purpose: "service",
      audience: "filter",
      conditions: [
        { field: " city ", op: "equals", value: " Lisbon " },
        { field: "crm.plan", op: "present", value: "left over" },
      ],
      params: [" name ", "ignored: the template takes one"],
      hoursFrom: "09:00",
      hoursTo: "20:00",
      timeZone: " Europe/Lisbon ",
      capMessages: 1,
      capDays: 3,
    });
    expect(buildSpec(f, inboxes, 1_700_000_000_000)).toEqual({
      name: "News",
      inbox_id: 7,
      template: "news",
      subject: "Spring news",
      purpose: "service",
      audience: {
        kind: "filter",
        filter: {
          conditions: [
            { field: "city", op: "equals", value: "Lisbon" },
            { field: "crm.plan", op: "present", value: "" },
          ],
        },
        params: ["name"],
      },
      scheduled_at: 1_700_000_000_000,
      allowed_hours: { from: "09:00", to: "20:00" },
      time_zone: "Europe/Lisbon",
      frequency_cap: { messages: 1, days: 3 },
    });
  });

  test("a segment: its id and one field per placeholder", () => {
    expect(buildSpec(form({ audience: "segment", segmentId: 4, params: ["name", "crm.order"] }), inboxes).audience).toEqual({
      kind: "segment",
      segment_id: 4,
      params: ["name", "crm.order"],
    });
  });
});

describe("checkKey and createBlocker", () => {
  const clean: AudienceCheck = { rows: 2, valid: 2, problems: [], more_problems: 0, preview: [] };
  const key = checkKey(buildSpec(form(), inboxes));

  test("the name and the time change nothing a check finds; the rest does", () => {
    expect(checkKey(buildSpec(form({ name: "Other" }), inboxes, 5))).toBe(key);
    expect(checkKey(buildSpec(form({ csv: "phone,1,2\n+14155550101,Ben,#43\n" }), inboxes))).not.toBe(key);
    expect(checkKey(buildSpec(form({ purpose: "service" }), inboxes))).not.toBe(key);
    expect(checkKey(buildSpec(form({ capDays: 8 }), inboxes))).not.toBe(key);
  });

  test("a token may stand for the audience file", () => {
    const spec = buildSpec(form(), inboxes);
    expect(checkKey(spec, "file 1")).toBe(checkKey(buildSpec(form({ csv: "other" }), inboxes), "file 1"));
    expect(checkKey(spec, "file 1")).not.toBe(checkKey(spec, "file 2"));
    expect(spec.audience).toEqual({ kind: "csv", csv: "phone,1,2\n+14155550100,Ana,#42\n" });
    const filter = buildSpec(form({ audience: "filter", conditions: [{ field: "a", op: "present", value: "" }], params: ["x", "y"] }), inboxes);
    expect(checkKey(filter, "file 1")).toBe(checkKey(filter));
  });

  test.each<[string, AudienceCheck | null, string | null, string | null, string | null]>([
    ["no check yet", null, null, key, "Check the audience before you save or send the campaign."],
    ["a clean check of these inputs", clean, key, key, null],
    ["the inputs changed", clean, key, "other", "The campaign changed since its audience was checked: check it again."],
    ["the inputs are incomplete now", clean, key, null, "The campaign changed since its audience was checked: check it again."],
    [
      "problems",
      { ...clean, valid: 1, problems: [{ row: 3, column: "phone", problem: "no phone number" }] },
      key,
      key,
      "Fix the problems in the audience, then check it again.",
    ],
    ["more problems than listed", { ...clean, more_problems: 4 }, key, key, "Fix the problems in the audience, then check it again."],
    ["nobody to send to", { ...clean, valid: 0 }, key, key, "No one in this audience can be sent to."],
  ])("%s", (_name, check, checked, current, blocker) => {
    expect(createBlocker(check, checked, current)).toBe(blocker);
    if (check) expect(checkPassed(check)).toBe(check.problems.length === 0 && check.more_problems === 0 && check.valid > 0);
  });
});

test.each<[number | null, string | null]>([
  [null, "Choose the day and time to send."],
  [999, "Choose a time in the future (or Send now)."],
  [1000, "Choose a time in the future (or Send now)."],
  [1001, null],
])("scheduleProblem at %s", (at, problem) => {
  expect(scheduleProblem(at, 1000)).toBe(problem);
});

test.each<[unknown, boolean]>([
  [{ code: "unavailable", message: "the hub cannot be reached: connection refused" }, true],
  [{ code: "offline", message: "the hub can't be reached" }, true],
  [{ code: "unavailable", message: "the disk is full" }, false],
  [{ code: "bad_request", message: "no" }, false],
  [new Error("boom"), false],
  [null, false],
])("isUnreachable %j", (e, unreachable) => {
  expect(isUnreachable(e)).toBe(unreachable);
});
