// Model Library: the catalog as a table with filters, load/unload and "open in Playground".

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

    const headers = ["Model", "Provider", "Modality", "Status", "Size", "Context", "Engine", "Adapters", ""];
    const tbody = h("tbody");
    const table = h("table", { class: "tf-ml-table" }, h("thead", {}, h("tr", {}, ...headers.map((t) => h("th", {}, t)))), tbody);

    const row = (m, pending) => {
      const busy = pending[m.id];
      const status = busy ? `${busy}…` : m.status || "";
      const loaded = m.status === "loaded";
      const actionButton = m.parent
        ? null
        : h("button", {
          class: loaded ? "tf-ml-unload" : "tf-ml-load",
          disabled: Boolean(busy),
          onclick: (event) => { event.stopPropagation(); action(model, loaded ? "unload" : "load", { model: m.id }); },
        }, loaded ? "Unload" : "Load");
      const playButton = m.modality === "chat"
        ? h("button", { class: "tf-ml-play", title: "Open a Playground on this model", onclick: (event) => { event.stopPropagation(); action(model, "playground", { model: m.id }); } }, "Playground")
        : null;
      return h(
        "tr",
        {
          class: `tf-ml-row${model.get("selected") === m.id ? " tf-selected" : ""}`,
          "data-model": m.id,
          onclick: () => setTrait(model, "selected", m.id),
        },
        h("td", { class: "tf-ml-id" }, m.id, m.parent ? h("div", { class: "tf-muted" }, `adapter of ${m.parent}`) : null),
        h("td", {}, m.provider || ""),
        h("td", {}, m.modality || ""),
        h("td", { class: "tf-ml-nowrap" }, h("span", { class: `tf-ml-status tf-status-${busy ? "busy" : m.status}` }, status)),
        h("td", { class: "tf-ml-nowrap" }, formatBytes(m.size_bytes)),
        h("td", { class: "tf-ml-nowrap" }, m.context_length ? m.context_length.toLocaleString() : ""),
        h("td", {}, m.engine || ""),
        h("td", {}, (m.adapters || []).join(", ")),
        h("td", { class: "tf-ml-actions" }, actionButton, playButton),
      );
    };
    cleanups.push(watch(model, ["models", "visible", "pending", "selected"], () => {
      const visible = new Set(model.get("visible"));
      const pending = model.get("pending");
      const models = model.get("models").filter((m) => visible.has(m.id));
      models.sort((a, b) => STATUS_ORDER.indexOf(a.status) - STATUS_ORDER.indexOf(b.status) || a.id.localeCompare(b.id));
      tbody.replaceChildren(...models.map((m) => row(m, pending)));
      if (!models.length) tbody.append(h("tr", {}, h("td", { colspan: headers.length, class: "tf-muted" }, "No model matches.")));
      count.textContent = `${models.length} of ${model.get("models").length} models`;
    }));

    el.append(h("div", { class: "tf-widget tf-model-library" }, banner.el, toolbar, table));
    return () => cleanups.forEach((fn) => fn());
  },
};
