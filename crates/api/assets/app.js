// Huxin dashboard: a single page over the node's JSON API (same origin, no external assets).
// Routes: #/ (search), #/subject/<id>, #/guarantee[/<number>], #/document, #/network; and, in
// workbench.js (loaded after this file), #/stats and #/supervisor.
"use strict";

const TEXT = {
  zh: {
    brand: "互信 · 公共资源交易信用链", nav_search: "主体查询", nav_guarantee: "保函核验", nav_document: "文件核验",
    nav_network: "网络状态", footer: "数据来自本节点已最终确认的账本状态", lang: "English",
    search_title: "查询市场主体", search_hint: "输入统一社会信用代码或名称（开头部分）", search: "查询",
    no_match: "未找到匹配的主体", name: "名称", code: "代码", kind: "类型", home_region: "认证地区",
    identity: "身份认证与互认", attested_by: "认证中心", recognised_in: "互认地区", not_attested: "该主体尚未在链上认证",
    eligibility: "各地参与资格", region: "地区", eligible: "可参与", not_eligible: "不可参与", reasons: "原因",
    credit: "信用记录", score: "信用评分", no_records: "无公示中的信用记录", decision: "决定文号", severity: "严重程度",
    date: "日期", authority: "决定机关", blacklist: "黑名单", not_listed: "未列入黑名单", listed: "已列入", lifted: "已移出",
    scope: "范围", national: "全国", guarantees: "电子保函", no_guarantees: "无电子保函", number: "编号",
    amount: "金额（元）", state: "状态", provider: "出函机构", deals: "交易参与", no_deals: "无交易记录",
    stage: "环节", tender: "项目/标段", time: "时间", guarantee_title: "电子保函核验", guarantee_hint: "输入保函编号",
    verify: "核验", not_found: "链上没有该记录", authentic: "真实有效（链上已确认）", validity: "有效期",
    applicant: "申请人", history: "历史", document_title: "文件哈希核验",
    document_hint: "选择文件，在浏览器内计算 SHA-256（文件不会上传）", sha256: "SHA-256", anchors: "存证记录",
    not_anchored: "该文件未在链上存证", anchored_by: "存证中心", network: "网络状态", height: "最新高度",
    chain: "链标识", validators: "验证节点", power: "权重", member: "成员", recent_blocks: "最近区块",
    txs: "交易数", hash: "哈希", peers: "连接节点", loading: "加载中…", error: "出错了",
  },
  en: {
    brand: "Huxin · trading credit ledger", nav_search: "Subjects", nav_guarantee: "Guarantees", nav_document: "Documents",
    nav_network: "Network", footer: "Data from this node's finalised ledger state", lang: "中文",
    search_title: "Find a market entity", search_hint: "Unified social credit code, or the start of a name", search: "Search",
    no_match: "No matching entity", name: "Name", code: "Code", kind: "Kind", home_region: "Home region",
    identity: "Identity and recognition", attested_by: "Attested by", recognised_in: "Recognised in", not_attested: "Not attested on the ledger",
    eligibility: "Eligibility by region", region: "Region", eligible: "Eligible", not_eligible: "Not eligible", reasons: "Reasons",
    credit: "Credit records", score: "Credit score", no_records: "No published credit records", decision: "Decision no.", severity: "Severity",
    date: "Date", authority: "Authority", blacklist: "Blacklist", not_listed: "Not blacklisted", listed: "Listed", lifted: "Lifted",
    scope: "Scope", national: "National", guarantees: "E-guarantees", no_guarantees: "No e-guarantees", number: "Number",
    amount: "Amount (yuan)", state: "State", provider: "Provider", deals: "Deal participation", no_deals: "No deals",
    stage: "Stage", tender: "Project/section", time: "Time", guarantee_title: "Verify an e-guarantee", guarantee_hint: "Guarantee number",
    verify: "Verify", not_found: "No such record on the ledger", authentic: "Authentic (finalised on the ledger)", validity: "Validity",
    applicant: "Applicant", history: "History", document_title: "Verify a document",
    document_hint: "Choose a file; its SHA-256 is computed in the browser (nothing is uploaded)", sha256: "SHA-256", anchors: "Anchors",
    not_anchored: "This document is not anchored on the ledger", anchored_by: "Anchored by", network: "Network status", height: "Latest height",
    chain: "Chain", validators: "Validators", power: "Power", member: "Member", recent_blocks: "Recent blocks",
    txs: "Transactions", hash: "Hash", peers: "Peers", loading: "Loading…", error: "Error",
  },
};

