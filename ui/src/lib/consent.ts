// A customer's consent as the profile sidebar shows it: for each of their addresses, where
// it stands for each purpose (service messages, marketing) with where the latest record came
// from, and what an agent's reason for changing it must be. Pure: the sidebar passes the
// agents' names in.
//
// The hub keeps a withdrawn `service` as the address's opt-out (STOP withdraws both purposes;
// START grants service only), and an opt-out stops every message whatever marketing says.
// Opt-outs older than the consent records have no record: they still show as withdrawn.
import { formatCount } from "./format";
import { labels, t } from "./i18n.svelte";
import type { ChannelKind, Consent, ConsentPurpose, Contact } from "./protocol";

export const CONSENT_PURPOSES: readonly ConsentPurpose[] = ["service", "marketing"];

export const PURPOSE_LABEL: Record<ConsentPurpose, string> = labels(CONSENT_PURPOSES, (p) => `consent.purpose.${p}`);

export type ConsentState = "granted" | "withdrawn" | "not_recorded";

export const STATE_LABEL: Record<ConsentState, string> = labels(
  ["granted", "withdrawn", "not_recorded"],
  (s) => `consent.state.${s}`,
);

/** The longest reason the hub keeps (`Consent::MAX_TEXT`), in characters. */
export const REASON_MAX = 1000;

/** One purpose at one address. */
export type ConsentLine = {
  purpose: ConsentPurpose;
  /** "Service messages", "Marketing". */
  label: string;
  state: ConsentState;
  /** "Granted", "Withdrawn", "Not recorded". */
  stateLabel: string;
  /** Where it came from: "by keyword “STOP”", "by Ada Agent — asked on the phone",
   *  "unsubscribe link"; null when nothing is recorded. */
  source: string | null;
  /** When the record was made; null without one. */
  at: number | null;
  /** The record's evidence in full (for a tooltip); null without one. */
  evidence: string | null;
  /** The address is opted out, so nothing is sent for this purpose whatever it says. */
  overridden: boolean;
};

/** One address of the customer with its consent. */
export type IdentityConsent = {
  channel: ChannelKind;
  address: string;
  /** Nothing may be sent here: opted out, or service withdrawn. */
  optedOut: boolean;
  /** One per purpose, service first. */
  lines: ConsentLine[];
};

/** Resolves an agent's id to their name (the directory's), or null when unknown. */
export type AgentNames = (id: number) => string | null;

/** Where a record came from, in a few words. */
export function consentSource(c: Consent, agentName: AgentNames): string {
  const evidence = c.evidence.trim();
  const plus = (what: string, text: string | null | undefined) =>
    text?.trim() ? t("consent.source.plus", { what, text: text.trim() }) : what;
  switch (c.source) {
    case "keyword":
      return evidence ? t("consent.source.keywordSaid", { keyword: evidence }) : t("consent.source.keyword");
    case "agent": {
      const who = (c.by_agent_id != null ? agentName(c.by_agent_id) : null) ?? t("consent.source.anAgent");
      return plus(t("consent.source.by", { who }), c.reason ?? evidence);
    }
    case "unsubscribe":
      return t("consent.source.unsubscribe");
    case "import":
      return plus(t("consent.source.import"), evidence);
    case "api":
      return plus(t("consent.source.api"), evidence);
  }
}

/** The latest record for one address and purpose (the hub sends only the latest; the
 *  newest wins should two arrive). */
function latest(consents: readonly Consent[], channel: ChannelKind, address: string, purpose: ConsentPurpose): Consent | null {
  let found: Consent | null = null;
  for (const c of consents) {
    if (c.channel !== channel || c.address !== address || c.purpose !== purpose) continue;
    if (!found || c.at >= found.at) found = c;
  }
  return found;
}

function line(purpose: ConsentPurpose, state: ConsentState, record: Consent | null, source: string | null, overridden: boolean): ConsentLine {
  return {
    purpose,
    label: PURPOSE_LABEL[purpose],
    state,
    stateLabel: STATE_LABEL[state],
    source,
    at: record?.at ?? null,
    evidence: record?.evidence.trim() || null,
    overridden,
  };
}

/** Each of the customer's addresses, in their order, with its consent per purpose. */
export function consentRows(contact: Contact, agentName: AgentNames): IdentityConsent[] {
  const consents = contact.consents ?? [];
  return contact.identities.map(({ channel, address }) => {
    const listed = contact.opted_out.some((o) => o.channel === channel && o.address === address);
    const service = latest(consents, channel, address, "service");
    const optedOut = listed || service?.granted === false;
    const lines = CONSENT_PURPOSES.map((purpose) => {
      const record = purpose === "service" ? service : latest(consents, channel, address, purpose);
      if (purpose === "service" && optedOut && record?.granted !== false) {
        // Opted out with no withdrawal on record (an opt-out older than the records), or one
        // the latest grant has not reached yet: the opt-out is what every send checks.
        return line(purpose, "withdrawn", null, record ? t("consent.source.optedOut") : t("consent.source.optedOutNoRecord"), false);
      }
      if (!record) return line(purpose, "not_recorded", null, null, optedOut);
      const state: ConsentState = record.granted ? "granted" : "withdrawn";
      return line(purpose, state, record, consentSource(record, agentName), optedOut && record.granted);
    });
    return { channel, address, optedOut, lines };
  });
}

/** The length of a reason as the hub counts it: characters, without the spaces around it. */
export function reasonLength(text: string): number {
  return Array.from(text.trim()).length;
}

/** What is wrong with an agent's reason for recording consent, or null when it will do. */
export function reasonProblem(text: string): string | null {
  const n = reasonLength(text);
  if (n === 0) return t("consent.reason.empty");
  if (n > REASON_MAX) return t("consent.reason.tooLong", { most: formatCount(REASON_MAX), n: formatCount(n) });
  return null;
}
