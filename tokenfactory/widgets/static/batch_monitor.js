// Batch Monitor: status, progress, counts, throughput/ETA, cancel, and the results table.

function duration(s) {
  if (s === null || s === undefined || !isFinite(s)) return "–";
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

export default {
  render({ model, el }) {
    const cleanups = [];
    const banner = errorBanner(model);
    cleanups.push(banner.cleanup);

    const title = h("span", { class: "tf-bm-id" });
    const badge = h("span", { class: "tf-bm-status tf-pill" });
    // set by a click until the kernel's own status arrives (the kernel may be busy meanwhile)
    let requested = null;
    const cancel = h("button", {
      class: "tf-bm-cancel",
      title: "Cancel the job; lines that finished keep their results",
      onclick: async () => {
        requested = "cancelling";
        render();
        const result = await gatewayAction(model, "cancel-batch", model.get("batch_id"), "cancel");
        if (result.via === "relay" && result.body?.status) requested = result.body.status;
        else if (result.via === "relay") requested = null;
        render();
      },
    }, "Cancel");
    const bar = h("progress", { class: "tf-bm-progress", max: 1, value: 0 });
    const counts = h("span", { class: "tf-bm-counts" });
    const speed = h("span", { class: "tf-muted tf-bm-speed" });
    const tbody = h("tbody");
    const note = h("div", { class: "tf-muted tf-bm-note" });
    const table = h("table", { class: "tf-bm-table" },
      h("thead", {}, h("tr", {}, ...["custom_id", "status", "response", "error"].map((t) => h("th", {}, t)))), tbody);
    const results = h("div", { class: "tf-bm-results" }, table, note);

    const render = () => {
      const missing = model.get("missing");
      const done = model.get("done");
      if (done) requested = null;
      const status = missing ? "not found" : requested || model.get("status") || "…";
      const total = model.get("total");
      const finished = model.get("completed") + model.get("failed");
      title.textContent = `${model.get("batch_id")}${model.get("sla") ? ` · sla ${model.get("sla")}` : ""}`;
      badge.textContent = status;
      badge.className = `tf-bm-status tf-pill tf-pill-${status.replace(/ /g, "_")}`;
      bar.max = Math.max(total, 1);
      bar.value = finished;
      const parts = [`${model.get("completed")} completed`, `${model.get("failed")} failed`];
      if (model.get("cancelled")) parts.push(`${model.get("cancelled")} cancelled`);
      counts.textContent = `${parts.join(" · ")} · ${total} total`;
      const rate = model.get("throughput");
      speed.textContent = done || missing
        ? ""
        : `${rate ? rate.toFixed(2) : "–"} req/s · ETA ${duration(model.get("eta_s"))}`;
      cancel.disabled = done || missing || !model.get("status") || ["cancelling", "cancelled"].includes(status);
    };
    cleanups.push(watch(model, ["batch_id", "status", "sla", "total", "completed", "failed", "cancelled", "missing", "throughput", "eta_s", "done"], render));
    cleanups.push(watch(model, ["results", "results_total", "done"], () => {
      const rows = model.get("results");
      results.style.display = model.get("done") ? "" : "none";
      tbody.replaceChildren(...rows.map((r) => h("tr", {},
        h("td", {}, r.custom_id ?? ""),
        h("td", {}, r.status_code ?? ""),
        h("td", { class: "tf-bm-response" }, r.response ?? ""),
        h("td", { class: "tf-bm-error" }, r.error ?? ""),
      )));
      const shown = rows.length;
      const total = model.get("results_total");
      note.textContent = total > shown ? `Showing ${shown} of ${total} rows; monitor.to_pandas() has them all.` : "";
    }));

    el.append(h("div", { class: "tf-widget tf-batch-monitor" }, banner.el,
      h("div", { class: "tf-row" }, title, badge, cancel),
      bar, h("div", { class: "tf-row" }, counts, speed), results));
    return () => cleanups.forEach((fn) => fn());
  },
};
