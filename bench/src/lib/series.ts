/**
 * Time series helpers of the soak: a least-squares slope (MiB per hour after warm-up), the gauges
 * of a Prometheus text exposition, and a hand-written SVG plot (no plotting dependency).
 */

export type Point = readonly [x: number, y: number];

/** Slope of the least-squares line through `points` (y per unit of x); NaN with fewer than 2 distinct x. */
export function leastSquaresSlope(points: readonly Point[]): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den > 0 ? num / den : Number.NaN;
}

/**
 * MiB per hour, by least squares over the samples at or after `warmupS` (x in seconds, y in bytes);
 * samples whose y is not a positive number (a gauge not yet set) are left out.
 */
export function slopeMiBPerHour(samples: readonly Point[], warmupS: number): number {
  const after = samples.filter(([t, y]) => t >= warmupS && Number.isFinite(y) && y > 0).map(([t, y]): Point => [t / 3600, y / 1048576]);
  return leastSquaresSlope(after);
}

/** The unlabelled (or first labelled) value of each metric in a Prometheus text exposition. */
export function parseGauges(text: string, names: readonly string[]): Record<string, number> {
  const wanted = new Set(names);
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})? (\S+)/.exec(line);
    if (!m || !wanted.has(m[1]!) || m[1]! in out) continue;
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

export interface PlotSeries {
  label: string;
  /** [seconds, value] */
  points: readonly Point[];
}

export interface PlotPanel {
  title: string;
  unit: string;
  series: readonly PlotSeries[];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A "nice" upper bound and tick step for [0, max]. */
function niceScale(max: number): { top: number; step: number } {
  if (!(max > 0)) return { top: 1, step: 0.25 };
  const raw = max / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? 10 * mag;
  return { top: Math.ceil(max / step) * step, step };
}

function fmt(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : String(Number(v.toPrecision(3)));
}

/** Panels stacked vertically, sharing the time axis (minutes); one polyline per series, legend on the right. */
export function renderSvg(title: string, panels: readonly PlotPanel[], opts: { width?: number; panelHeight?: number } = {}): string {
  const width = opts.width ?? 960;
  const ph = opts.panelHeight ?? 220;
  const left = 64;
  const right = 230;
  const top = 36;
  const gap = 48;
  const plotW = width - left - right;
  const height = top + panels.length * (ph + gap);
  const allX = panels.flatMap((p) => p.series.flatMap((s) => s.points.map(([x]) => x)));
  const xMax = Math.max(1, ...allX);
  const xs = niceScale(xMax / 60);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`,
  ];
  panels.forEach((panel, pi) => {
    const y0 = top + pi * (ph + gap) + 16;
    const values = panel.series.flatMap((s) => s.points.map(([, y]) => y)).filter(Number.isFinite);
    const ys = niceScale(Math.max(0, ...values));
    const px = (sec: number): number => left + (sec / 60 / xs.top) * plotW;
    const py = (v: number): number => y0 + ph - (v / ys.top) * ph;
    out.push(`<text x="${left}" y="${y0 - 6}" font-weight="bold">${esc(panel.title)} (${esc(panel.unit)})</text>`);
    out.push(`<rect x="${left}" y="${y0}" width="${plotW}" height="${ph}" fill="none" stroke="#999"/>`);
    for (let v = 0; v <= ys.top + 1e-9; v += ys.step) {
      const y = py(v);
      out.push(`<line x1="${left}" y1="${y}" x2="${left + plotW}" y2="${y}" stroke="#eee"/><text x="${left - 4}" y="${y + 4}" text-anchor="end">${fmt(v)}</text>`);
    }
    for (let m = 0; m <= xs.top + 1e-9; m += xs.step) {
      const x = px(m * 60);
      out.push(`<line x1="${x}" y1="${y0 + ph}" x2="${x}" y2="${y0 + ph + 4}" stroke="#999"/><text x="${x}" y="${y0 + ph + 15}" text-anchor="middle">${fmt(m)}</text>`);
    }
    out.push(`<text x="${left + plotW}" y="${y0 + ph + 28}" text-anchor="end">minutes</text>`);
    panel.series.forEach((s, si) => {
      const color = COLORS[si % COLORS.length]!;
      const pts = s.points.filter(([, y]) => Number.isFinite(y)).map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`);
      if (pts.length > 0) out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${pts.join(' ')}"/>`);
      const ly = y0 + 10 + si * 15;
      out.push(`<line x1="${left + plotW + 10}" y1="${ly - 4}" x2="${left + plotW + 28}" y2="${ly - 4}" stroke="${color}" stroke-width="2"/><text x="${left + plotW + 32}" y="${ly}">${esc(s.label)}</text>`);
    });
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
