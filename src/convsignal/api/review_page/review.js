// The RevOps review page. Vanilla JS, no build step, no external resources.
// Every string from the API (case text, evidence, names) goes into the DOM as a text node:
// nothing here parses a string as HTML, so markup-like text in a case stays text.
"use strict";

(function () {
  const API = document.body.dataset.api;
  const KEY_STORE = "convsignal.review.key";
  const REVIEWER_STORE = "convsignal.reviewer";
  const WHERE = {
    gold_only: "only in gold",
    model_only: "only in the model",
    side_mismatch: "speaker differs",
    sentiment: "sentiment differs",
  };
  const state = { data: null, caseIndex: 0, row: 0, editing: false, history: false };
  const $ = (id) => document.getElementById(id);

  // --- the key: from the URL fragment (never sent to the server), kept for this tab only ---
  function readKey() {
    const match = /(?:^|[#&])key=([^&]+)/.exec(location.hash);
    if (match) {
      sessionStorage.setItem(KEY_STORE, decodeURIComponent(match[1]));
      history.replaceState(null, "", location.pathname + location.search);
    }
    return sessionStorage.getItem(KEY_STORE);
  }
  const apiKey = readKey();

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name === "class") node.className = value;
      else if (name === "dataset") Object.assign(node.dataset, value);
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function status(message, isError) {
    const node = $("status");
    node.textContent = message;
    node.className = isError ? "error" : "";
  }

  async function api(path, options) {
    const init = Object.assign({ headers: {} }, options || {});
    init.headers = Object.assign(
      { Accept: "application/json", Authorization: "Bearer " + apiKey },
      init.headers
    );
    if (init.json !== undefined) {
      init.body = JSON.stringify(init.json);
      init.headers["Content-Type"] = "application/json";
      delete init.json;
    }
    const response = await fetch(API + path, init);
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const fields = body && body.errors ? body.errors.map((e) => e.field + ": " + e.message) : [];
      const detail = (body && (body.detail || body.title)) || response.statusText;
      throw new Error([detail, ...fields].join(" · "));
    }
    return body;
  }

  // --- data helpers ---
  const currentCase = () => (state.data ? state.data.cases[state.caseIndex] : null);
  const labelText = (label) =>
    label.speaker_role ? label.type + " (" + label.speaker_role + ")" : label.type;
  const labelsText = (labels) => (labels.length ? labels.map(labelText).join(", ") : "—");
  const decidedCount = (c) => c.disagreements.filter((d) => d.decision).length;

  async function load(extractor) {
    const query = extractor ? "?extractor=" + encodeURIComponent(extractor) : "";
    const previous = currentCase();
    state.data = await api("/cases" + query);
    const again = previous ? state.data.cases.findIndex((c) => c.id === previous.id) : -1;
    state.caseIndex = again >= 0 ? again : 0;
    state.row = Math.min(state.row, Math.max(0, (currentCase() || { disagreements: [] }).disagreements.length - 1));
    renderHeader();
    render();
  }

  function renderHeader() {
    const report = state.data.report;
    $("report").textContent = report.name + " · " + report.case_count + " cases";
    const select = $("extractor");
    select.replaceChildren(
      ...report.extractors.map((name) =>
        el("option", { value: name, selected: name === report.extractor }, name)
      )
    );
  }

  function render() {
    renderList();
    renderCase();
  }

  function renderList() {
    const cases = state.data.cases;
    const total = cases.reduce((n, c) => n + c.disagreements.length, 0);
    const decided = cases.reduce((n, c) => n + decidedCount(c), 0);
    $("progress").textContent =
      decided + " of " + total + " disagreements decided, " + cases.length + " cases";
    $("cases").replaceChildren(
      ...cases.map((c, index) =>
        el(
          "li",
          {
            class: [index === state.caseIndex ? "current" : "", decidedCount(c) === c.disagreements.length ? "done" : ""].join(" ").trim(),
            dataset: { caseId: c.id },
            "aria-current": index === state.caseIndex ? "true" : null,
            onclick: () => goCase(index),
          },
          el("span", {}, c.id),
          el("span", { class: "count" }, decidedCount(c) + "/" + c.disagreements.length)
        )
      )
    );
    const current = $("cases").children[state.caseIndex];
    if (current) current.scrollIntoView({ block: "nearest" });
  }

  // --- evidence highlighting: where each snippet occurs in the scrubbed turns ---
  function fragments(evidence) {
    const cleaned = evidence.replace(/^[\s"'“‘….]+|[\s"'”’….]+$/g, "");
    const parts = cleaned.split(/…|\.\.\./).map((p) => p.trim()).filter((p) => p.length >= 12);
    return cleaned.length >= 3 ? [cleaned, ...parts] : parts;
  }

  function locate(turns, evidence) {
    // [[turnIndex, start, end]] of the first verbatim (case-insensitive) occurrence of the
    // snippet, else of its first fragment (between ellipses) found; [] for a paraphrase.
    const lowered = turns.map((t) => t.text.toLowerCase());
    for (const fragment of fragments(evidence)) {
      const needle = fragment.toLowerCase();
      const turn = lowered.findIndex((text) => text.includes(needle));
      if (turn >= 0) {
        const at = lowered[turn].indexOf(needle);
        return [[turn, at, at + needle.length]];
      }
    }
    return [];
  }

  function marksByTurn(c) {
    const byTurn = new Map();
    c.disagreements.forEach((d, index) => {
      for (const evidence of d.evidence) {
        for (const [turn, start, end] of locate(c.turns, evidence)) {
          if (!byTurn.has(turn)) byTurn.set(turn, []);
          byTurn.get(turn).push({ start, end, current: index === state.row });
        }
      }
    });
    return byTurn;
  }

  function turnText(text, marks) {
    if (!marks || !marks.length) return [text];
    const sorted = marks.slice().sort((a, b) => a.start - b.start || b.end - a.end);
    const out = [];
    let at = 0;
    for (const mark of sorted) {
      if (mark.end <= at) continue;
      const start = Math.max(mark.start, at);
      if (start > at) out.push(text.slice(at, start));
      out.push(el("mark", { class: mark.current ? "current" : null }, text.slice(start, mark.end)));
      at = mark.end;
    }
    if (at < text.length) out.push(text.slice(at));
    return out;
  }

  function renderCase() {
    const section = $("case");
    const c = currentCase();
    if (!c) {
      section.replaceChildren(el("p", { class: "muted", id: "empty" }, "No disagreements: the extractor agrees with gold on every case."));
      return;
    }
    const marks = marksByTurn(c);
    const turns = c.turns.map((t, index) =>
      el(
        "p",
        { class: t.internal ? "turn internal" : "turn" },
        el("span", { class: "speaker" }, t.speaker + " (" + t.role + (t.internal ? ", internal" : "") + ")"),
        ...turnText(t.text, marks.get(index))
      )
    );
    const rows = c.disagreements.map((d, index) => disagreementRows(c, d, index)).flat();
    section.replaceChildren(
      el("h2", { id: "case-title" }, c.id),
      el("p", { class: "muted" }, [c.channel, c.industry, ...(c.tags.length ? ["tags: " + c.tags.join(", ")] : [])].join(" · ")),
      c.subject ? el("p", {}, el("strong", {}, "Subject: "), c.subject) : null,
      el(
        "div",
        { class: "columns" },
        el("div", { class: "text", "aria-label": "scrubbed text" }, turns),
        el(
          "div",
          {},
          el(
            "table",
            { id: "disagreements" },
            el("thead", {}, el("tr", {}, el("th", {}, "Slot"), el("th", { class: "gold" }, "Gold"), el("th", { class: "model" }, "Model"), el("th", {}, "Decision"))),
            el("tbody", {}, rows)
          ),
          c.rationale ? el("p", { class: "muted rationale" }, el("strong", {}, "Gold rationale: "), c.rationale) : null,
          state.history ? el("div", { id: "history" }, el("p", { class: "muted" }, "Loading history…")) : null
        )
      )
    );
    const current = section.querySelector("mark.current") || section.querySelector("tr.selected");
    if (current) current.scrollIntoView({ block: "nearest" });
    if (state.history) renderHistory(c);
  }

  function disagreementRows(c, d, index) {
    const selected = index === state.row;
    const decision = d.decision
      ? el("span", { class: "decided" }, d.decision.decision.replace("_", " ") + " → " + labelsText(d.decision.labels), el("br"), "by " + d.decision.reviewer + ", " + new Date(d.decision.created_at).toLocaleString())
      : el("span", { class: "muted" }, "open");
    const row = el(
      "tr",
      {
        class: "disagreement" + (selected ? " selected" : ""),
        dataset: { kind: d.kind, label: d.label, decided: d.decision ? d.decision.decision : "" },
        onclick: () => { state.row = index; renderCase(); },
      },
      el("td", {}, el("strong", {}, d.kind === "sentiment" ? "sentiment" : d.kind + ": " + d.label), el("br"), el("span", { class: "muted" }, WHERE[d.where] || d.where)),
      el("td", { class: "gold" }, labelsText(d.gold)),
      el("td", { class: "model" }, labelsText(d.model), d.confidence !== null ? el("span", { class: "muted" }, " @" + d.confidence.toFixed(2)) : null),
      el("td", {}, decision)
    );
    const rows = [row];
    const details = [];
    for (const evidence of d.evidence) {
      const found = locate(c.turns, evidence).length > 0;
      details.push(el("div", { class: "evidence" }, "“" + evidence + "”", found ? null : el("span", { class: "muted" }, " (paraphrase: not found verbatim)")));
    }
    if (selected) {
      details.push(
        el(
          "div",
          { class: "actions" },
          el("button", { type: "button", class: "accept", onclick: () => decide("accept_model") }, "Accept model (A)"),
          el("button", { type: "button", class: "keep", onclick: () => decide("keep_gold") }, "Keep gold (G)"),
          el("button", { type: "button", class: "edit", onclick: () => openEdit() }, "Edit (E)")
        )
      );
    }
    if (details.length) rows.push(el("tr", { class: selected ? "selected" : "" }, el("td", { colspan: 4 }, details)));
    return rows;
  }

  async function renderHistory(c) {
    try {
      const rows = await api("/decisions?case_id=" + encodeURIComponent(c.id));
      const box = $("history");
      if (!box || currentCase() !== c) return;
      box.replaceChildren(
        el("h3", {}, "History of " + c.id),
        rows.length
          ? el("ol", { class: "history" }, rows.map((r) => el("li", {}, new Date(r.created_at).toLocaleString() + " · " + r.reviewer + " · " + r.decision + " · " + r.kind + "/" + r.label + " → " + labelsText(r.labels) + " (" + r.extractor + ")")))
          : el("p", { class: "muted" }, "No decisions yet.")
      );
    } catch (error) {
      status(error.message, true);
    }
  }

  // --- decisions ---
  function reviewer() {
    const input = $("reviewer");
    const name = input.value.trim();
    if (!name) {
      status("Type your name in the Reviewer field first: decisions are signed.", true);
      input.focus();
      return null;
    }
    localStorage.setItem(REVIEWER_STORE, name);
    return name;
  }

  async function decide(decision, labels) {
    const c = currentCase();
    if (!c || !c.disagreements.length) return;
    const name = reviewer();
    if (!name) return;
    const d = c.disagreements[state.row];
    const body = { case_id: c.id, extractor: state.data.report.extractor, kind: d.kind, label: d.label, decision, reviewer: name };
    if (labels) body.labels = labels;
    try {
      d.decision = await api("/decisions", { method: "POST", json: body });
      state.editing = false;
      status("Saved: " + c.id + " " + d.kind + "/" + d.label + " → " + decision.replace("_", " "));
      advance();
    } catch (error) {
      status(error.message, true);
    }
  }

  function advance() {
    const c = currentCase();
    const open = c.disagreements.findIndex((d, index) => index > state.row && !d.decision);
    const anyOpen = c.disagreements.findIndex((d) => !d.decision);
    if (open >= 0) state.row = open;
    else if (anyOpen >= 0) state.row = anyOpen;
    else {
      const next = state.data.cases.findIndex((other, index) => index > state.caseIndex && decidedCount(other) < other.disagreements.length);
      if (next >= 0) return goCase(next);
    }
    render();
  }

  function goCase(index) {
    const cases = state.data ? state.data.cases : [];
    if (index < 0 || index >= cases.length) return;
    state.caseIndex = index;
    const firstOpen = cases[index].disagreements.findIndex((d) => !d.decision);
    state.row = firstOpen >= 0 ? firstOpen : 0;
    state.editing = false;
    render();
  }

  function moveRow(delta) {
    const c = currentCase();
    if (!c) return;
    state.row = Math.max(0, Math.min(c.disagreements.length - 1, state.row + delta));
    renderCase();
  }

  function openEdit() {
    const c = currentCase();
    if (!c || !c.disagreements.length || state.editing) return;
    const d = c.disagreements[state.row];
    const report = state.data.report;
    const options = report.labels[d.kind];
    const form = document.importNode($("edit-template").content, true).querySelector("form");
    const rowsBox = form.querySelector(".rows");
    const isSentiment = d.kind === "sentiment";
    const addRow = (label) => {
      const type = el("select", { class: "type", "aria-label": "label" }, options.map((o) => el("option", { value: o, selected: label && label.type === o }, o)));
      const role = isSentiment ? null : el("select", { class: "role", "aria-label": "speaker role" }, report.roles.map((r) => el("option", { value: r, selected: (label && label.speaker_role ? label.speaker_role : "customer") === r }, r)));
      const remove = isSentiment ? null : el("button", { type: "button", class: "remove", title: "remove this label", onclick: () => row.remove() }, "×");
      const row = el("div", { class: "row" }, type, role, remove);
      rowsBox.append(row);
      return row;
    };
    const start = d.model.length ? d.model : d.gold;
    (start.length ? start : [isSentiment ? { type: options[0] } : { type: d.label }]).forEach(addRow);
    const add = form.querySelector(".add");
    if (isSentiment) add.remove();
    else add.addEventListener("click", () => addRow({ type: d.label }).querySelector("select").focus());
    form.querySelector(".cancel").addEventListener("click", closeEdit);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const labels = Array.from(rowsBox.querySelectorAll(".row")).map((row) => {
        const label = { type: row.querySelector(".type").value };
        const role = row.querySelector(".role");
        if (role) label.speaker_role = role.value;
        return label;
      });
      decide("edit", labels);
    });
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") { event.preventDefault(); closeEdit(); }
      else if (event.key === "Enter" && event.target.tagName === "SELECT") { event.preventDefault(); form.requestSubmit(); }
    });
    const cell = $("case").querySelector("tr.selected + tr.selected td") || $("case").querySelector("tr.selected td:last-child");
    cell.append(form);
    state.editing = true;
    form.querySelector("select").focus();
  }

  function closeEdit() {
    state.editing = false;
    renderCase();
  }

  async function exportReviewed() {
    try {
      const result = await api("/export", { method: "POST" });
      status("Exported: " + result.changed.length + " case file(s) rewritten, " + result.unchanged.length + " already right, " + result.audit_lines + " line(s) added to " + result.audit_file);
    } catch (error) {
      status(error.message, true);
    }
  }

  // --- keyboard ---
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const tag = event.target.tagName;
    if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA" || state.editing) return;
    const actions = {
      j: () => goCase(state.caseIndex + 1),
      k: () => goCase(state.caseIndex - 1),
      ArrowDown: () => moveRow(1),
      ArrowUp: () => moveRow(-1),
      a: () => decide("accept_model"),
      g: () => decide("keep_gold"),
      e: () => openEdit(),
      h: () => { state.history = !state.history; renderCase(); },
    };
    const action = actions[event.key.length === 1 ? event.key.toLowerCase() : event.key];
    if (action && state.data) {
      event.preventDefault();
      action();
    }
  });

  $("reviewer").value = localStorage.getItem(REVIEWER_STORE) || "";
  $("reviewer").addEventListener("change", () => reviewer());
  $("reviewer").addEventListener("keydown", (event) => { if (event.key === "Enter" || event.key === "Escape") event.target.blur(); });
  $("extractor").addEventListener("change", (event) => load(event.target.value).catch((e) => status(e.message, true)));
  $("export").addEventListener("click", exportReviewed);

  if (!apiKey) {
    $("empty").textContent = "No API key: open the URL `convsignal review` printed (it carries the key after #key=).";
    status("no API key", true);
  } else {
    load().catch((error) => {
      $("empty").textContent = error.message;
      status(error.message, true);
    });
  }
})();
