/**
 * A PNG line chart of the growth panels (scripts/bench/growth.ts): one log-log plot per panel, CPU
 * per call against size or count, one line per validator. Drawn pixel by pixel into a pngjs image
 * (no browser, no canvas, no fonts: text uses the classic 5×7 bitmap font below, upper case).
 */
import { PNG } from "pngjs";
import type { GrowthPanel } from "./growth";

type Rgb = readonly [number, number, number];

// 5×7 glyphs, 5 columns each, bit 0 at the top (the classic glcdfont layout).
const FONT: Record<string, readonly number[]> = {
  "0": [0x3e, 0x51, 0x49, 0x45, 0x3e],
  "1": [0x00, 0x42, 0x7f, 0x40, 0x00],
  "2": [0x42, 0x61, 0x51, 0x49, 0x46],
  "3": [0x21, 0x41, 0x45, 0x4b, 0x31],
  "4": [0x18, 0x14, 0x12, 0x7f, 0x10],
  "5": [0x27, 0x45, 0x45, 0x45, 0x39],
  "6": [0x3c, 0x4a, 0x49, 0x49, 0x30],
  "7": [0x01, 0x71, 0x09, 0x05, 0x03],
  "8": [0x36, 0x49, 0x49, 0x49, 0x36],
  "9": [0x06, 0x49, 0x49, 0x29, 0x1e],
  A: [0x7e, 0x11, 0x11, 0x11, 0x7e],
  B: [0x7f, 0x49, 0x49, 0x49, 0x36],
  C: [0x3e, 0x41, 0x41, 0x41, 0x22],
  D: [0x7f, 0x41, 0x41, 0x22, 0x1c],
  E: [0x7f, 0x49, 0x49, 0x49, 0x41],
  F: [0x7f, 0x09, 0x09, 0x09, 0x01],
  G: [0x3e, 0x41, 0x49, 0x49, 0x7a],
  H: [0x7f, 0x08, 0x08, 0x08, 0x7f],
  I: [0x00, 0x41, 0x7f, 0x41, 0x00],
  J: [0x20, 0x40, 0x41, 0x3f, 0x01],
  K: [0x7f, 0x08, 0x14, 0x22, 0x41],
  L: [0x7f, 0x40, 0x40, 0x40, 0x40],
  M: [0x7f, 0x02, 0x0c, 0x02, 0x7f],
  N: [0x7f, 0x04, 0x08, 0x10, 0x7f],
  O: [0x3e, 0x41, 0x41, 0x41, 0x3e],
  P: [0x7f, 0x09, 0x09, 0x09, 0x06],
  Q: [0x3e, 0x41, 0x51, 0x21, 0x5e],
  R: [0x7f, 0x09, 0x19, 0x29, 0x46],
  S: [0x46, 0x49, 0x49, 0x49, 0x31],
  T: [0x01, 0x01, 0x7f, 0x01, 0x01],
  U: [0x3f, 0x40, 0x40, 0x40, 0x3f],
  V: [0x1f, 0x20, 0x40, 0x20, 0x1f],
  W: [0x3f, 0x40, 0x38, 0x40, 0x3f],
  X: [0x63, 0x14, 0x08, 0x14, 0x63],
  Y: [0x07, 0x08, 0x70, 0x08, 0x07],
  Z: [0x61, 0x51, 0x49, 0x45, 0x43],
  " ": [0, 0, 0, 0, 0],
  ".": [0x00, 0x60, 0x60, 0x00, 0x00],
  ",": [0x00, 0x50, 0x30, 0x00, 0x00],
  ":": [0x00, 0x36, 0x36, 0x00, 0x00],
  "/": [0x20, 0x10, 0x08, 0x04, 0x02],
  "(": [0x00, 0x1c, 0x22, 0x41, 0x00],
  ")": [0x00, 0x41, 0x22, 0x1c, 0x00],
  "-": [0x08, 0x08, 0x08, 0x08, 0x08],
  "+": [0x08, 0x08, 0x3e, 0x08, 0x08],
  "@": [0x32, 0x49, 0x79, 0x41, 0x3e],
  "%": [0x23, 0x13, 0x08, 0x64, 0x62],
  "=": [0x14, 0x14, 0x14, 0x14, 0x14],
  µ: [0x7e, 0x20, 0x20, 0x10, 0x3e],
};

const PALETTE: Record<string, Rgb> = {
  "schema-meter": [214, 39, 40],
  "schema-meter fresh": [214, 39, 40],
  "schema-meter cached": [255, 127, 14],
  ajv: [31, 119, 180],
  "ajv fresh": [31, 119, 180],
  "ajv cached": [23, 190, 207],
  "@cfworker/json-schema": [44, 160, 44],
  "@cfworker fresh": [44, 160, 44],
  "@cfworker cached": [148, 103, 189],
};
const FALLBACK: Rgb[] = [
  [140, 86, 75],
  [127, 127, 127],
  [188, 189, 34],
];

