// Training Monitor: live loss curve (inline SVG), the current loss, progress, ETA, status and
// a Cancel button that works while a cell waits on the job (gatewayAction, in base.js).

const W = 520;
const H = 200;
const PAD = { left: 52, right: 12, top: 10, bottom: 26 };
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

function formatLoss(loss) {
  return loss === null || loss === undefined ? "–" : Number(loss).toFixed(3);
}

// The curve; returns the points drawn ({step, loss, kind, x, y}) for the hover read-out.
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
  // one label for the y axis, its range as ticks
  root.append(svg("text", { x: 12, y: (H - PAD.bottom + PAD.top) / 2, "text-anchor": "middle", class: "tf-tm-tick tf-tm-ylabel", transform: `rotate(-90 12 ${(H - PAD.bottom + PAD.top) / 2})` }, "loss"));
  root.append(svg("text", { x: PAD.left - 4, y: PAD.top + 8, "text-anchor": "end", class: "tf-tm-tick" }, top.toFixed(2)));
  root.append(svg("text", { x: PAD.left - 4, y: H - PAD.bottom, "text-anchor": "end", class: "tf-tm-tick" }, bottom.toFixed(2)));
  root.append(svg("text", { x: PAD.left, y: H - 6, class: "tf-tm-tick" }, "step 0"));
  root.append(svg("text", { x: W - PAD.right, y: H - 6, "text-anchor": "end", class: "tf-tm-tick" }, `step ${maxStep}`));
  const drawn = [];
  const line = (pts, cls, kind) => {
    if (!pts.length) return;
    root.append(svg("polyline", { points: pts.map((p) => `${x(p[0])},${y(p[1])}`).join(" "), class: cls }));
    for (const p of pts) {
      const dot = svg("circle", { cx: x(p[0]), cy: y(p[1]), r: cls === "tf-tm-val" ? 3.5 : 1.5, class: cls });
      dot.append(svg("title", {}, `step ${p[0]} · ${kind} ${formatLoss(p[1])}`));
      root.append(dot);
      drawn.push({ step: p[0], loss: p[1], kind, x: x(p[0]), y: y(p[1]) });
    }
  };
  line(train, "tf-tm-train", "train loss");
  line(validation, "tf-tm-val", "validation loss");
  return drawn;
}

export default {
  render({ model, el }) {
    const cleanups = [];
    const banner = errorBanner(model);
    cleanups.push(banner.cleanup);
    const title = h("strong", { class: "tf-tm-title" });
    const status = h("span", { class: "tf-tm-status tf-pill" });
    let requested = null; // "cancelling" from a click, until the kernel's status arrives
    const cancel = h("button", {
      class: "tf-tm-cancel",
      title: "Cancel the training at the next step",
      onclick: async () => {
        requested = "cancelling";
        renderStatus();
        const result = await gatewayAction(model, "cancel-training", model.get("adapter"), "cancel");
        if (result.via === "relay" && result.body?.status) requested = result.body.status;
        else if (result.via === "relay") requested = null;
        renderStatus();
      },
    }, "Cancel");
    const bar = h("div", { class: "tf-tm-bar" });
    const progress = h("div", { class: "tf-tm-progress" }, bar);
    const detail = h("span", { class: "tf-muted tf-tm-detail" });
    const eta = h("span", { class: "tf-muted tf-tm-eta" });
    const current = h("span", { class: "tf-tm-loss", title: "the latest training loss" });
    const readout = h("span", { class: "tf-muted tf-tm-hover", "aria-live": "polite" });
    const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "tf-tm-chart", role: "img", "aria-label": "loss curve" });
    const valKey = h("span", { class: "tf-tm-key tf-tm-key-val" }, "validation loss");
    const legend = h("div", { class: "tf-row tf-tm-legend" },
      h("span", { class: "tf-tm-key tf-tm-key-train" }, "train loss"), valKey, readout);
    const message = h("div", { class: "tf-muted tf-tm-message" });
    let drawn = [];
    const renderStatus = () => {
      const kernelStatus = model.get("status") || "connecting";
      if (["succeeded", "failed", "cancelled"].includes(kernelStatus)) requested = null;
      const st = requested || kernelStatus;
      status.textContent = st;
      status.className = `tf-tm-status tf-pill tf-pill-${st}`;
      eta.textContent = st === "running" ? formatEta(model.get("eta_s")) : "";
      cancel.disabled = Boolean(requested) || !["validating", "queued", "running"].includes(st);
    };
    cleanups.push(watch(model, ["adapter", "display_name", "status", "step", "total_steps", "epoch", "epochs", "eta_s", "message"], () => {
      title.textContent = model.get("display_name") || model.get("adapter");
      const total = model.get("total_steps");
      const step = model.get("step");
      bar.style.width = `${total ? Math.min(100, (100 * step) / total) : 0}%`;
      detail.textContent = `step ${step}/${total || "?"} · epoch ${model.get("epoch")}/${model.get("epochs") || "?"}`;
      message.textContent = model.get("message");
      renderStatus();
    }));
    cleanups.push(watch(model, ["train_loss", "validation_loss", "total_steps"], () => {
      const train = model.get("train_loss");
      const validation = model.get("validation_loss");
      drawn = drawCurve(chart, train, validation, model.get("total_steps"));
      current.textContent = train.length ? `loss ${formatLoss(train[train.length - 1][1])}` : "";
      valKey.style.display = validation.length ? "" : "none";
    }));
    // hover: the value of the point nearest the pointer
    chart.addEventListener("mousemove", (event) => {
      if (!drawn.length) return;
      const box = chart.getBoundingClientRect();
      const px = ((event.clientX - box.left) / box.width) * W;
      const py = ((event.clientY - box.top) / box.height) * H;
      const near = drawn.reduce((a, b) => (Math.hypot(b.x - px, b.y - py) < Math.hypot(a.x - px, a.y - py) ? b : a));
      readout.textContent = `step ${near.step}: ${near.kind} ${formatLoss(near.loss)}`;
    });
    chart.addEventListener("mouseleave", () => { readout.textContent = ""; });
    el.append(h("div", { class: "tf-widget tf-training-monitor" }, banner.el,
      h("div", { class: "tf-row" }, title, status, current, cancel), progress,
      h("div", { class: "tf-row" }, detail, eta), chart, legend, message));
    return () => cleanups.forEach((fn) => fn());
  },
};
