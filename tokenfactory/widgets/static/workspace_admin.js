// Workspace Admin: workspaces (tier, wallet, monthly cap use), the selected one's keys (a new
// key shown once with a copy button), wallet top-up, cap, webhooks; prices per model.

function money(v) {
  return v === null || v === undefined ? "no wallet" : `$${Number(v).toFixed(6)}`;
}

function capText(cap) {
  if (!cap) return "no cap";
  const pct = cap.tokens ? Math.min(100, Math.round((100 * cap.used) / cap.tokens)) : 100;
  return `${cap.used.toLocaleString()} / ${cap.tokens.toLocaleString()} tokens (${pct}%)`;
}

function capBar(cap) {
  if (!cap) return null;
  const pct = cap.tokens ? Math.min(100, (100 * cap.used) / cap.tokens) : 100;
  return h("div", { class: "tf-wa-bar", title: capText(cap) },
    h("div", { class: `tf-wa-bar-fill${pct >= 100 ? " tf-wa-full" : ""}`, style: `width:${pct}%` }));
}

function when(seconds) {
  return seconds ? new Date(seconds * 1000).toISOString().slice(0, 16).replace("T", " ") : "";
}

function input(attrs) {
  const el = h("input", attrs);
  el.addEventListener("keydown", (event) => event.stopPropagation()); // not Jupyter's shortcuts
  return el;
}

// An input made once and kept across refreshes, so a refresh never takes what the user is
// typing. `show(v)` sets the value the data gives; the field shows it unless the user has typed
// in it since the last `reset()` (which brings the data's value back).
function field(attrs, initial = "") {
  const el = input(attrs);
  let value = String(initial);
  let edited = false;
  el.value = value;
  el.addEventListener("input", () => { edited = true; });
  return {
    el,
    show(v) {
      value = v === null || v === undefined ? "" : String(v);
      if (!edited) el.value = value;
    },
    reset() {
      edited = false;
      el.value = value;
    },
  };
}

// A labelled form: fields plus a button that sends `name` with the fields' values. The fields
// go back to their data once the action succeeds (the kernel's `notice`); on an error they
// keep what was typed.
function form(model, name, label, fields, button, submitted, extra = {}) {
  const send = () => {
    const payload = { ...extra };
    for (const [key, f] of Object.entries(fields)) payload[key] = f.el.value;
    submitted.fields = Object.values(fields);
    action(model, name, payload);
  };
  return h("div", { class: `tf-row tf-wa-form tf-wa-${name}` },
    label ? h("span", { class: "tf-label" }, label) : null,
    ...Object.values(fields).map((f) => f.el),
    h("button", { class: `tf-wa-${name}-button tf-primary`, onclick: send }, button));
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = h("textarea", { value: text, style: "position:fixed;opacity:0" });
    document.body.append(area);
    area.select();
    const ok = document.execCommand("copy");
    area.remove();
    return ok;
  }
}

function newKeyBox(model) {
  const k = model.get("new_key");
  if (!k || !k.key) return null;
  const status = h("span", { class: "tf-muted tf-wa-copied" });
  return h("div", { class: "tf-wa-newkey", role: "status" },
    h("div", {}, h("strong", {}, `New key for '${k.workspace}'. `),
      "Copy it now: it is shown this once (the gateway keeps only a hash)."),
    h("div", { class: "tf-row" },
      h("code", { class: "tf-wa-key" }, k.key),
      h("button", { class: "tf-wa-copy", onclick: async () => { status.textContent = (await copyText(k.key)) ? "Copied" : "Select and copy it by hand"; } }, "Copy"),
      h("button", { class: "tf-wa-dismiss", onclick: () => action(model, "dismiss_key") }, "Done"),
      status));
}

function workspaceTable(model) {
  const selected = model.get("selected");
  const rows = model.get("workspaces").map((w) => h("tr", {
    class: `tf-wa-row${w.name === selected ? " tf-selected" : ""}`,
    "data-workspace": w.name,
    "aria-selected": w.name === selected ? "true" : "false",
    onclick: () => action(model, "select", { workspace: w.name }),
  },
  h("td", { class: "tf-wa-name" }, w.name),
  h("td", {}, w.tier),
  h("td", { class: "tf-wa-balance" }, money(w.balance_usd)),
  h("td", { class: "tf-wa-cap" }, capText(w.cap), capBar(w.cap)),
  h("td", { class: "tf-wa-nkeys" }, String(w.active_keys))));
  return h("table", { class: "tf-wa-table tf-wa-workspaces" },
    h("thead", {}, h("tr", {}, ...["Workspace", "Tier", "Wallet", "Monthly cap", "Keys"].map((t) => h("th", {}, t)))),
    h("tbody", {}, ...rows));
}

