// Huxin dashboard, the supervisor's workbench: #/stats (monthly statistics, the 004 report, with
// CSV) and #/supervisor (a supervisor's key loaded into this page only: signed reads of full
// credit histories, the collusion-ring report, and this node's audit log checked here).
// Uses the helpers of app.js (t, label, esc, api, table, members, memberName, regionName, day) and
// the TypeScript SDK bundled as huxin-sdk.js (HuxinSdk: signQuery, publicKey, checkAuditLog).
"use strict";

Object.assign(TEXT.zh, {
  nav_stats: "统计报表", nav_supervisor: "监管工作台",
  stats_title: "月度统计", stats_hint: "按地区与指标统计链上交易（中国标准时间自然月）", all_regions: "全部地区",
  metric: "指标", month: "月份", count: "数量", csv: "下载 CSV", no_stats: "所选范围内没有统计数据", show: "显示",
  sv_title: "监管工作台", sv_hint: "载入监管机构成员的私钥（十六进制；国密链的私钥以 sm2: 开头）。私钥只保存在本页面内存中，用于在浏览器内签名查询，从不发送。",
  sv_key: "私钥", sv_load: "载入", sv_signed_as: "签名身份", sv_unload: "卸下私钥", sv_not_member: "该密钥不属于任何在册成员",
  sv_credit: "完整信用记录（含未公示）", sv_subject_hint: "统一社会信用代码或主体标识", sv_read: "查询",
  publication: "公示状态", hidden_count: "未公示记录", sv_rings: "围标串标分析", sv_no_findings: "未发现异常",
  finding: "发现", subjects: "涉及主体", evidence: "证据", sv_audit: "本节点查询留痕", sv_check: "核验留痕",
  seq: "序号", target: "查询", result_count: "结果数", status_code: "状态",
  audit_intact: "留痕完整：链式哈希连续、未被修改，每条均有监管签名", audit_broken: "留痕不完整",
  anchored_upto: "已上链锚定至第", entries: "条", not_anchored_yet: "尚未上链锚定",
  pending: "待公示", active: "公示中", repaired: "已修复", revoked: "已撤销",
});
Object.assign(TEXT.en, {
  nav_stats: "Statistics", nav_supervisor: "Supervisor",
  stats_title: "Monthly statistics", stats_hint: "Ledger activity by region and metric (calendar months, China Standard Time)", all_regions: "All regions",
  metric: "Metric", month: "Month", count: "Count", csv: "Download CSV", no_stats: "No statistics in this range", show: "Show",
  sv_title: "Supervisor's workbench", sv_hint: "Load a supervisor member's secret key (hex; on a national-suite chain it starts with sm2:). It stays in this page's memory, signs queries in the browser, and is never sent.",
  sv_key: "Secret key", sv_load: "Load", sv_signed_as: "Signing as", sv_unload: "Unload the key", sv_not_member: "This key belongs to no registered member",
  sv_credit: "Full credit history (hidden records included)", sv_subject_hint: "USCC or subject id", sv_read: "Read",
  publication: "Publication", hidden_count: "Hidden records", sv_rings: "Collusion rings", sv_no_findings: "Nothing found",
  finding: "Finding", subjects: "Subjects", evidence: "Evidence", sv_audit: "This node's audit log", sv_check: "Check the log",
  seq: "Seq", target: "Query", result_count: "Results", status_code: "Status",
  audit_intact: "The log is intact: chained, unedited, every entry signed by its reader", audit_broken: "The log is NOT intact",
  anchored_upto: "anchored on the ledger up to entry", entries: "", not_anchored_yet: "not anchored on the ledger yet",
  pending: "pending", active: "published", repaired: "repaired", revoked: "revoked",
});
Object.assign(LABELS.zh, {
  bidding_ring: "围标团伙", win_rotation: "轮流中标", shared_premium_payer: "同一主体代缴保费", identical_bid_documents: "投标文件雷同",
  entries: "列入", national: "全国", supervisor: "监管机构", trading_centre: "交易中心", guarantee_provider: "出函机构",
});
Object.assign(LABELS.en, {
  bidding_ring: "bidding ring", win_rotation: "win rotation", shared_premium_payer: "shared premium payer",
  identical_bid_documents: "identical bid documents",
});

