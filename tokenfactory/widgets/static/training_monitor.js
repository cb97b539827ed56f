// Training Monitor: live loss curve (inline SVG), progress, ETA, status and a Cancel button.

const W = 520;
const H = 200;
const PAD = { left: 44, right: 12, top: 10, bottom: 26 };
const SVG_NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, text) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

function formatEta(seconds) {
  if (seconds === null || seconds === undefined) return "";
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s left` : `${s} s left`;
}

function drawCurve(root, train, validation, totalSteps) {
  root.replaceChildren();
  const points = [...train, ...validation];
  const maxStep = Math.max(totalSteps || 0, ...points.map((p) => p[0]), 1);
  const losses = points.map((p) => p[1]);
  const top = losses.length ? Math.max(...losses) : 1;
  const bottom = losses.length ? Math.min(0, ...losses) : 0;
  const x = (s) => PAD.left + (s / maxStep) * (W - PAD.left - PAD.right);
  const y = (l) => PAD.top + (1 - (l - bottom) / (top - bottom || 1)) * (H - PAD.top - PAD.bottom);
  root.append(svg("line", { x1: PAD.left, y1: H - PAD.bottom, x2: W - PAD.right, y2: H - PAD.bottom, class: "tf-tm-axis" }));
  root.append(svg("line", { x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: H - PAD.bottom, class: "tf-tm-axis" }));
  root.append(svg("text", { x: PAD.left - 4, y: PAD.top + 8, "text-anchor": "end", class: "tf-tm-tick" }, top.toFixed(2)));
  root.append(svg("text", { x: PAD.left - 4, y: H - PAD.bottom, "text-anchor": "end", class: "tf-tm-tick" }, bottom.toFixed(2)));
  root.append(svg("text", { x: W - PAD.right, y: H - 6, "text-anchor": "end", class: "tf-tm-tick" }, `step ${maxStep}`));
  const line = (pts, cls) => {
    if (!pts.length) return;
    root.append(svg("polyline", { points: pts.map((p) => `${x(p[0])},${y(p[1])}`).join(" "), class: cls }));
    for (const p of pts) root.append(svg("circle", { cx: x(p[0]), cy: y(p[1]), r: cls === "tf-tm-val" ? 3.5 : 1.5, class: cls }));
  };
  line(train, "tf-tm-train");
  line(validation, "tf-tm-val");
}

export default {
  render({ model, el }) {
    const cleanups = [];
    const banner = errorBanner(model);
    cleanups.push(banner.cleanup);
    const title = h("strong", { class: "tf-tm-title" });
    const status = h("span", { class: "tf-tm-status" });
    const cancel = h("button", { class: "tf-tm-cancel", onclick: () => action(model, "cancel") }, "Cancel");
    const bar = h("div", { class: "tf-tm-bar" });
    const progress = h("div", { class: "tf-tm-progress" }, bar);
    const detail = h("span", { class: "tf-muted tf-tm-detail" });
    const eta = h("span", { class: "tf-muted tf-tm-eta" });
    const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "tf-tm-chart", role: "img", "aria-label": "loss curve" });
    const legend = h("div", { class: "tf-row tf-tm-legend" },
      h("span", { class: "tf-tm-key tf-tm-key-train" }, "train loss"),
      h("span", { class: "tf-tm-key tf-tm-key-val" }, "validation loss"));
    const message = h("div", { class: "tf-muted tf-tm-message" });
    cleanups.push(watch(model, ["adapter", "display_name", "status", "step", "total_steps", "epoch", "epochs", "eta_s", "message"], () => {
      const st = model.get("status") || "connecting";
      title.textContent = model.get("display_name") || model.get("adapter");
      status.textContent = st;
      status.className = `tf-tm-status tf-tm-${st}`;
      const total = model.get("total_steps");
      const step = model.get("step");
      bar.style.width = `${total ? Math.min(100, (100 * step) / total) : 0}%`;
      detail.textContent = `step ${step}/${total || "?"} · epoch ${model.get("epoch")}/${model.get("epochs") || "?"}`;
      eta.textContent = st === "running" ? formatEta(model.get("eta_s")) : "";
      cancel.disabled = !["validating", "queued", "running"].includes(st);
      message.textContent = model.get("message");
    }));
    cleanups.push(watch(model, ["train_loss", "validation_loss", "total_steps"], () => {
      drawCurve(chart, model.get("train_loss"), model.get("validation_loss"), model.get("total_steps"));
    }));
    el.append(h("div", { class: "tf-widget tf-training-monitor" }, banner.el,
      h("div", { class: "tf-row" }, title, status, cancel), progress,
      h("div", { class: "tf-row" }, detail, eta), chart, legend, message));
    return () => cleanups.forEach((fn) => fn());
  },
};
