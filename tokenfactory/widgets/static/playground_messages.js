// Playground messages: a bubble per turn with copy / edit / regenerate, the answer's stats and
// how it ended, its tool calls, and its logprobs as a token heat-map.

const FINISH_LABELS = {
  stopped: "stopped",
  length: "cut at max_tokens",
  tool_calls: "tool call",
  content_filter: "filtered",
};

function statsLine(stats) {
  if (!stats) return "";
  const parts = [`${stats.completion_tokens ?? "?"} tokens`];
  if (stats.tokens_per_s) parts.push(`${stats.tokens_per_s} tok/s`);
  if (stats.latency_s !== null && stats.latency_s !== undefined) parts.push(`first token ${stats.latency_s.toFixed(2)} s`);
  if (stats.total_s !== null && stats.total_s !== undefined) parts.push(`total ${stats.total_s.toFixed(2)} s`);
  return parts.join(" · ");
}

function copyText(text, button) {
  const done = () => {
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = "Copy"; }, 1200);
  };
  if (navigator.clipboard && navigator.clipboard.writeText) {
    navigator.clipboard.writeText(text).then(done, () => { button.textContent = "Copy failed"; });
  }
}

function probability(logprob) {
  return logprob === null || logprob === undefined ? null : Math.exp(logprob);
}

// Each token on a background from red (unlikely) to green (likely), translucent over the theme's
// own background so the text keeps the theme's contrast; the title gives p and the alternatives.
function heatMap(tokens) {
  return h(
    "div", { class: "tf-pg-heatmap", "data-role": "logprobs" },
    ...tokens.map((t) => {
      const p = probability(t.logprob);
      const hue = p === null ? 0 : Math.round(120 * p);
      const alternatives = (t.top || [])
        .map((a) => `${JSON.stringify(a.token)} ${(probability(a.logprob) * 100).toFixed(1)}%`)
        .join(", ");
      const title = `p = ${p === null ? "?" : (p * 100).toFixed(1) + "%"}` + (alternatives ? `\nalternatives: ${alternatives}` : "");
      return h("span", {
        class: "tf-pg-token", title, "data-p": p === null ? "" : p.toFixed(4),
        style: `background: hsla(${hue}, 75%, 45%, 0.28)`,
      }, t.token);
    }),
  );
}

function toolCalls(calls) {
  return h("pre", { class: "tf-pg-tool-calls" }, calls.map((c) => `${c.name}(${c.arguments})`).join("\n"));
}

function editor(model, index, message, close) {
  const area = h("textarea", { class: "tf-pg-edit-text", rows: 3 });
  area.value = message.content;
  area.addEventListener("keydown", (event) => event.stopPropagation());
  return h(
    "div", { class: "tf-pg-editor" },
    area,
    h("div", { class: "tf-row" },
      h("button", { class: "tf-primary tf-pg-edit-save", onclick: () => { action(model, "edit", { index, text: area.value }); close(); } }, "Send edited"),
      h("button", { onclick: close }, "Cancel")),
  );
}

// One history entry. `isLastAnswer` offers Regenerate; user turns offer Edit.
function bubble(model, message, index, { isLastAnswer, streaming, rerender }) {
  const completion = message.mode === "completion";
  const who = completion ? (message.role === "user" ? "prompt" : "completion") : message.role;
  const text = message.role === "assistant"
    ? h("div", { class: "tf-pg-text tf-md" }, renderMarkdown(message.content || ""))
    : h("div", { class: "tf-pg-text" }, message.content);
  const body = h("div", { class: "tf-pg-body" }, text);
  if (message.tool_calls && message.tool_calls.length) body.append(toolCalls(message.tool_calls));

  const buttons = [];
  const copy = h("button", { class: "tf-pg-copy", title: "Copy this message" }, "Copy");
  copy.addEventListener("click", () => copyText(message.content || "", copy));
  buttons.push(copy);
  if (message.role === "user" && !streaming) {
    buttons.push(h("button", {
      class: "tf-pg-edit", title: "Edit and send again (what follows is answered anew)",
      onclick: () => body.replaceChildren(editor(model, index, message, rerender)),
    }, "Edit"));
  }
  if (message.role === "assistant" && isLastAnswer && !streaming) {
    buttons.push(h("button", { class: "tf-pg-regenerate", title: "Ask again", onclick: () => action(model, "regenerate") }, "Regenerate"));
  }
  if (message.logprobs && message.logprobs.length) {
    const heat = heatMap(message.logprobs);
    let shown = false;
    const toggle = h("button", { class: "tf-pg-show-logprobs", title: "Each token coloured by its probability" }, "Probabilities");
    toggle.addEventListener("click", () => {
      shown = !shown;
      if (shown) text.replaceWith(heat);
      else heat.replaceWith(text);
      toggle.classList.toggle("tf-active", shown);
    });
    buttons.push(toggle);
  }

  let meta = null;
  if (message.role === "assistant") {
    const label = FINISH_LABELS[message.finish_reason];
    meta = h("div", { class: "tf-pg-stats" }, statsLine(message.stats),
      label ? h("span", { class: `tf-pg-finish tf-pg-finish-${message.finish_reason}` }, ` · ${label}`) : null);
  }
  return h(
    "div",
    { class: `tf-pg-msg tf-pg-${message.role}`, "data-role": message.role, "data-index": index },
    h("div", { class: "tf-pg-who" }, who, h("span", { class: "tf-pg-actions" }, ...buttons)),
    body,
    meta,
  );
}

function contextLine(model) {
  const used = model.get("context_used");
  const total = model.get("context_length");
  const prompt = model.get("prompt_tokens");
  if (!used && !prompt) return total ? `context: ${total} tokens` : "";
  const share = total ? ` (${Math.round((100 * used) / total)}%)` : "";
  return `last prompt ${prompt} tokens · context used ${used}${total ? ` / ${total}` : ""} tokens${share}`;
}
