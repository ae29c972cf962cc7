// Plots with the vendored uPlot (a classic script: global `uPlot`). Each
// chart follows its container's width and is described in text for those
// who cannot see it (a figure with a caption and a summary).

import { h } from "/assets/common/api.js";

const COLORS = ["#4f46e5", "#0d9488", "#e11d48", "#d97706", "#7c3aed"];

function widthOf(el) {
  return Math.max(280, Math.floor(el.getBoundingClientRect().width || 600));
}

/** Keeps a chart as wide as its container; returns a function that stops it. */
function follow(el, chart) {
  const ro = new ResizeObserver(() => {
    const w = widthOf(el);
    if (Math.abs(w - chart.width) > 2) chart.setSize({ width: w, height: chart.height });
  });
  ro.observe(el);
  return () => ro.disconnect();
}

/**
 * A figure holding a chart: `title` is its caption, `summary` text that
 * says what it shows. Returns {figure, plotArea, setSummary}.
 */
export function figure(title, summary = "") {
  const plotArea = h("div", { class: "plot", role: "img", "aria-label": title });
  const note = h("p", { class: "plot-summary" }, summary);
  const fig = h("figure", { class: "chart" }, h("figcaption", {}, title), plotArea, note);
  return { figure: fig, plotArea, setSummary: (t) => (note.textContent = t) };
}

/**
 * A line chart over time. `x` are unix seconds; `series` = [{label, values,
 * color?}]; `format(v)` formats the y axis and the legend; `span` (seconds)
 * fixes the x axis to that much time up to now.
 * Returns {chart, setData(x, ...values), destroy}.
 */
export function lineChart(area, { x, series, format = (v) => String(v), height = 240, bars = false, integer = false, span }) {
  // Bars need half an interval of room on each side.
  const pad = (u, min, max) => {
    const xs = u.data[0];
    const step = xs.length > 1 ? xs[1] - xs[0] : 86400;
    return [min - step / 2, max + step / 2];
  };
  const opts = {
    width: widthOf(area),
    height,
    legend: { live: true },
    cursor: { drag: { x: false, y: false } },
    scales: {
      // A single sample still gets a minute of axis.
      x: bars
        ? { time: true, range: pad }
        : span
          ? { time: true, range: () => [Date.now() / 1000 - span, Date.now() / 1000] }
          : { time: true, range: (u, min, max) => (max - min < 1 ? [min - 60, max + 5] : [min, max]) },
      y: { range: (u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] },
    },
    axes: [
      { stroke: "#64748b", grid: { stroke: "#e2e8f0" }, ticks: { stroke: "#e2e8f0" } },
      {
        stroke: "#64748b",
        grid: { stroke: "#e2e8f0" },
        ticks: { stroke: "#e2e8f0" },
        size: 72,
        incrs: integer ? [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000] : undefined,
        values: (u, vals) => vals.map((v) => format(v)),
      },
    ],
    series: [
      {},
      ...series.map((s, i) => ({
        label: s.label,
        stroke: s.color || COLORS[i % COLORS.length],
        width: 2,
        fill: bars ? `${s.color || COLORS[i % COLORS.length]}99` : undefined,
        paths: bars ? uPlot.paths.bars({ size: [0.6, 40] }) : undefined,
        points: { show: !bars },
        value: (u, v) => (v === null || v === undefined ? "–" : format(v)),
      })),
    ],
  };
  const chart = new uPlot(opts, [x, ...series.map((s) => s.values)], area);
  const stop = follow(area, chart);
  return {
    chart,
    setData: (xs, ...values) => chart.setData([xs, ...values]),
    destroy: () => {
      stop();
      chart.destroy();
    },
  };
}

/**
 * A bar chart of categories: `labels` under the bars, `values` their
 * heights. Returns {chart, setData(labels, values), destroy}.
 */
export function barChart(area, { labels, values, label = "Count", color = COLORS[2], height = 220, format = (v) => String(v) }) {
  let names = labels;
  const opts = {
    width: widthOf(area),
    height,
    legend: { show: false },
    cursor: { show: false },
    scales: {
      x: { time: false, range: () => [-0.5, Math.max(names.length, 1) - 0.5] },
      y: { range: (u, min, max) => [0, max > 0 ? max * 1.15 : 1] },
    },
    axes: [
      {
        stroke: "#64748b",
        grid: { show: false },
        ticks: { show: false },
        splits: () => names.map((_, i) => i),
        values: (u, vals) => vals.map((v) => names[v] ?? ""),
      },
      {
        stroke: "#64748b",
        grid: { stroke: "#e2e8f0" },
        incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000],
        values: (u, vals) => vals.map((v) => format(v)),
      },
    ],
    series: [
      {},
      {
        label,
        stroke: color,
        fill: `${color}bb`,
        width: 1,
        paths: uPlot.paths.bars({ size: [0.6, 80] }),
        points: { show: false },
      },
    ],
  };
  const chart = new uPlot(opts, [labels.map((_, i) => i), values], area);
  const stop = follow(area, chart);
  return {
    chart,
    setData: (l, v) => {
      names = l;
      chart.setData([l.map((_, i) => i), v]);
    },
    destroy: () => {
      stop();
      chart.destroy();
    },
  };
}
