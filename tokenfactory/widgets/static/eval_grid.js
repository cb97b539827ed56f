// Eval Grid: the summary with intervals, then every row's answers side by side.
// Sorting and filtering are traits; Python computes `order` (the rows shown).

function fmt(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  if (Math.abs(v) >= 100) return v.toFixed(0);
  return Number(v.toPrecision(3)).toString();
}

function intervalBar(low, high, span) {
  const bar = h("span", { class: "tf-eg-interval", title: `[${fmt(low)}, ${fmt(high)}]` });
  if (low === null || high === null || !span) return bar;
  const x = (v) => `${(50 + (50 * v) / span).toFixed(1)}%`;
  bar.append(
    h("i", { style: "left: 50%" }),
    h("span", { style: `left: ${x(low)}; width: calc(${x(high)} - ${x(low)})` }),
  );
  return bar;
}

function summaryTable(model) {
  const metrics = model.get("metrics");
  const baseline = model.get("baseline");
  const better = model.get("higher_is_better");
  const records = model.get("summary");
  const spans = {};
  for (const m of metrics) {
    const ends = records.filter((r) => r.metric === m).flatMap((r) => [r.ci_low, r.ci_high])
      .filter((v) => v !== null).map(Math.abs);
    spans[m] = Math.max(1e-9, ...ends);
  }
  const head = h("tr", {}, h("th", {}, "candidate"),
    ...metrics.map((m) => h("th", {}, `${m} (Δ vs ${baseline}, 95% CI)`)));
  const body = model.get("candidates").map((c) => h("tr", { "data-candidate": c }, h("th", {}, c),
    ...metrics.map((m) => {
      const r = records.find((x) => x.candidate === c && x.metric === m) || {};
      if (c === baseline) return h("td", { class: "tf-eg-num" }, fmt(r.mean));
      const good = better[m] !== false ? r.diff > 0 : r.diff < 0;
      const mark = r.significant ? (good ? "tf-eg-better" : "tf-eg-worse") : "";
      return h("td", { class: "tf-eg-num" },
        `${fmt(r.mean)} `,
        h("span", { class: mark }, `(${r.diff > 0 ? "+" : ""}${fmt(r.diff)})`), " ",
        intervalBar(r.ci_low, r.ci_high, spans[m]));
    })));
  return h("table", { class: "tf-eg-summary" }, h("thead", {}, head), h("tbody", {}, ...body));
}

function answerCell(model, row, c) {
  const baseline = model.get("baseline");
  const cell = h("td", { "data-candidate": c });
  const diff = row.diffs[c];
  if (c === baseline || !diff) cell.append(row.answers[c] ?? "");
  else {
    for (const part of diff) {
      if (part.op === "eq") cell.append(part.text);
      else cell.append(h("span", { class: `tf-eg-${part.op}` }, part.text));
    }
  }
  const scores = row.scores[c] || {};
  const text = model.get("metrics").map((m) => `${m} ${fmt(scores[m])}`).join(" · ");
  if (text) cell.append(h("span", { class: "tf-eg-scores" }, text));
  if (row.errors[c]) cell.append(h("span", { class: "tf-eg-rowerr" }, row.errors[c]));
  return cell;
}

export default {
  render({ model, el }) {
    const cleanups = [];
    const banner = errorBanner(model);
    cleanups.push(banner.cleanup);
    const summary = h("div", { class: "tf-eg-summary-box" });
    const sort = h("select", { class: "tf-eg-sort", onchange: () => setTrait(model, "sort_by", sort.value) });
    const direction = h("button", {
      class: "tf-eg-direction",
      title: "Reverse the order",
      onclick: () => setTrait(model, "descending", !model.get("descending")),
    });
    const only = h("input", {
      type: "checkbox",
      class: "tf-eg-only",
      onchange: () => setTrait(model, "only_disagreements", only.checked),
    });
    const differs = h("select", { class: "tf-eg-differs", onchange: () => setTrait(model, "differs_on", differs.value) });
    const query = h("input", {
      type: "search",
      class: "tf-eg-query",
      placeholder: "filter text",
      onchange: () => setTrait(model, "query", query.value),
    });
    const count = h("span", { class: "tf-muted tf-eg-count" });
    const tbody = h("tbody");
    const thead = h("thead");
    const table = h("table", { class: "tf-eg-table" }, thead, tbody);
    el.append(h("div", { class: "tf-widget tf-eval-grid" },
      banner.el, summary,
      h("div", { class: "tf-row" },
        h("label", { class: "tf-label" }, "sort ", sort), direction,
        h("label", { class: "tf-label" }, only, " only disagreements"),
        h("label", { class: "tf-label" }, "differs on ", differs), query, count),
      h("div", { class: "tf-eg-scroll" }, table)));

    cleanups.push(watch(model, ["summary", "metrics", "candidates", "baseline"], () => {
      summary.replaceChildren(summaryTable(model));
      const keys = ["disagreement", "row"];
      for (const m of model.get("metrics")) {
        keys.push(m, ...model.get("candidates").map((c) => `${m}@${c}`));
      }
      const labels = Object.fromEntries(keys.map((k) => [k, k.includes("@") ? k.replace("@", " of ")
        : (k === "disagreement" || k === "row") ? k : `${k} spread`]));
      options(sort, keys, model.get("sort_by"), labels);
      options(differs, ["", ...model.get("metrics")], model.get("differs_on"), { "": "any metric" });
      thead.replaceChildren(h("tr", {}, h("th", { style: "width: 28%" }, "row / prompt"),
        ...model.get("candidates").map((c) => h("th", {}, c === model.get("baseline") ? `${c} (baseline)` : c))));
    }));
    cleanups.push(watch(model, ["sort_by", "descending", "only_disagreements", "differs_on", "query"], () => {
      sort.value = model.get("sort_by");
      direction.textContent = model.get("descending") ? "↓" : "↑";
      only.checked = model.get("only_disagreements");
      differs.value = model.get("differs_on");
      if (document.activeElement !== query) query.value = model.get("query");
    }));
    cleanups.push(watch(model, ["order", "rows"], () => {
      const rows = model.get("rows");
      const order = model.get("order");
      tbody.replaceChildren(...order.map((i) => {
        const row = rows[i];
        return h("tr", { class: row.disagree ? "tf-eg-row tf-eg-disagree" : "tf-eg-row", "data-row": row.row },
          h("td", {}, h("b", {}, `#${row.row} `), row.prompt),
          ...model.get("candidates").map((c) => answerCell(model, row, c)));
      }));
      const total = model.get("total_rows");
      count.textContent = `${order.length} of ${rows.length} rows shown` +
        (total > rows.length ? ` (first ${rows.length} of ${total})` : "");
    }));
    return () => cleanups.forEach((fn) => fn());
  },
};
