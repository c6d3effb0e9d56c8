// A customer's consent per address and purpose as the sidebar shows it: the state, where the
// latest record came from, the opt-out agreeing with a withdrawn service, and the reason an
// agent must give.
import { describe, expect, test } from "vitest";
import { consentRows, consentSource, reasonLength, reasonProblem, REASON_MAX, type ConsentLine } from "./consent";
import type { Consent, Contact, Identity } from "./protocol";

const SMS: Identity = { channel: "sms", address: "+14155550123" };
const MAIL: Identity = { channel: "email", address: "ben@example.com" };
const AT = 1_700_000_000_000;

function record(extra: Partial<Consent> = {}): Consent {
  return { ...SMS, purpose: "marketing", granted: true, source: "import", evidence: "", at: AT, ...extra };
}

function contact(consents: Consent[], opted_out: Identity[] = [], identities: Identity[] = [SMS]): Contact {
  return { id: 1, name: "Ben Okafor", identities, profile: {}, crm: null, opted_out, consents, created_at: 0, updated_at: 0, version: 1 };
}

const names = (id: number) => (id === 7 ? "Maya Okafor" : null);

/** The lines of the first address, as [purpose, state, source, overridden]. */
function lines(c: Contact): Array<[string, string, string | null, boolean]> {
  const row = consentRows(c, names)[0];
  return (row?.lines ?? []).map((l: ConsentLine) => [l.purpose, l.stateLabel, l.source, l.overridden]);
}

describe("consentSource", () => {
  test.each<[string, Partial<Consent>, string]>([
    ["a keyword, in the customer's words", { source: "keyword", evidence: "STOP" }, "by keyword “STOP”"],
    ["a keyword without its word", { source: "keyword", evidence: "" }, "by keyword"],
    ["an agent, with their reason", { source: "agent", by_agent_id: 7, reason: "Asked on the phone", evidence: "Asked on the phone" }, "by Maya Okafor — Asked on the phone"],
    ["an agent the directory does not know", { source: "agent", by_agent_id: 99, reason: "Said so in chat" }, "by an agent — Said so in chat"],
    ["an agent without a reason falls back to the evidence", { source: "agent", by_agent_id: 7, reason: null, evidence: "note" }, "by Maya Okafor — note"],
    ["an unsubscribe link", { source: "unsubscribe", evidence: "https://example.com/u/abc" }, "unsubscribe link"],
    ["an import, with its file and row", { source: "import", evidence: "spring.csv row 12" }, "import — spring.csv row 12"],
    ["an import without evidence", { source: "import", evidence: " " }, "import"],
    ["the API", { source: "api", evidence: "" }, "API"],
    ["the API, with what it said", { source: "api", evidence: "CRM sync" }, "API — CRM sync"],
  ])("%s", (_, extra, want) => {
    expect(consentSource(record(extra), names)).toBe(want);
  });
});

