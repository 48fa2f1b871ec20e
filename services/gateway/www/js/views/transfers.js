// transfers.js: files in and out. Import: a CSV file, an Excel workbook or
// a Microsoft Project plan (MSPDI XML) sent to POST /api/v1/import as a
// form, checked first (a dry run listing every problem by row and column),
// with the mapping editable in the page or picked from those the gateway
// keeps for the caller (GET /api/v1/import/mappings), then imported. Export: any
// register of a unit, and the unit's portfolio report, as CSV or Excel.

import { api, ApiError, download, explain, orgUnits, showFormError, unitSelect } from "../core/api.js";
import { field, h, toast } from "../core/dom.js";
import { label } from "../core/format.js";

export const title = "Import & export";

// The registers a file can hold (the export format of each)
const ENTITIES = ["project", "milestone", "status_report", "org_unit", "resource", "allocation",
                  "risk", "issue", "change_request", "raid", "benefit"];
const PROBLEMS_SHOWN = 500;

export async function render(params, view) {
  const [units, stored] = await Promise.all([orgUnits(), storedMappings()]);
  view.replaceChildren(
    h("h1", {}, "Import & export"),
    importCard(units, stored),
    exportCard(units));
}

// The mappings the gateway keeps that the caller may use (each kept for
// the people of its unit), or the reason there are none to offer
async function storedMappings() {
  try {
    return { items: (await api("GET", "/api/v1/import/mappings")).json.items || [] };
  } catch (e) {
    return { items: [], error: explain(e) };
  }
}

function storedPicker(stored) {
  const picker = h("select", { name: "mapping_name" }, // the gateway's refusal lands here
    h("option", { value: "" }, stored.items.length ? "Choose a mapping…" : "None kept for you"),
    stored.items.map((m) => h("option", { value: m.name },
      `${m.name}: ${label(m.entity)}s, ${m.columns} column${m.columns === 1 ? "" : "s"}` +
      (m.org_unit ? ` (${m.org_unit})` : "") + (m.comment ? ` — ${m.comment}` : ""))));
  return picker;
}

