// Playground settings fields. A value out of the API's range is refused beside its field and the
// field goes back to the value the kernel holds: at once here (the kernel may be busy running a
// cell), and again from the kernel's own check (`field_errors`) for anything that gets past.

function formatLimit(value) {
  return Math.abs(value) >= 1e6 ? value.toExponential(0) : String(value);
}

function fieldNote(model, name) {
  const note = h("span", { class: "tf-pg-field-error", role: "alert", "data-error-for": name });
  let local = "";
  const show = () => {
    const message = local || (model.get("field_errors") || {})[name] || "";
    note.textContent = message;
    note.style.display = message ? "" : "none";
  };
  const cleanup = watch(model, ["field_errors"], show);
  return {
    el: note,
    cleanup,
    set(message) { local = message; show(); },
  };
}

// A number setting with its range shown; `optional` fields may be left empty (null).
function numberField(model, name, { step, label, optional = false, aboveMin = false }) {
  const [min, max] = model.get("limits")[name];
  const integer = step >= 1;
  const note = fieldNote(model, name);
  const input = h("input", {
    type: "number", min, max, step, class: "tf-pg-num", "data-param": name,
    "aria-label": label, placeholder: optional ? "none" : "",
  });
  const reset = () => {
    const value = model.get(name);
    input.value = value === null || value === undefined ? "" : value;
  };
  input.addEventListener("change", () => {
    if (optional && input.value.trim() === "") {
      note.set("");
      setTrait(model, name, null);
      return;
    }
    const value = Number(input.value);
    let problem = "";
    if (input.value.trim() === "" || !Number.isFinite(value)) problem = `${label} must be a number`;
    else if (integer && !Number.isInteger(value)) problem = `${label} must be a whole number`;
    else if (aboveMin && (value <= min || value > max)) {
      problem = `${label} must be above ${formatLimit(min)} and at most ${formatLimit(max)} (got ${input.value})`;
    } else if (value < min || value > max) {
      problem = `${label} must be between ${formatLimit(min)} and ${formatLimit(max)} (got ${input.value})`;
    }
    if (problem) {
      note.set(problem);
      reset();
      return;
    }
    note.set("");
    setTrait(model, name, value);
  });
  const cleanup = watch(model, [name], reset);
  const range = optional ? "optional" : `${aboveMin ? "(" : ""}${formatLimit(min)}–${formatLimit(max)}`;
  const el = h(
    "label", { class: "tf-pg-field" },
    h("span", { class: "tf-label" }, label),
    input,
    h("span", { class: "tf-pg-range" }, range),
    note.el,
  );
  return { el, cleanup: () => { cleanup(); note.cleanup(); } };
}

// A text area holding JSON (or lines): `parse` turns the text into the trait's value or throws
// with the message shown beside it; `show` turns the trait's value back into text.
function textField(model, name, { label, rows = 2, placeholder = "", parse, show }) {
  const note = fieldNote(model, name);
  const area = h("textarea", { class: "tf-pg-textfield", rows, placeholder, "data-param": name, "aria-label": label });
  area.addEventListener("keydown", (event) => event.stopPropagation());
  area.addEventListener("change", () => {
    let value;
    try {
      value = parse(area.value);
    } catch (error) {
      note.set(error.message);
      return;
    }
    note.set("");
    setTrait(model, name, value);
  });
  const cleanup = watch(model, [name], () => {
    if (document.activeElement !== area) area.value = show(model.get(name));
  });
  const el = h("label", { class: "tf-pg-field tf-pg-field-wide" }, h("span", { class: "tf-label" }, label), area, note.el);
  return { el, cleanup: () => { cleanup(); note.cleanup(); } };
}

