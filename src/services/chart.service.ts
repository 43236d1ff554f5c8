import { createRequire } from "node:module";
import path from "node:path";
import { renderAsync } from "@resvg/resvg-js";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

/** The CJK-capable font every chart uses, shipped by npm so charts look the same on every machine. */
export const CHART_FONT_FAMILY = "Noto Sans SC";

/** Absolute path of the Noto Sans SC regular TTF inside node_modules. */
export function chartFontFile(): string {
  const require = createRequire(import.meta.url);
  const dir = path.dirname(require.resolve("@expo-google-fonts/noto-sans-sc/package.json"));
  return path.join(dir, "400Regular", "NotoSansSC_400Regular.ttf");
}

/** One day of the daily chart. */
export interface DailyPoint {
  /** YYYY-MM-DD. */
  day: string;
  /** GMV in major units (a bar). */
  gmv: number;
  /** Paid orders (a line). */
  orders: number;
  /** The day is not over (today): its bar is drawn lighter, with a dashed outline. */
  partial?: boolean;
  /** Its label on the day axis (default MM-DD), e.g. "11-26 (so far)" for a partial day. */
  label?: string;
  /** The day is before the shop's data begins: drawn empty (no bar, no point), not as a day without sales. */
  noData?: boolean;
}

/** Fill of the GMV bars; a partial day's bar is a lighter tint of it, outlined dashed. */
export const BAR_COLOUR = "#4C78A8";
export const PARTIAL_BAR_COLOUR = "#C6D6E8";
/** Colour of the paid-orders line, its points and its axis title. */
const LINE_COLOUR = "#F58518";

/** Texts drawn on the daily chart (already translated). */
export interface DailyChartLabels {
  title: string;
  /** A line under the title (days before the shop's data: why they are empty). */
  subtitle?: string;
  gmv: string;
  orders: string;
  day: string;
}

/**
 * Renders charts to PNG on the server: vega-lite spec → vega SVG → resvg PNG,
 * with the font file given explicitly and system fonts off (deterministic output).
 */
export class ChartService {
  private readonly fontFile: string;

  constructor(opts: { fontFile?: string } = {}) {
    this.fontFile = opts.fontFile ?? chartFontFile();
  }

  /** GMV bars and an orders line per day (two y axes). */
  async dailyPng(points: readonly DailyPoint[], labels: DailyChartLabels): Promise<Uint8Array> {
    return this.render(dailySpec(points, labels));
  }

  /** Renders any vega-lite spec to SVG text (what {@link render} turns into PNG). */
  async svg(spec: TopLevelSpec): Promise<string> {
    const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
    try {
      return await view.toSVG();
    } finally {
      view.finalize();
    }
  }

  /**
   * Renders any vega-lite spec to PNG bytes. Drawn off the event loop (resvg's worker thread):
   * loading the CJK font and rasterising take long enough that a synchronous render would hold
   * every other user's command and Slack's and Discord's 3-second acknowledgements behind it.
   */
  async render(spec: TopLevelSpec): Promise<Uint8Array> {
    const svg = await this.svg(spec);
    const png = (
      await renderAsync(svg, {
        font: { fontFiles: [this.fontFile], loadSystemFonts: false, defaultFontFamily: CHART_FONT_FAMILY },
        fitTo: { mode: "zoom", value: 1.5 },
      })
    ).asPng();
    return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
  }
}

