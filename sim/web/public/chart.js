// A small time-series line chart drawn as SVG (no library): rows of [t, y1, y2, ...], one line per series,
// a gap where a value is null; redrawn at most once per animation frame however many points arrive.
const NS = "http://www.w3.org/2000/svg";
/** Charts drawn and ms spent drawing them, over the page's life (read by the dashboard bench). */
export const drawn = { count: 0, ms: 0 };

const H = 170, L = 44, R = 8, T = 8, B = 20; // height and margins in px; the width is the container's

export class LineChart {
  /**
   * @param {HTMLElement} el
   * @param {{ series: { label: string, color: string }[], min?: number, max?: number, keep?: number }} options
   */
  constructor(el, options) {
    this.el = el;
    this.options = options;
    this.rows = [];
    this.pending = false;
    this.svg = document.createElementNS(NS, "svg");
    this.svg.setAttribute("role", "img");
    this.grid = this.add("g", { class: "grid" });
    this.paths = options.series.map((s) => this.add("path", { fill: "none", stroke: s.color, "stroke-width": 2, "stroke-linejoin": "round" }));
    this.labels = this.add("g", { class: "labels" });
    el.replaceChildren(this.svg);
    new ResizeObserver(() => this.schedule()).observe(el);
    if (options.series.length > 1) {
      const key = document.createElement("p");
      key.className = "key";
      for (const s of options.series) {
        const i = document.createElement("i");
        i.style.background = s.color;
        key.append(i, s.label + " ");
      }
      el.append(key);
    }
  }

  /** Number of rows held (what a test reads to see the chart grow). */
  get length() { return this.rows.length; }

  setData(rows) {
    this.rows = rows.slice(-(this.options.keep ?? 600));
    this.schedule();
  }

  push(row) {
    this.rows.push(row);
    if (this.rows.length > (this.options.keep ?? 600)) this.rows.shift();
    this.schedule();
  }

  schedule() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => { this.pending = false; this.draw(); });
  }

  draw() {
    const t0 = performance.now();
    this.paint();
    drawn.count++;
    drawn.ms += performance.now() - t0;
  }

  paint() {
    const rows = this.rows;
    const W = this.el.clientWidth || 600;
    this.svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    this.svg.setAttribute("height", String(H));
    this.svg.dataset.points = String(rows.length);
    let lo = this.options.min ?? Infinity, hi = this.options.max ?? -Infinity;
    for (const r of rows) for (let k = 1; k < r.length; k++) {
      const v = r[k];
      if (v === null || v === undefined) continue;
      if (this.options.min === undefined && v < lo) lo = v;
      if (this.options.max === undefined && v > hi) hi = v;
    }
    if (!(hi > lo)) { if (!Number.isFinite(lo)) lo = 0; hi = lo + 1; }
    // Free ends go out to multiples of a round step (1, 1.5, 2, 2.5 ... x 10^n) two steps apart: round labels.
    let step = (hi - lo) / 2;
    if (this.options.min === undefined || this.options.max === undefined) {
      const mag = 10 ** Math.floor(Math.log10(step));
      for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10, 15, 20]) {
        const s = m * mag;
        const l = this.options.min ?? Math.floor(lo / s) * s, h = this.options.max ?? Math.ceil(hi / s) * s;
        if (h - l <= 2 * s * (1 + 1e-9)) { step = s; lo = l; hi = this.options.max ?? l + 2 * s; break; }
      }
    }
    const t0 = rows.length ? rows[0][0] : 0, t1 = rows.length ? rows[rows.length - 1][0] : 1;
    const x = (t) => L + ((t - t0) / Math.max(1, t1 - t0)) * (W - L - R);
    const y = (v) => T + (1 - (v - lo) / (hi - lo)) * (H - T - B);
    this.paths.forEach((path, k) => {
      let d = "", pen = false;
      for (const r of rows) {
        const v = r[k + 1];
        if (v === null || v === undefined) { pen = false; continue; }
        d += `${pen ? "L" : "M"}${x(r[0]).toFixed(1)},${y(v).toFixed(1)}`;
        pen = true;
      }
      path.setAttribute("d", d);
    });
    this.grid.replaceChildren();
    this.labels.replaceChildren();
    if (!rows.length) return;
    const digits = decimals(step);
    for (const v of [lo, (lo + hi) / 2, hi]) {
      this.add("line", { x1: L, x2: W - R, y1: y(v), y2: y(v) }, this.grid);
      this.text(v.toFixed(digits), L - 4, y(v) + 4, "end");
    }
    this.text(clock(t0), L, H - 4, "start");
    this.text(clock(t1), W - R, H - 4, "end");
  }

  add(name, attrs, parent = this.svg) {
    const el = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
    parent.append(el);
    return el;
  }

  text(s, x, y, anchor) {
    this.add("text", { x, y, "text-anchor": anchor }, this.labels).textContent = s;
  }
}

/** Decimals that show a step exactly (0.25 -> 2, 1.5 -> 1, 150 -> 0), at most 3. */
function decimals(step) {
  for (let d = 0; d < 3; d++) if (Math.abs(Number(step.toFixed(d)) - step) < step * 1e-6) return d;
  return 3;
}

function clock(t) {
  return new Date(t).toLocaleTimeString([], { hour12: false });
}
