// axe.mjs: the accessibility check every browser test runs on each view.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { artifacts, here, log } from "./stack.mjs";

// axe-core in the page, through the DevTools protocol (page.evaluate is not
// subject to the page's CSP, which rightly forbids injected scripts), then
// a run with the WCAG 2.1 A/AA rules. Serious and critical violations fail
// the test; every finding is written to e2e-artifacts/axe-NAME.json.
const axeSource = readFileSync(path.join(here, "node_modules/axe-core/axe.min.js"), "utf8");
export async function checkAxe(page, name) {
  if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
                                      nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 10) }));
  });
  writeFileSync(path.join(artifacts, `axe-${name}.json`), JSON.stringify(result, null, 2));
  const bad = result.filter((v) => v.impact === "serious" || v.impact === "critical");
  if (bad.length)
    throw new Error(`axe on ${name}: ` + bad.map((v) => `${v.impact} ${v.id} (${v.help}) at ${v.nodes.join(", ")}`).join("; "));
  log(`axe ${name}: no serious or critical violations (${result.length} minor)`);
}
