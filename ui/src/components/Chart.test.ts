// The chart wrapper's life: made once the canvas can draw, updated in place when its data
// changes, destroyed with the component; and where a canvas cannot draw (jsdom) only the
// labelled canvas and its summary remain. Chart.js itself is replaced by a recorder.
import { cleanup, render, screen } from "@testing-library/svelte";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import Chart from "./Chart.svelte";

type Data = { labels: string[]; datasets: Array<{ data: number[] }> };
/** Every chart made, as the component left it. */
const made = vi.hoisted(() => [] as Array<{ type: string; data: Data; update: () => void; destroy: () => void }>);

vi.mock("chart.js", () => {
  class FakeChart {
    static defaults = { font: { family: "sans-serif" } };
    static register = vi.fn();
    type: string;
    data: unknown;
    options: unknown;
    update = vi.fn();
    destroy = vi.fn();
    constructor(_ctx: unknown, config: { type: string; data: unknown; options: unknown }) {
      this.type = config.type;
      this.data = config.data;
      this.options = config.options;
      made.push(this as never);
    }
  }
  const piece = {};
  return {
    Chart: FakeChart,
    BarController: piece,
    BarElement: piece,
    CategoryScale: piece,
    Legend: piece,
    LinearScale: piece,
    LineController: piece,
    LineElement: piece,
    PointElement: piece,
    Tooltip: piece,
  };
});

const props = {
  kind: "line" as const,
  labels: ["Mon", "Tue"],
  series: [{ label: "Conversations", data: [3, 5], color: "accent" }],
  label: "Conversations by day",
  summary: "8 conversations over 2 days.",
  testid: "chart-test",
};

beforeEach(() => {
  made.length = 0;
});

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

describe("Chart", () => {
  test("is made on mount, updated in place and destroyed on unmount", async () => {
    vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockReturnValue({} as never);
    const { rerender, unmount } = render(Chart, props);
    expect(made).toHaveLength(1);
    const chart = made[0]!;
    expect(chart.type).toBe("line");
    expect(chart.data.labels).toEqual(["Mon", "Tue"]);

    await rerender({ ...props, labels: ["Mon", "Tue", "Wed"], series: [{ label: "Conversations", data: [3, 5, 8], color: "accent" }] });
    expect(made).toHaveLength(1);
    expect(chart.update).toHaveBeenCalled();
    expect(chart.data.labels).toEqual(["Mon", "Tue", "Wed"]);
    expect(chart.data.datasets[0]!.data).toEqual([3, 5, 8]);

    unmount();
    expect(chart.destroy).toHaveBeenCalledTimes(1);
  });

  test("without a 2D context it draws nothing and keeps its label and summary", () => {
    vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockReturnValue(null);
    render(Chart, props);
    expect(made).toHaveLength(0);
    const canvas = screen.getByTestId("chart-test");
    expect(canvas.tagName).toBe("CANVAS");
    expect(canvas.getAttribute("aria-label")).toBe("Conversations by day");
    expect(screen.getByRole("img", { name: "Conversations by day" })).toBe(canvas);
    const summary = document.getElementById(canvas.getAttribute("aria-describedby")!);
    expect(summary?.textContent).toBe("8 conversations over 2 days.");
  });
});
