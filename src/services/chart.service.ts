import { createRequire } from "node:module";
import path from "node:path";
import { Resvg } from "@resvg/resvg-js";
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
}

/** Texts drawn on the daily chart (already translated). */
export interface DailyChartLabels {
  title: string;
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

  /** Renders any vega-lite spec to PNG bytes. */
  async render(spec: TopLevelSpec): Promise<Uint8Array> {
    const svg = await this.svg(spec);
    const png = new Resvg(svg, {
      font: { fontFiles: [this.fontFile], loadSystemFonts: false, defaultFontFamily: CHART_FONT_FAMILY },
      fitTo: { mode: "zoom", value: 1.5 },
    })
      .render()
      .asPng();
    return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
  }
}

/** The vega-lite spec of the 14-day chart: GMV bars, an orders line with its points, two y axes. */
export function dailySpec(points: readonly DailyPoint[], labels: DailyChartLabels): TopLevelSpec {
  // Short axis labels (MM-DD) keep 14 days readable at 720 px.
  const values = points.map((p) => ({ d: p.day.slice(5), gmv: p.gmv, orders: p.orders }));
  const x = { field: "d", type: "ordinal" as const, title: labels.day, axis: { labelAngle: -45 }, sort: null };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: labels.title,
    width: 640,
    height: 280,
    background: "white",
    data: { values },
    layer: [
      {
        mark: { type: "bar", color: "#4C78A8" },
        // ",~f": thousands grouped, no trailing zeros (a quiet fortnight's only tick is "0", not "0.000000").
        encoding: { x, y: { field: "gmv", type: "quantitative", title: labels.gmv, axis: { format: ",~f" } } },
      },
      {
        // The points in the line's colour (point: true draws them in the default blue of the bars).
        mark: { type: "line", color: "#F58518", point: { color: "#F58518", filled: true }, strokeWidth: 2 },
        encoding: { x, y: { field: "orders", type: "quantitative", title: labels.orders, axis: { titleColor: "#F58518", tickMinStep: 1, format: "d" } } },
      },
    ],
    resolve: { scale: { y: "independent" } },
    config: { font: CHART_FONT_FAMILY, title: { fontSize: 16 } },
  };
}
