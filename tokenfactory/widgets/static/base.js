// Shared helpers for tokenfactory widgets (prepended to each widget's module by base.esm()).

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "style") el.style.cssText = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key in el && key !== "list") el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

// Call fn now and whenever one of the traits changes; returns the cleanup.
function watch(model, names, fn) {
  const events = names.map((n) => `change:${n}`).join(" ");
  const handler = () => fn();
  model.on(events, handler);
  fn();
  return () => model.off(events, handler);
}

function setTrait(model, name, value) {
  model.set(name, value);
  model.save_changes();
}

function action(model, name, payload = {}) {
  model.send({ action: name, ...payload });
}

// The Jupyter server this page came from: its base URL and the headers a POST to it needs.
function jupyterServer() {
  const node = document.getElementById("jupyter-config-data");
  if (!node) return null;
  let config;
  try {
    config = JSON.parse(node.textContent);
  } catch {
    return null;
  }
  const headers = { "Content-Type": "application/json" };
  if (config.token) headers.Authorization = `token ${config.token}`;
  const xsrf = document.cookie.match(/(?:^|;\s*)_xsrf=([^;]*)/);
  if (xsrf) headers["X-XSRFToken"] = decodeURIComponent(xsrf[1]);
  return { base: (config.baseUrl || "/").replace(/\/?$/, "/"), headers };
}

// A button that must work while a cell keeps the kernel busy: the page asks the Jupyter
// server's relay (tokenfactory/jupyter/relay.py ACTIONS) to call the gateway, since a widget
// message would wait in the kernel's queue behind the cell. Without a relay (another front
// end, a gateway the server does not know) it falls back to the kernel message `kernelAction`.
// Resolves to {via: "relay", body} or {via: "kernel"}. Once the relay took the request, its
// answer stands (a refusal or a gateway error shows in the error banner at once): a second try
// through the kernel could act twice.
async function gatewayAction(model, relayAction, target, kernelAction, payload = {}) {
  const gid = model.get("relay_gateway");
  const server = gid ? jupyterServer() : null;
  if (server) {
    let response = null;
    try {
      response = await fetch(`${server.base}tokenfactory/api/gateways/${gid}/actions`, {
        method: "POST",
        headers: server.headers,
        credentials: "same-origin",
        body: JSON.stringify({ action: relayAction, target }),
      });
    } catch {
      response = null; // the Jupyter server is not reachable from here: the kernel path below
    }
    const body = response ? await response.json().catch(() => ({})) : null;
    if (response && response.ok) return { via: "relay", body };
    // no such route (no server extension), no gateway by that id, or not allowed: kernel path
    const unknown = !response || [403, 405].includes(response.status)
      || (response.status === 404 && body?.error?.code === "gateway_not_found")
      || (response.status === 404 && !body?.error);
    if (!unknown) {
      setTrait(model, "error", body?.error?.message || `${response.status} ${response.statusText}`);
      return { via: "relay", body };
    }
  }
  action(model, kernelAction, payload);
  return { via: "kernel" };
}

// A banner showing the widget's `error` trait, with a dismiss button.
function errorBanner(model) {
  const text = h("span", { class: "tf-error-text" });
  const el = h(
    "div",
    { class: "tf-error", role: "alert" },
    text,
    h("button", { class: "tf-error-close", title: "Dismiss", onclick: () => setTrait(model, "error", "") }, "×"),
  );
  const cleanup = watch(model, ["error"], () => {
    const message = model.get("error");
    text.textContent = message;
    el.style.display = message ? "" : "none";
  });
  return { el, cleanup };
}

function options(select, values, current, labels = {}) {
  select.replaceChildren(
    ...values.map((v) => h("option", { value: v, selected: v === current }, labels[v] ?? v)),
  );
  select.value = current;
}

function formatBytes(n) {
  if (n === null || n === undefined) return "";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i += 1;
  }
  return `${n.toFixed(n >= 10 || i === 0 ? 0 : 1)} ${units[i]}`;
}