class Canvas {
  readonly png: PNG;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.png = new PNG({ width, height });
    this.png.data.fill(255);
  }
  dot(x: number, y: number, [r, g, b]: Rgb) {
    const [px, py] = [Math.round(x), Math.round(y)];
    if (px < 0 || py < 0 || px >= this.width || py >= this.height) return;
    const i = (py * this.width + px) * 4;
    this.png.data[i] = r;
    this.png.data[i + 1] = g;
    this.png.data[i + 2] = b;
    this.png.data[i + 3] = 255;
  }
  rect(x: number, y: number, w: number, h: number, color: Rgb) {
    for (let dy = 0; dy < h; dy++) for (let dx = 0; dx < w; dx++) this.dot(x + dx, y + dy, color);
  }
  line(x0: number, y0: number, x1: number, y1: number, color: Rgb, thickness = 1, dashed = false) {
    const steps = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0)));
    const half = Math.floor(thickness / 2);
    for (let s = 0; s <= steps; s++) {
      if (dashed && Math.floor(s / 4) % 2 === 1) continue;
      const x = x0 + ((x1 - x0) * s) / steps;
      const y = y0 + ((y1 - y0) * s) / steps;
      this.rect(Math.round(x) - half, Math.round(y) - half, thickness, thickness, color);
    }
  }
  text(x: number, y: number, text: string, color: Rgb = [0, 0, 0], scale = 2): number {
    let cx = x;
    for (const ch of text) {
      // Upper case, but µ stays µ (its upper case is the Greek capital Μ).
      const glyph = FONT[ch === "µ" ? ch : ch.toUpperCase()] ?? FONT[" "];
      glyph?.forEach((column, col) => {
        for (let row = 0; row < 7; row++)
          if (column & (1 << row)) this.rect(cx + col * scale, y + row * scale, scale, scale, color);
      });
      cx += 6 * scale;
    }
    return cx - x;
  }
  textWidth = (text: string, scale = 2) => text.length * 6 * scale;
}

const compact = (n: number) =>
  n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1_000 ? `${n / 1_000}K` : String(n);
const timeLabel = (us: number) =>
  us >= 1_000_000 ? `${us / 1_000_000} S` : us >= 1000 ? `${us / 1000} MS` : `${us} µS`;

function drawPanel(
  canvas: Canvas,
  panel: GrowthPanel,
  left: number,
  top: number,
  panelWidth: number,
  height: number,
) {
  const width = panelWidth;
  const grey: Rgb = [225, 225, 225];
  const axis: Rgb = [60, 60, 60];
  const plot = { x: left + 90, y: top + 40, w: width - 120, h: height - 150 };
  canvas.text(left + 10, top + 8, panel.title);
  const points = panel.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.us) && p.us > 0);
  if (points.length === 0) return;
  const xs = points.map((p) => p.x);
  const [xMin, xMax] = [Math.log10(Math.min(...xs)), Math.log10(Math.max(...xs))];
  const yMin = Math.floor(Math.log10(Math.min(...points.map((p) => p.us))));
  const yMax = Math.ceil(Math.log10(Math.max(...points.map((p) => p.us))));
  const px = (x: number) => plot.x + ((Math.log10(x) - xMin) / Math.max(1e-9, xMax - xMin)) * plot.w;
  const py = (us: number) =>
    plot.y + plot.h - ((Math.log10(us) - yMin) / Math.max(1e-9, yMax - yMin)) * plot.h;
  for (let e = yMin; e <= yMax; e++) {
    const y = py(10 ** e);
    canvas.line(plot.x, y, plot.x + plot.w, y, grey);
    const label = timeLabel(10 ** e);
    canvas.text(plot.x - 8 - canvas.textWidth(label), y - 7, label, axis);
  }
  for (const x of [...new Set(xs)].sort((a, b) => a - b)) {
    canvas.line(px(x), plot.y, px(x), plot.y + plot.h, grey);
    const label = compact(x);
    canvas.text(px(x) - canvas.textWidth(label) / 2, plot.y + plot.h + 8, label, axis);
  }
  canvas.line(plot.x, plot.y, plot.x, plot.y + plot.h, axis, 2);
  canvas.line(plot.x, plot.y + plot.h, plot.x + plot.w, plot.y + plot.h, axis, 2);
  canvas.text(
    plot.x + plot.w / 2 - canvas.textWidth(panel.xLabel) / 2,
    plot.y + plot.h + 28,
    panel.xLabel,
    axis,
  );

  let legendX = left + 10;
  let legendY = plot.y + plot.h + 52;
  panel.series.forEach((series, k) => {
    const color = PALETTE[series.name] ?? (FALLBACK[k % FALLBACK.length] as Rgb);
    const dashed = series.name.endsWith("cached");
    const valid = series.points.filter((p) => Number.isFinite(p.us) && p.us > 0);
    for (let i = 1; i < valid.length; i++) {
      const [a, b] = [valid[i - 1], valid[i]];
      if (a && b) canvas.line(px(a.x), py(a.us), px(b.x), py(b.us), color, 3, dashed);
    }
    for (const p of valid) canvas.rect(px(p.x) - 4, py(p.us) - 4, 9, 9, color);
    const entryWidth = 40 + canvas.textWidth(series.name);
    if (legendX + entryWidth > left + panelWidth - 10) {
      legendX = left + 10;
      legendY += 22;
    }
    canvas.line(legendX, legendY + 7, legendX + 24, legendY + 7, color, 3, dashed);
    canvas.text(legendX + 32, legendY, series.name, [0, 0, 0]);
    legendX += entryWidth + 20;
  });
}

/** The panels as a PNG (2 per row), with a title line. */
export function growthChartPng(panels: GrowthPanel[], title: string): Buffer {
  const [panelW, panelH] = [800, 520];
  const columns = 2;
  const rows = Math.ceil(panels.length / columns);
  const canvas = new Canvas(panelW * columns, panelH * rows + 40);
  canvas.text(10, 10, title);
  panels.forEach((panel, i) => {
    drawPanel(canvas, panel, (i % columns) * panelW, 40 + Math.floor(i / columns) * panelH, panelW, panelH);
  });
  return PNG.sync.write(canvas.png);
}
