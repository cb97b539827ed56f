// Usage Dashboard: totals, then tokens / cost / latency percentiles / errors over time.

const SVG = "http://www.w3.org/2000/svg";
const COLORS = ["#1976d2", "#e65100", "#2e7d32", "#c62828", "#6a1b9a"];

function s(tag, attrs = {}, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

function fmt(v, digits = 0) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  if (Math.abs(v) >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (Math.abs(v) >= 1e3) return `${(v / 1e3).toFixed(1)}k`;
  return Number(v).toFixed(digits);
}

function usd(v) {
  if (v === null || v === undefined) return "no wallet";
  return v >= 0.01 || v === 0 ? `$${v.toFixed(2)}` : `$${v.toPrecision(3)}`;
}

function timeLabel(t, bucket) {
  const d = new Date(t * 1000);
  return bucket === "day" ? d.toISOString().slice(5, 10) : d.toISOString().slice(11, 16);
}

// A line chart of `series` ({label, key}) over points[].t, as inline SVG.
function chart(title, points, series, bucket, format) {
  const W = 480, H = 160, L = 44, R = 8, T = 8, B = 20;
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", class: "tf-ud-svg", "data-chart": title });
  const values = points.flatMap((p) => series.map((x) => p[x.key])).filter((v) => v !== null && v !== undefined);
  const ymax = Math.max(1e-12, ...values);
  const ts = points.map((p) => p.t);
  const tmin = Math.min(...ts), tmax = Math.max(...ts);
  const x = (t) => L + (tmax === tmin ? (W - L - R) / 2 : ((t - tmin) / (tmax - tmin)) * (W - L - R));
  const y = (v) => H - B - (v / ymax) * (H - B - T);
  svg.append(s("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, class: "tf-ud-axis" }));
  svg.append(s("line", { x1: L, y1: T, x2: L, y2: H - B, class: "tf-ud-axis" }));
  svg.append(s("text", { x: L - 4, y: T + 8, "text-anchor": "end" }, format(ymax)));
  svg.append(s("text", { x: L - 4, y: H - B, "text-anchor": "end" }, "0"));
  if (points.length === 1) {
    // one time bucket: a line needs two points, so each series is a labelled bar
    const p = points[0];
    const drawn = series.filter((ser) => p[ser.key] !== null && p[ser.key] !== undefined);
    const slot = (W - L - R) / Math.max(drawn.length, 1);
    const width = Math.min(48, slot * 0.6);
    drawn.forEach((ser) => {
      const i = series.indexOf(ser);
      const cx = L + slot * (drawn.indexOf(ser) + 0.5);
      const top = y(p[ser.key]);
      const bar = s("rect", { x: cx - width / 2, y: top, width, height: H - B - top, fill: COLORS[i % COLORS.length], class: "tf-ud-bar", "data-series": ser.key });
      bar.append(s("title", {}, `${timeLabel(p.t, bucket)} ${ser.label}: ${format(p[ser.key])}`));
      svg.append(bar);
      svg.append(s("text", { x: cx, y: Math.max(T + 8, top - 3), "text-anchor": "middle", class: "tf-ud-value-label" }, format(p[ser.key])));
    });
    svg.append(s("text", { x: (L + W - R) / 2, y: H - 4, "text-anchor": "middle", class: "tf-ud-time" }, timeLabel(p.t, bucket)));
  } else if (points.length) {
    svg.append(s("text", { x: L, y: H - 4, class: "tf-ud-time" }, timeLabel(tmin, bucket)));
    svg.append(s("text", { x: W - R, y: H - 4, "text-anchor": "end", class: "tf-ud-time" }, timeLabel(tmax, bucket)));
  }
  if (points.length > 1) series.forEach((ser, i) => {
    const pts = points.filter((p) => p[ser.key] !== null && p[ser.key] !== undefined);
    if (!pts.length) return;
    const color = COLORS[i % COLORS.length];
    svg.append(s("polyline", { points: pts.map((p) => `${x(p.t)},${y(p[ser.key])}`).join(" "), class: "tf-ud-line", stroke: color, "data-series": ser.key }));
    pts.forEach((p) => {
      const dot = s("circle", { cx: x(p.t), cy: y(p[ser.key]), r: 2.2, fill: color });
      dot.append(s("title", {}, `${timeLabel(p.t, bucket)} ${ser.label}: ${format(p[ser.key])}`));
      svg.append(dot);
    });
  });
  const legend = h("div", { class: "tf-ud-legend" }, ...series.map((ser, i) =>
    h("span", {}, h("span", { class: "tf-ud-swatch", style: `background:${COLORS[i % COLORS.length]}` }), ser.label)));
  const empty = points.length ? null : h("div", { class: "tf-muted" }, "No requests in this window yet.");
  return h("div", { class: "tf-ud-chart" }, h("h4", {}, title), legend, empty || svg);
}

// Cost per model or per end user: a row each, costliest first, with a bar of its share.
function breakdown(title, key, rows) {
  const total = rows.reduce((sum, r) => sum + (r.cost_usd || 0), 0);
  const body = rows.map((r) => {
    const share = total > 0 ? (100 * r.cost_usd) / total : 0;
    return h("tr", { class: "tf-ud-brow", "data-key": r[key] },
      h("td", { class: "tf-ud-bname" }, r[key]),
      h("td", { class: "tf-ud-num" }, fmt(r.requests)),
      h("td", { class: "tf-ud-num" }, fmt(r.total_tokens)),
      h("td", { class: "tf-ud-num tf-ud-bcost" }, usd(r.cost_usd)),
      h("td", { class: "tf-ud-bshare" }, h("div", { class: "tf-ud-share", style: `width:${share.toFixed(1)}%` })));
  });
  return h("div", { class: `tf-ud-breakdown tf-ud-by-${key}` }, h("h4", {}, title),
    rows.length
      ? h("table", {}, h("thead", {}, h("tr", {}, ...[key === "user" ? "User" : "Model", "Requests", "Tokens", "Cost", ""].map((t) => h("th", {}, t)))), h("tbody", {}, ...body))
      : h("div", { class: "tf-muted" }, "No requests in this window yet."));
}

function filterSelect(model, name, optionsTrait, allLabel) {
  const select = h("select", { class: `tf-ud-${name}`, "data-filter": name, onchange: () => setTrait(model, name, select.value) });
  const cleanup = watch(model, [optionsTrait, name], () => {
    const values = [...model.get(optionsTrait)];
    const current = model.get(name);
    if (current && !values.includes(current)) values.push(current);
    options(select, ["", ...values], current, { "": allLabel });
  });
  return { el: select, cleanup };
}

export default {
  render({ model, el }) {
    const cleanups = [];
    const banner = errorBanner(model);
    cleanups.push(banner.cleanup);

    const modelFilter = filterSelect(model, "model", "models", "all models");
    const tierFilter = filterSelect(model, "tier", "tiers", "all tiers");
    const bucket = h("select", { class: "tf-ud-bucket", onchange: () => setTrait(model, "bucket", bucket.value) });
    cleanups.push(modelFilter.cleanup, tierFilter.cleanup);
    cleanups.push(watch(model, ["bucket"], () => options(bucket, ["minute", "hour", "day"], model.get("bucket"), { minute: "per minute", hour: "per hour", day: "per day" })));
    const title = h("strong", { class: "tf-ud-title" });
    const toolbar = h("div", { class: "tf-row" }, title, modelFilter.el, tierFilter.el, bucket,
      h("button", { class: "tf-ud-refresh", title: "Refresh", onclick: () => action(model, "refresh") }, "↻ Refresh"));

    const cards = h("div", { class: "tf-ud-cards" });
    const charts = h("div", { class: "tf-ud-charts" });
    const breakdowns = h("div", { class: "tf-ud-breakdowns" });
    cleanups.push(watch(model, ["by_model", "by_user"], () => breakdowns.replaceChildren(
      breakdown("Cost by model", "model", model.get("by_model") || []),
      breakdown("Cost by user", "user", model.get("by_user") || []),
    )));
    const card = (label, value, cls) => h("div", { class: `tf-ud-card ${cls}` }, h("div", { class: "tf-label" }, label), h("div", { class: "tf-ud-value" }, value));

    cleanups.push(watch(model, ["points", "totals", "workspace", "workspace_tier", "balance_usd", "busy"], () => {
      const ws = model.get("workspace");
      title.textContent = ws ? `Usage · ${ws} (${model.get("workspace_tier")})` : "Usage";
      const t = model.get("totals") || {};
      cards.replaceChildren(
        card("Requests", fmt(t.requests), "tf-ud-requests"),
        card("Tokens", fmt(t.total_tokens), "tf-ud-tokens"),
        card("Cost", usd(t.cost_usd ?? 0), "tf-ud-cost"),
        card("Errors", fmt(t.errors), "tf-ud-errors"),
        card("Balance", usd(model.get("balance_usd")), "tf-ud-balance"),
      );
      const pts = model.get("points");
      const b = model.get("bucket");
      charts.replaceChildren(
        chart("Tokens", pts, [{ label: "input", key: "prompt_tokens" }, { label: "output", key: "completion_tokens" }], b, (v) => fmt(v)),
        chart("Cost (USD)", pts, [{ label: "cost", key: "cost_usd" }], b, (v) => (v >= 0.01 || v === 0 ? `$${v.toFixed(2)}` : `$${Number(v).toExponential(1)}`)),
        chart("Latency (ms)", pts, [{ label: "p50", key: "latency_p50_ms" }, { label: "p90", key: "latency_p90_ms" }, { label: "p99", key: "latency_p99_ms" }], b, (v) => fmt(v)),
        chart("Errors", pts, [{ label: "errors", key: "errors" }, { label: "requests", key: "requests" }], b, (v) => fmt(v)),
      );
    }));

    el.append(h("div", { class: "tf-widget tf-usage" }, banner.el, toolbar, cards, breakdowns, charts));
    return () => cleanups.forEach((fn) => fn());
  },
};