// Labels of the ledger's enum values (snake_case in the API).
const LABELS = {
  zh: {
    supplier: "供应商", agent: "代理机构", purchaser: "采购人", expert: "评标专家",
    administrative_penalty: "行政处罚", dishonest_conduct: "失信行为", commendation: "表彰奖励",
    project_evaluation: "项目评价", contract_performance: "履约评价",
    minor: "轻微", general: "一般", serious: "严重", especially_serious: "特别严重",
    issued: "已出函", verified: "已核验", claimed: "已索赔", paid: "已赔付", released: "已释放",
    cancelled: "已撤销", replaced: "已替换", expired: "已过期",
    announcement: "招标公告", tender_document: "招标文件", clarification: "澄清修改", bid: "投标文件",
    opening_record: "开标记录", evaluation_report: "评标报告", candidate_publicity: "中标候选人公示",
    award_notice: "中标通知书", contract: "合同", complaint: "投诉", exception: "异常", archive: "归档",
  },
  en: {
    administrative_penalty: "administrative penalty", dishonest_conduct: "dishonest conduct",
    project_evaluation: "project evaluation", contract_performance: "contract performance",
    especially_serious: "especially serious", tender_document: "tender document", opening_record: "opening record",
    evaluation_report: "evaluation report", candidate_publicity: "candidate publicity", award_notice: "award notice",
  },
};
const label = (value) => LABELS[lang][value] || String(value ?? "").replace(/_/g, " ");

let lang = localStorage.getItem("huxin-lang") === "en" ? "en" : "zh";
const t = (key) => TEXT[lang][key] || key;
const app = () => document.getElementById("app");
let membersCache = null;

function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

async function api(path) {
  const response = await fetch(path);
  const body = await response.json().catch(() => ({}));
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(body.error ? `${body.error.code}: ${body.error.message}` : response.statusText);
  return body;
}

async function members() {
  if (!membersCache) membersCache = await api("/v1/members");
  return membersCache;
}

function memberName(list, id) {
  const m = list.find((m) => m.id === id);
  return m ? m.name : id;
}

function regionName(list, code) {
  const centre = list.find((m) => m.region === code && m.role === "trading_centre");
  return centre ? `${centre.name.replace("公共资源交易中心", "")} (${code})` : String(code);
}

const day = (ms) => (ms ? new Date(ms).toLocaleDateString(lang === "zh" ? "zh-CN" : "en-GB") : "");
const yuan = (fen) => (fen / 100).toLocaleString(lang === "zh" ? "zh-CN" : "en-GB", { minimumFractionDigits: 2 });
const subjectKey = (s) => s.organisation || (s.legacy ? `legacy:${s.legacy}` : s.expert ? `expert:${s.expert}` : JSON.stringify(s));

function applyStaticText() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.querySelectorAll("[data-t]").forEach((el) => (el.textContent = t(el.dataset.t)));
  document.getElementById("lang-toggle").textContent = t("lang");
}

