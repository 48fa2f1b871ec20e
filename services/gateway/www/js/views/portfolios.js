// portfolios.js: portfolios and programmes of the units the person may
// see, each a link to its projects in the portfolio view, changed or
// archived from its row, and new ones.

import { api, explain, orgUnits, showFormError, state, unitSelect } from "../core/api.js";
import { field, h, table, toast } from "../core/dom.js";
import { choice, errorLine, submit, text } from "../forms/common.js";

export const title = "Portfolios and programmes";

export async function render(params, view) {
  let portfolios, programmes;
  try {
    [portfolios, programmes] = await Promise.all(["portfolios", "programmes"].map(
      (k) => api("GET", `/api/v1/${k}?limit=500`).then((r) => r.json.items)));
  } catch (e) {
    view.replaceChildren(h("h1", {}, title), h("p", { class: "error", role: "alert" }, explain(e)));
    return;
  }
  const units = (await orgUnits()).filter((u) => u.kind !== "enterprise");
  const again = () => state.refresh();
  const portfolioForm = h("form", { class: "inline", id: "portfolio-form", "aria-label": "A new portfolio" },
    field("Code", h("input", { name: "code", required: true, size: 10 })), field("Name", h("input", { name: "name", required: true })),
    field("Org unit", unitSelect(units, units[0] && units[0].id, false)), field("Owner", h("input", { name: "owner" })),
    h("button", { type: "submit" }, "Create portfolio"), errorLine());
  portfolioForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    submit(portfolioForm, "POST", "/api/v1/portfolios", { code: text(portfolioForm, "code"), name: text(portfolioForm, "name"),
      org_unit: text(portfolioForm, "org_unit"), owner: text(portfolioForm, "owner") }, null, "Portfolio created", again);
  });
  const programmeForm = h("form", { class: "inline", id: "programme-form", "aria-label": "A new programme" },
    field("Code", h("input", { name: "code", required: true, size: 10 })), field("Name", h("input", { name: "name", required: true })),
    field("Org unit", unitSelect(units, units[0] && units[0].id, false)),
    field("Portfolio", choice("portfolio_id", portfolios.map((p) => p.id), null, "none")),
    field("Sponsor", h("input", { name: "sponsor" })), field("Manager", h("input", { name: "manager" })),
    h("button", { type: "submit" }, "Create programme"), errorLine());
  programmeForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    submit(programmeForm, "POST", "/api/v1/programmes", { code: text(programmeForm, "code"), name: text(programmeForm, "name"),
      org_unit: text(programmeForm, "org_unit"), portfolio_id: text(programmeForm, "portfolio_id"),
      sponsor: text(programmeForm, "sponsor"), manager: text(programmeForm, "manager") }, null, "Programme created", again);
  });
  const ids = portfolios.map((p) => p.id);
  const portfolioEdit = (x) => rowActions("portfolio", x, [["name", "Name"], ["owner", "Owner"], ["description", "Description"]], again);
  const programmeEdit = (x) => rowActions("programme", x, [["name", "Name"], ["sponsor", "Sponsor"], ["manager", "Manager"],
    ["portfolio_id", "Portfolio", choice("portfolio_id", ids, x.portfolio_id, "none")]], again);
  const link = (kind, x) => h("a", { href: "#/roadmap?" + new URLSearchParams({ group: kind, unit: x.org_unit }) }, x.code);
  view.replaceChildren(h("h1", {}, title),
    h("section", { class: "card", id: "portfolios" }, h("h2", {}, "Portfolios"),
      table([{ title: "Code", cell: (x) => link("portfolio", x) }, { title: "Name", cell: (x) => x.name },
             { title: "Org unit", cell: (x) => x.org_unit }, { title: "Owner", cell: (x) => x.owner || "not set" },
             { title: "Change", cell: portfolioEdit }],
            portfolios, "No portfolios.", "Portfolios"),
      h("details", { class: "more" }, h("summary", {}, "A new portfolio"), portfolioForm)),
    h("section", { class: "card", id: "programmes" }, h("h2", {}, "Programmes"),
      table([{ title: "Code", cell: (x) => link("programme", x) }, { title: "Name", cell: (x) => x.name },
             { title: "Portfolio", cell: (x) => x.portfolio_id || "none" }, { title: "Org unit", cell: (x) => x.org_unit },
             { title: "Sponsor", cell: (x) => x.sponsor || "not set" }, { title: "Manager", cell: (x) => x.manager || "not set" },
             { title: "Change", cell: programmeEdit }],
            programmes, "No programmes.", "Programmes"),
      h("details", { class: "more" }, h("summary", {}, "A new programme"), programmeForm)));
}

// Change a portfolio or programme from its row (a merge patch of the
// fields shown, with the version read) or archive it; the registry's
// refusal is shown at its field
function rowActions(kind, x, fields, again) {
  const path = `/api/v1/${kind}s/${encodeURIComponent(x.id)}`;
  const archive = h("button", { type: "button", "data-archive": x.id }, "Archive");
  const form = h("form", { class: "inline compact", "data-edit": x.id, "aria-label": `Change ${x.code}` },
    fields.map(([name, what, control]) => field(what, control || h("input", { name, value: x[name] || "", size: 14 }))),
    h("button", { type: "submit" }, "Save"), archive, errorLine());
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const body = {};
    for (const [name] of fields) body[name] = text(form, name) || "";
    submit(form, "PATCH", path, body, { "If-Match": `"${x.version}"` }, `${x.code} saved`, again);
  });
  archive.addEventListener("click", async () => {
    try {
      await api("DELETE", path, undefined, { "If-Match": `"${x.version}"` });
      toast(`${x.code} archived`);
      again();
    } catch (e) {
      showFormError(form, e);
    }
  });
  return h("details", { class: "more" }, h("summary", {}, `Change ${x.code}…`), form);
}
