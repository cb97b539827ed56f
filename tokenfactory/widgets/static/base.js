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

// The Jupyter server this page was served by (JupyterLab and Notebook pages carry its config
// in #jupyter-config-data), or null elsewhere (VS Code, Colab, a static page).
function jupyterServer() {
  const node = document.getElementById("jupyter-config-data");
  if (!node) return null;
  try {
    const config = JSON.parse(node.textContent);
    return { baseUrl: (config.baseUrl || "/").replace(/\/?$/, "/"), token: config.token || "" };
  } catch (e) {
    return null;
  }
}

// Stop `kind` `id` on the widget's gateway through the tokenfactory server extension
// (POST /tokenfactory/api/cancel). Unlike a widget message, which waits in the kernel's queue
// behind a running cell, this reaches the gateway at once. Resolves to true when it stopped.
async function cancelOnGateway(model, kind, id) {
  const server = jupyterServer();
  const baseUrl = model.get("base_url");
  if (!server || !baseUrl || !id) return false;
  const headers = { "Content-Type": "application/json" };
  if (server.token) headers.Authorization = `token ${server.token}`;
  const xsrf = document.cookie.match(/\b_xsrf=([^;]*)/);
  if (xsrf) headers["X-XSRFToken"] = xsrf[1];
  try {
    const response = await fetch(`${server.baseUrl}tokenfactory/api/cancel`, {
      method: "POST",
      headers,
      credentials: "same-origin",
      body: JSON.stringify({ base_url: baseUrl, kind, id }),
    });
    return response.ok;
  } catch (e) {
    return false;
  }
}