function table(headers, rows) {
  return `<table><tr>${headers.map((h) => `<th>${esc(t(h))}</th>`).join("")}</tr>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`)
    .join("")}</table>`;
}

// ---- search ----
function renderSearch() {
  app().innerHTML = `<section><h2>${t("search_title")}</h2>
    <form id="search-form"><input type="text" id="search-input" placeholder="${esc(t("search_hint"))}">
    <button class="primary" id="search-button">${t("search")}</button></form>
    <div id="search-results"></div></section>`;
  document.getElementById("search-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const q = document.getElementById("search-input").value.trim();
    if (!q) return;
    if (/^[0-9A-Z]{18}$/.test(q) || q.includes(":")) {
      location.hash = `#/subject/${encodeURIComponent(q)}`;
      return;
    }
    const out = document.getElementById("search-results");
    out.textContent = t("loading");
    try {
      const page = await api(`/v1/subjects?name=${encodeURIComponent(q)}&limit=50`);
      out.innerHTML = page.items.length
        ? table(["name", "code", "home_region"], page.items.map((m) => [
            `<a href="#/subject/${encodeURIComponent(subjectKey(m.subject))}">${esc(m.name)}</a>`,
            esc(subjectKey(m.subject)), esc(m.home_region)]))
        : `<p class="muted" id="no-match">${t("no_match")}</p>`;
    } catch (err) {
      out.innerHTML = `<p class="error">${esc(err.message)}</p>`;
    }
  });
}

// ---- subject ----
function creditChart(records) {
  // One dot per record on a time axis, coloured by severity; the axis spans the records' dates.
  const width = 960, height = 90, pad = 40;
  if (!records.length) return "";
  const times = records.map((r) => r.record.decision_date);
  const min = Math.min(...times), max = Math.max(...times), span = Math.max(max - min, 86400000);
  const x = (ms) => pad + ((ms - min) / span) * (width - 2 * pad);
  const colour = { minor: "#d4a20b", general: "#e07b00", serious: "#b42318", especially_serious: "#6d0f0a" };
  const dots = records.map((r) => {
    const cx = x(r.record.decision_date).toFixed(1);
    const negative = r.record.kind !== "commendation";
    return `<circle cx="${cx}" cy="${negative ? 40 : 25}" r="7" fill="${negative ? colour[r.record.severity] || "#888" : "#1b7f3b"}"><title>${esc(r.record.decision_no)}</title></circle>`;
  });
  return `<svg id="credit-chart" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="${esc(t("credit"))}">
    <line x1="${pad}" y1="60" x2="${width - pad}" y2="60" stroke="#99a"/>
    <text x="${pad}" y="80">${esc(day(min))}</text><text x="${width - pad}" y="80" text-anchor="end">${esc(day(max))}</text>
    ${dots.join("")}</svg>`;
}

