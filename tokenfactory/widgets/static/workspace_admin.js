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

// A labelled form: fields plus a button that sends `name` with the fields' values.
function form(model, name, label, fields, button, extra = {}) {
  const send = () => {
    const payload = { ...extra };
    for (const [key, el] of Object.entries(fields)) payload[key] = el.value;
    action(model, name, payload);
  };
  return h("div", { class: `tf-row tf-wa-form tf-wa-${name}` },
    label ? h("span", { class: "tf-label" }, label) : null,
    ...Object.values(fields),
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

function keysSection(model, confirm) {
  const rows = model.get("api_keys").map((k) => h("tr", { class: "tf-wa-keyrow", "data-key": k.id },
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
  const name = input({ class: "tf-wa-key-name", placeholder: "key name (optional)" });
  return h("section", { class: "tf-wa-keys" }, h("h4", {}, "Keys"),
    h("table", { class: "tf-wa-table" }, h("tbody", {}, ...rows)),
    form(model, "create_key", "", { name }, "Create key"));
}

function webhooksSection(model) {
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
  const url = input({ class: "tf-wa-hook-url", placeholder: "https://… (receives signed events)", size: 40 });
  return h("section", { class: "tf-wa-webhooks" }, h("h4", {}, "Webhooks"),
    ...(items.length ? items : [h("div", { class: "tf-muted" }, "No endpoint yet.")]),
    form(model, "add_webhook", "", { url }, "Register webhook"));
}

function pricesSection(model) {
  const own = new Map(model.get("prices").map((p) => [p.model, p]));
  const tiers = model.get("tier_prices");
  const realtime = tiers.realtime || {};
  const names = [...new Set([...model.get("models"), ...own.keys()])].sort();
  const rows = names.map((name) => {
    const p = own.get(name);
    const inp = input({ class: "tf-wa-price-in", type: "number", min: 0, step: "any", value: p ? p.input : "", placeholder: String(realtime.input ?? "") });
    const out = input({ class: "tf-wa-price-out", type: "number", min: 0, step: "any", value: p ? p.output : "", placeholder: String(realtime.output ?? "") });
    return h("tr", { class: "tf-wa-price", "data-model": name },
      h("td", {}, h("code", {}, name)),
      h("td", {}, inp), h("td", {}, out),
      h("td", {}, h("button", { class: "tf-wa-set-price", onclick: () => action(model, "set_price", { model: name, input: inp.value, output: out.value }) }, "Set"),
        p ? h("button", { class: "tf-wa-unset-price", onclick: () => action(model, "unset_price", { model: name }) }, "Default") : null));
  });
  return h("section", { class: "tf-wa-prices" },
    h("h4", {}, "Prices per model ", h("span", { class: "tf-muted" }, "USD per 1M tokens, real time; batch tiers discount it. Empty: the tier's default")),
    h("table", { class: "tf-wa-table" },
      h("thead", {}, h("tr", {}, ...["Model", "Input", "Output", ""].map((t) => h("th", {}, t)))),
      h("tbody", {}, ...rows)));
}

export default {
  render({ model, el }) {
    const cleanups = [];
    const banner = errorBanner(model);
    cleanups.push(banner.cleanup);
    const notice = h("div", { class: "tf-wa-notice", role: "status" });
    const denied = h("div", { class: "tf-wa-denied" });
    const body = h("div", { class: "tf-wa-body" });
    const newKey = h("div");
    const confirm = { id: null, redraw: () => draw() };
    const toolbar = h("div", { class: "tf-row" }, h("strong", {}, "Workspace admin"),
      h("button", { class: "tf-wa-refresh", onclick: () => action(model, "refresh") }, "↻ Refresh"));

    const draw = () => {
      const message = model.get("denied");
      denied.textContent = message;
      denied.style.display = message ? "" : "none";
      body.style.display = message ? "none" : "";
      const chosen = model.get("workspaces").find((w) => w.name === model.get("selected"));
      const amount = input({ class: "tf-wa-amount", type: "number", min: 0, step: "any", value: 5, size: 8 });
      const cap = input({ class: "tf-wa-cap-tokens", type: "number", min: 0, step: 1, placeholder: "tokens a month (empty: none)", value: chosen && chosen.cap ? chosen.cap.tokens : "" });
      const wsName = input({ class: "tf-wa-new-workspace", placeholder: "new workspace" });
      const wsTier = input({ class: "tf-wa-new-tier", value: "standard", size: 9 });
      body.replaceChildren(
        workspaceTable(model),
        form(model, "create_workspace", "", { name: wsName, tier: wsTier }, "Create workspace"),
        chosen ? h("div", { class: "tf-wa-detail", "data-workspace": chosen.name },
          h("h3", {}, `${chosen.name} `, h("span", { class: "tf-muted" }, `${chosen.tier} · ${money(chosen.balance_usd)} · ${capText(chosen.cap)}`)),
          form(model, "top_up", "Wallet", { amount_usd: amount }, "Top up"),
          form(model, "set_cap", "Monthly cap", { monthly_tokens: cap }, "Set cap"),
          keysSection(model, confirm),
          webhooksSection(model)) : h("div", { class: "tf-muted" }, "No workspace."),
        pricesSection(model));
    };
    cleanups.push(watch(model, ["workspaces", "selected", "api_keys", "webhooks", "prices", "models", "denied"], draw));
    cleanups.push(watch(model, ["new_key"], () => newKey.replaceChildren(...[newKeyBox(model)].filter(Boolean))));
    cleanups.push(watch(model, ["notice"], () => {
      notice.textContent = model.get("notice");
      notice.style.display = model.get("notice") ? "" : "none";
    }));

    el.append(h("div", { class: "tf-widget tf-workspace-admin" }, banner.el, toolbar, denied, notice, newKey, body));
    return () => cleanups.forEach((fn) => fn());
  },
};