// A metric's label: its family, then its value (anchors.bid → 存证·投标文件).
const FAMILIES = {
  zh: { anchors: "存证", guarantees: "保函", penalties: "行政处罚", blacklist: "黑名单" },
  en: { anchors: "anchors", guarantees: "guarantees", penalties: "penalties", blacklist: "blacklist" },
};
function metricLabel(metric) {
  const [family, value] = metric.split(".");
  return `${FAMILIES[lang][family] || family}·${label(value)}`;
}

// ---- statistics ----
function statsChart(rows, months) {
  // One group of bars per month, one bar per metric; heights scaled to the largest count.
  const metrics = [...new Set(rows.map((r) => r.metric))].sort();
  const count = (m, metric) => rows.filter((r) => r.month === m && r.metric === metric).reduce((s, r) => s + r.count, 0);
  const max = Math.max(1, ...months.flatMap((m) => metrics.map((x) => count(m, x))));
  const width = 960, height = 220, pad = 40, group = Math.min(160, (width - 2 * pad) / Math.max(months.length, 1));
  const bar = Math.min(32, Math.max(2, (group - 8) / Math.max(metrics.length, 1)));
  const palette = ["#1f5fa8", "#e07b00", "#1b7f3b", "#b42318", "#6b4fa0", "#0e7c86", "#8a6d00", "#7a7a7a"];
  const bars = months.flatMap((m, i) => metrics.map((metric, j) => {
    const c = count(m, metric), h = (c / max) * (height - 2 * pad);
    return `<rect class="stat-bar" x="${(pad + i * group + 4 + j * bar).toFixed(1)}" y="${(height - pad - h).toFixed(1)}" width="${(bar - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="${palette[j % palette.length]}"><title>${esc(m)} ${esc(metricLabel(metric))}: ${c}</title></rect>`;
  }));
  const ticks = months.map((m, i) => `<text x="${(pad + i * group + 4 + (metrics.length * bar) / 2).toFixed(1)}" y="${height - pad + 16}" text-anchor="middle">${esc(m)}</text>`);
  const legend = metrics.map((metric, j) => `<span class="legend"><i style="background:${palette[j % palette.length]}"></i>${esc(metricLabel(metric))}</span>`);
  return `<svg id="stats-chart" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="${esc(t("stats_title"))}">
    <line x1="${pad}" y1="${height - pad}" x2="${width - pad}" y2="${height - pad}" stroke="#99a"/>
    <text x="${pad - 6}" y="${pad}" text-anchor="end">${max}</text>${bars.join("")}${ticks.join("")}</svg><p>${legend.join(" ")}</p>`;
}

async function renderStats() {
  const mine = routeSeq;
  const list = await members();
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  const region = params.get("region") || "", family = params.get("metric") || "";
  const regions = [...new Set(list.filter((m) => m.role === "trading_centre").map((m) => m.region))].sort();
  const query = new URLSearchParams();
  if (region) query.set("region", region);
  if (family) query.set("metric", family);
  const stats = await api(`/v1/stats?${query}`);
  if (!stillCurrent(mine)) return;
  const months = [...new Set(stats.rows.map((r) => r.month))].sort();
  const option = (value, text, chosen) => `<option value="${esc(value)}"${value === chosen ? " selected" : ""}>${esc(text)}</option>`;
  const csv = new URLSearchParams(query);
  csv.set("format", "csv");
  app().innerHTML = `<section><h2>${t("stats_title")}</h2><p class="muted">${t("stats_hint")}</p>
    <form id="stats-form">
      <select id="stats-region">${option("", t("all_regions"), region)}${option("national", t("national"), region)}${regions.map((r) => option(String(r), regionName(list, r), region)).join("")}</select>
      <select id="stats-metric">${option("", t("metric"), family)}${Object.keys(FAMILIES.zh).map((f) => option(`${f}.`, FAMILIES[lang][f], family)).join("")}</select>
      <button class="primary">${t("show")}</button>
      <a id="stats-csv" href="/v1/stats?${csv}" download="huxin-stats.csv">${t("csv")}</a>
    </form>
    ${stats.rows.length ? statsChart(stats.rows, months) + `<div id="stats-table">${table(["month", "region", "metric", "count"], stats.rows.map((r) => [
      esc(r.month), esc(r.region === "national" ? t("national") : regionName(list, Number(r.region))), esc(metricLabel(r.metric)), esc(r.count)]))}</div>`
      : `<p class="muted" id="stats-empty">${t("no_stats")}</p>`}</section>`;
  document.getElementById("stats-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const next = new URLSearchParams();
    const r = document.getElementById("stats-region").value, m = document.getElementById("stats-metric").value;
    if (r) next.set("region", r);
    if (m) next.set("metric", m);
    location.hash = `#/stats?${next}`;
  });
}