function importCard(units, stored) {
  const source = h("select", { name: "entity" }, // a refusal of the entity lands here
    ENTITIES.map((e) => h("option", { value: "entity:" + e }, `${label(e)}s (pmo's export format)`)),
    h("option", { value: "mapping" }, "My own mapping (below)"),
    h("option", { value: "mapping_name" }, "A mapping kept on the gateway"),
    h("option", { value: "plan" }, "A Microsoft Project plan (MSPDI XML)"));
  const file = h("input", { type: "file", name: "file", required: true,
                            accept: ".csv,.txt,.xlsx,.xml,text/csv,application/xml,text/xml,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" });
  const mapping = h("textarea", { name: "mapping", rows: 12, spellcheck: "false", class: "code",
                                  placeholder: '{"entity": "project", "key": "code", "columns": [{"column": "Project", "field": "name"}]}' });
  const mappingName = storedPicker(stored);
  const copy = h("button", { type: "button", id: "copy-mapping",
                             title: "Its JSON into “My own mapping”, to change for this file" },
    "Edit a copy");
  const planUnit = unitSelect(units.filter((u) => u.kind !== "enterprise"), "", false);
  planUnit.name = "org_unit";
  const planCode = h("input", { name: "code", placeholder: "the plan's project code (optional)" });
  const sheet = h("input", { name: "sheet", placeholder: "the first sheet" });
  const skipBad = h("input", { type: "checkbox", name: "skip_bad" });
  const createUnits = h("input", { type: "checkbox", name: "create_org_units" });
  const draft = h("button", { type: "button", id: "draft-mapping",
                              title: "A mapping with one line per column of the file's first row" },
    "Draft a mapping from the file's headers");
  const mappingBox = h("div", { class: "stack" },
    field("Mapping (JSON)", mapping, "columns by header text, name#2 for the second of a name, #7 for the seventh column; \"blank\" and \"withheld\" list the file's markers"),
    draft);
  const nameBox = h("div", { class: "toolbar" },
    field("Mapping kept on the gateway", mappingName,
      stored.error ? `the list could not be read: ${stored.error}`
        : "the gateway's operator keeps these; each is offered to the people of its org unit"),
    copy);
  const planBox = h("div", { class: "toolbar" }, field("Org unit of a new project", planUnit), field("Project code", planCode));
  const check = h("button", { class: "primary", type: "submit", id: "import-check" }, "Check (dry run)");
  const go = h("button", { type: "button", id: "import-go", disabled: true }, "Import");
  const result = h("div", { id: "import-result", "aria-live": "polite" });
  const form = h("form", { class: "card", id: "import-form", "aria-labelledby": "import-title" },
    h("h2", { id: "import-title" }, "Import a file"),
    h("p", { class: "muted small" }, "Nothing is written until you press Import after a check. " +
      "Re-importing the same file changes nothing."),
    h("div", { class: "toolbar" }, field("File (CSV, Excel or Project XML)", file), field("The file holds", source),
      field("Excel sheet", sheet)),
    mappingBox, nameBox, planBox,
    h("div", { class: "toolbar" },
      h("label", { class: "check" }, skipBad, " Write the good rows and list the bad (else all or nothing)"),
      h("label", { class: "check" }, createUnits, " Create the org units the file names")),
    h("div", { class: "toolbar" }, check, go),
    h("p", { class: "error", role: "alert" }),
    result);

  const show = () => {
    const v = source.value;
    mappingBox.hidden = v !== "mapping";
    nameBox.hidden = v !== "mapping_name";
    planBox.hidden = v !== "plan";
    mapping.required = v === "mapping";
    mappingName.required = v === "mapping_name";
  };
  copy.addEventListener("click", async () => {
    clearErrors(form);
    if (!mappingName.value)
      return showFormError(form, new ApiError(400, { detail: "choose a mapping first", field: "mapping_name" }));
    try {
      const res = await api("GET", "/api/v1/import/mappings/" + encodeURIComponent(mappingName.value));
      mapping.value = res.json.mapping;
      source.value = "mapping";
      show();
      stale();
      mapping.focus();
    } catch (e) {
      showFormError(form, e);
    }
  });
  source.addEventListener("change", show);
  show();
  // A change after a check needs a new check before the import
  let checked = null;
  const stale = () => { checked = null; go.disabled = true; };
  form.addEventListener("input", stale);
  form.addEventListener("change", stale);

  draft.addEventListener("click", async () => {
    if (!file.files[0]) return showFormError(form, new ApiError(400, { detail: "choose the file first", field: "file" }));
    const text = await file.files[0].slice(0, 65536).text();
    const headers = parseHeader(text);
    if (!headers.length)
      return showFormError(form, new ApiError(400, { detail: "the file's first row has no headers (a CSV file is needed to draft)", field: "file" }));
    mapping.value = JSON.stringify(draftMapping(headers), null, 2);
    source.value = "mapping";
    show();
    stale();
    mapping.focus();
  });

  const send = async (dryRun) => {
    const body = new FormData();
    body.append("file", file.files[0]);
    const q = new URLSearchParams();
    if (dryRun) q.set("dry_run", "1");
    if (skipBad.checked) q.set("skip_bad", "1");
    if (createUnits.checked) q.set("create_org_units", "1");
    if (sheet.value.trim()) q.set("sheet", sheet.value.trim());
    const v = source.value;
    if (v.startsWith("entity:")) body.append("entity", v.slice(7));
    else if (v === "mapping") body.append("mapping", mapping.value);
    else if (v === "mapping_name") body.append("mapping_name", mappingName.value);
    else {
      if (planUnit.value) q.set("org_unit", planUnit.value);
      if (planCode.value.trim()) q.set("code", planCode.value.trim());
    }
    return api("POST", "/api/v1/import" + (q.toString() ? "?" + q : ""), body);
  };

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    result.replaceChildren(h("p", { class: "muted" }, "Checking…"));
    try {
      const res = await send(true);
      showResult(result, res.json, true, form, mapping);
      checked = res.json;
      go.disabled = false;
      go.textContent = `Import ${res.json.rows} row${res.json.rows === 1 ? "" : "s"}`;
    } catch (e) {
      const outcome = e instanceof ApiError && e.status === 422 && e.problem.rows !== undefined ? e.problem : null;
      if (outcome) {
        showResult(result, outcome, true, form, mapping);
        // All or nothing: bad rows block the import until fixed or skipped
        go.disabled = true;
        go.textContent = "Import";
      } else {
        result.replaceChildren();
        showFormError(form, e);
      }
    }
  });

  go.addEventListener("click", async () => {
    if (!checked) return;
    go.disabled = true;
    result.replaceChildren(h("p", { class: "muted" }, "Importing…"));
    try {
      const res = await send(false);
      showResult(result, res.json, false, form, mapping);
      toast(`Imported: ${res.json.created} created, ${res.json.updated} updated, ${res.json.unchanged} unchanged`);
    } catch (e) {
      const outcome = e instanceof ApiError && e.status === 422 && e.problem.rows !== undefined ? e.problem : null;
      if (outcome) showResult(result, outcome, false, form, mapping);
      else { result.replaceChildren(); showFormError(form, e); }
    }
    checked = null;
  });
  return form;
}

