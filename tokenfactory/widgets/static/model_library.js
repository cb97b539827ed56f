// Model Library: the catalog as a table with filters, details of the clicked row, load/unload
// (unload asks first) and "open in Playground".

const STATUS_ORDER = ["loaded", "loading", "available", "downloading", "unloaded", "failed"];

function distinct(models, key) {
  return [...new Set(models.map((m) => m[key]).filter((v) => v))].sort();
}

function filterSelect(model, name, label) {
  const select = h("select", { class: `tf-ml-filter tf-ml-${name}`, "data-filter": name, onchange: () => setTrait(model, name, select.value) });
  const cleanup = watch(model, ["models", name], () => {
    const values = distinct(model.get("models"), name);
    const current = model.get(name);
    if (current && !values.includes(current)) values.push(current);
    options(select, ["", ...values], current, { "": `all ${label}` });
  });
  return { el: select, cleanup };
}

// A model id that may break only after its organisation ("org/" | "name"), never mid-name.
function modelId(id) {
  const slash = id.lastIndexOf("/");
  if (slash < 0) return h("span", { class: "tf-ml-name" }, id);
  return h("span", {}, h("span", { class: "tf-ml-org" }, id.slice(0, slash + 1)), h("wbr"), h("span", { class: "tf-ml-name" }, id.slice(slash + 1)));
}

function details(m) {
  const rows = [
    ["Model", m.id],
    ["Provider", m.provider],
    ["Modality", m.modality],
    ["Status", m.status],
    ["Engine", m.engine],
    ["Size", formatBytes(m.size_bytes)],
    ["Context length", m.context_length ? `${m.context_length.toLocaleString()} tokens` : ""],
    ["Base model", m.parent],
    ["Adapters", (m.adapters || []).join(", ") || (m.parent ? "" : "none")],
  ].filter(([, v]) => v);
  return h("div", { class: "tf-ml-details", "data-model": m.id },
    h("dl", {}, ...rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])));
}

export default {
  render({ model, el }) {
    const cleanups = [];
    const banner = errorBanner(model);
    cleanups.push(banner.cleanup);

    const search = h("input", {
      type: "search", class: "tf-ml-search", placeholder: "Search models",
      oninput: () => setTrait(model, "search", search.value),
    });
    search.addEventListener("keydown", (event) => event.stopPropagation());
    cleanups.push(watch(model, ["search"], () => {
      if (document.activeElement !== search) search.value = model.get("search");
    }));
    const filters = [filterSelect(model, "provider", "providers"), filterSelect(model, "modality", "modalities"), filterSelect(model, "status", "statuses")];
    filters.forEach((f) => cleanups.push(f.cleanup));
    const count = h("span", { class: "tf-muted tf-ml-count" });
    const toolbar = h("div", { class: "tf-row" }, search, ...filters.map((f) => f.el),
      h("button", { class: "tf-ml-refresh", title: "Refresh", onclick: () => action(model, "refresh") }, "↻ Refresh"), count);

    // columns a narrow widget drops first (the details panel shows them all): see the CSS
    const headers = ["Model", "Modality", "Status", "Size", "Context", "Engine", "Adapters", ""];
    const cols = ["id", "modality", "status", "size", "context", "engine", "adapters", "actions"];
    const tbody = h("tbody");
    const table = h("table", { class: "tf-ml-table" }, h("thead", {}, h("tr", {}, ...headers.map((t, i) => h("th", { class: `tf-ml-col-${cols[i]}` }, t)))), tbody);
    const info = h("div", { class: "tf-ml-info" });
    let confirming = null; // the id whose Unload waits for a second click

    const row = (m, pending) => {
      const busy = pending[m.id];
      const status = busy ? `${busy}…` : m.status || "";
      const loaded = m.status === "loaded";
      const stop = (fn) => (event) => { event.stopPropagation(); fn(); };
      let actions;
      if (confirming === m.id) {
        const what = (m.adapters || []).length ? ` and its ${m.adapters.length} adapter(s)` : "";
        actions = [
          h("span", { class: "tf-ml-confirm-text" }, `Unload${what}?`),
          h("button", { class: "tf-ml-confirm tf-primary", onclick: stop(() => { confirming = null; draw(); action(model, "unload", { model: m.id }); }) }, "Unload"),
          h("button", { class: "tf-ml-keep", onclick: stop(() => { confirming = null; draw(); }) }, "Keep"),
        ];
      } else {
        actions = [
          m.parent ? null : h("button", {
            class: loaded ? "tf-ml-unload" : "tf-ml-load",
            disabled: Boolean(busy),
            onclick: stop(() => {
              if (loaded) { confirming = m.id; draw(); } else action(model, "load", { model: m.id });
            }),
          }, loaded ? "Unload" : "Load"),
          m.modality === "chat"
            ? h("button", { class: "tf-ml-play", title: "Open a Playground on this model", onclick: stop(() => action(model, "playground", { model: m.id })) }, "Playground")
            : null,
        ];
      }
      const selected = model.get("selected") === m.id;
      return h(
        "tr",
        {
          class: `tf-ml-row${selected ? " tf-selected" : ""}`,
          "data-model": m.id,
          "aria-selected": selected ? "true" : "false",
          title: "Click for details",
          onclick: () => setTrait(model, "selected", selected ? "" : m.id),
        },
        h("td", { class: "tf-ml-id tf-ml-col-id" }, modelId(m.id), m.parent ? h("div", { class: "tf-muted" }, "adapter of ", modelId(m.parent)) : null),
        h("td", { class: "tf-ml-col-modality" }, m.modality || ""),
        h("td", { class: "tf-ml-nowrap tf-ml-col-status" }, h("span", { class: `tf-ml-status tf-pill tf-pill-${busy ? "busy" : m.status}` }, status)),
        h("td", { class: "tf-ml-nowrap tf-ml-col-size" }, formatBytes(m.size_bytes)),
        h("td", { class: "tf-ml-nowrap tf-ml-col-context" }, m.context_length ? m.context_length.toLocaleString() : ""),
        h("td", { class: "tf-ml-col-engine" }, m.engine || ""),
        h("td", { class: "tf-ml-adapters tf-ml-col-adapters" }, (m.adapters || []).join(", ")),
        h("td", { class: "tf-ml-actions tf-ml-col-actions" }, h("div", { class: "tf-ml-buttons" }, ...actions)),
      );
    };
    const draw = () => {
      const visible = new Set(model.get("visible"));
      const pending = model.get("pending");
      const all = model.get("models");
      const models = all.filter((m) => visible.has(m.id));
      models.sort((a, b) => STATUS_ORDER.indexOf(a.status) - STATUS_ORDER.indexOf(b.status) || a.id.localeCompare(b.id));
      if (confirming && !models.some((m) => m.id === confirming && m.status === "loaded")) confirming = null;
      tbody.replaceChildren(...models.map((m) => row(m, pending)));
      if (!models.length) tbody.append(h("tr", {}, h("td", { colspan: headers.length, class: "tf-muted" }, "No model matches.")));
      count.textContent = `${models.length} of ${all.length} models`;
      const chosen = all.find((m) => m.id === model.get("selected"));
      info.replaceChildren(...(chosen ? [details(chosen)] : []));
    };
    cleanups.push(watch(model, ["models", "visible", "pending", "selected"], draw));

    el.append(h("div", { class: "tf-widget tf-model-library" }, banner.el, toolbar,
      h("div", { class: "tf-ml-scroll" }, table), info));
    return () => cleanups.forEach((fn) => fn());
  },
};
