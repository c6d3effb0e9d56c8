// The console's formatting in each shipped language: durations, relative and compact ages,
// dates and times, counts, shares and sizes follow the language given (English keeps its
// fixed patterns; German and Arabic take `Intl`'s for their locale).
import { describe, expect, test } from "vitest";
import {
  clockTime,
  compactAge,
  dayLabel,
  formatBytes,
  formatCount,
  formatDecimal,
  formatDuration,
  formatPercent,
  fullTime,
  humanDuration,
  periodLabel,
  relativeAge,
  routeLabel,
  shortDate,
  slaChip,
  weekdayNames,
} from "./format";
import type { Locale } from "./language";

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;
const now = new Date(2024, 5, 15, 12, 0).getTime();
const march3 = new Date(2024, 2, 3, 14, 5).getTime();

/** A number as the language writes it (Arabic may use its own digits, by ICU version). */
const num = (locale: Locale, n: number) => new Intl.NumberFormat(locale).format(n);

describe("durations", () => {
  test.each<[Locale, number, string]>([
    ["en", 45 * S, "45s"],
    ["en", 3 * H + 12 * M, "3h 12m"],
    ["en", 2 * D + 4 * H, "2d 4h"],
    ["de", 45 * S, "45 s"],
    ["de", 12 * M, "12 min"],
    ["de", 3 * H + 12 * M, "3 h 12 min"],
    ["de", 2 * D, "2 T."],
  ])("compact %s %d → %s", (locale, ms, text) => expect(formatDuration(ms, locale)).toBe(text));

  test("compact in Arabic", () => {
    expect(formatDuration(12 * M, "ar")).toBe(`${num("ar", 12)} د`);
    expect(formatDuration(3 * H + 12 * M, "ar")).toBe(`${num("ar", 3)} س ${num("ar", 12)} د`);
  });

  test.each<[Locale, number, string]>([
    ["en", 4 * M, "4 min"],
    ["en", 80 * M, "1 h 20 min"],
    ["en", 51 * H, "2 d 3 h"],
    ["de", 4 * M, "4 Min."],
    ["de", 80 * M, "1 Std. 20 Min."],
    ["de", 24 * H, "1 Tag"],
    ["de", 51 * H, "2 Tage 3 Std."],
  ])("for reports %s %d → %s", (locale, ms, text) => expect(humanDuration(ms, locale)).toBe(text));

  test("for reports in Arabic", () => {
    expect(humanDuration(80 * M, "ar")).toBe(`${num("ar", 1)} ساعة و${num("ar", 20)} دقيقة`);
    expect(humanDuration(null, "ar")).toBe("—");
  });

  test.each<[Locale, string, string]>([
    ["en", "late 5m", "due in 12m"],
    ["de", "5 min überfällig", "fällig in 12 min"],
  ])("response-time chips in %s", (locale, late, due) => {
    expect(slaChip("breached", now - 5 * M, now, locale)?.text).toBe(late);
    expect(slaChip("ok", now + 12 * M, now, locale)?.text).toBe(due);
  });
});

describe("ages", () => {
  test.each<[Locale, number, string]>([
    ["en", 10 * S, "just now"],
    ["en", 5 * M, "5 min ago"],
    ["en", D, "1 day ago"],
    ["en", 3 * D, "3 days ago"],
    ["de", 10 * S, "gerade eben"],
    ["de", 5 * M, "vor 5 Min."],
    ["de", 3 * H, "vor 3 Std."],
    ["de", D, "vor 1 Tag"],
    ["de", 3 * D, "vor 3 Tagen"],
    ["ar", 10 * S, "الآن"],
    ["ar", M, "منذ دقيقة"],
    ["ar", 2 * D, "منذ يومين"],
  ])("relative %s %d → %s", (locale, ago, text) => expect(relativeAge(now - ago, now, locale)).toBe(text));

  test("relative in Arabic with its plural forms", () => {
    expect(relativeAge(now - 5 * M, now, "ar")).toBe(`منذ ${num("ar", 5)} دقائق`);
    expect(relativeAge(now - 3 * D, now, "ar")).toBe(`منذ ${num("ar", 3)} أيام`);
    expect(relativeAge(now - 11 * M, now, "ar")).toBe(`منذ ${num("ar", 11)} دقيقة`);
  });

  test.each<[Locale, number, string]>([
    ["en", 30 * S, "now"],
    ["en", 5 * M, "5m"],
    ["de", 30 * S, "jetzt"],
    ["de", 3 * H, "3 h"],
    ["de", 2 * D, "2 T."],
  ])("compact %s %d → %s", (locale, ago, text) => expect(compactAge(now - ago, now, locale)).toBe(text));

  test("after a week, a date in the language", () => {
    expect(relativeAge(march3, now, "de")).toBe("3. März");
    expect(relativeAge(march3, now, "ar")).toBe(new Intl.DateTimeFormat("ar", { day: "numeric", month: "short" }).format(march3));
  });
});

