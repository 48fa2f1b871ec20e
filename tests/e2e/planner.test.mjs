// planner.test.mjs: the planner's view (Benefits & planning) end to end, in
// headless Chromium (Debian's chromium, driven by playwright-core).
//
// Starts the real binaries through stack.mjs (Redis, registry, allocator,
// planner, gateway), seeds three projects, a scoring model and three
// benefits (one lagging its profile, one overdue: a period passed with no
// measurement) through the API, then as a PMO person would: records a
// measurement in a benefit's row and sees its lag alert clear; sees the
// overdue one say which month went unmeasured;
// makes a benefit from the form (the service's error shown at the field
// first); reads the roll-up by division and by hub; scores a project (who
// and when shown) and reads the ranked list; solves a scenario from chosen
// candidates under a budget and sees who is in, out and the binding
// budget; draws the efficient frontier (chart and table); solves a second
// scenario and compares the two side by side; commits one and sees the
// proposed gate decisions, while the registry's projects stay as they
// were; and an infeasible scenario names the constraints that conflict.
// axe-core runs on every section with zero serious or critical
// violations. Exits non-zero on the first failure.

import path from "node:path";
import { checkAxe } from "./axe.mjs";
import { artifacts, launch, log, startStack, STEP_MS } from "./stack.mjs";

let stack = null;

// A month relative to this one ("YYYY-MM"): the benefits' dates move with
// the clock, so the lag by time (a profile period passed unmeasured) is the
// same whenever the test runs
function period(offset) {
  const d = new Date();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() + offset);
  return d.toISOString().slice(0, 7);
}

function expect(what, ok) {
  if (!ok) throw new Error("expected: " + what);
}

