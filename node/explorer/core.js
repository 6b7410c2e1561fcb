// CityChain explorer: one page, hash-routed, fed by the node's JSON API
// and its event stream (/v1/events). It talks to no host but the node
// that served it, and builds the DOM with textContent only, so nothing a
// transaction carries is ever parsed as HTML. The page's script is
// strings.js (which turns on strict mode and defines STRINGS), this file
// (helpers and the live state), then the pages' files and router.js, in
// the order explorer.go lists them.

const LANG_KEY = 'citychain.explorer.lang';
let lang = 'en';
try { lang = localStorage.getItem(LANG_KEY) || lang; } catch (e) { /* storage may be off */ }
if (!STRINGS[lang]) lang = 'en';

// t returns the UI string for key in the current language; functions are
// called with args.
function t(key, ...args) {
  const v = STRINGS[lang][key] ?? STRINGS.en[key] ?? key;
  return typeof v === 'function' ? v(...args) : v;
}

// why and stepName translate what the node reports in English: the rule
// that moved a round on, and the step it moved to. Unknown ones stay as
// the node wrote them.
const why = r => (STRINGS[lang].reasons || {})[r] || r;
const stepName = x => (STRINGS[lang].steps || {})[x] || x;

// ---- DOM helpers -----------------------------------------------------------

// el builds an element; children are nodes or text (never HTML).
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) e.addEventListener(ev, fn);
    else e.setAttribute(k, v);
  }
  for (const k of kids.flat(Infinity)) {
    if (k === undefined || k === null || k === false) continue;
    e.append(k instanceof Node ? k : String(k));
  }
  return e;
}
const short = (h, n = 10) => (h && h.length > 2 * n ? h.slice(0, n) + '…' + h.slice(-4) : h || '');
const ZERO = '0'.repeat(64);
const link = (href, text, cls) => el('a', { href, class: cls }, text);
const blockLink = h => link('#/block/' + h, '#' + h);
const txLink = h => link('#/tx/' + h, short(h), 'mono');
const acctLink = a => a ? link('#/account/' + a, short(a, 12), 'mono') : '';
const when = s => { const d = new Date(s); return isNaN(d) ? '' : d.toLocaleTimeString(lang === 'zh' ? 'zh-CN' : 'en-GB'); };
const badge = (text, cls) => el('span', { class: 'badge ' + cls }, text);
const statusBadge = s => {
  const b = badge(STRINGS.en['txst_' + s] ? t('txst_' + s) : (s || '?'), s === 'ok' ? 'ok' : s === 'failed' ? 'bad' : 'warn');
  b.dataset.status = s || '';
  return b;
};

function table(id, heads, rows) {
  return el('div', { class: 'scroll' }, el('table', { id },
    el('thead', null, el('tr', null, heads.map(([h, cls]) => el('th', { class: cls }, h)))),
    el('tbody', null, rows)));
}
function kv(pairs) {
  return el('dl', { class: 'kv' }, pairs.filter(Boolean).map(([k, v, id]) => [el('dt', null, k), el('dd', { id }, v)]));
}
const card = (title, ...body) => el('section', { class: 'card' }, title ? el('h2', null, title) : null, ...body);

// ---- API -------------------------------------------------------------------

async function api(path) {
  // A paused node accepts the connection and never answers: give up.
  const r = await fetch(path, { headers: { Accept: 'application/json' }, signal: AbortSignal.timeout(10000) });
  let body = null;
  try { body = await r.json(); } catch (e) { /* empty or not JSON */ }
  if (!r.ok) {
    const err = new Error((body && body.error && body.error.message) || r.status + ' ' + r.statusText);
    err.status = r.status;
    throw err;
  }
  return body;
}

// ---- live state, fed by the event stream -------------------------------------

const S = {
  status: null,
  blocks: [],     // block summaries, newest first
  txs: [],        // recent txs, newest first
  vals: null,     // GET /v1/validators
  evidence: null, // GET /v1/apps/poa/evidence: poa's records of offences
  evidenceAt: -1, // the height S.evidence was read at
  step: null,     // last consensus event
  rounds: [],     // round changes and timeouts, newest first
  lastRound: null, // {height, round} of the last consensus step
  live: false,
};
const MAX_BLOCKS = 30, MAX_TXS = 15, MAX_ROUNDS = 50;

// addBlock merges a block summary by height, newest first, and says
// whether it was new.
function addBlock(b) {
  if (S.blocks.some(x => x.height === b.height)) return false;
  const i = S.blocks.findIndex(x => x.height < b.height);
  if (i < 0) S.blocks.push(b); else S.blocks.splice(i, 0, b);
  S.blocks.length = Math.min(S.blocks.length, MAX_BLOCKS);
  if (S.status && b.height > S.status.height) S.status.height = b.height;
  return true;
}
function addTx(x) {
  if (S.txs.some(y => y.hash === x.hash)) return;
  S.txs.push(x);
  S.txs.sort((a, b) => (b.height - a.height) || ((b.index ?? 0) - (a.index ?? 0)));
  S.txs.length = Math.min(S.txs.length, MAX_TXS);
}

