// The reports screen's own arithmetic: the period presets counted back from today's local
// date, why a custom period cannot be asked for (before the hub refuses it), the query sent,
// and the overall share of response targets met. What a report counts is the hub's.
import { t } from "./i18n.svelte";
import type { ReportQuery, SlaAttainment } from "./protocol";

export type Preset = "7d" | "30d" | "90d" | "12m";

/** The presets, each labelled in the language in force. */
export const PRESETS: ReadonlyArray<{ id: Preset; readonly label: string }> = (["7d", "30d", "90d", "12m"] as const).map((id) => ({
  id,
  get label() {
    return t(`reports.preset.${id}`);
  },
}));

/** The longest period a report covers, in days (the hub's limit). */
export const MAX_REPORT_DAYS = 366;

const DAY_MS = 86_400_000;

/** A local calendar date as `YYYY-MM-DD`. */
export function isoDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** The period a preset names: it ends today (`today`'s local date, included). */
export function presetPeriod(preset: Preset, today: Date): { from: string; to: string } {
  const y = today.getFullYear();
  const m = today.getMonth();
  const d = today.getDate();
  const back = (days: number) => new Date(y, m, d - days);
  // Twelve months: from the day after this date a year ago (local calendar arithmetic).
  const from = preset === "7d" ? back(6) : preset === "30d" ? back(29) : preset === "90d" ? back(89) : new Date(y - 1, m, d + 1);
  return { from: isoDate(from), to: isoDate(new Date(y, m, d)) };
}

/** The day number of a `YYYY-MM-DD` that names a real date, else null. */
function dayNumber(value: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = Date.UTC(y, mo - 1, d);
  const back = new Date(t);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return null;
  return Math.round(t / DAY_MS);
}

/** How many days a period covers, both ends included; null when either end is not a date. */
export function periodDays(from: string, to: string): number | null {
  const a = dayNumber(from);
  const b = dayNumber(to);
  return a === null || b === null ? null : b - a + 1;
}

/** Why a period cannot be reported, in words for the form; null when it can. */
export function periodProblem(from: string, to: string): string | null {
  if (!from || !to) return t("reports.problem.days");
  const days = periodDays(from, to);
  if (days === null) return t("reports.problem.format");
  if (days < 1) return t("reports.problem.order");
  if (days > MAX_REPORT_DAYS) return t("reports.problem.tooLong", { most: MAX_REPORT_DAYS, days });
  return null;
}

/** The query for a period and a team (null: all the lead's teams). */
export function reportQuery(from: string, to: string, teamId: number | null): ReportQuery {
  return teamId === null ? { from, to } : { from, to, team_id: teamId };
}

/** The share of every response target in the report that was met, or null when none was due. */
export function slaShare(sla: readonly SlaAttainment[]): number | null {
  let met = 0;
  let due = 0;
  for (const s of sla) {
    met += s.met;
    due += s.met + s.missed;
  }
  return due > 0 ? met / due : null;
}

/** The index of the largest value (the first of equals), or null when every value is zero. */
export function busiest(values: readonly number[]): number | null {
  let top: number | null = null;
  values.forEach((v, i) => {
    if (v > 0 && (top === null || v > (values[top] ?? 0))) top = i;
  });
  return top;
}