function keyRows(model, confirm) {
  return model.get("api_keys").map((k) => h("tr", { class: "tf-wa-keyrow", "data-key": k.id },
    h("td", {}, h("code", {}, `${k.prefix}…`)),
    h("td", {}, k.name || ""),
    h("td", {}, k.admin ? "admin" : ""),
    h("td", {}, when(k.created_at)),
    h("td", {}, k.revoked_at
      ? h("span", { class: "tf-muted" }, `revoked ${when(k.revoked_at)}`)
      : confirm.id === k.id
        ? h("span", {}, "Revoke? ",
          h("button", { class: "tf-wa-revoke-confirm tf-primary", onclick: () => { confirm.id = null; action(model, "revoke_key", { key_id: k.id }); } }, "Revoke"),
          h("button", { class: "tf-wa-keep", onclick: () => { confirm.id = null; confirm.redraw(); } }, "Keep"))
        : h("button", { class: "tf-wa-revoke", onclick: () => { confirm.id = k.id; confirm.redraw(); } }, "Revoke"))));
}

function webhookItems(model) {
  const items = model.get("webhooks").map((w) => h("div", { class: "tf-wa-hook", "data-endpoint": w.id },
    h("div", { class: "tf-row" },
      h("code", {}, w.url),
      h("span", { class: "tf-muted" }, w.events.join(", ")),
      h("button", { class: "tf-wa-test", onclick: () => action(model, "test_webhook", { endpoint_id: w.id }) }, "Send test event"),
      h("button", { class: "tf-wa-unhook", onclick: () => action(model, "delete_webhook", { endpoint_id: w.id }) }, "Remove")),
    h("ul", { class: "tf-wa-deliveries" }, ...(w.deliveries || []).map((d) => h("li", {},
      h("span", { class: `tf-pill tf-pill-${d.status === "delivered" ? "completed" : d.status}` }, d.status),
      ` ${d.event_type} · ${d.attempts} attempt(s)`,
      d.last_status_code ? ` · HTTP ${d.last_status_code}` : "", ` · ${when(d.created_at)}`)))));
  return items.length ? items : [h("div", { class: "tf-muted" }, "No endpoint yet.")];
}

// One row per model, made once and kept (its two price fields with it); a refresh updates
// the placeholders, the prices set and the Default button.
function priceRow(model, name, submitted) {
  const inp = field({ class: "tf-wa-price-in", type: "number", min: 0, step: "any" });
  const out = field({ class: "tf-wa-price-out", type: "number", min: 0, step: "any" });
  const buttons = h("td", {});
  const tr = h("tr", { class: "tf-wa-price", "data-model": name },
    h("td", {}, h("code", {}, name)), h("td", {}, inp.el), h("td", {}, out.el), buttons);
  const send = (act, payload) => {
    submitted.fields = [inp, out];
    action(model, act, { model: name, ...payload });
  };
  const set = h("button", { class: "tf-wa-set-price", onclick: () => send("set_price", { input: inp.el.value, output: out.el.value }) }, "Set");
  const unset = h("button", { class: "tf-wa-unset-price", onclick: () => send("unset_price") }, "Default");
  return {
    tr,
    show(own, realtime) {
      inp.el.placeholder = String(realtime.input ?? "");
      out.el.placeholder = String(realtime.output ?? "");
      inp.show(own ? own.input : "");
      out.show(own ? own.output : "");
      buttons.replaceChildren(set, ...(own ? [unset] : []));
    },
  };
}

