// Playground: chat (or raw-prompt completion) with a model of the gateway, answers streaming in.
// Uses playground_fields.js (settings) and playground_messages.js (bubbles, heat-map).

// Within this many pixels of the bottom the history follows a streaming answer; a reader who
// scrolled further up stays where they are.
const FOLLOW_SLACK = 24;

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
    const copyCode = h("button", { class: "tf-pg-copy-code" }, "Copy");
    copyCode.addEventListener("click", () => copyText(codePre.textContent, copyCode));
    codeBox.append(h("div", { class: "tf-row" }, ...tabButtons, copyCode), codePre);
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
    system.addEventListener("keydown", (event) => event.stopPropagation());
    cleanups.push(watch(model, ["system_prompt", "mode"], () => {
      if (document.activeElement !== system) system.value = model.get("system_prompt");
      system.style.display = model.get("mode") === "completion" ? "none" : "";
    }));
    const params = settingsPanel(model);
    cleanups.push(params.cleanup);
    const settings = h("div", { class: "tf-pg-settings" }, system, params.el);

    const historyBox = h("div", { class: "tf-pg-history" });
    const atBottom = () => historyBox.scrollHeight - historyBox.scrollTop - historyBox.clientHeight <= FOLLOW_SLACK;
    const follow = (wasAtBottom) => { if (wasAtBottom) historyBox.scrollTop = historyBox.scrollHeight; };
    const draftText = h("div", { class: "tf-pg-text tf-md" });
    const draftBubble = h("div", { class: "tf-pg-msg tf-pg-assistant tf-pg-draft", "data-role": "draft" },
      h("div", { class: "tf-pg-who" }, "assistant"), draftText);
    const showDraft = () => {
      const draft = model.get("draft");
      draftText.replaceChildren(...(draft ? renderMarkdown(draft) : [h("p", {}, "…")]));
    };
    const renderHistory = () => {
      const wasAtBottom = atBottom();
      const history = model.get("history");
      const streaming = model.get("streaming");
      const lastAnswer = history.map((m) => m.role).lastIndexOf("assistant");
      const items = history.map((m, i) => bubble(model, m, i, { isLastAnswer: i === lastAnswer, streaming, rerender: renderHistory }));
      if (streaming) {
        showDraft();
        items.push(draftBubble);
      }
      if (!items.length) items.push(h("div", { class: "tf-muted tf-pg-empty" }, "Send a message to start the conversation."));
      historyBox.replaceChildren(...items);
      follow(wasAtBottom);
    };
    cleanups.push(watch(model, ["history", "streaming"], renderHistory));
    cleanups.push(watch(model, ["draft"], () => {
      const wasAtBottom = atBottom();
      showDraft();
      follow(wasAtBottom);
    }));

    const context = h("div", { class: "tf-muted tf-pg-context" });
    cleanups.push(watch(model, ["context_used", "context_length", "prompt_tokens"], () => { context.textContent = contextLine(model); }));

    const input = h("textarea", { class: "tf-pg-input", rows: 2 });
    cleanups.push(watch(model, ["mode"], () => {
      input.placeholder = model.get("mode") === "completion"
        ? "Raw prompt, continued by the model (Enter to send, Shift+Enter for a new line)"
        : "Message (Enter to send, Shift+Enter for a new line)";
    }));
    const send = () => {
      const text = input.value;
      if (!text.trim() || model.get("streaming")) return;
      action(model, "send", { text });
      input.value = "";
    };
    input.addEventListener("keydown", (event) => {
      event.stopPropagation(); // keep JupyterLab's notebook shortcuts out of the text box
      if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); send(); }
    });
    const retryButton = h("button", { class: "tf-pg-retry", title: "Send the failed message again", onclick: () => {
      input.value = "";
      action(model, "retry");
    } }, "Retry");
    // a send that failed hands its text back: into the box (unless something new is typed)
    cleanups.push(watch(model, ["failed_input"], () => {
      const failed = model.get("failed_input");
      if (failed && !input.value.trim()) input.value = failed;
      retryButton.style.display = failed ? "" : "none";
    }));
    const sendButton = h("button", { class: "tf-primary tf-pg-send", onclick: send }, "Send");
    const stopButton = h("button", {
      class: "tf-pg-stop",
      title: "Stop the answer (works while a cell runs in this kernel)",
      onclick: () => {
        action(model, "stop");
        // that message waits behind a running cell; the gateway, asked through the Jupyter
        // server's relay, stops the stream at once (a stream already over is no error)
        const gid = model.get("relay_gateway");
        const server = gid ? jupyterServer() : null;
        const id = model.get("request_id");
        if (!server || !id) return;
        fetch(`${server.base}tokenfactory/api/gateways/${gid}/actions`, {
          method: "POST", headers: server.headers, credentials: "same-origin",
          body: JSON.stringify({ action: "cancel-request", target: id }),
        }).catch(() => {});
      },
    }, "Stop");
    cleanups.push(watch(model, ["streaming"], () => {
      sendButton.disabled = model.get("streaming");
      stopButton.disabled = !model.get("streaming");
    }));
    const footer = h("div", { class: "tf-row tf-pg-footer" }, input, sendButton, stopButton, retryButton);

    el.append(h("div", { class: "tf-widget tf-playground" }, banner.el, header, settings, historyBox, context, footer, codeBox));
    return () => cleanups.forEach((fn) => fn());
  },
};
