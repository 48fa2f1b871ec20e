// conformance.mjs: every payload the notifier's tests captured, checked by
// validators pmo did not write, and a deliberately broken payload of each
// kind that each validator must refuse (so the check can fail).
//
//   Teams          Microsoft's adaptivecards: parse (no unknown element or
//                  property) and validateProperties (no failure)
//   webhooks       the Standard Webhooks reference library (standardwebhooks):
//                  every signature verifies with a secret in force; with two
//                  signatures (rotation) each secret verifies on its own
//                  the CloudEvents SDK (cloudevents): a valid CloudEvent 1.0
//   Slack          @slack/types (Block Kit) through the TypeScript compiler;
//                  Web API bodies (chat.postMessage, chat.update) as
//                  @slack/web-api's ChatPostMessageArguments and
//                  ChatUpdateArguments; answers to a click's response_url as
//                  @slack/bolt's RespondArguments
//   Mattermost     attachments (with their interactive buttons) and the
//                  answers to a button's click: Mattermost's own runtime
//                  check (@mattermost/types isMessageAttachmentArray) and
//                  its MessageAttachment / PostAction types through the
//                  compiler
//   Google Chat    @googleapis/chat (chat_v1.Schema$Message) through the
//                  TypeScript compiler
//   every tool     its vendor's documented size limits
//
// usage: node conformance.mjs CAPTURES_DIR   (exit 0: all good)
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CloudEvent } from "cloudevents";
import { isMessageAttachmentArray } from "@mattermost/types/message_attachments";
import { Webhook } from "standardwebhooks";

const require = createRequire(import.meta.url);
// the package's ESM build does not load under Node; its UMD bundle does
const AC = require("adaptivecards/dist/adaptivecards.js");
const HERE = path.dirname(fileURLToPath(import.meta.url));

// The vendors' documented limits
const LIMITS = {
  // Slack: "Block Kit" and chat.postMessage: 50 blocks a message, section
  // text 3,000 characters, header 150, text 40,000 (truncated beyond 4,000)
  slack: { blocks: 50, section: 3000, header: 150, text: 4000 },
  // Teams: a message (card included) up to about 28 KB
  teams: { bytes: 28 * 1024 },
  // Mattermost: a post's message up to 16,383 characters
  mattermost: { text: 16383 },
  // Google Chat: a message up to 32,000 bytes
  gchat: { bytes: 32000 },
};