export default {
  render({ model, el }) {
    const cleanups = [];
    const banner = errorBanner(model);
    cleanups.push(banner.cleanup);
    const notice = h("div", { class: "tf-wa-notice", role: "status" });
    const denied = h("div", { class: "tf-wa-denied" });
    const newKey = h("div");
    const toolbar = h("div", { class: "tf-row" }, h("strong", {}, "Workspace admin"),
      h("button", { class: "tf-wa-refresh", onclick: () => action(model, "refresh") }, "↻ Refresh"));

    // the forms, made once: a refresh redraws only the tables and texts around them
    const submitted = { fields: null };
    const wsName = field({ class: "tf-wa-new-workspace", placeholder: "new workspace" });
    const wsTier = field({ class: "tf-wa-new-tier", size: 9 }, "standard");
    const amount = field({ class: "tf-wa-amount", type: "number", min: 0, step: "any", size: 8 }, 5);
    const cap = field({ class: "tf-wa-cap-tokens", type: "number", min: 0, step: 1, placeholder: "tokens a month (empty: none)" });
    const keyName = field({ class: "tf-wa-key-name", placeholder: "key name (optional)" });
    const hookUrl = field({ class: "tf-wa-hook-url", placeholder: "https://… (receives signed events)", size: 40 });

    const workspaces = h("div", { class: "tf-wa-workspaces-view" });
    const heading = h("h3");
    const keys = h("tbody");
    const hooks = h("div", { class: "tf-wa-hooks" });
    const prices = h("tbody");
    const priceRows = new Map();
    const detail = h("div", { class: "tf-wa-detail" },
      heading,
      form(model, "top_up", "Wallet", { amount_usd: amount }, "Top up", submitted),
      form(model, "set_cap", "Monthly cap", { monthly_tokens: cap }, "Set cap", submitted),
      h("section", { class: "tf-wa-keys" }, h("h4", {}, "Keys"),
        h("table", { class: "tf-wa-table" }, keys),
        form(model, "create_key", "", { name: keyName }, "Create key", submitted)),
      h("section", { class: "tf-wa-webhooks" }, h("h4", {}, "Webhooks"), hooks,
        form(model, "add_webhook", "", { url: hookUrl }, "Register webhook", submitted)));
    const noWorkspace = h("div", { class: "tf-muted" }, "No workspace.");
    const body = h("div", { class: "tf-wa-body" },
      workspaces,
      form(model, "create_workspace", "", { name: wsName, tier: wsTier }, "Create workspace", submitted),
      detail,
      noWorkspace,
      h("section", { class: "tf-wa-prices" },
        h("h4", {}, "Prices per model ", h("span", { class: "tf-muted" }, "USD per 1M tokens, real time; batch tiers discount it. Empty: the tier's default")),
        h("table", { class: "tf-wa-table" },
          h("thead", {}, h("tr", {}, ...["Model", "Input", "Output", ""].map((t) => h("th", {}, t)))),
          prices)));

    let shownWorkspace = null;
    cleanups.push(watch(model, ["workspaces", "selected", "denied"], () => {
      const message = model.get("denied");
      denied.textContent = message;
      denied.style.display = message ? "" : "none";
      body.style.display = message ? "none" : "";
      workspaces.replaceChildren(workspaceTable(model));
      const chosen = model.get("workspaces").find((w) => w.name === model.get("selected"));
      detail.style.display = chosen ? "" : "none";
      noWorkspace.style.display = chosen ? "none" : "";
      if (!chosen) return;
      detail.dataset.workspace = chosen.name;
      heading.replaceChildren(`${chosen.name} `,
        h("span", { class: "tf-muted" }, `${chosen.tier} · ${money(chosen.balance_usd)} · ${capText(chosen.cap)}`));
      cap.show(chosen.cap ? chosen.cap.tokens : "");
      if (chosen.name !== shownWorkspace) cap.reset(); // another workspace: its own cap
      shownWorkspace = chosen.name;
    }));
    const confirm = { id: null, redraw: () => keys.replaceChildren(...keyRows(model, confirm)) };
    cleanups.push(watch(model, ["api_keys"], confirm.redraw));
    cleanups.push(watch(model, ["webhooks"], () => hooks.replaceChildren(...webhookItems(model))));
    cleanups.push(watch(model, ["prices", "models", "tier_prices"], () => {
      const own = new Map(model.get("prices").map((p) => [p.model, p]));
      const realtime = model.get("tier_prices").realtime || {};
      const names = [...new Set([...model.get("models"), ...own.keys()])].sort();
      for (const name of names) {
        if (!priceRows.has(name)) priceRows.set(name, priceRow(model, name, submitted));
        priceRows.get(name).show(own.get(name), realtime);
      }
      prices.replaceChildren(...names.map((name) => priceRows.get(name).tr));
    }));
    cleanups.push(watch(model, ["new_key"], () => newKey.replaceChildren(...[newKeyBox(model)].filter(Boolean))));
    cleanups.push(watch(model, ["notice"], () => {
      notice.textContent = model.get("notice");
      notice.style.display = model.get("notice") ? "" : "none";
      if (model.get("notice") && submitted.fields) { // the action went through
        submitted.fields.forEach((f) => f.reset());
        submitted.fields = null;
      }
    }));
    cleanups.push(watch(model, ["error"], () => {
      if (model.get("error")) submitted.fields = null; // it failed: the typed text stays
    }));

    el.append(h("div", { class: "tf-widget tf-workspace-admin" }, banner.el, toolbar, denied, notice, newKey, body));
    return () => cleanups.forEach((fn) => fn());
  },
};
