// Playground: chat with a model of the gateway, answers streaming in.

function statsLine(stats) {
  if (!stats) return "";
  const parts = [`${stats.completion_tokens ?? "?"} tokens`];
  if (stats.tokens_per_s) parts.push(`${stats.tokens_per_s} tok/s`);
  if (stats.latency_s !== null && stats.latency_s !== undefined) parts.push(`first token ${stats.latency_s.toFixed(2)} s`);
  if (stats.total_s !== null && stats.total_s !== undefined) parts.push(`total ${stats.total_s.toFixed(2)} s`);
  return parts.join(" · ");
}

function bubble(message) {
  const meta = message.role === "assistant"
    ? h("div", { class: "tf-pg-stats" }, statsLine(message.stats), message.finish_reason === "stopped" ? " · stopped" : "")
    : null;
  return h(
    "div",
    { class: `tf-pg-msg tf-pg-${message.role}`, "data-role": message.role },
    h("div", { class: "tf-pg-who" }, message.role),
    message.role === "assistant"
      ? h("div", { class: "tf-pg-text tf-md" }, renderMarkdown(message.content))
      : h("div", { class: "tf-pg-text" }, message.content),
    meta,
  );
}

function numberInput(model, name, { min, max, step, label }) {
  const input = h("input", {
    type: "number", min, max, step, class: "tf-pg-num", "data-param": name,
    onchange: () => {
      const value = step >= 1 ? parseInt(input.value, 10) : parseFloat(input.value);
      if (!Number.isNaN(value)) setTrait(model, name, value);
    },
  });
  const cleanup = watch(model, [name], () => { input.value = model.get(name); });
  return { el: h("label", { class: "tf-row" }, h("span", { class: "tf-label" }, label), input), cleanup };
}

export default {
  render({ model, el }) {
    const cleanups = [];
    const banner = errorBanner(model);
    cleanups.push(banner.cleanup);

    const modelSelect = h("select", { class: "tf-pg-model", onchange: () => setTrait(model, "model", modelSelect.value) });
    const adapterSelect = h("select", { class: "tf-pg-adapter", onchange: () => setTrait(model, "adapter", adapterSelect.value) });
    cleanups.push(watch(model, ["models", "model", "adapter"], () => {
      const models = model.get("models");
      const current = model.get("model");
      const ids = models.map((m) => m.id);
      if (current && !ids.includes(current)) ids.unshift(current);
      options(modelSelect, ids, current);
      const entry = models.find((m) => m.id === current);
      const adapters = ["", ...((entry && entry.adapters) || [])];
      options(adapterSelect, adapters, model.get("adapter"), { "": "no adapter" });
      adapterSelect.disabled = adapters.length < 2;
    }));

    const codeBox = h("div", { class: "tf-pg-code", style: "display:none" });
    const codeTabs = { python: "code_python", curl: "code_curl" };
    let codeTab = "python";
    const codePre = h("pre", { class: "tf-pg-code-text" });
    const tabButtons = Object.keys(codeTabs).map((tab) =>
      h("button", { class: "tf-pg-tab", "data-tab": tab, onclick: () => { codeTab = tab; showCode(); } }, tab === "python" ? "Python SDK" : "curl"));
    const copy = h("button", { onclick: () => navigator.clipboard && navigator.clipboard.writeText(codePre.textContent) }, "Copy");
    codeBox.append(h("div", { class: "tf-row" }, ...tabButtons, copy), codePre);
    const showCode = () => {
      codePre.textContent = model.get(codeTabs[codeTab]);
      tabButtons.forEach((b) => b.classList.toggle("tf-active", b.dataset.tab === codeTab));
    };
    cleanups.push(watch(model, ["code_python", "code_curl"], showCode));
    const codeToggle = h("button", {
      class: "tf-pg-view-code",
      onclick: () => { codeBox.style.display = codeBox.style.display === "none" ? "" : "none"; },
    }, "View as code");

    const header = h(
      "div", { class: "tf-row tf-pg-header" },
      h("span", { class: "tf-label" }, "Model"), modelSelect,
      h("span", { class: "tf-label" }, "Adapter"), adapterSelect,
      h("button", { title: "Refresh the model list", onclick: () => action(model, "refresh") }, "↻"),
      h("span", { style: "flex:1" }),
      codeToggle,
      h("button", { class: "tf-pg-clear", onclick: () => action(model, "clear") }, "Clear"),
    );

    const system = h("textarea", {
      class: "tf-pg-system", rows: 2, placeholder: "System prompt (optional)",
      onchange: () => setTrait(model, "system_prompt", system.value),
    });
    cleanups.push(watch(model, ["system_prompt"], () => {
      if (document.activeElement !== system) system.value = model.get("system_prompt");
    }));
    const params = [
      numberInput(model, "temperature", { min: 0, max: 2, step: 0.1, label: "temperature" }),
      numberInput(model, "top_p", { min: 0, max: 1, step: 0.05, label: "top_p" }),
      numberInput(model, "max_tokens", { min: 1, max: 32768, step: 1, label: "max_tokens" }),
    ];
    params.forEach((p) => cleanups.push(p.cleanup));
    const settings = h("div", { class: "tf-pg-settings" }, system, h("div", { class: "tf-row" }, ...params.map((p) => p.el)));

    const historyBox = h("div", { class: "tf-pg-history" });
    const draftText = h("div", { class: "tf-pg-text tf-md" });
    const draftBubble = h("div", { class: "tf-pg-msg tf-pg-assistant tf-pg-draft", "data-role": "draft" },
      h("div", { class: "tf-pg-who" }, "assistant"), draftText);
    const showDraft = () => {
      const draft = model.get("draft");
      draftText.replaceChildren(...(draft ? renderMarkdown(draft) : [h("p", {}, "…")]));
    };
    const renderHistory = () => {
      const items = model.get("history").map(bubble);
      if (model.get("streaming")) {
        showDraft();
        items.push(draftBubble);
      }
      if (!items.length) items.push(h("div", { class: "tf-muted tf-pg-empty" }, "Send a message to start the conversation."));
      historyBox.replaceChildren(...items);
      historyBox.scrollTop = historyBox.scrollHeight;
    };
    cleanups.push(watch(model, ["history", "streaming"], renderHistory));
    cleanups.push(watch(model, ["draft"], () => {
      showDraft();
      historyBox.scrollTop = historyBox.scrollHeight;
    }));

    const input = h("textarea", { class: "tf-pg-input", rows: 2, placeholder: "Message (Enter to send, Shift+Enter for a new line)" });
    const send = () => {
      const text = input.value.trim();
      if (!text || model.get("streaming")) return;
      action(model, "send", { text });
      input.value = "";
    };
    input.addEventListener("keydown", (event) => {
      event.stopPropagation(); // keep JupyterLab's notebook shortcuts out of the text box
      if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); send(); }
    });
    const sendButton = h("button", { class: "tf-primary tf-pg-send", onclick: send }, "Send");
    const stopButton = h("button", { class: "tf-pg-stop", onclick: () => action(model, "stop") }, "Stop");
    cleanups.push(watch(model, ["streaming"], () => {
      sendButton.disabled = model.get("streaming");
      stopButton.disabled = !model.get("streaming");
    }));
    const footer = h("div", { class: "tf-row tf-pg-footer" }, input, sendButton, stopButton);

    el.append(h("div", { class: "tf-widget tf-playground" }, banner.el, header, settings, historyBox, footer, codeBox));
    return () => cleanups.forEach((fn) => fn());
  },
};