// What a request carries: by where it went (a Slack Web API method, a
// click's response_url, a Mattermost click's answer), else by its shape.
function kindOf(body, where) {
  if (/\/chat\.postMessage$/.test(where)) return "slack_post";
  if (/\/chat\.update$/.test(where)) return "slack_update";
  if (/\/respond\//.test(where)) return "slack_respond";
  if (where === "/mattermost/answer") return "mattermost_answer";
  if (body.specversion !== undefined) return "cloudevent";
  if (body.cardsV2 !== undefined) return "gchat";
  if (body.type === "message" && Array.isArray(body.attachments)) return "teams";
  if (body.blocks !== undefined) return "slack";
  if (body.attachments !== undefined || body.props !== undefined) return "mattermost";
  return "unknown";
}

// ----------------------------------------------------------------------
// Checks: each returns a list of problems ([] = conforms)

function checkTeams(body) {
  const problems = [];
  const att = body.attachments?.[0];
  if (att?.contentType !== "application/vnd.microsoft.card.adaptive")
    problems.push("attachments[0].contentType is not an Adaptive Card");
  const card = new AC.AdaptiveCard();
  const context = new AC.SerializationContext();
  card.parse(att?.content ?? {}, context);
  for (let i = 0; i < context.eventCount; i++) problems.push("parse: " + context.getEventAt(i).message);
  for (const e of card.validateProperties().validationEvents) problems.push("validate: " + e.message);
  return problems;
}

function checkSignature(request, secrets) {
  const headers = request.headers;
  const signatures = (headers["webhook-signature"] ?? "").split(" ").filter(Boolean);
  if (!signatures.length) return []; // unsigned (a channel without a secret)
  const verified = [];
  // The library also refuses a timestamp more than five minutes from now
  // (replay protection for a live receiver). These requests were received
  // when they were sent, earlier in the suite: verify them as of then.
  const realNow = Date.now;
  Date.now = () => Number(headers["webhook-timestamp"]) * 1000;
  for (const secret of secrets) {
    try {
      new Webhook(secret).verify(request.body, {
        "webhook-id": headers["webhook-id"],
        "webhook-timestamp": headers["webhook-timestamp"],
        "webhook-signature": headers["webhook-signature"],
      });
      // verify accepts if any signature matches; count the secret only if
      // one of the signatures is its own
      const own = new Webhook(secret)
        .sign(headers["webhook-id"], new Date(Number(headers["webhook-timestamp"]) * 1000), request.body);
      if (signatures.includes(own)) verified.push(secret);
    } catch (e) {
      /* not this secret */
    }
  }
  Date.now = realNow;
  if (!verified.length) return ["no signature verifies with a secret in force"];
  if (verified.length < signatures.length)
    return [`${signatures.length} signatures but only ${verified.length} verify (rotation)`];
  return [];
}

function checkCloudEvent(body) {
  try {
    const event = new CloudEvent(body, true); // strict: validates
    event.validate();
    if (event.specversion !== "1.0") return ["specversion is not 1.0"];
    return [];
  } catch (e) {
    return ["CloudEvents SDK: " + (e.errors ? JSON.stringify(e.errors) : e.message)];
  }
}

// Mattermost's own check of attachments (what its web app accepts)
function checkMattermost(kind, body) {
  const lists =
    kind === "mattermost"
      ? [body.attachments, body.props?.attachments].filter((a) => a !== undefined)
      : [body.update?.props?.attachments].filter((a) => a !== undefined);
  if (kind === "mattermost_answer" && body.update === undefined && typeof body.ephemeral_text !== "string")
    return ["an answer with neither update nor ephemeral_text"];
  return lists.filter((a) => !isMessageAttachmentArray(a)).map(() => "attachments Mattermost would not take");
}

function checkSize(kind, body, raw) {
  const problems = [];
  const bytes = Buffer.byteLength(raw);
  if (kind.startsWith("slack") && Array.isArray(body.blocks)) {
    const l = LIMITS.slack;
    if (body.blocks.length > l.blocks) problems.push(`${body.blocks.length} blocks > ${l.blocks}`);
    if ((body.text ?? "").length > l.text) problems.push(`text over ${l.text} characters`);
    for (const b of body.blocks) {
      if (b.type === "section" && b.text?.text.length > l.section)
        problems.push(`section text ${b.text.text.length} > ${l.section}`);
      if (b.type === "header" && b.text?.text.length > l.header)
        problems.push(`header ${b.text.text.length} > ${l.header}`);
    }
  }
  if (kind === "teams" && bytes > LIMITS.teams.bytes) problems.push(`${bytes} bytes > ${LIMITS.teams.bytes}`);
  if (kind === "gchat" && bytes > LIMITS.gchat.bytes) problems.push(`${bytes} bytes > ${LIMITS.gchat.bytes}`);
  if (kind === "mattermost" && (body.text ?? "").length > LIMITS.mattermost.text)
    problems.push(`text over ${LIMITS.mattermost.text} characters`);
  return problems;
}

// The published types, through the compiler: one file of good payloads and
// one per broken payload; errors must be in the broken ones only.
// Mattermost documents a button's integration (url, context) for incoming
// webhooks; its web app's PostAction leaves it out (the server keeps it),
// so it is added here, and nothing else is.
const TS_HEADER = `import type { KnownBlock } from "@slack/types";
import type { ChatPostMessageArguments, ChatUpdateArguments } from "@slack/web-api";
import type { RespondArguments } from "@slack/bolt";
import type { chat_v1 } from "@googleapis/chat";
import type { MessageAttachment } from "@mattermost/types/message_attachments";
import type { PostAction } from "@mattermost/types/integration_actions";
export type SlackMessage = { text: string; blocks: KnownBlock[] };
export type GoogleChatMessage = chat_v1.Schema$Message;
type MattermostAction = PostAction & { integration: { url: string; context: Record<string, string> } };
type MattermostAttachment = Omit<MessageAttachment, "actions"> & { actions?: MattermostAction[] };
export type MattermostMessage = { username?: string; text?: string; attachments?: MattermostAttachment[];
  props?: { attachments?: MattermostAttachment[]; card?: string } };
export type MattermostAnswer = { update?: { message: string; props?: { attachments?: MattermostAttachment[] } };
  ephemeral_text?: string };
`;

const TS_TYPES = {
  slack: "SlackMessage",
  gchat: "GoogleChatMessage",
  slack_post: "ChatPostMessageArguments",
  slack_update: "ChatUpdateArguments",
  slack_respond: "RespondArguments",
  mattermost: "MattermostMessage",
  mattermost_answer: "MattermostAnswer",
};

function tsFile(name, items) {
  const lines = items.map((it, i) => `export const p${i}: ${TS_TYPES[it.kind]} = ${JSON.stringify(it.body)};`);
  const file = path.join(HERE, ".generated", name);
  fs.writeFileSync(file, TS_HEADER + lines.join("\n") + "\n");
  return file;
}

function runTsc(files) {
  const tsc = path.join(HERE, "node_modules", "typescript", "bin", "tsc");
  const args = [tsc, "--noEmit", "--strict", "--skipLibCheck", "--target", "es2022", "--module", "nodenext",
    "--moduleResolution", "nodenext", ...files];
  try {
    execFileSync(process.execPath, args, { cwd: HERE, encoding: "utf8" });
    return "";
  } catch (e) {
    return (e.stdout || "") + (e.stderr || "");
  }
}

// ----------------------------------------------------------------------

const dir = process.argv[2];
if (!dir || !fs.existsSync(dir)) {
  console.error("usage: node conformance.mjs CAPTURES_DIR (it holds no captures: run the notifier tests)");
  process.exit(2);
}
const logs = fs.readdirSync(dir).filter((f) => f.endsWith(".jsonl"));
if (!logs.length) {
  console.error(`conformance: no captures in ${dir}`);
  process.exit(2);
}
const failures = [];
const counts = {};
const typed = [];
const samples = {};
for (const log of logs) {
  const base = log.replace(/\.jsonl$/, "");
  const secretsFile = path.join(dir, base + ".secrets");
  const secrets = fs.existsSync(secretsFile) ? fs.readFileSync(secretsFile, "utf8").split("\n").filter(Boolean) : [];
  const lines = fs.readFileSync(path.join(dir, log), "utf8").split("\n").filter(Boolean);
  lines.forEach((line, n) => {
    const request = JSON.parse(line);
    let body;
    try {
      body = JSON.parse(request.body);
    } catch (e) {
      failures.push(`${log}:${n + 1} ${request.path}: not JSON`);
      return;
    }
    const kind = kindOf(body, request.path);
    counts[kind] = (counts[kind] ?? 0) + 1;
    samples[kind] ??= { request, body, secrets };
    const problems = [...checkSize(kind, body, request.body)];
    if (kind === "teams") problems.push(...checkTeams(body));
    if (kind === "cloudevent") problems.push(...checkCloudEvent(body), ...checkSignature(request, secrets));
    if (kind.startsWith("mattermost")) problems.push(...checkMattermost(kind, body));
    if (TS_TYPES[kind]) typed.push({ kind, body, where: `${log}:${n + 1}` });
    if (kind === "unknown") problems.push("a payload of no known kind");
    for (const p of problems) failures.push(`${log}:${n + 1} ${request.path} (${kind}): ${p}`);
  });
}

// Broken payloads: each validator must refuse its own
const proofs = [];
function mustFail(what, problems) {
  proofs.push(what);
  if (!problems.length) failures.push(`the check cannot fail: ${what} was accepted`);
}
for (const kind of ["teams", "cloudevent", "slack", "gchat", ...Object.keys(TS_TYPES)])
  if (!samples[kind]) failures.push(`no ${kind} payload was captured: the notifier tests must send one`);
if (samples.teams) {
  const broken = structuredClone(samples.teams.body);
  const card = broken.attachments[0].content;
  card.body[0].type = "TextBlok";
  card.actions[0].url = undefined;
  mustFail("an Adaptive Card with an unknown element and an action without url", checkTeams(broken));
}
if (samples.cloudevent) {
  const { request, secrets } = samples.cloudevent;
  const signed = samples.cloudevent.request.headers["webhook-signature"] ? request : null;
  if (!signed || !secrets.length) failures.push("no signed webhook was captured");
  else {
    const tampered = { ...request, body: request.body.replace(/}$/, ',"x":1}') };
    mustFail("a signed webhook whose body changed after signing", checkSignature(tampered, secrets));
  }
  const broken = structuredClone(samples.cloudevent.body);
  delete broken.specversion;
  broken.id = 12;
  mustFail("a CloudEvent without specversion and a number as id", checkCloudEvent(broken));
}
if (samples.slack) {
  const broken = structuredClone(samples.slack.body);
  while (broken.blocks.length <= LIMITS.slack.blocks) broken.blocks.push({ type: "divider" });
  mustFail("a Slack message of 51 blocks", checkSize("slack", broken, JSON.stringify(broken)));
}
if (samples.mattermost) {
  const broken = structuredClone(samples.mattermost.body);
  const att = broken.attachments ?? broken.props.attachments;
  att[0].fields = [{ value: "a field without its title" }];
  mustFail("Mattermost attachments with a field without a title", checkMattermost("mattermost", broken));
}
fs.mkdirSync(path.join(HERE, ".generated"), { recursive: true });
const files = [tsFile("captured.ts", typed)];
const brokenTs = [];
if (samples.slack) {
  const broken = structuredClone(samples.slack.body);
  broken.blocks[0].text.type = "mrkdwn"; // a header is plain_text only
  brokenTs.push(tsFile("broken_slack.ts", [{ kind: "slack", body: broken }]));
}
if (samples.gchat) {
  const broken = structuredClone(samples.gchat.body);
  broken.cardsV2[0].card.sections[0].widgets[0].textParagraph.maxLines = true; // the old bug
  brokenTs.push(tsFile("broken_gchat.ts", [{ kind: "gchat", body: broken }]));
}
// One broken body per new type: a property the vendor does not know, or a
// value of the wrong type
const BREAK = {
  slack_post: (b) => { b.unfurl_links = "no"; },
  slack_update: (b) => { delete b.ts; },
  slack_respond: (b) => { b.response_type = "to_everyone"; },
  mattermost: (b) => { (b.attachments ?? b.props.attachments)[0].fields = [{ title: "t", value: "v", short: "yes" }]; },
  mattermost_answer: (b) => { b.ephemeral_text = 42; },
};
for (const [kind, breakIt] of Object.entries(BREAK)) {
  if (!samples[kind]) continue;
  const broken = structuredClone(samples[kind].body);
  breakIt(broken);
  brokenTs.push(tsFile(`broken_${kind}.ts`, [{ kind, body: broken }]));
}
const out = runTsc([...files, ...brokenTs]);
for (const line of out.split("\n").filter((l) => /error TS/.test(l))) {
  if (line.includes("captured.ts")) failures.push(`TypeScript: ${line}`);
}
for (const file of brokenTs) {
  const name = path.basename(file);
  proofs.push(`TypeScript refuses ${name}`);
  if (!out.split("\n").some((l) => l.includes(name) && /error TS/.test(l)))
    failures.push(`the check cannot fail: ${name} compiled`);
}
if (!out.includes("error TS") && brokenTs.length) failures.push(`tsc did not run: ${out}`);

console.log(`conformance: captured payloads by kind: ${JSON.stringify(counts)}`);
console.log(`conformance: Slack, Google Chat and Mattermost payloads type-checked: ${typed.length}`);
for (const p of proofs) console.log(`conformance: refused as it must be: ${p}`);
if (failures.length) {
  for (const f of failures.slice(0, 50)) console.error("FAIL " + f);
  console.error(`conformance: ${failures.length} failures`);
  process.exit(1);
}
console.log("conformance: ok");