async function renderSubject(id) {
  app().innerHTML = `<p>${t("loading")}</p>`;
  const list = await members();
  const path = encodeURIComponent(id);
  const profile = await api(`/v1/subjects/${path}`);
  if (!profile) throw new Error(t("not_found"));
  const credit = await api(`/v1/subjects/${path}/credit`);
  const regions = [...new Set(list.filter((m) => m.role === "trading_centre").map((m) => m.region))].sort();
  const eligibility = await Promise.all(regions.map((r) => api(`/v1/subjects/${path}/eligibility?region=${r}`)));
  const isOrg = /^[0-9A-Z]{18}$/.test(id);
  const guarantees = isOrg ? await api(`/v1/guarantees?applicant=${path}`) : { items: [] };
  const deals = isOrg ? await api(`/v1/subjects/${path}/deals`) : { items: [] };
  const a = profile.attestation;

  const identity = a
    ? table(["name", "code", "kind", "home_region", "attested_by", "recognised_in"], [[
        `<span id="subject-name">${esc(a.name)}</span>`, esc(id), esc(label(a.kind)), esc(regionName(list, a.home_region)),
        esc(memberName(list, a.attested_by)),
        esc(a.recognitions.map((r) => regionName(list, r.region)).join("、") || "—")]])
    : `<p class="muted" id="subject-name">${t("not_attested")}</p>`;
  const eligibilityRows = regions.map((r, i) => [
    esc(regionName(list, r)),
    eligibility[i].eligible ? `<span class="ok">${t("eligible")}</span>` : `<span class="bad">${t("not_eligible")}</span>`,
    esc(eligibility[i].reasons.join("; "))]);
  const records = credit.records;
  const creditHtml = records.length
    ? creditChart(records) + table(["date", "decision", "authority", "severity", "kind"], records.map((r) => [
        esc(day(r.record.decision_date)), esc(r.record.decision_no), esc(r.record.authority), esc(label(r.record.severity)), esc(label(r.record.kind))]))
    : `<p class="muted">${t("no_records")}</p>`;
  const entries = profile.blacklist;
  const blacklistHtml = entries.length
    ? table(["decision", "scope", "date", "state"], entries.map((e) => [
        esc(e.decision_no), esc(e.scope === "national" ? t("national") : (e.scope.regions || []).map((r) => regionName(list, r)).join("、")),
        esc(day(e.start)), e.lifted ? t("lifted") : `<span class="bad">${t("listed")}</span>`]))
    : `<p class="ok">${t("not_listed")}</p>`;
  const guaranteeHtml = guarantees.items.length
    ? table(["number", "provider", "amount", "state"], guarantees.items.map((g) => [
        `<a href="#/guarantee/${encodeURIComponent(g.guarantee.number)}">${esc(g.guarantee.number)}</a>`,
        esc(memberName(list, g.provider)), esc(yuan(g.guarantee.amount_fen)), esc(label(g.current_state))]))
    : `<p class="muted">${t("no_guarantees")}</p>`;
  const dealHtml = deals.items.length
    ? table(["time", "tender", "stage", "sha256"], deals.items.map((d) => [
        esc(day(d.time)), esc(`${d.tender.region}/${d.tender.project_code}/${d.tender.section_code}`), esc(label(d.stage)),
        `<span class="mono">${esc(d.document_hash)}</span>`]))
    : `<p class="muted">${t("no_deals")}</p>`;

  app().innerHTML = `
    <section><h2>${t("identity")}</h2>${identity}</section>
    <section><h2>${t("eligibility")}</h2><div id="eligibility">${table(["region", "state", "reasons"], eligibilityRows)}</div></section>
    <section><h2>${t("credit")}</h2><p>${t("score")}: <span class="score" id="credit-score">${profile.score.score}</span></p>${creditHtml}</section>
    <section><h2>${t("blacklist")}</h2><div id="blacklist">${blacklistHtml}</div></section>
    <section><h2>${t("guarantees")}</h2>${guaranteeHtml}</section>
    <section><h2>${t("deals")}</h2>${dealHtml}</section>`;
}

// ---- guarantee ----
async function renderGuarantee(number) {
  app().innerHTML = `<section><h2>${t("guarantee_title")}</h2>
    <form id="guarantee-form"><input type="text" id="guarantee-input" placeholder="${esc(t("guarantee_hint"))}" value="${esc(number || "")}">
    <button class="primary" id="guarantee-button">${t("verify")}</button></form><div id="guarantee-result"></div></section>`;
  document.getElementById("guarantee-form").addEventListener("submit", (e) => {
    e.preventDefault();
    location.hash = `#/guarantee/${encodeURIComponent(document.getElementById("guarantee-input").value.trim())}`;
  });
  if (!number) return;
  const out = document.getElementById("guarantee-result");
  const [g, list] = [await api(`/v1/guarantees/${encodeURIComponent(number)}`), await members()];
  if (!g) {
    out.innerHTML = `<p class="bad">${t("not_found")}</p>`;
    return;
  }
  out.innerHTML = `<p class="ok">${t("authentic")}</p>` + table(["number", "provider", "applicant", "amount", "validity", "state"], [[
    esc(g.guarantee.number), esc(memberName(list, g.provider)), esc(g.guarantee.applicant), esc(yuan(g.guarantee.amount_fen)),
    esc(`${day(g.guarantee.valid_from)} – ${day(g.guarantee.valid_until)}`), `<strong id="guarantee-state" data-state="${esc(g.current_state)}">${esc(label(g.current_state))}</strong>`]]) +
    `<h2>${t("history")}</h2>` + table(["time", "state", "member", "reasons"], g.history.map((h) => [
      esc(day(h.time)), esc(label(h.state)), esc(memberName(list, h.by)), esc(h.reason)]));
}

