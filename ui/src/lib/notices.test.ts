import { describe, expect, test } from "vitest";
import { isolate, MAX_IN_APP, noticeText, notificationTrouble, platformOf, troubleHelp } from "./notices";
import type { Notification } from "./protocol";

describe("notices", () => {
  test("the system's error in plain words", () => {
    const cases: Array<[string, string]> = [
      [
        "org.freedesktop.DBus.Error.ServiceUnknown: The name org.freedesktop.Notifications was not provided by any .service files",
        "no notification service is running on this desktop",
      ],
      ["org.freedesktop.DBus.Error.NoReply: Did not receive a reply", "the desktop's notification service did not answer"],
      ["Notifications are not allowed for this application", "notifications are turned off for Switchboard in the system settings"],
      ["  something\n  odd  ", "something odd"],
      ["", "the system gave no reason"],
      ["x".repeat(400), `${"x".repeat(159)}…`],
    ];
    for (const [reason, plain] of cases) expect(notificationTrouble(reason), reason).toBe(plain);
  });

  test("a customer's text is isolated, its own direction controls removed", () => {
    const rtlOverride = "Eve\u202Eevil";
    expect(isolate(rtlOverride)).toBe("\u2068Eveevil\u2069");
    expect(isolate("سارة")).toBe("\u2068سارة\u2069");
    expect(`Reply to ${isolate("A\u2066B\u2069C")} on SMS`).toBe("Reply to \u2068ABC\u2069 on SMS");
  });

  test("each kind of notification as a title and a line", () => {
    const reply: Notification = { kind: "reply", conversation_id: 1, message_id: 2, contact_name: "Ana", channel: "whatsapp", text: "Hi" };
    expect(noticeText(reply)).toEqual({ title: "New message", customer: "Ana", channel: "WhatsApp", text: "Hi" });
    const assigned: Notification = { kind: "assigned", conversation_id: 1, contact_name: "Ana", channel: "sms", text: "Hi", by: "Lee" };
    expect(noticeText(assigned).title).toBe("Assigned to you by Lee");
    expect(noticeText({ ...assigned, by: null }).title).toBe("Assigned to you");
    const sla: Notification = { kind: "sla", conversation_id: 1, contact_name: "Ana", channel: "email", due_at: 0, breached: true };
    expect(noticeText(sla)).toEqual({ title: "Response target missed", customer: "Ana", channel: "Email", text: "" });
    const summary: Notification = { kind: "summary", customers: 2, messages: 3, assigned: 0, missed: 1 };
    expect(noticeText(summary)).toEqual({
      title: "While you were away",
      customer: null,
      channel: null,
      text: "Customers replied: 2 · Response targets missed: 1",
    });
    expect(MAX_IN_APP).toBeGreaterThan(0);
  });

  test("help for each platform", () => {
    expect(platformOf("Mozilla/5.0 (Windows NT 10.0; Win64; x64)")).toBe("windows");
    expect(platformOf("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0)")).toBe("macos");
    expect(platformOf("Mozilla/5.0 (X11; Linux x86_64)")).toBe("linux");
    expect(troubleHelp("linux")).toContain("notification service");
    expect(troubleHelp("windows")).toContain("Settings");
    expect(troubleHelp("macos")).toContain("System Settings");
  });
});