describe("dates and times", () => {
  test.each<[Locale, string, string]>([
    ["en", "3 Mar", "3 Mar 2022"],
    ["de", "3. März", "3. März 2022"],
  ])("short dates in %s", (locale, thisYear, otherYear) => {
    expect(shortDate(march3, now, locale)).toBe(thisYear);
    expect(shortDate(new Date(2022, 2, 3).getTime(), now, locale)).toBe(otherYear);
  });

  test("short dates in Arabic are Intl's", () => {
    expect(shortDate(march3, now, "ar")).toBe(new Intl.DateTimeFormat("ar", { day: "numeric", month: "short" }).format(march3));
    expect(shortDate(march3, now, "ar")).toContain("مارس");
  });

  test.each<[Locale, string, string, string]>([
    ["en", "Today", "Yesterday", "Thursday 13 Jun"],
    ["de", "Heute", "Gestern", "Donnerstag, 13. Juni"],
    ["ar", "اليوم", "أمس", new Intl.DateTimeFormat("ar", { weekday: "long", day: "numeric", month: "short" }).format(new Date(2024, 5, 13, 9))],
  ])("day separators in %s", (locale, today, yesterday, thursday) => {
    expect(dayLabel(new Date(2024, 5, 15, 0, 1).getTime(), now, locale)).toBe(today);
    expect(dayLabel(new Date(2024, 5, 14, 23, 59).getTime(), now, locale)).toBe(yesterday);
    expect(dayLabel(new Date(2024, 5, 13, 9).getTime(), now, locale)).toBe(thursday);
  });

  test("times are on a 24-hour clock in every language", () => {
    expect(clockTime(march3, "en")).toBe("14:05");
    expect(clockTime(march3, "de")).toBe("14:05");
    expect(clockTime(march3, "ar")).toBe(
      new Intl.DateTimeFormat("ar", { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(march3),
    );
  });

  test.each<[Locale, string]>([
    ["en", "3 Mar 2024, 14:05"],
    ["de", "3. März 2024, 14:05"],
  ])("full date and time in %s", (locale, text) => expect(fullTime(march3, locale)).toBe(text));

  test("full date and time in Arabic names the month in Arabic", () => {
    expect(fullTime(march3, "ar")).toContain("مارس");
  });

  test.each<[Locale, string]>([
    ["en", "1 Mar 2025 – 31 Mar 2025"],
    ["de", "1. März 2025 – 31. März 2025"],
  ])("report periods in %s", (locale, text) => expect(periodLabel("2025-03-01", "2025-03-31", now, locale)).toBe(text));

  test("weekdays start on Monday, in the language", () => {
    expect(weekdayNames("en")).toEqual(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]);
    expect(weekdayNames("de")[0]).toMatch(/^Mo\.?$/);
    expect(weekdayNames("ar")[0]).toBe(new Intl.DateTimeFormat("ar", { weekday: "short" }).format(new Date(2024, 0, 1)));
  });
});

describe("numbers", () => {
  test.each<[Locale, string, string, string, string]>([
    ["en", "1,200", "87%", "2.5", "1.2 MB"],
    ["de", "1.200", "87 %", "2,5", "1,2 MB"],
  ])("in %s", (locale, count, percent, decimal, bytes) => {
    expect(formatCount(1200, locale)).toBe(count);
    // German puts a no-break space before the sign.
    expect(formatPercent(0.87, locale).replace(/\s/g, " ")).toBe(percent);
    expect(formatDecimal(2.5, locale)).toBe(decimal);
    expect(formatBytes(1.2 * 1024 * 1024, locale)).toBe(bytes);
  });

  test("in Arabic, as Intl writes them", () => {
    expect(formatCount(1200, "ar")).toBe(new Intl.NumberFormat("ar", { maximumFractionDigits: 0 }).format(1200));
    expect(formatPercent(0.87, "ar")).toBe(new Intl.NumberFormat("ar", { style: "percent" }).format(0.87));
    expect(formatBytes(512, "ar")).toBe(`${num("ar", 512)} بايت`);
  });

  test("the reply route names the channel in the language", () => {
    expect(routeLabel({ channel: "email", address: "ana@example.com" }, "de")).toBe("Antworten über E-Mail (ana@example.com)");
    expect(routeLabel({ channel: "whatsapp", address: "+1415" }, "ar")).toBe("الرد عبر واتساب (+1415)");
  });
});