// ---- the supervisor's key: in this page's memory only ----
// Signing and the audit check are the TypeScript SDK's (huxin-sdk.js, loaded before this file;
// `npm run dashboard` in sdk/typescript makes it), in the key's suite: ed25519 and SHA-256, or
// SM2 and SM3 on a chain of the national suite (a key written `sm2:` and 64 hex digits).
let supervisor = null; // { secret: the key as its file writes it, publicKey: hex, member }

async function loadKey(text) {
  const secret = text.trim().toLowerCase();
  const publicKey = HuxinSdk.publicKey(secret); // a typed error naming what is wrong
  const member = (await members()).find((m) => m.keys.includes(publicKey));
  return { secret, publicKey, member };
}

// The node a signed query is for, as /v1/status names it.
const audienceOf = (status) => ({ chainId: status.chain_id, nodeKey: status.node_key });

// A GET signed for this node (its chain id and node key), as `huxin audit` signs one.
async function signedApi(pathAndQuery) {
  const status = await api("/v1/status");
  const [path, query = ""] = pathAndQuery.split(/\?(.*)/s, 2);
  const headers = HuxinSdk.signQuery(supervisor.secret, audienceOf(status), "GET", path, query, Date.now());
  const response = await fetch(pathAndQuery, { headers });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error ? `${body.error.code}: ${body.error.message}` : response.statusText);
  return body;
}

async function allPages(first, next) {
  const items = [];
  for (let page = await first(); ; page = await next(page)) {
    items.push(...page.items);
    if (!page.next_cursor) return items;
  }
}

// ---- the workbench ----
function findingRow(f) {
  const [kind, body] = Object.entries(f)[0];
  const names = (body.members || body.applicants || body.bidders || []).map((u) => `<a href="#/subject/${encodeURIComponent(u)}">${esc(u)}</a>`);
  const evidence = body.sections ? body.sections.length : body.wins ? body.wins.length : body.bids ? body.bids.length : 0;
  const detail = body.payer ? `${esc(body.payer)} → ` : body.document_hash ? `<span class="mono">${esc(body.document_hash.slice(0, 16))}…</span> ` : "";
  return [`<span class="finding" data-kind="${esc(kind)}">${esc(label(kind))}</span>`, detail + names.join("、"), esc(evidence)];
}