// ---- document ----
function renderDocument() {
  app().innerHTML = `<section><h2>${t("document_title")}</h2><p class="muted">${t("document_hint")}</p>
    <input type="file" id="doc-file"><div id="doc-result"></div></section>`;
  document.getElementById("doc-file").addEventListener("change", async (e) => {
    const file = e.target.files[0];
    if (!file) return;
    const out = document.getElementById("doc-result");
    out.textContent = t("loading");
    const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
    const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
    const [doc, list] = [await api(`/v1/documents/${hex}`), await members()];
    const rows = doc.anchors.map((a) => [
      esc(day(a.time)), esc(memberName(list, a.anchored_by)), esc(`${a.tender.region}/${a.tender.project_code}/${a.tender.section_code}`),
      esc(label(a.stage)), esc(a.height)]);
    out.innerHTML = `<p>${t("sha256")}: <span class="mono" id="doc-hash">${hex}</span></p>` + (rows.length
      ? `<p class="ok" id="doc-verdict">${t("authentic")}</p>` + table(["time", "anchored_by", "tender", "stage", "height"], rows)
      : `<p class="bad" id="doc-verdict">${t("not_anchored")}</p>`);
  });
}

// ---- network ----
async function renderNetwork() {
  app().innerHTML = `<p>${t("loading")}</p>`;
  const [status, validators, list] = [await api("/v1/status"), await api("/v1/validators"), await members()];
  const heights = [];
  for (let h = status.latest_height; h > 0 && heights.length < 10; h--) heights.push(h);
  const blocks = await Promise.all(heights.map((h) => api(`/v1/blocks/${h}?tx_limit=1`)));
  app().innerHTML = `
    <section><h2>${t("network")}</h2>${table(["chain", "height", "peers"], [[esc(status.chain_id),
      `<span id="net-height">${status.latest_height}</span>`, esc(status.peers)]])}</section>
    <section><h2>${t("validators")}</h2><div id="net-validators">${table(["member", "power"], validators.current.map((v) => [
      esc(memberName(list, v.member)), esc(v.power)]))}</div></section>
    <section><h2>${t("recent_blocks")}</h2>${table(["height", "time", "txs", "hash"], blocks.filter(Boolean).map((b) => [
      esc(b.header.height), esc(new Date(b.header.time).toLocaleString(lang === "zh" ? "zh-CN" : "en-GB")),
      esc(b.header.tx_count), `<span class="mono">${esc(b.hash)}</span>`]))}</section>`;
}

// Each route() call counts; a page still loading when another route starts checks
// `stillCurrent(mine)` before it writes, so a slow page never overwrites a newer one.
let routeSeq = 0;
const stillCurrent = (mine) => mine === routeSeq;

async function route() {
  const mine = ++routeSeq;
  applyStaticText();
  const [, page, arg] = (location.hash || "#/").split("?")[0].split("/").map((p) => decodeURIComponent(p || ""));
  try {
    if (page === "subject" && arg) await renderSubject(arg);
    else if (page === "guarantee") await renderGuarantee(arg);
    else if (page === "document") renderDocument();
    else if (page === "network") await renderNetwork();
    else if (page === "stats") await renderStats();
    else if (page === "supervisor") await renderSupervisor();
    else renderSearch();
  } catch (err) {
    app().innerHTML = `<section><p class="error" id="page-error">${t("error")}: ${esc(err.message)}</p></section>`;
  }
  if (stillCurrent(mine)) document.body.dataset.ready = location.hash || "#/";
}

document.getElementById("lang-toggle").addEventListener("click", () => {
  lang = lang === "zh" ? "en" : "zh";
  localStorage.setItem("huxin-lang", lang);
  route();
});
window.addEventListener("hashchange", route);
// After every script of the page has run (workbench.js adds its pages and words).
document.addEventListener("DOMContentLoaded", route);