/** The vega-lite spec of the 14-day chart: GMV bars, an orders line with its points, two y axes. */
export function dailySpec(points: readonly DailyPoint[], labels: DailyChartLabels): TopLevelSpec {
  // Short axis labels (MM-DD) keep 14 days readable at 720 px.
  const values = points.map((p, i) => ({
    d: p.label ?? p.day.slice(5),
    // A day before the shop's data has no value: no bar, no point, no label (null is left out).
    gmv: p.noData ? null : p.gmv,
    orders: p.noData ? null : p.orders,
    partial: p.partial === true,
    // A partial day and the day before it: the stretch of the orders line drawn dashed.
    tail: p.partial === true || points[i + 1]?.partial === true,
  }));
  const anyPartial = values.some((v) => v.partial);
  // Every day keeps its place on the axis, an empty one (before the shop's data) too.
  const x = { field: "d", type: "ordinal" as const, title: labels.day, axis: { labelAngle: -45 }, sort: null, scale: { domain: values.map((v) => v.d) } };
  // Whole orders, thousands grouped as on the GMV axis (1,200,000, not 1200000).
  // A fortnight without sales gets the scale 0–1, so its zeros lie at the bottom (a scale of
  // only 0 would draw them across the middle, as if there were sales).
  const zeroScale = (k: "gmv" | "orders") => (points.every((p) => p.noData || p[k] === 0) ? { scale: { domain: [0, 1] } } : {});
  // Each day's GMV written over its bar, so a quiet day beside a spike still reads (its bar is a
  // sliver): whole units grouped (1,017), or 3 significant digits with a suffix from a million (1.23M).
  const maxGmv = Math.max(0, ...points.map((p) => (p.noData ? 0 : p.gmv)));
  const gmvLabel = maxGmv >= 1_000_000 ? ".3~s" : ",.0f";
  const ordersY = { field: "orders", type: "quantitative" as const, title: labels.orders, ...zeroScale("orders"), axis: { titleColor: LINE_COLOUR, tickMinStep: 1, format: ",d" } };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: labels.subtitle ? { text: labels.title, subtitle: labels.subtitle } : labels.title,
    width: 640,
    height: 280,
    background: "white",
    data: { values },
    layer: [
      {
        // One GMV scale for the bars and the figures written over them.
        encoding: {
          x,
          // ",~f": thousands grouped, no trailing zeros (a quiet fortnight's only tick is "0", not "0.000000").
          // Without sales its scale is 0–1: whole units only (0 and 1, as the orders axis), not 0.2 … 1.
          y: { field: "gmv", type: "quantitative", title: labels.gmv, ...zeroScale("gmv"), axis: { format: ",~f", ...(zeroScale("gmv").scale ? { tickMinStep: 1 } : {}) } },
        },
        layer: [
          {
            // (The fill of a partial chart is encoded below: a colour here too would be dropped with a warning.)
            mark: anyPartial ? { type: "bar" } : { type: "bar", color: BAR_COLOUR },
            // A partial day (today) is lighter and outlined dashed: its low bar is "so far", not a collapse.
            ...(anyPartial
              ? {
                  encoding: {
                    fill: { condition: { test: "datum.partial", value: PARTIAL_BAR_COLOUR }, value: BAR_COLOUR },
                    stroke: { condition: { test: "datum.partial", value: BAR_COLOUR }, value: null },
                    strokeDash: { condition: { test: "datum.partial", value: [4, 3] }, value: [] },
                    strokeWidth: { condition: { test: "datum.partial", value: 1.5 }, value: 0 },
                  },
                }
              : {}),
          },
          {
            // Each day's GMV in a row above the plot, over its column, in small grey type (none on a
            // day before the shop's data, nor on one without sales, whose orders point lies at 0):
            // clear of the bars and of the orders line, which follows them.
            transform: [{ filter: "isValid(datum.gmv) && datum.gmv !== 0" }],
            mark: { type: "text", baseline: "bottom", fontSize: 10, color: "#444" },
            encoding: { y: { value: -4 }, text: { field: "gmv", type: "quantitative", format: gmvLabel } },
          },
        ],
      },
      {
        // One orders scale for the whole days' line and a partial day's dashed stretch and hollow point.
        encoding: { x, y: ordersY },
        layer: [
          {
            // The points in the line's colour (point: true draws them in the default blue of the bars).
            transform: [{ filter: "!datum.partial" }],
            mark: { type: "line", color: LINE_COLOUR, point: { color: LINE_COLOUR, filled: true }, strokeWidth: 2 },
          },
          ...(anyPartial
            ? [
                { transform: [{ filter: "datum.tail" }], mark: { type: "line" as const, color: LINE_COLOUR, strokeWidth: 2, strokeDash: [4, 3] } },
                { transform: [{ filter: "datum.partial" }], mark: { type: "point" as const, shape: "circle", fill: "white", stroke: LINE_COLOUR, strokeWidth: 2, opacity: 1 } },
              ]
            : []),
        ],
      },
    ],
    resolve: { scale: { y: "independent" } },
    // The title's offset leaves room for the row of GMV figures above the plot.
    config: { font: CHART_FONT_FAMILY, title: { fontSize: 16, offset: 18 } },
  };
}