describe("consentRows", () => {
  test.each<[string, Contact, Array<[string, string, string | null, boolean]>, boolean]>([
    [
      "nothing recorded",
      contact([]),
      [
        ["service", "Not recorded", null, false],
        ["marketing", "Not recorded", null, false],
      ],
      false,
    ],
    [
      "STOP withdraws both and opts out",
      contact(
        [record({ purpose: "service", granted: false, source: "keyword", evidence: "STOP" }), record({ granted: false, source: "keyword", evidence: "STOP" })],
        [SMS],
      ),
      [
        ["service", "Withdrawn", "by keyword “STOP”", false],
        ["marketing", "Withdrawn", "by keyword “STOP”", false],
      ],
      true,
    ],
    [
      "START resumes service only",
      contact([record({ purpose: "service", granted: true, source: "keyword", evidence: "START" }), record({ granted: false, source: "keyword", evidence: "STOP" })]),
      [
        ["service", "Granted", "by keyword “START”", false],
        ["marketing", "Withdrawn", "by keyword “STOP”", false],
      ],
      false,
    ],
    [
      "an agent grants marketing",
      contact([record({ source: "agent", by_agent_id: 7, reason: "Asked for offers by phone", evidence: "Asked for offers by phone" })]),
      [
        ["service", "Not recorded", null, false],
        ["marketing", "Granted", "by Maya Okafor — Asked for offers by phone", false],
      ],
      false,
    ],
    [
      "an opt-out older than the records still withdraws service, and overrides marketing",
      contact([record({ source: "import", evidence: "spring.csv row 3" })], [SMS]),
      [
        ["service", "Withdrawn", "opted out; no record of how", false],
        ["marketing", "Granted", "import — spring.csv row 3", true],
      ],
      true,
    ],
    [
      "an opt-out with nothing else recorded",
      contact([], [SMS]),
      [
        ["service", "Withdrawn", "opted out; no record of how", false],
        ["marketing", "Not recorded", null, true],
      ],
      true,
    ],
    [
      "a withdrawn service the opt-out list has not caught up with",
      contact([record({ purpose: "service", granted: false, source: "agent", by_agent_id: 7, reason: "Asked us to stop" })]),
      [
        ["service", "Withdrawn", "by Maya Okafor — Asked us to stop", false],
        ["marketing", "Not recorded", null, true],
      ],
      true,
    ],
    [
      "an opt-out beats a service grant the list has not caught up with",
      contact([record({ purpose: "service", granted: true, source: "api" })], [SMS]),
      [
        ["service", "Withdrawn", "opted out", false],
        ["marketing", "Not recorded", null, true],
      ],
      true,
    ],
    [
      "the newest of two records for a purpose holds",
      contact([record({ granted: false, source: "unsubscribe", at: AT + 1 }), record({ granted: true, source: "import", at: AT })]),
      [
        ["service", "Not recorded", null, false],
        ["marketing", "Withdrawn", "unsubscribe link", false],
      ],
      false,
    ],
    [
      "another address's records are not this one's",
      contact([record({ ...MAIL, granted: false, source: "unsubscribe" })], [MAIL], [SMS, MAIL]),
      [
        ["service", "Not recorded", null, false],
        ["marketing", "Not recorded", null, false],
      ],
      false,
    ],
  ])("%s", (_, c, want, optedOut) => {
    expect(lines(c)).toEqual(want);
    expect(consentRows(c, names)[0]?.optedOut).toBe(optedOut);
  });

  test("one row per address, in the customer's order, with the record's time and evidence", () => {
    const rows = consentRows(contact([record({ ...MAIL, granted: false, source: "unsubscribe", evidence: "https://x.test/u/1", at: AT + 5 })], [], [SMS, MAIL]), names);
    expect(rows.map((r) => `${r.channel}:${r.address}`)).toEqual(["sms:+14155550123", "email:ben@example.com"]);
    const marketing = rows[1]?.lines[1];
    expect(marketing).toMatchObject({ label: "Marketing", state: "withdrawn", at: AT + 5, evidence: "https://x.test/u/1" });
    expect(rows[1]?.lines[0]).toMatchObject({ label: "Service messages", state: "not_recorded", at: null, evidence: null });
  });
});

describe("the agent's reason", () => {
  test.each<[string, string, number, string | null]>([
    ["empty", "", 0, "Say why: what the customer said, and where."],
    ["only spaces", "   \n ", 0, "Say why: what the customer said, and where."],
    ["trimmed", "  On the phone  ", 12, null],
    ["at the limit", "x".repeat(REASON_MAX), REASON_MAX, null],
    ["characters, not UTF-16 units", "👍".repeat(REASON_MAX), REASON_MAX, null],
    ["over the limit", "x".repeat(REASON_MAX + 1), REASON_MAX + 1, "At most 1,000 characters (1,001 now)."],
  ])("%s", (_, text, length, problem) => {
    expect(reasonLength(text)).toBe(length);
    expect(reasonProblem(text)).toBe(problem);
  });
});