async function main() {
  stack = await startStack({ without: ["notifier", "riskmon"] });
  const { api, base, token, services, tmp } = stack;
  if (!services.planner || services.planner.status !== "up") throw new Error("the planner did not start: " + JSON.stringify(services));

  await api("POST", "/api/v1/org-units", { id: "hub", name: "Enterprise", kind: "enterprise", pmo_type: "directive", pmo_tier: "hub" });
  await api("POST", "/api/v1/org-units", { id: "dft", name: "Transport", kind: "division", parent: "hub", pmo_type: "supportive", pmo_tier: "spoke" });
  // Three projects over 2027 (four quarters each): £1m, £2m, £3m
  const projects = [];
  for (const [i, name] of ["Signalling renewal", "Station access", "Depot rebuild"].entries())
    projects.push(await api("POST", "/api/v1/projects", { code: `DFT-${i + 1}`, name, org_unit: "dft", manager: "pat.pm@dft",
      baseline_start: "2027-01-04", baseline_finish: "2027-12-20",
      budget: { baseline: { minor: 100000000 * (i + 1), currency: "GBP" } } }));
  const before = await Promise.all(projects.map((p) => api("GET", `/api/v1/projects/${p.id}`)));
  await api("PUT", "/api/v1/org-units/hub/planner-policy", { version: 0, lag_threshold: 0.1,
    criteria: [{ criterion: "value", weight: 3 }, { criterion: "risk", weight: 1 }, { criterion: "alignment", theme: "net zero", weight: 1 }] });
  // Scores: DFT-1 best, DFT-3 next, DFT-2 last (DFT-2 is scored in the view)
  await api("POST", `/api/v1/projects/${projects[0].id}/score`, { version: 0,
    scores: [{ criterion: "value", score: 9 }, { criterion: "risk", score: 8 }, { criterion: "alignment", theme: "net zero", score: 7 }] });
  await api("POST", `/api/v1/projects/${projects[2].id}/score`, { version: 0,
    scores: [{ criterion: "value", score: 7 }, { criterion: "risk", score: 5 }, { criterion: "alignment", theme: "net zero", score: 6 }] });
  const cost = await api("POST", "/api/v1/benefits", { title: "Lower maintenance cost", org_unit: "dft", kind: "cashable", owner: "fd@dft",
    measure: "annual maintenance cost saved", currency: "GBP", unit: "GBP", baseline: 0, target: 40000000, status: "realising",
    profile: [{ period: period(-1), value: 10000000 }, { period: period(9), value: 40000000 }], project_ids: [projects[0].id] });
  const lagging = await api("POST", `/api/v1/benefits/${cost.id}/measurements`, { period: period(-1), value: 5000000 },
                            { "If-Match": `"${cost.version}"` });
  expect("the seeded benefit lags", lagging.realisation && lagging.realisation.lagging);
  await api("POST", "/api/v1/benefits", { title: "Step-free stations", org_unit: "dft", kind: "non_financial", owner: "ops@dft",
    measure: "stations with step-free access", unit: "stations", baseline: 10, target: 30, status: "planned",
    profile: [{ period: period(5), value: 15 }, { period: period(11), value: 30 }], project_ids: [projects[1].id] });
  // Its profile passed a period four months ago with nothing measured: the
  // lag by time (the alert is up from the start)
  const overdue = await api("POST", "/api/v1/benefits", { title: "Faster repairs", org_unit: "dft", kind: "non_financial", owner: "eng@dft",
    measure: "days to repair a fault", unit: "days", baseline: 20, target: 5, status: "realising",
    profile: [{ period: period(-4), value: 15 }, { period: period(8), value: 5 }], project_ids: [projects[2].id] });
  expect("the unmeasured benefit is overdue", overdue.realisation.lagging && overdue.realisation.overdue);

  const browser = await launch(tmp);
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => { if (m.type() === "error" && !/status of 4\d\d/.test(m.text())) errors.push(m.text()); });
    const shot = (name) => page.screenshot({ path: path.join(artifacts, `planner-${name}.png`), fullPage: true });
    const ready = (route) => page.waitForSelector(`body[data-ready=planner][data-route^="${route}"]`, { timeout: STEP_MS });

    await page.goto(base + "/");
    await page.waitForSelector("#signin:not([hidden])", { timeout: STEP_MS });
    await page.fill("#token", token);
    await page.click("#signin button[type=submit]");
    await page.waitForSelector("body[data-ready=portfolio]", { timeout: STEP_MS });

    log("benefits register: the lagging benefit is marked; a measurement in its row clears the alert");
    await page.click('#nav a[data-view="planner"]');
    await ready("#/planner");
    await page.waitForSelector(`#benefits tr[data-benefit="${cost.id}"][data-lag=yes]`, { timeout: STEP_MS });
    expect("the lagging row says LAGGING in words", (await page.textContent(`tr[data-benefit="${cost.id}"]`)).includes("LAGGING"));
    expect("the owner is shown", (await page.textContent(`tr[data-benefit="${cost.id}"]`)).includes("fd@dft"));
    await checkAxe(page, "planner-benefits");
    await shot("01-benefits");
    const row = `form[data-measure="${cost.id}"]`;
    await page.fill(`${row} input[name=period]`, period(-1));
    await page.fill(`${row} input[name=value]`, "100000"); // £100,000 = on profile
    await page.click(`${row} button[type=submit]`);
    await page.waitForSelector(`#benefits tr[data-benefit="${cost.id}"][data-lag=no]`, { timeout: STEP_MS });
    const stored = await api("GET", `/api/v1/benefits/${cost.id}`);
    expect("the measurement is stored in pence", stored.measurements.some((m) => m.period === period(-1) && m.value === 10000000));
    expect("the overdue benefit says which month went unmeasured",
           (await page.textContent(`tr[data-benefit="${overdue.id}"]`)).includes(`no measurement since ${period(-4)}`));

    log("a new benefit: the service's error at its field, then created");
    await page.click("#benefit-register details summary");
    await page.fill("#benefit-form input[name=title]", "Fewer delays");
    await page.selectOption("#benefit-form select[name=kind]", "non_financial");
    await page.fill("#benefit-form input[name=owner]", "ops@dft");
    await page.fill("#benefit-form input[name=measure]", "minutes of delay a month");
    await page.fill("#benefit-form input[name=unit]", "minutes");
    await page.fill("#benefit-form input[name=baseline]", "1200");
    await page.fill("#benefit-form input[name=target]", "900");
    await page.fill("#benefit-form input[name=profile]", `${period(3)}=1100, ${period(12).slice(0, 4)}-13=900`);
    await page.fill("#benefit-form input[name=project_ids]", projects[2].id);
    await page.click("#benefit-form button[type=submit]");
    await page.waitForSelector('#benefit-form input[name=profile][aria-invalid=true]', { timeout: STEP_MS });
    expect("the error names the month", (await page.textContent("#benefit-form .field-error")).includes("-13"));
    await checkAxe(page, "planner-benefit-error");
    await page.fill("#benefit-form input[name=profile]", `${period(3)}=1100, ${period(12)}=900`);
    await page.click("#benefit-form button[type=submit]");
    await page.waitForSelector('body[data-ready=planner][data-route*="created="]', { timeout: STEP_MS });
    expect("four benefits listed", (await page.locator("#benefits tbody tr").count()) === 4);

    log("roll-up by division and by hub: money per currency, measures in their own units");
    await page.click('a[data-tab="rollup"]');
    await ready("#/planner?tab=rollup");
    const rollup = await page.textContent("#benefit-rollup");
    expect("a GBP row with £400,000 planned", rollup.includes("GBP") && rollup.includes("£400,000"));
    expect("stations, days and minutes kept apart", rollup.includes("stations") && rollup.includes("days") && rollup.includes("minutes"));
    await checkAxe(page, "planner-rollup");
    await page.selectOption("#planner-body select[name=by]", "hub");
    await ready("#/planner?tab=rollup&by=hub");
    expect("the hub's roll-up", (await page.textContent("#benefit-rollup")).includes("hub"));

    log("scoring and ranking: score a project; who and when shown; the ranked list");
    await page.click('a[data-tab="ranking"]');
    await ready("#/planner?tab=ranking");
    await page.click("#ranking details summary");
    await page.selectOption("#score-form select[name=project_id]", projects[1].id);
    await page.fill("#score-form input[name=score_0]", "3");
    await page.fill("#score-form input[name=score_1]", "4");
    await page.fill("#score-form input[name=score_2]", "2");
    await page.click("#score-form button[type=submit]");
    await page.waitForSelector('body[data-ready=planner][data-route*="at="]', { timeout: STEP_MS });
    const ranked = await page.$$eval("#ranking tbody tr", (rows) => rows.map((r) => r.textContent));
    expect("three ranked projects, DFT-1 first and DFT-2 last", ranked.length === 3 && ranked[0].includes("DFT-1") && ranked[2].includes("DFT-2"));
    expect("who scored DFT-2 is shown", ranked[2].includes("admin"));
    await checkAxe(page, "planner-ranking");
    await shot("02-ranking");

    log("a scenario from two of three candidates under a £3.5m budget for year 1");
    await page.click('a[data-tab="scenarios"]');
    await ready("#/planner?tab=scenarios");
    await page.fill("#scenario-form input[name=name]", "Tight year");
    await page.fill("#scenario-form input[name=start]", "2027-01-01");
    await page.uncheck(`#scenario-form input[name=candidate][value="${projects[1].id}"]`);
    await page.selectOption('#scenario-form select[name="budgets[0].division"]', "dft");
    await page.fill('#scenario-form input[name="budgets[0].limit_minor"]', "3500000");
    await page.click("#scenario-form button[type=submit]");
    await page.waitForSelector("#scenario-result", { timeout: STEP_MS });
    await ready("#/planner?tab=scenarios");
    const first = await page.getAttribute("#scenario-result", "data-scenario");
    const result = await page.textContent("#scenario-result");
    // DFT-1 (£1m) and DFT-3 (£3m) do not both fit £3.5m: the better one is in
    expect("optimal", result.includes("optimal"));
    expect("DFT-1 (total 84) in, DFT-3 (64) out", /DFT-1[^]*?IN/.test(result) && /DFT-3[^]*?OUT/.test(result));
    expect("the budget binds", result.includes("budget dft year 0"));
    expect("DFT-2 is not a candidate", !result.includes("DFT-2"));
    await checkAxe(page, "planner-scenario");

    log("the efficient frontier: a chart and its table");
    await page.click("#frontier-button");
    await page.waitForSelector("#frontier-chart", { timeout: STEP_MS * 2 });
    const points = await page.locator("#frontier-table tbody tr").count();
    expect("frontier points in the table", points >= 2);
    expect("the chart is named for screen readers", (await page.getAttribute("#frontier-chart", "aria-label")).includes("Efficient frontier"));
    await checkAxe(page, "planner-frontier");
    await shot("03-frontier");

    log("a second scenario with room for all three; side by side");
    await page.fill("#scenario-form input[name=name]", "Generous year");
    await page.fill("#scenario-form input[name=start]", "2027-01-01");
    await page.selectOption('#scenario-form select[name="budgets[0].division"]', "dft");
    await page.fill('#scenario-form input[name="budgets[0].limit_minor"]', "9000000");
    await page.click("#scenario-form button[type=submit]");
    await page.waitForSelector(`#scenario-result:not([data-scenario="${first}"])`, { timeout: STEP_MS });
    const second = await page.getAttribute("#scenario-result", "data-scenario");
    await ready("#/planner?tab=scenarios");
    await page.selectOption("#compare-form select[name=a]", first);
    await page.selectOption("#compare-form select[name=b]", second);
    await page.click("#compare-form button[type=submit]");
    await page.waitForSelector("#comparison", { timeout: STEP_MS });
    const compared = await page.textContent("#comparison");
    expect("the comparison names both and a difference", compared.includes("Tight year") && compared.includes("Generous year") && compared.includes("differs"));
    await checkAxe(page, "planner-compare");
    await shot("04-compare");

    log("commit the first: the proposed gate decisions, and nothing changes in the registry");
    await page.goto(base + `/#/planner?tab=scenarios&unit=dft&scenario=${first}`);
    await page.waitForSelector(`#scenario-result[data-scenario="${first}"]`, { timeout: STEP_MS });
    await page.click("#commit-form button[type=submit]");
    await page.waitForSelector("#proposals [data-decision]", { timeout: STEP_MS });
    const proposals = await page.textContent("#proposals");
    expect("proposals shown as such", proposals.includes("proposed: GO") && proposals.includes("Nothing has changed"));
    await checkAxe(page, "planner-committed");
    const after = await Promise.all(projects.map((p) => api("GET", `/api/v1/projects/${p.id}`)));
    for (let i = 0; i < projects.length; i++)
      expect(`${projects[i].code} unchanged by the commit`, after[i].version === before[i].version && after[i].status === before[i].status);
    // Opened again, the committed scenario still shows what it proposed
    await page.reload();
    await page.waitForSelector(`#scenario-result[data-scenario="${first}"] #proposals [data-decision]`, { timeout: STEP_MS });

    log("infeasible: a mandatory project over its budget names the constraints that conflict");
    await api("POST", `/api/v1/projects/${projects[2].id}/score`, { version: 1, mandatory: true, mandatory_reason: "safety regulator",
      scores: [{ criterion: "value", score: 7 }] });
    await page.goto(base + "/#/planner?tab=scenarios&unit=dft");
    await ready("#/planner?tab=scenarios");
    await page.fill("#scenario-form input[name=name]", "Too tight");
    await page.fill("#scenario-form input[name=start]", "2027-01-01");
    await page.selectOption('#scenario-form select[name="budgets[0].division"]', "dft");
    await page.fill('#scenario-form input[name="budgets[0].limit_minor"]', "1000000");
    await page.click("#scenario-form button[type=submit]");
    await page.waitForSelector("#conflicts", { timeout: STEP_MS });
    const conflicts = await page.textContent("#conflicts");
    expect("the conflict names the mandatory project and the budget",
           conflicts.includes(`mandatory ${projects[2].id}`) && conflicts.includes("budget dft year 0"));
    await checkAxe(page, "planner-infeasible");
    await shot("05-infeasible");

    if (errors.length) throw new Error("errors in the page: " + errors.join("; "));
  } finally {
    await browser.close();
  }
  log("planner OK: screenshots in " + artifacts);
}

main().then(async () => {
  await stack.stop();
  process.exit(0);
}, async (e) => {
  console.error("e2e planner: FAILED:", e.stack || e);
  if (stack) {
    stack.dump();
    await stack.stop();
  }
  process.exit(1);
});