function parseJson(text, fallback, what) {
  if (!text.trim()) return fallback;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${what} is not valid JSON: ${error.message}`);
  }
}

function settingsPanel(model) {
  const cleanups = [];
  const add = (field) => { cleanups.push(field.cleanup); return field.el; };

  const mode = h("select", { class: "tf-pg-mode", "aria-label": "mode", onchange: () => setTrait(model, "mode", mode.value) });
  cleanups.push(watch(model, ["mode"], () => options(mode, ["chat", "completion"], model.get("mode"), { chat: "chat", completion: "completion (raw prompt)" })));

  const format = h("select", { class: "tf-pg-format", "aria-label": "response format", onchange: () => setTrait(model, "response_format", format.value) });
  const schema = add(textField(model, "json_schema", {
    label: "JSON schema", rows: 3, placeholder: '{"type": "object", "properties": {...}}',
    parse: (text) => {
      const value = parseJson(text, {}, "The schema");
      if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error("The schema must be a JSON object");
      return value;
    },
    show: (value) => (value && Object.keys(value).length ? JSON.stringify(value, null, 2) : ""),
  }));
  cleanups.push(watch(model, ["response_format", "mode"], () => {
    options(format, ["text", "json_object", "json_schema"], model.get("response_format"), { text: "text", json_object: "JSON mode", json_schema: "JSON schema" });
    schema.style.display = model.get("response_format") === "json_schema" ? "" : "none";
    format.disabled = model.get("mode") === "completion";
  }));

  const logprobs = h("input", { type: "checkbox", class: "tf-pg-logprobs", onchange: () => setTrait(model, "logprobs", logprobs.checked) });
  cleanups.push(watch(model, ["logprobs"], () => { logprobs.checked = model.get("logprobs"); }));

  const basic = h(
    "div", { class: "tf-row tf-pg-basic" },
    add(numberField(model, "temperature", { step: 0.1, label: "temperature" })),
    add(numberField(model, "top_p", { step: 0.05, label: "top_p", aboveMin: true })),
    add(numberField(model, "max_tokens", { step: 1, label: "max_tokens" })),
  );
  const more = h(
    "details", { class: "tf-pg-more" },
    h("summary", {}, "More settings: penalties, seed, stop, JSON, tools, logprobs, mode"),
    h(
      "div", { class: "tf-row" },
      h("label", { class: "tf-pg-field" }, h("span", { class: "tf-label" }, "mode"), mode),
      add(numberField(model, "presence_penalty", { step: 0.1, label: "presence_penalty" })),
      add(numberField(model, "frequency_penalty", { step: 0.1, label: "frequency_penalty" })),
      add(numberField(model, "seed", { step: 1, label: "seed", optional: true })),
    ),
    add(textField(model, "stop_sequences", {
      label: "stop sequences (one a line, up to 4)", rows: 2,
      parse: (text) => {
        const lines = text.split("\n").filter((line) => line !== "");
        if (lines.length > 4) throw new Error("at most 4 stop sequences");
        return lines;
      },
      show: (value) => (value || []).join("\n"),
    })),
    h("div", { class: "tf-row" },
      h("label", { class: "tf-pg-field" }, h("span", { class: "tf-label" }, "response format"), format),
      h("label", { class: "tf-pg-field" }, logprobs, h("span", { class: "tf-label" }, "logprobs (heat-map)")),
      add(numberField(model, "top_logprobs", { step: 1, label: "top_logprobs" })),
    ),
    schema,
    add(textField(model, "tools", {
      label: "tools (a JSON list of function definitions)", rows: 3,
      placeholder: '[{"type": "function", "function": {"name": "get_weather", "parameters": {...}}}]',
      parse: (text) => {
        const value = parseJson(text, [], "The tools");
        if (!Array.isArray(value)) throw new Error("tools must be a JSON list");
        return value;
      },
      show: (value) => (value && value.length ? JSON.stringify(value, null, 2) : ""),
    })),
  );
  return { el: h("div", { class: "tf-pg-params" }, basic, more), cleanup: () => cleanups.forEach((fn) => fn()) };
}
