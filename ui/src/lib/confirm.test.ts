import { afterEach, describe, expect, test, vi } from "vitest";
import { TwoPress } from "./confirm.svelte";

describe("TwoPress", () => {
  afterEach(() => vi.useRealTimers());

  test("acts on the second press only, within its window", () => {
    vi.useFakeTimers();
    const acted = vi.fn();
    const b = new TwoPress(acted, 4000);
    b.press();
    expect(b.armed).toBe(true);
    expect(acted).not.toHaveBeenCalled();
    b.press();
    expect(acted).toHaveBeenCalledTimes(1);
    expect(b.armed).toBe(false);
  });

  test("disarms when the window passes", () => {
    vi.useFakeTimers();
    const acted = vi.fn();
    const b = new TwoPress(acted, 4000);
    b.press();
    vi.advanceTimersByTime(4001);
    expect(b.armed).toBe(false);
    b.press();
    expect(acted).not.toHaveBeenCalled();
  });
});