// The result of a check or an import: counts, columns of one name, the
// markers read as blank or withheld, and every problem by row and column.
// A problem of the mapping itself (row 0 or 1 naming a mapping column) is
// also shown at the mapping.
function showResult(box, r, dryRun, form, mapping) {
  const problems = r.problems || [];
  const counts = h("div", { class: "totals", id: "import-counts", role: "group", "aria-label": "Counts" },
    [["rows", r.rows], ["to create", r.created], ["to update", r.updated], ["unchanged", r.unchanged],
     ["bad", r.bad]].map(([t, n]) => h("div", { class: "total", "data-count": t },
      h("b", {}, String(n ?? 0)), h("span", {}, dryRun || !t.startsWith("to ") ? t : t.slice(3) + "d"))));
  const head = h("p", { id: "import-outcome", "data-written": r.written ? "yes" : "no" },
    dryRun ? (problems.length ? `The check found ${problems.length} problem${problems.length === 1 ? "" : "s"}; nothing was written.`
                              : "The check found no problem; nothing was written yet.")
           : r.written ? `Imported${r.bad ? `, ${r.bad} bad row${r.bad === 1 ? "" : "s"} left out` : ""}.`
                       : "Not imported: fix the rows below (or write the good rows and list the bad).");
  const parts = [head, counts];
  const dups = r.duplicate_columns || [];
  if (dups.length)
    parts.push(h("div", { class: "card inline", id: "import-duplicates" },
      h("h3", {}, "Columns of one name"),
      h("ul", {}, dups.map((d) => h("li", {}, `"${d.column}" is the header of ${d.count} columns (${d.positions}): ` +
        `a mapping names one as "${d.column}#2", or "#${String(d.positions).split(",")[0].trim()}" by position, or takes "first_of".`)))));
  const markers = (r.fallbacks && r.fallbacks.markers) || [];
  if (markers.length)
    parts.push(h("div", { class: "card inline", id: "import-markers" },
      h("h3", {}, "Cells read as blank or withheld"),
      h("ul", {}, markers.map((m) => h("li", {}, `${m.kind}: "${m.marker}" (${m.from}), ${m.count} cell${m.count === 1 ? "" : "s"}`)))));
  if (problems.length) {
    const rows = problems.slice(0, PROBLEMS_SHOWN);
    parts.push(h("div", { class: "scroll" }, h("table", { id: "import-problems" },
      h("caption", {}, `Problems by row and column${problems.length > rows.length ? ` (the first ${rows.length} of ${problems.length})` : ""}`),
      h("thead", {}, h("tr", {}, ["Row", "Column", "Value", "Problem"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, rows.map((p) => h("tr", { "data-row": p.row, "data-column": p.column },
        h("td", { class: "num" }, String(p.row)), h("td", {}, p.column), h("td", {}, h("code", {}, p.value)), h("td", {}, p.reason)))))));
    // The header row's problems are the mapping's: say so where it is typed
    const ofMapping = problems.filter((p) => p.row <= 1);
    if (ofMapping.length && !mapping.closest("[hidden]")) {
      showFormError(form, new ApiError(422, { detail: ofMapping.map((p) => `${p.column}: ${p.reason}`).join("; "), field: "mapping" }));
    }
  }
  box.replaceChildren(...parts);
}

function clearErrors(form) {
  form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
  form.querySelectorAll(".field-error").forEach((el) => el.remove());
  form.querySelector(".error").textContent = "";
}

// The first row of a CSV file: fields split on the delimiter the row uses
// most (comma, semicolon, tab), quotes honoured
function parseHeader(text) {
  const line = text.replace(/^\uFEFF/, "").split(/\r?\n/)[0] || "";
  const delimiter = [",", ";", "\t"].sort((a, b) => line.split(b).length - line.split(a).length)[0];
  const cells = [];
  let cell = "", quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') quoted = false; else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === delimiter) { cells.push(cell.trim()); cell = ""; } else cell += c;
  }
  cells.push(cell.trim());
  return cells.filter((c, i) => c || i < cells.length - 1);
}

// A mapping with one line per column: a header used by several columns is
// named name#1, name#2 ...; a header that is already a field maps to it
function draftMapping(headers) {
  const seen = new Map();
  const total = new Map();
  for (const c of headers) total.set(c, (total.get(c) || 0) + 1);
  const columns = headers.map((c, i) => {
    const n = (seen.get(c) || 0) + 1;
    seen.set(c, n);
    const column = !c ? "#" + (i + 1) : total.get(c) > 1 ? `${c}#${n}` : c;
    const guess = c.toLowerCase().replace(/[^a-z0-9.]+/g, "_").replace(/^_|_$/g, "");
    return { column, field: guess };
  });
  return { entity: "project", key: "code", encoding: "auto", delimiter: "auto", date_order: "dmy",
           blank: ["TBC"], withheld: [], columns };
}

function exportCard(units) {
  const unit = unitSelect(units, "", false);
  const entity = h("select", { name: "entity" }, ENTITIES.map((e) => h("option", { value: e }, label(e) + "s")));
  const format = h("select", { name: "format" }, h("option", { value: "csv" }, "CSV"), h("option", { value: "xlsx" }, "Excel (xlsx)"));
  const table = h("select", { name: "table" }, ["summary", "rag", "phase", "status", "units", "projects", "changes",
    "risks", "overallocated", "alerts"].map((t) => h("option", { value: t }, label(t))));
  const reportFormat = h("select", { name: "report_format" }, h("option", { value: "xlsx" }, "Excel (xlsx, every table)"),
    h("option", { value: "csv" }, "CSV (one table)"), h("option", { value: "html" }, "Printable page (HTML)"));
  const form = h("form", { class: "card", id: "export-form", "aria-labelledby": "export-title" },
    h("h2", { id: "export-title" }, "Export"),
    h("p", { class: "muted small" }, "A register of the unit and everything under it, in the format pmo imports back unchanged."),
    h("div", { class: "toolbar" }, field("Org unit", unit), field("Register", entity), field("Format", format),
      h("button", { class: "primary", type: "submit", id: "export-go" }, "Download")),
    h("h3", {}, "Portfolio report"),
    h("div", { class: "toolbar" }, field("Format", reportFormat), field("Table (CSV)", table),
      h("button", { type: "button", id: "report-go" }, "Download report")),
    h("p", { class: "error", role: "alert" }));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams({ org_unit: unit.value, format: format.value });
    try {
      await download(`/api/v1/export/${entity.value}?${q}`, `${entity.value}-${unit.value}.${format.value}`);
    } catch (e) {
      showFormError(form, e);
    }
  });
  form.querySelector("#report-go").addEventListener("click", async () => {
    const q = new URLSearchParams({ format: reportFormat.value });
    if (reportFormat.value === "csv") q.set("table", table.value);
    try {
      await download(`/api/v1/reports/${encodeURIComponent(unit.value)}?${q}`, `report-${unit.value}.${reportFormat.value}`);
    } catch (e) {
      showFormError(form, e);
    }
  });
  return form;
}