async function renderSupervisor() {
  if (!supervisor) {
    app().innerHTML = `<section><h2>${t("sv_title")}</h2><p class="muted">${t("sv_hint")}</p>
      <form id="sv-key-form"><input type="password" id="sv-key" autocomplete="off" placeholder="${esc(t("sv_key"))}">
      <button class="primary" id="sv-load">${t("sv_load")}</button></form><div id="sv-key-error"></div></section>`;
    document.getElementById("sv-key-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        supervisor = await loadKey(document.getElementById("sv-key").value);
        route();
      } catch (err) {
        document.getElementById("sv-key-error").innerHTML = `<p class="error">${esc(err.message)}</p>`;
      }
    });
    return;
  }
  const mine = routeSeq;
  const list = await members();
  if (!stillCurrent(mine)) return;
  const who = supervisor.member ? `${supervisor.member.name} (${label(supervisor.member.role)})` : t("sv_not_member");
  app().innerHTML = `<section><h2>${t("sv_title")}</h2>
      <p>${t("sv_signed_as")}: <strong id="sv-who">${esc(who)}</strong> <button id="sv-unload">${t("sv_unload")}</button></p></section>
    <section><h2>${t("sv_credit")}</h2><form id="sv-credit-form"><input type="text" id="sv-subject" placeholder="${esc(t("sv_subject_hint"))}">
      <button class="primary" id="sv-credit-read">${t("sv_read")}</button></form><div id="sv-credit"></div></section>
    <section><h2>${t("sv_rings")}</h2><div id="sv-rings">${t("loading")}</div></section>
    <section><h2>${t("sv_audit")}</h2><div id="sv-audit-verdict"></div><div id="sv-audit">${t("loading")}</div></section>`;
  document.getElementById("sv-unload").addEventListener("click", () => ((supervisor = null), route()));
  document.getElementById("sv-credit-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const out = document.getElementById("sv-credit");
    try {
      const subject = document.getElementById("sv-subject").value.trim();
      const full = await signedApi(`/v1/supervisor/subjects/${encodeURIComponent(subject)}/credit`);
      out.innerHTML = `<p>${t("hidden_count")}: <strong id="sv-hidden">${full.hidden}</strong></p>` +
        table(["date", "decision", "authority", "severity", "publication"], full.records.map((r) => [
          esc(day(r.record.decision_date)), esc(r.record.decision_no), esc(r.record.authority), esc(label(r.record.severity)),
          r.publication === "active" ? esc(t("active")) : `<span class="hidden-record" data-publication="${esc(r.publication)}">${esc(t(r.publication))}</span>`]));
    } catch (err) {
      out.innerHTML = `<p class="error">${esc(err.message)}</p>`;
    }
  });
  try {
    const report = await signedApi("/v1/supervisor/rings?limit=200");
    if (!stillCurrent(mine)) return;
    document.getElementById("sv-rings").innerHTML = report.findings.length
      ? table(["finding", "subjects", "evidence"], report.findings.map(findingRow))
      : `<p class="ok" id="sv-no-findings">${t("sv_no_findings")}</p>`;
  } catch (err) {
    if (stillCurrent(mine)) document.getElementById("sv-rings").innerHTML = `<p class="error">${esc(err.message)}</p>`;
  }
  try {
    const status = await api("/v1/status");
    const pages = [await signedApi("/v1/supervisor/audit?limit=1000")];
    while (pages[pages.length - 1].next_after) {
      pages.push(await signedApi(`/v1/supervisor/audit?limit=1000&after=${pages[pages.length - 1].next_after}`));
    }
    const entries = pages.flatMap((p) => p.entries);
    const anchorMember = pages[0].anchor_member;
    const anchors = anchorMember
      ? await allPages(() => api(`/v1/audit/anchors/${anchorMember}?limit=1000`),
        (page) => api(`/v1/audit/anchors/${anchorMember}?limit=1000&cursor=${page.next_cursor}`))
      : [];
    // The log grows while it is read (these reads are logged too): anchors past what was read
    // are left for the next check.
    const lastRead = entries.length ? entries[entries.length - 1].seq : 0;
    // Checked here, as `huxin audit check` does: sequence, chain, every hash, every reader's
    // signature for this node, and every anchor on the ledger.
    const verdict = HuxinSdk.checkAuditLog(entries, anchors.filter((a) => a.seq <= lastRead), audienceOf(status));
    if (!stillCurrent(mine)) return;
    document.getElementById("sv-audit-verdict").innerHTML = verdict.ok
      ? `<p class="ok" id="sv-audit-ok">${t("audit_intact")}; ${verdict.anchoredUpTo ? `${t("anchored_upto")} ${verdict.anchoredUpTo} ${t("entries")}` : t("not_anchored_yet")}</p>`
      : `<p class="bad" id="sv-audit-bad">${t("audit_broken")}: ${esc(verdict.problem)}</p>`;
    document.getElementById("sv-audit").innerHTML = table(["seq", "time", "member", "target", "status_code", "result_count"],
      entries.slice(-100).reverse().map((e) => [esc(e.seq), esc(new Date(e.time).toLocaleString(lang === "zh" ? "zh-CN" : "en-GB")),
        esc(memberName(list, e.member)), `<span class="mono">${esc(e.target)}</span>`, esc(e.status), esc(e.result_count)]));
  } catch (err) {
    if (stillCurrent(mine)) document.getElementById("sv-audit").innerHTML = `<p class="error">${esc(err.message)}</p>`;
  }
}