// loadBlocks fetches blocks by height and merges them, with their txs.
async function loadBlocks(hs) {
  const bs = await Promise.all(hs.map(h => api('/v1/blocks/' + h).catch(() => null)));
  for (const b of bs.filter(Boolean)) {
    addBlock({ height: b.height, hash: b.hash, time: b.time, txs: b.txs.length, evidence: (b.evidence || []).length, proposer: b.proposer });
    b.txs.forEach((x, i) => addTx({ ...x, height: b.height, index: i }));
  }
}

// fillGap fetches the recent blocks up to top that the page lacks: the
// stream drops events for a slow reader, and says nothing while it
// reconnects.
let gapTop = 0, filling = false;
async function fillGap(top) {
  gapTop = Math.max(gapTop, top);
  if (filling) return;
  filling = true;
  try {
    for (let done = -1; done !== gapTop;) {
      done = gapTop;
      const hs = [];
      for (let h = done; h >= 1 && h > done - 20; h--) if (!S.blocks.some(b => b.height === h)) hs.push(h);
      if (hs.length) await loadBlocks(hs);
    }
  } finally { filling = false; }
  rerenderLive('block');
}

async function loadInitial() {
  S.status = await api('/v1/status');
  await fillGap(S.status.height);
  await refreshValidators();
}

async function refreshValidators() {
  try { S.vals = await api('/v1/validators'); } catch (e) { /* keep the last view */ }
  // Poa's records change only with a block: read them once per height.
  if (S.vals && S.vals.height !== S.evidenceAt) {
    try {
      S.evidence = await api('/v1/apps/poa/evidence');
      S.evidenceAt = S.vals.height;
    } catch (e) { if (e.status === 404) S.evidence = []; } // a chain without poa records none
  }
}

// Validator refreshes are coalesced: a round emits several steps at once.
let valsTimer = null;
function scheduleValidators() {
  if (valsTimer) return;
  valsTimer = setTimeout(async () => { valsTimer = null; await refreshValidators(); rerenderLive(); }, 200);
}

// lastEvent is when the stream last brought anything; a heartbeat asks
// the node directly when it has been quiet, because a paused node keeps
// the stream open and sends nothing.
let lastEvent = Date.now(), beating = false;

function setLive(on) {
  if (S.live !== on) { S.live = on; showLive(); }
}

function connect() {
  const es = new EventSource('/v1/events');
  es.onopen = () => {
    setLive(true);
    lastEvent = Date.now();
    api('/v1/status').then(st => { S.status = st; fillGap(st.height); }, () => {});
  };
  es.onerror = () => setLive(false);
  const on = (type, fn) => es.addEventListener(type, e => {
    let d;
    try { d = JSON.parse(e.data); } catch (err) { return; }
    lastEvent = Date.now();
    setLive(true);
    fn(d);
    rerenderLive(type);
  });
  on('block', d => {
    const gap = S.blocks.length > 0 && d.height > S.blocks[0].height + 1;
    addBlock(d);
    if (gap) fillGap(d.height);
    scheduleValidators();
  });
  on('tx', d => addTx(d));
  on('consensus', d => {
    S.step = d;
    noteRound(d);
    scheduleValidators();
  });
  setInterval(async () => {
    if (beating || Date.now() - lastEvent < 10000) return;
    beating = true;
    try {
      S.status = await api('/v1/status');
      lastEvent = Date.now();
      setLive(true);
      fillGap(S.status.height);
    } catch (e) {
      setLive(false);
    }
    beating = false;
  }, 5000);
}

// noteRound logs what a teacher wants to point at: a height that needs a
// second round, and the timeouts that moved the round on. Steps that go
// as planned (proposal received, +2/3 votes) are not logged.
function noteRound(d) {
  const reason = d.reason || '';
  const seen = S.lastRound;
  // Rounds only grow within a height; the block event's own commit step
  // says round 0, so a lower round is not a change.
  const newRound = d.round > 0 && (!seen || seen.height !== d.height || d.round > seen.round);
  if (!seen || d.height > seen.height || (d.height === seen.height && d.round > seen.round)) {
    S.lastRound = { height: d.height, round: d.round };
  }
  let text = null;
  if (newRound) text = t('round_entry', d.height, d.round, reason);
  else if (/timeout/i.test(reason)) text = t('timeout_entry', d.height, d.round, reason, d.step);
  if (!text) return;
  S.rounds.unshift({ at: new Date(), height: d.height, round: d.round, step: d.step, reason, newRound });
  S.rounds.length = Math.min(S.rounds.length, MAX_ROUNDS);
}

function showLive() {
  const l = document.getElementById('live');
  l.textContent = S.live ? t('live_on') : t('live_off');
  l.className = 'live' + (S.live ? ' on' : '');
}
