// CityChain explorer: one page, hash-routed, fed by the node's JSON API
// and its event stream (/v1/events). It talks to no host but the node
// that served it, and builds the DOM with textContent only, so nothing a
// transaction carries is ever parsed as HTML. The page's script is
// strings.js (which turns on strict mode and defines STRINGS) followed by
// this file.

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
    addBlock({ height: b.height, hash: b.hash, time: b.time, txs: b.txs.length, proposer: b.proposer });
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

// ---- dashboard -----------------------------------------------------------------

// rates measures over the newest run of consecutive blocks (at most 20),
// so that a block the page missed cannot skew them.
function rates() {
  const run = S.blocks.slice(0, 1);
  for (const b of S.blocks.slice(1, 20)) {
    if (b.height !== run[run.length - 1].height - 1) break;
    run.push(b);
  }
  if (run.length < 2) return { interval: null, tps: null };
  const span = (new Date(run[0].time) - new Date(run[run.length - 1].time)) / 1000;
  if (!(span > 0)) return { interval: null, tps: null };
  const txs = run.slice(0, -1).reduce((n, b) => n + (b.txs || 0), 0);
  return { interval: span / (run.length - 1), tps: txs / span };
}

// votesOf finds a validator's vote in a list of {validator, block_hash}.
function voteCell(list, addr) {
  const v = (list || []).find(x => x.validator === addr);
  if (!v) return el('span', { class: 'nil' }, t('vote_none'));
  if (!v.block_hash || v.block_hash === ZERO) return badge(t('vote_nil'), 'warn');
  return badge(t('vote_for', v.block_hash), 'ok');
}

// quorumState says how much power stands behind the leading block: from
// the precommits of the round in progress when the node shows them, else
// from the last commit.
function quorumState() {
  const v = S.vals;
  if (!v) return null;
  const power = new Map((v.validators || []).map(x => [x.address, Number(x.power) || 0]));
  const total = Number(v.total_power) || [...power.values()].reduce((a, b) => a + b, 0);
  const c = v.consensus;
  let k = 0, live = false;
  if (c) {
    live = true;
    const by = new Map();
    for (const p of c.precommits || []) {
      if (!p.block_hash || p.block_hash === ZERO) continue;
      by.set(p.block_hash, (by.get(p.block_hash) || 0) + (power.get(p.validator) || 0));
    }
    k = Math.max(0, ...by.values());
  } else if (v.last_commit) {
    k = (v.last_commit.signatures || []).reduce((n, s) => n + (power.get(s.validator) || 0), 0);
  }
  return { k, total, quorum: Number(v.quorum) || 0, live };
}

// bar draws k of total voting power against the 2f+1 line.
function bar(id, k, total, quorum, label) {
  const fill = el('div', { class: 'fill' + (k >= quorum ? '' : ' short') });
  fill.style.width = Math.min(100, (100 * k) / total) + '%';
  const line = el('div', { class: 'line', title: '2f+1' });
  line.style.left = `calc(${(100 * quorum) / total}% - .1rem)`;
  return el('div', { class: 'quorum', id, role: 'img', 'aria-label': label }, fill, line, el('div', { class: 'label' }, label));
}

// decidedState is the power that precommitted the block this node last
// decided, counting precommits that came after the decision: a stopped
// validator shows as a gap here even though the chain goes on.
function decidedState() {
  const v = S.vals;
  const d = v && v.consensus && v.consensus.decided;
  if (!d) return null;
  const power = new Map((v.validators || []).map(x => [x.address, Number(x.power) || 0]));
  const k = (d.precommits || []).reduce((n, p) => n + (power.get(p.validator) || 0), 0);
  return { height: d.height, k, signers: new Set((d.precommits || []).map(p => p.validator)) };
}

function quorumBar() {
  const q = quorumState();
  if (!q || !q.total) return el('p', { class: 'muted' }, t('loading'));
  const d = decidedState();
  return el('div', null,
    bar('quorum', q.k, q.total, q.quorum, t('quorum', q.k, q.total, q.quorum)),
    el('p', { class: 'muted' }, q.live ? t('quorum_help_live') : t('quorum_help_last')),
    d ? [bar('quorum-last', d.k, q.total, q.quorum, t('quorum_decided', d.height, d.k, q.total)),
      el('p', { class: 'muted' }, t('quorum_help_decided'))] : null);
}

function proposerNow() {
  const c = S.vals && S.vals.consensus;
  return (c && c.proposer) || (S.step && S.step.proposer) || (S.blocks[0] && S.blocks[0].proposer) || '';
}

// stepBar shows the four steps of a Tendermint round with the current
// one marked, so the room can follow a height through them.
function stepBar(step) {
  const steps = ['propose', 'prevote', 'precommit', 'commit'];
  const at = steps.indexOf(step);
  return el('ol', { class: 'steps', id: 'steps', 'aria-label': t('steps_label') }, steps.map((x, i) =>
    el('li', { class: i === at ? 'now' : i < at ? 'done' : null, 'aria-current': i === at ? 'step' : null }, t('step_' + x))));
}

function validatorTable() {
  const v = S.vals;
  if (!v) return el('p', null, t('loading'));
  const c = v.consensus;
  // Who precommitted the last block: every precommit this node saw for
  // it when it shows them, else the commit (only the first 2f+1).
  const dec = decidedState();
  const signed = dec ? dec.signers : new Set(((v.last_commit && v.last_commit.signatures) || []).map(s => s.validator));
  const prop = proposerNow();
  const rows = (v.validators || []).map(x => el('tr', null,
    el('td', null, acctLink(x.address), x.address === prop ? [' ', badge(t('is_proposer'), 'ok')] : null),
    el('td', null, x.power),
    el('td', null, c ? voteCell(c.prevotes, x.address) : el('span', { class: 'nil' }, t('vote_none'))),
    el('td', null, c ? voteCell(c.precommits, x.address) : el('span', { class: 'nil' }, t('vote_none'))),
    el('td', { class: 'hide-sm' }, signed.has(x.address) ? badge(t('yes'), 'ok') : badge(t('no'), 'nil'))));
  const now = c ? el('p', null, t('round_now', c.height, c.round, stepName(c.step)) + (c.reason ? ' · ' + why(c.reason) : ''))
    : el('p', { class: 'muted' }, t('no_consensus'));
  return el('div', null, now, c ? stepBar(c.step) : null, quorumBar(),
    table('validators', [[t('col_validator')], [t('col_power')], [t('col_prevote')], [t('col_precommit')], [t('col_last'), 'hide-sm']], rows));
}

function roundLog() {
  if (!S.rounds.length) return el('p', { class: 'muted', id: 'rounds' }, t('no_rounds'));
  return el('ul', { class: 'log', id: 'rounds' }, S.rounds.map(r =>
    el('li', null, el('span', { class: 'muted' }, when(r.at) + ' '), r.newRound ? t('round_entry', r.height, r.round, why(r.reason)) : t('timeout_entry', r.height, r.round, why(r.reason), stepName(r.step)))));
}

function blocksTable(blocks, id) {
  return table(id, [[t('col_height')], [t('col_time')], [t('col_txs')], [t('col_proposer'), 'hide-sm'], [t('col_hash'), 'hide-sm']],
    blocks.map(b => el('tr', null, el('td', null, blockLink(b.height)), el('td', null, when(b.time)),
      el('td', null, typeof b.txs === 'number' ? b.txs : (b.txs || []).length),
      el('td', { class: 'hide-sm' }, acctLink(b.proposer)), el('td', { class: 'hide-sm mono' }, short(b.hash)))));
}

function txsTable(txs, id) {
  if (!txs.length) return el('p', { class: 'muted', id }, t('no_txs'));
  return table(id, [[t('col_hash')], [t('col_app')], [t('col_height')], [t('col_sender'), 'hide-sm'], [t('col_status')]],
    txs.map(x => el('tr', null, el('td', null, txLink(x.hash)), el('td', null, x.app + '/' + x.action),
      el('td', null, blockLink(x.height)), el('td', { class: 'hide-sm' }, acctLink(x.sender)),
      el('td', null, x.status ? statusBadge(x.status) : ''))));
}

function viewDashboard() {
  const r = rates();
  const h = S.status ? S.status.height : '…';
  const stat = (k, v, id, cls) => el('div', { class: 'card stat' }, el('div', { class: 'k' }, k), el('div', { class: 'v ' + (cls || ''), id }, v));
  return el('div', null,
    el('div', { class: 'stats' },
      stat(t('height'), h, 'height'),
      stat(t('interval'), r.interval == null ? '—' : t('seconds', r.interval.toFixed(2)), 'interval'),
      stat(t('tps'), r.tps == null ? '—' : r.tps.toFixed(r.tps < 10 ? 2 : 0), 'tps'),
      stat(t('proposer'), short(proposerNow(), 10) || '—', 'proposer', 'small')),
    el('div', { class: 'grid two' },
      card(t('validators'), validatorTable()),
      card(t('round_log'), roundLog())),
    el('div', { class: 'grid two' },
      card(t('latest_blocks'), blocksTable(S.blocks.slice(0, 10), 'latest-blocks'), el('p', null, link('#/blocks', t('all_blocks')))),
      card(t('latest_txs'), txsTable(S.txs.slice(0, 10), 'latest-txs'), el('p', null, link('#/txs', t('all_txs'))))));
}

// ---- lists and detail pages ----------------------------------------------------------

async function viewBlocks(top) {
  const head = S.status ? S.status.height : (await api('/v1/status')).height;
  top = Math.min(top == null || isNaN(top) ? head : top, head);
  const hs = [];
  for (let h = top; h >= 0 && hs.length < 20; h--) hs.push(h);
  const bs = (await Promise.all(hs.map(h => api('/v1/blocks/' + h).catch(() => null)))).filter(Boolean);
  const pager = el('div', { class: 'pager' },
    top < head ? link('#/blocks/' + Math.min(head, top + 20), t('newer')) : null,
    top - 20 >= 0 ? link('#/blocks/' + (top - 20), t('older')) : null);
  return el('div', null, el('h1', null, t('blocks_title')), card(null, blocksTable(bs, 'blocks'), pager));
}

// viewTxs lists the transactions of the blocks at and below top, newest
// first: up to 25, from at most 60 blocks per page.
async function viewTxs(top) {
  const head = S.status ? S.status.height : (await api('/v1/status')).height;
  top = Math.max(0, Math.min(top == null || isNaN(top) ? head : top, head));
  const txs = [];
  let h = top;
  for (let scanned = 0; h >= 1 && scanned < 60 && txs.length < 25; scanned += 10) {
    const hs = [];
    for (let i = 0; i < 10 && h - i >= 1; i++) hs.push(h - i);
    h -= hs.length;
    const bs = (await Promise.all(hs.map(x => api('/v1/blocks/' + x).catch(() => null)))).filter(Boolean);
    for (const b of bs) for (const x of b.txs || []) txs.push({ ...x, height: b.height });
  }
  const pager = el('div', { class: 'pager' },
    top < head ? link('#/txs', t('newest')) : null,
    h >= 1 ? link('#/txs/' + h, t('older')) : null);
  return el('div', null, el('h1', null, t('txs_title')),
    card(null, el('p', { class: 'muted' }, t('txs_range', top, h + 1)), txsTable(txs, 'txs'), pager));
}

async function viewBlock(h) {
  const b = await api('/v1/blocks/' + encodeURIComponent(h));
  const parent = b.height > 0 ? await api('/v1/blocks/' + (b.height - 1)).catch(() => null) : null;
  const fields = kv([
    [t('f_hash'), el('code', null, b.hash), 'block-hash'],
    [t('f_time'), new Date(b.time).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB')],
    [t('f_prev'), b.height > 0 ? link('#/block/' + (b.height - 1), b.prev_hash, 'mono') : el('code', null, b.prev_hash)],
    [t('f_proposer'), acctLink(b.proposer)],
    [t('f_tx_root'), el('code', null, b.tx_root)],
    [t('f_state_root'), el('code', null, b.state_root)],
    [t('f_receipts_root'), el('code', null, b.receipts_root)],
    [t('f_vals_hash'), el('code', null, b.validators_hash)],
    [t('f_last_commit_hash'), el('code', null, b.last_commit_hash)],
    [t('f_chain'), b.chain_id],
  ]);
  const txs = table('block-txs', [[t('col_hash')], [t('col_app')], [t('col_action')], [t('col_sender'), 'hide-sm'], [t('col_nonce')]],
    (b.txs || []).map(x => el('tr', null, el('td', null, txLink(x.hash)), el('td', null, x.app), el('td', null, x.action),
      el('td', { class: 'hide-sm' }, acctLink(x.sender)), el('td', null, x.nonce))));
  let commit;
  if (b.height === 0) commit = el('p', { class: 'muted' }, t('genesis'));
  else if (!b.commit) commit = el('p', { class: 'muted' }, t('no_commit'));
  else {
    commit = el('div', null, el('p', null, t('commit_intro', b.commit.round, b.commit.signatures.length)),
      table('commit-sigs', [[t('col_validator')], [t('col_signature')]], b.commit.signatures.map(s =>
        el('tr', null, el('td', null, acctLink(s.validator)), el('td', { class: 'mono' }, s.signature)))));
  }
  return el('div', null,
    el('div', { class: 'pager' },
      b.height > 0 ? link('#/block/' + (b.height - 1), '← #' + (b.height - 1)) : null,
      S.status && b.height < S.status.height ? link('#/block/' + (b.height + 1), '#' + (b.height + 1) + ' →') : null),
    el('h1', null, t('block_title', b.height)),
    el('div', { class: 'grid' },
      card(null, fields),
      card(t('txs') + ' (' + (b.txs || []).length + ')', txs),
      card(t('commit'), commit),
      await explainBlock(b, parent)));
}

async function explainBlock(b, parent) {
  if (b.height === 0) return card(t('explain'), el('p', null, t('genesis')));
  const linked = parent ? parent.hash === b.prev_hash : null; // null: the parent could not be read
  const box = (label, value) => el('div', { class: 'box' }, el('div', { class: 'muted' }, label), el('code', null, short(value, 12)));
  let firstTx = null;
  if (b.txs && b.txs.length) firstTx = await api('/v1/txs/' + b.txs[0].hash).catch(() => null);
  const [voteBytes, txBytes] = await Promise.all([voteBytesView(b), txBytesView(firstTx)]);
  const sameRoot = parent && parent.state_root === b.state_root;
  const changes = await api('/v1/blocks/' + b.height + '/changes').catch(() => null);
  return el('section', { class: 'card explain', id: 'explain' },
    el('h2', null, t('explain')),
    el('h3', null, t('ex_link_h')),
    el('p', null, t('ex_link')),
    el('div', { class: 'chain' },
      box('#' + (b.height - 1) + ' hash', parent ? parent.hash : '?'), el('span', { class: 'arrow' }, '→'),
      box('#' + b.height + ' prev_hash', b.prev_hash), el('span', { class: 'arrow' }, '→'),
      box('#' + b.height + ' hash', b.hash)),
    linked === null ? el('p', { class: 'warn' }, '? ' + t('ex_link_unknown'))
      : el('p', { class: linked ? 'ok' : 'bad' }, linked ? '✓ ' + t('ex_link_ok') : '✗ ' + t('ex_link_bad')),
    el('h3', null, t('ex_sign_h')),
    el('p', null, t('ex_sign_vote')),
    voteBytes,
    firstTx && firstTx.tx ? [el('p', null, t('ex_sign_tx')), signedTx(firstTx.tx), txBytes] : el('p', { class: 'muted' }, t('ex_sign_none')),
    el('h3', null, t('ex_state_h')),
    el('div', { class: 'chain' },
      box(t('before'), parent ? parent.state_root : '?'), el('span', { class: 'arrow' }, '→'), box(t('after'), b.state_root)),
    el('p', null, sameRoot ? t('ex_state_same') : t('ex_state_changed', (b.txs || []).length)),
    changes && changes.changes.length ? changesTable(changes) : null);
}

// stateValue shows a stored value: decoded JSON when the node could
// decode it, an 8-byte number as a number, anything else as hex.
function stateValue(hex, json) {
  if (json !== undefined) return el('code', null, short(JSON.stringify(json), 60));
  if (!hex) return el('span', { class: 'nil' }, t('ex_absent'));
  if (/^[0-9a-f]{16}$/.test(hex)) return el('span', { title: '0x' + hex }, BigInt('0x' + hex).toString());
  return el('code', { title: hex }, short(hex, 16));
}

// changedFields keeps, of two JSON objects, the fields whose values
// differ: an order that changed status should not show its whole record
// twice.
function changedFields(a, b) {
  const isObj = x => x && typeof x === 'object' && !Array.isArray(x);
  if (!isObj(a) || !isObj(b)) return [a, b];
  const oa = {}, ob = {};
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (JSON.stringify(a[k]) === JSON.stringify(b[k])) continue;
    if (k in a) oa[k] = a[k];
    if (k in b) ob[k] = b[k];
  }
  return [oa, ob];
}

// changesTable lists the state keys a block wrote, which is what moved
// its state root.
function changesTable(c) {
  return el('div', null,
    el('p', null, t('ex_changes', c.changes.length) + (c.truncated ? ' ' + t('ex_changes_more') : '')),
    table('state-changes', [[t('col_app')], [t('ex_key')], [t('before')], [t('after')]], c.changes.map(x => el('tr', null,
      el('td', null, x.app || ''), el('td', { class: 'mono' }, x.path || short(x.key_hash || x.key, 12)),
      ...(([o, n]) => [el('td', null, stateValue(x.old, o)), el('td', null, stateValue(x.new, n))])(changedFields(x.old_json, x.new_json))))));
}

// hexDump shows bytes as hex pairs, the first 160 of them.
function hexDump(hex, id) {
  const pairs = (hex.slice(0, 320).match(/../g) || []).join(' ');
  return el('pre', { class: 'hex', id }, pairs + (hex.length > 320 ? ' …' : ''));
}

// digest is SHA-256 of hex bytes, as hex, computed by this browser; ''
// where the browser offers no Web Crypto (plain http to another host).
async function digest(hex) {
  try { return bytesHex(await sha256(hexBytes(hex))); } catch (e) { return ''; }
}

// voteBytesView shows the exact bytes the first validator of the commit
// signed, and their SHA-256.
async function voteBytesView(b) {
  const s = b.commit && b.commit.signatures && b.commit.signatures[0];
  if (!s || !s.sign_bytes) return null;
  const d = await digest(s.sign_bytes);
  return el('div', null,
    el('p', null, t('ex_vote_bytes', s.sign_bytes.length / 2), ' ', acctLink(s.validator), ':'),
    hexDump(s.sign_bytes, 'vote-bytes'),
    d ? el('p', { class: 'muted' }, t('ex_digest'), ' ', el('code', null, d)) : null);
}

// txBytesView shows the bytes a transaction's signature covers, and
// recomputes the transaction hash from its whole encoding in the browser.
async function txBytesView(x) {
  if (!x || !x.raw || !x.sign_bytes) return null;
  const [ds, dh] = await Promise.all([digest(x.sign_bytes), digest(x.raw)]);
  return el('div', null,
    el('p', null, t('ex_tx_bytes', x.sign_bytes.length / 2)),
    hexDump(x.sign_bytes, 'tx-sign-bytes'),
    ds ? el('p', { class: 'muted' }, t('ex_digest'), ' ', el('code', null, ds)) : null,
    dh ? el('p', { id: 'ex-tx-hash', class: dh === x.hash ? 'ok' : 'bad' },
      (dh === x.hash ? '✓ ' : '✗ ') + t('ex_tx_hash', x.raw.length / 2), ' ', el('code', null, short(dh, 12))) : null);
}

// signedTx shows a transaction's JSON with the signature set apart: the
// part above the line is what was signed.
function signedTx(tx) {
  const { signature, ...signed } = tx;
  return el('pre', { id: 'tx-json' }, JSON.stringify(signed, null, 2) + '\n/* ↑ ' + t('ex_signed_comment') + ' */\n"signature": "' + (signature || '') + '"');
}

async function viewTx(hash) {
  let x;
  try { x = await api('/v1/txs/' + encodeURIComponent(hash)); } catch (e) {
    if (e.status === 404) return el('div', null, el('h1', null, t('tx_title')), card(null, el('p', { id: 'tx-status' }, t('not_found')), el('code', null, hash)));
    throw e;
  }
  const tx = x.tx || {};
  const events = table('tx-events', [[t('col_app')], [t('col_type')], [t('col_attrs')]], (x.events || []).map(ev =>
    el('tr', null, el('td', null, ev.app), el('td', null, ev.type),
      el('td', { class: 'mono' }, (ev.attrs || []).map(a => a.key + '=' + a.value).join('  ')))));
  return el('div', null,
    el('h1', null, t('tx_title')),
    el('div', { class: 'grid' },
      card(null, kv([
        [t('f_hash'), el('code', null, x.hash)],
        [t('f_status'), statusBadge(x.status), 'tx-status'],
        x.error ? [t('f_error'), el('span', { class: 'bad' }, x.error)] : null,
        x.status === 'pending' ? null : [t('f_height'), blockLink(x.height)],
        x.status === 'pending' ? null : [t('f_index'), x.index],
        [t('f_sender'), acctLink(x.sender)],
        [t('f_app'), (tx.app || '') + ' / ' + (tx.action || '')],
        [t('col_nonce'), tx.nonce],
      ]), x.status === 'pending' ? el('p', { class: 'warn' }, t('pending')) : null),
      card(t('events'), events),
      card(t('tx_json'), signedTx(tx), el('p', null, t('tx_explain')))));
}

async function viewAccount(addr) {
  const a = await api('/v1/accounts/' + encodeURIComponent(addr));
  const mine = S.txs.filter(x => x.sender === addr);
  return el('div', null, el('h1', null, t('account_title')),
    el('div', { class: 'grid' },
      card(null, kv([
        [t('f_address'), el('code', null, a.address)],
        [t('f_balance'), a.balance, 'balance'],
        [t('f_nonce'), a.nonce],
        [t('f_pending'), a.pending_nonce],
        [t('f_height'), blockLink(a.height)],
        [t('orders_title'), link('#/orders/' + encodeURIComponent(a.address), t('orders_open'))],
      ])),
      card(t('recent_by'), txsTable(mine, 'account-txs'))));
}

function viewValidators() {
  const v = S.vals;
  if (!v) return el('p', null, t('loading'));
  const c = v.consensus;
  const lc = v.last_commit;
  return el('div', null, el('h1', null, t('vals_title')),
    el('div', { class: 'grid' },
      card(null, kv([[t('f_quorum'), v.quorum], [t('f_total'), v.total_power], [t('height'), v.height]]), validatorTable()),
      card(t('consensus_now'), c ? kv([[t('f_height'), c.height], [t('f_round'), c.round], [t('f_step'), stepName(c.step) + (c.reason ? ' · ' + why(c.reason) : '')],
        [t('proposer'), acctLink(c.proposer)]]) : el('p', { class: 'muted' }, t('no_consensus'))),
      card(t('last_commit'), lc ? [el('p', null, blockLink(lc.height), ' · ', t('commit_intro', lc.round, lc.signatures.length)),
        table('last-commit', [[t('col_validator')], [t('col_signature')]], lc.signatures.map(s =>
          el('tr', null, el('td', null, acctLink(s.validator)), el('td', { class: 'mono' }, s.signature))))] : el('p', null, '—')),
      card(t('f_pubkey'), table('val-keys', [[t('col_validator')], [t('f_pubkey')]], (v.validators || []).map(x =>
        el('tr', null, el('td', null, acctLink(x.address)), el('td', { class: 'mono' }, x.pubkey)))))));
}

// ---- module pages: trace, commerce, city, copyright -----------------------------------

// epcPath encodes an EPC (a URN, or a Digital Link with slashes) segment
// by segment, the way the node's trace routes read it back.
const epcPath = epc => String(epc).split('/').map(encodeURIComponent).join('/');
const traceLink = epc => link('#/trace/' + epcPath(epc), epc, 'mono');
const fullTime = s => { const d = new Date(s); return isNaN(d) ? '' : d.toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB'); };

// lookup is the small form of a module page opened without an id.
function lookup(title, label, go) {
  const input = el('input', { type: 'text', id: 'lookup-q', autocomplete: 'off', spellcheck: 'false', 'aria-label': label, placeholder: label });
  const form = el('form', { class: 'lookup', on: { submit: ev => { ev.preventDefault(); const v = input.value.trim(); if (v) location.hash = go(v); } } },
    input, el('button', { type: 'submit' }, t('open')));
  return el('div', null, el('h1', null, title), card(null, form));
}

// linkTree draws provenance links as nested lists; each EPC opens its own page.
function linkTree(links, id) {
  if (!links || !links.length) return el('p', { class: 'muted', id }, t('trace_none'));
  const list = (ls, attrs) => el('ul', Object.assign({ class: 'tree' }, attrs), ls.map(l => el('li', null,
    traceLink(l.epc), ' ', badge(STRINGS.en['rel_' + l.relation] ? t('rel_' + l.relation) : l.relation, 'nil'),
    el('span', { class: 'muted' }, ' ' + [l.biz_step, fullTime(l.event_time), '#' + l.event].filter(Boolean).join(' · ')),
    l.truncated ? el('span', { class: 'warn' }, ' ' + t('trace_truncated')) : null,
    l.links && l.links.length ? list(l.links) : null)));
  return list(links, { id });
}

// pageURL is the address of one of this explorer's pages.
const pageURL = hash => location.origin + location.pathname + hash;

// qrFigure shows a QR code of url, drawn by this node (no outside
// service), with the address under it.
function qrFigure(url, id) {
  return el('figure', { class: 'qr' },
    el('img', { id, src: '/explorer/qr.svg?text=' + encodeURIComponent(url), alt: t('qr_alt', url), width: 148, height: 148 }),
    el('figcaption', { class: 'muted' }, t('qr_caption')));
}

async function viewTrace(epc) {
  if (!epc) return lookup(t('trace_title'), t('trace_ask'), v => '#/trace/' + epcPath(v));
  const base = '/v1/apps/trace/epcs/' + epcPath(epc);
  let prov, evs;
  try { [prov, evs] = await Promise.all([api(base + '/provenance'), api(base + '/events')]); } catch (e) {
    if (e.status === 404 || e.status === 400) return el('div', null, el('h1', null, t('trace_title')), card(null, el('p', { class: 'error', id: 'trace-error' }, e.message), el('code', null, epc)));
    throw e;
  }
  const events = evs.events || [];
  const where = ev => { const b = ev.event || {}; return (b.bizLocation && b.bizLocation.id) || (b.readPoint && b.readPoint.id) || ''; };
  const timeline = events.length ? el('ol', { class: 'timeline', id: 'trace-events' }, events.map(ev => el('li', null,
    el('div', { class: 'when' }, fullTime(ev.event_time)),
    el('div', null, el('strong', null, ev.biz_step || ev.type), ' ', ev.disposition ? badge(ev.disposition, 'ok') : null),
    el('div', { class: 'muted' }, ev.type, where(ev) ? ' · ' + t('trace_at') + ' ' : '', where(ev) ? el('code', null, where(ev)) : null),
    el('div', { class: 'muted' }, t('f_height'), ' ', blockLink(ev.height), ' · ', txLink(ev.tx_hash)))))
    : el('p', { class: 'muted', id: 'trace-events' }, t('trace_no_events'));
  return el('div', null, el('h1', null, t('trace_title')),
    el('div', { class: 'grid' },
      card(null, el('div', { class: 'with-qr' },
        kv([[t('trace_epc'), el('code', null, prov.epc), 'trace-epc'], [t('trace_key'), el('code', null, prov.key)], [t('f_height'), blockLink(prov.height)]]),
        qrFigure(pageURL('#/trace/' + epcPath(epc)), 'trace-qr'))),
      card(t('trace_events') + ' (' + events.length + ')', timeline),
      el('div', { class: 'grid two' },
        card(t('trace_up'), linkTree(prov.upstream, 'trace-up')),
        card(t('trace_down'), linkTree(prov.downstream, 'trace-down')))));
}

async function viewOrder(id) {
  if (!id) return lookup(t('order_title', ''), t('order_ask'), v => (/^city1/i.test(v) ? '#/orders/' : '#/order/') + encodeURIComponent(v.toLowerCase()));
  const a = await api('/v1/apps/commerce/order/' + encodeURIComponent(id));
  const o = a.order || {};
  const esc = o.escrow || {};
  const hist = table('order-history', [[t('col_step')], [t('col_change')], [t('col_by')], [t('col_note'), 'hide-sm'], [t('col_height')], [t('col_time'), 'hide-sm']],
    (o.history || []).map(h => el('tr', null, el('td', null, h.step), el('td', null, (h.from ? h.from + ' → ' : '') + h.to),
      el('td', null, h.by + ' ', acctLink(h.actor)), el('td', { class: 'hide-sm' }, h.note || ''),
      el('td', null, blockLink(h.height)), el('td', { class: 'hide-sm' }, fullTime(h.time)))));
  const done = /Delivered|Returned|Cancelled/.test(o.status || '');
  return el('div', null, el('h1', null, t('order_title', o.id)),
    el('div', { class: 'grid' },
      card(null, kv([
        [t('f_status'), badge(o.status, done ? 'ok' : 'warn'), 'order-status'],
        [t('order_item'), o.item],
        [t('order_qty'), o.quantity + ' × ' + o.price + ' = ' + o.total],
        [t('order_seller'), acctLink(o.seller)],
        [t('order_buyer'), acctLink(o.buyer)],
        [t('order_escrow'), (esc.amount ?? '') + ' · ' + (esc.state || '')],
        o.tracking ? [t('order_tracking'), o.tracking] : null,
        a.next && a.next.length ? [t('order_next'), a.next.map(n => typeof n === 'string' ? n : JSON.stringify(n)).join(', ')] : null,
      ])),
      card(t('order_history'), hist)));
}

// viewOrdersOf tracks an account's orders: as buyer and as seller.
async function viewOrdersOf(addr) {
  const q = role => api('/v1/apps/commerce/orders?' + role + '=' + encodeURIComponent(addr)).then(a => a.orders || []);
  const [bought, sold] = await Promise.all([q('buyer'), q('seller')]);
  const list = (os, id) => os.length ? table(id, [[t('col_id')], [t('order_item')], [t('f_status')], [t('order_total'), 'hide-sm'], [t('col_height'), 'hide-sm']],
    os.map(o => el('tr', null, el('td', null, link('#/order/' + encodeURIComponent(o.id), '#' + o.id)), el('td', null, o.item),
      el('td', null, badge(o.status, /Delivered|Returned|Cancelled/.test(o.status || '') ? 'ok' : 'warn')),
      el('td', { class: 'hide-sm' }, o.total), el('td', { class: 'hide-sm' }, o.history && o.history.length ? blockLink(o.history[o.history.length - 1].height) : ''))))
    : el('p', { class: 'muted', id }, t('orders_none'));
  return el('div', null, el('h1', null, t('orders_title')), el('p', null, acctLink(addr)),
    el('div', { class: 'grid two' },
      card(t('orders_bought') + ' (' + bought.length + ')', list(bought, 'orders-bought')),
      card(t('orders_sold') + ' (' + sold.length + ')', list(sold, 'orders-sold'))));
}

async function viewDevice(id) {
  if (!id) return lookup(t('device_title', ''), t('device_ask'), v => '#/device/' + encodeURIComponent(v));
  const d = await api('/v1/apps/city/device/' + encodeURIComponent(id));
  const st = d.state || {};
  const attrs = Object.entries(st.attrs || {}).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0);
  const c = (d.location && d.location.coordinates) || [];
  return el('div', null, el('p', null, link('#/city', t('city_back'))), el('h1', null, t('device_title', d.id)),
    el('div', { class: 'grid' },
      card(null, kv([
        [t('device_name'), d.name], [t('col_type'), d.type, 'device-type'], [t('device_district'), d.district],
        [t('device_where'), c.length >= 2 ? c[1] + ', ' + c[0] : '—'],
        [t('device_owner'), acctLink(d.owner)], [t('device_registered'), blockLink(d.height)],
        [t('device_seen'), st.observed_at ? fullTime(st.observed_at) : '—'],
        [t('device_readings'), st.readings ?? 0],
      ])),
      card(t('device_state'), attrs.length ? table('device-attrs', [[t('col_attr')], [t('col_value')], [t('col_source'), 'hide-sm'], [t('col_height')], [t('col_time'), 'hide-sm']],
        attrs.map(([k, v]) => el('tr', null, el('td', null, k), el('td', { class: 'mono' }, typeof v.value === 'string' ? v.value : JSON.stringify(v.value)),
          el('td', { class: 'hide-sm' }, v.source || ''), el('td', null, blockLink(v.height)), el('td', { class: 'hide-sm' }, fullTime(v.observed_at)))))
        : el('p', { class: 'muted', id: 'device-attrs' }, t('device_no_state')))));
}

// svg builds an SVG element (el makes HTML ones).
function svg(tag, attrs, ...kids) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) e.setAttribute(k, v);
  for (const k of kids.flat()) if (k !== undefined && k !== null) e.append(k instanceof Node ? k : String(k));
  return e;
}

// attr reads a device's latest value of one attribute.
const attr = (d, k) => { const a = d.state && d.state.attrs && d.state.attrs[k]; return a ? a.value : undefined; };

// deviceLook says how a device's latest state is drawn: a class for the
// dot's colour and a short text under its name.
function deviceLook(d) {
  switch (d.type) {
    case 'Streetlight': {
      const p = attr(d, 'powerState'), lvl = attr(d, 'illuminanceLevel');
      const txt = p === undefined ? '' : t('city_lamp', p, lvl);
      return { cls: p === 'on' ? 'lit' : p === 'low' ? 'dim' : p === 'off' ? 'dark' : '', text: txt };
    }
    case 'TrafficFlowObserved': {
      const c = attr(d, 'congested'), n = attr(d, 'intensity');
      return { cls: c === true || c === 'true' ? 'jam' : n === undefined ? '' : 'flow', text: n === undefined ? '' : t('city_traffic', n) };
    }
    case 'AirQualityObserved': {
      const lvl = attr(d, 'airQualityLevel'), i = attr(d, 'airQualityIndex');
      return { cls: lvl ? 'aq-' + String(lvl).replace(/[^A-Za-z]/g, '') : '', text: i === undefined ? (lvl || '') : 'AQI ' + i };
    }
  }
  return { cls: '', text: '' };
}

// cityPlot draws devices as dots at their longitude and latitude, scaled
// to fit, with east to the right and north up. No map tiles are fetched.
function cityPlot(devs) {
  const pts = devs.map(d => { const c = (d.location && d.location.coordinates) || []; return { d, x: Number(c[0]), y: Number(c[1]) }; })
    .filter(p => isFinite(p.x) && isFinite(p.y));
  const W = 600, H = 360, pad = 30;
  if (!pts.length) return el('p', { class: 'muted', id: 'city-map' }, t('city_none'));
  const lat0 = pts.reduce((s, p) => s + p.y, 0) / pts.length;
  const k = Math.cos(lat0 * Math.PI / 180) || 1;
  const xs = pts.map(p => p.x * k), ys = pts.map(p => p.y);
  const minX = Math.min(...xs), minY = Math.min(...ys);
  const span = Math.max(Math.max(...xs) - minX, Math.max(...ys) - minY, 1e-6);
  const s = Math.min(W - 2 * pad, H - 2 * pad) / span;
  const ox = (W - (Math.max(...xs) - minX) * s) / 2, oy = (H - (Math.max(...ys) - minY) * s) / 2;
  return svg('svg', { id: 'city-map', class: 'plot', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': t('city_map') },
    svg('rect', { x: 0, y: 0, width: W, height: H, class: 'plot-bg' }),
    pts.map(p => {
      const cx = ox + (p.x * k - minX) * s, cy = H - (oy + (p.y - minY) * s);
      return svg('a', { href: '#/device/' + encodeURIComponent(p.d.id) },
        svg('title', null, p.d.id + ' — ' + (p.d.name || p.d.type)),
        svg('circle', { cx: cx.toFixed(1), cy: cy.toFixed(1), r: 8, id: 'dot-' + p.d.id, class: 'dot t-' + String(p.d.type || '').replace(/[^A-Za-z]/g, '') + ' ' + deviceLook(p.d).cls }),
        svg('text', { x: (cx + 11).toFixed(1), y: (cy + 1).toFixed(1), class: 'dot-label' }, p.d.id),
        svg('text', { x: (cx + 11).toFixed(1), y: (cy + 14).toFixed(1), class: 'dot-state' }, deviceLook(p.d).text));
    }));
}

async function viewCity() {
  const devs = await api('/v1/apps/city/devices');
  const list = Array.isArray(devs) ? devs : (devs.devices || []);
  return el('div', null, el('h1', null, t('city_title')),
    el('div', { class: 'grid' },
      card(t('city_map'), cityPlot(list), el('p', { class: 'muted' }, t('city_help')), el('p', { class: 'muted' }, t('city_legend'))),
      card(t('city_list') + ' (' + list.length + ')', table('city-devices', [[t('col_id')], [t('col_type')], [t('device_state')], [t('device_name'), 'hide-sm'], [t('device_district'), 'hide-sm']],
        list.map(d => el('tr', null, el('td', null, link('#/device/' + encodeURIComponent(d.id), d.id)), el('td', null, d.type),
          el('td', null, deviceLook(d).text || '—'),
          el('td', { class: 'hide-sm' }, d.name || ''), el('td', { class: 'hide-sm' }, d.district || '')))))));
}

// ---- proofs checked in the browser ------------------------------------------------

const hexBytes = h => new Uint8Array((String(h).match(/../g) || []).map(x => parseInt(x, 16)));
const bytesHex = b => Array.from(b, x => x.toString(16).padStart(2, '0')).join('');
const sha256 = async bytes => new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));

// nodeHash is a tree node's hash: SHA-256 of a tag byte (0 leaf, 1 inner)
// and two 32-byte halves (key path and value hash, or left and right).
async function nodeHash(tag, a, b) {
  const e = new Uint8Array(65);
  e[0] = tag; e.set(a, 1); e.set(b, 33);
  return sha256(e);
}

// checkProof rebuilds the state root from a record's stored bytes and the
// sibling hashes of its Merkle proof, the way chain/state.VerifyProof
// does: the leaf commits to SHA-256(key) and SHA-256(value); going up,
// bit d of the key's path says whether the walk is the left (0) or the
// right (1) child at depth d.
async function checkProof(pv) {
  const p = pv && pv.proof;
  if (!p || !p.leaf || !pv.value) return { ok: false, why: t('proof_none') };
  const path = await sha256(hexBytes(pv.key));
  if (bytesHex(path) !== p.leaf.path) return { ok: false, why: t('proof_other_key') };
  const vh = await sha256(hexBytes(pv.value));
  if (bytesHex(vh) !== p.leaf.value_hash) return { ok: false, why: t('proof_value') };
  const sibs = p.siblings || [];
  if (sibs.length > 256) return { ok: false, why: t('proof_deep') };
  let h = await nodeHash(0, path, vh);
  for (let d = sibs.length - 1; d >= 0; d--) {
    const right = (path[d >> 3] >> (7 - (d & 7))) & 1;
    h = right ? await nodeHash(1, hexBytes(sibs[d]), h) : await nodeHash(1, h, hexBytes(sibs[d]));
  }
  const root = bytesHex(h);
  return { ok: root === pv.state_root, root, depth: sibs.length, why: root === pv.state_root ? '' : t('proof_root') };
}

// certificate checks a proven record as far as a browser can: the Merkle
// proof up to the state root, that root against the block's header, and
// how many validators signed that block's commit (their secp256k1
// signatures are checked by `citychain verify CERT`, not here: browsers
// have no secp256k1).
async function certificate(pv, fileHash) {
  const c = await checkProof(pv);
  // The proven record must be about this file: it holds the file's
  // SHA-256 as text.
  const ascii = Array.from(fileHash, ch => ch.charCodeAt(0).toString(16).padStart(2, '0')).join('');
  c.fileOK = String(pv.value || '').includes(ascii);
  const [b, vals] = await Promise.all([api('/v1/blocks/' + pv.height), api('/v1/validators')]);
  c.block = b;
  c.headerOK = b.state_root === pv.state_root;
  // The commit that finalised block h is served with it, or as the
  // node's last commit, or inside block h+1.
  let commit = b.commit || (vals.last_commit && vals.last_commit.height === b.height ? vals.last_commit : null);
  if (!commit && vals.height > b.height + 1) commit = (await api('/v1/blocks/' + (b.height + 1))).last_commit;
  // Signatures are weighed by voting power, as the quorum is.
  const power = new Map((vals.validators || []).map(x => [x.address, Number(x.power) || 0]));
  c.sigs = commit ? commit.signatures.length : 0;
  c.power = commit ? commit.signatures.reduce((n, s) => n + (power.get(s.validator) || 0), 0) : 0;
  c.quorum = Number(vals.quorum) || 0;
  return c;
}

function certView(c, pv) {
  if (!c) return el('p', { class: 'muted', id: 'verify-cert' }, t('proof_checking'));
  const mark = ok => ok ? el('span', { class: 'ok' }, '✓ ') : el('span', { class: 'bad' }, '✗ ');
  return el('div', { id: 'verify-cert' },
    el('h3', null, t('cert_title')),
    el('ol', { class: 'cert' },
      el('li', { id: 'cert-file' }, mark(c.fileOK), c.fileOK ? t('cert_file_ok') : t('cert_file_bad')),
      el('li', { id: 'cert-proof' }, mark(c.ok), c.ok ? t('cert_proof_ok', c.depth) : t('cert_proof_bad', c.why)),
      el('li', { id: 'cert-header' }, mark(c.headerOK), t('cert_header', pv.height), ' ', blockLink(pv.height), el('br'), el('code', null, pv.state_root)),
      el('li', { id: 'cert-commit' }, mark(c.power >= c.quorum), t('cert_commit', c.sigs, c.power, c.quorum))),
    el('p', { class: 'muted' }, t('cert_help')));
}

// The verify page hashes a chosen file in the browser; only its SHA-256
// goes to the node. V keeps the last answer so that a re-render keeps it.
const V = { name: '', hash: '', busy: false, work: null, proof: null, cert: null, missing: false, error: '' };

async function verifyFile(file) {
  if (!file) return;
  // A file chosen later wins: results of an earlier one are dropped.
  const run = V.run = (V.run || 0) + 1;
  const current = () => run === V.run;
  Object.assign(V, { name: file.name, hash: '', busy: true, work: null, proof: null, cert: null, missing: false, error: '' });
  render(false);
  const out = { hash: '', work: null, proof: null, missing: false, error: '' };
  try {
    if (!(window.crypto && crypto.subtle)) throw new Error(t('verify_no_subtle'));
    const sum = new Uint8Array(await crypto.subtle.digest('SHA-256', await file.arrayBuffer()));
    out.hash = bytesHex(sum);
    try {
      const a = await api('/v1/apps/copyright/verify/' + out.hash);
      out.work = a.work || null;
      out.proof = a.proof || null;
    } catch (e) {
      if (e.status === 404) out.missing = true; else throw e;
    }
  } catch (e) { out.error = e.message; }
  if (!current()) return;
  Object.assign(V, out, { busy: false });
  render(false);
  if (V.proof) {
    let cert;
    try { cert = await certificate(V.proof, V.hash); } catch (e) { cert = { ok: false, why: e.message, fileOK: false, headerOK: false, sigs: 0, power: 0, quorum: 1 }; }
    if (!current()) return;
    V.cert = cert;
    render(false);
  }
}

function viewVerify() {
  const input = el('input', { type: 'file', id: 'verify-file', on: { change: ev => verifyFile(ev.target.files[0]) } });
  const drop = el('label', { class: 'drop', id: 'verify-drop', for: 'verify-file', on: {
    dragover: ev => { ev.preventDefault(); ev.currentTarget.classList.add('over'); },
    dragleave: ev => ev.currentTarget.classList.remove('over'),
    drop: ev => { ev.preventDefault(); ev.currentTarget.classList.remove('over'); verifyFile(ev.dataTransfer.files[0]); },
  } }, t('verify_drop'));
  let out = null;
  const w = V.work;
  if (V.busy) out = el('p', { class: 'muted', id: 'verify-result' }, t('verify_hashing'));
  else if (V.error) out = el('p', { class: 'error', id: 'verify-result' }, t('error') + V.error);
  else if (w) out = el('div', { id: 'verify-result' }, el('p', { class: 'ok' }, '✓ ' + t('verify_found')), kv([
    [t('verify_title_f'), w.title], [t('verify_creator'), w.creator], [t('verify_registrant'), acctLink(w.registrant)],
    w.holder && w.holder !== w.registrant ? [t('verify_holder'), acctLink(w.holder)] : null,
    [t('f_height'), blockLink(w.height)], [t('f_time'), fullTime(w.time)], [t('verify_license'), w.license || '—'],
    [t('verify_iscc'), el('code', null, w.id)], w.tx_hash ? [t('tx_title'), txLink(w.tx_hash)] : null]),
    V.proof ? certView(V.cert, V.proof) : null);
  else if (V.missing) out = el('p', { class: 'warn', id: 'verify-result' }, '✗ ' + t('verify_missing'));
  return el('div', null, el('h1', null, t('verify_title')),
    el('div', { class: 'grid' },
      card(null, el('p', null, t('verify_help')), input, drop,
        V.name ? kv([[t('verify_file'), V.name], V.hash ? [t('verify_sha'), el('code', null, V.hash), 'verify-hash'] : null]) : null, out)));
}

// ---- network view and classroom controls ---------------------------------------------

// NET holds the last control's outcome, so that the page's 2-second
// refresh keeps showing it. busy names the control on its way.
// msg is a function, so that it is drawn in the language of the moment.
const NET = { msg: null, detail: '', bad: false, busy: '', last: null, stale: false };

// netData asks the devnet supervisor (through this node) for every node
// and link. A node that no supervisor started (its status says so) has
// no such view: the page then draws this node and its own peers.
async function netData() {
  const self = S.status || await api('/v1/status');
  if (self.devnet) {
    const d = await api('/v1/devnet');
    return { devnet: true, self: self.node_id, nodes: d.nodes || [], links: d.links || [], dir: d.dir };
  }
  const p = await api('/v1/peers');
  const me = { name: self.moniker || t('net_this'), peer_id: self.node_id, state: p.isolated ? 'cut' : 'running', height: self.height, reachable: true };
  const others = (p.peers || []).map(x => ({ name: short(x.id, 6), peer_id: x.id, state: 'running', height: x.height, reachable: true }));
  return { devnet: false, self: self.node_id, nodes: [me, ...others], links: others.map(o => [me.name, o.name]) };
}

// nodeLook says how to draw a node: its state, and "behind" when it
// answers but trails the highest node by more than one block.
function nodeLook(n, top) {
  if (n.state === 'running' && n.reachable && n.height + 1 < top) return 'behind';
  if (n.state === 'running' && !n.reachable) return 'silent';
  return n.state;
}

// netGraph draws the nodes on a circle and their libp2p connections as
// lines; colour and label say whether a node is up, behind, paused, cut
// off or stopped.
function netGraph(data) {
  const W = 600, H = 380, cx = W / 2, cy = H / 2;
  const nodes = data.nodes;
  const R = nodes.length > 1 ? 140 : 0; // one node sits in the middle
  const top = Math.max(0, ...nodes.filter(n => n.reachable).map(n => n.height));
  const pos = new Map(nodes.map((n, i) => {
    const a = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(1, nodes.length);
    return [n.name, { x: cx + R * Math.cos(a), y: cy + R * Math.sin(a) }];
  }));
  const lines = data.links.filter(([a, b]) => pos.has(a) && pos.has(b)).map(([a, b]) =>
    svg('line', { x1: pos.get(a).x.toFixed(1), y1: pos.get(a).y.toFixed(1), x2: pos.get(b).x.toFixed(1), y2: pos.get(b).y.toFixed(1), class: 'link' }));
  const dots = nodes.map(n => {
    const p = pos.get(n.name), look = nodeLook(n, top);
    const sub = n.reachable ? '#' + n.height : t('st_' + n.state);
    return svg('g', { class: 'net-node s-' + look + (n.peer_id === data.self ? ' self' : ''), id: 'net-' + n.name },
      svg('title', null, `${n.name}: ${t('st_' + look)}${n.reachable ? ', ' + t('f_height') + ' ' + n.height : ''}`),
      svg('circle', { cx: p.x.toFixed(1), cy: p.y.toFixed(1), r: 34 }),
      svg('text', { x: p.x.toFixed(1), y: (p.y - 4).toFixed(1), class: 'name' }, n.name),
      svg('text', { x: p.x.toFixed(1), y: (p.y + 14).toFixed(1), class: 'sub' }, sub),
      // Not by colour alone: a node that is not simply up says what it is.
      look !== 'running' && n.reachable ? svg('text', { x: p.x.toFixed(1), y: (p.y + 50).toFixed(1), class: 'state' }, t('st_' + look)) : null);
  });
  return svg('svg', { id: 'net-graph', class: 'plot net', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': t('net_graph_label', nodes.length, data.links.length) },
    svg('rect', { x: 0, y: 0, width: W, height: H, class: 'plot-bg' }), lines, dots);
}

// allowed lists the controls that make sense in a node's state.
function allowed(state) {
  switch (state) {
    case 'running': return ['stop', 'pause', 'restart', 'cut'];
    case 'cut': return ['heal', 'stop', 'pause', 'restart'];
    case 'paused': return ['resume', 'stop'];
    default: return ['start'];
  }
}

async function control(name, action, self) {
  NET.busy = name + '/' + action;
  Object.assign(NET, { msg: () => t('ctl_busy', t('act_' + action), name), detail: '', bad: false });
  render(false);
  try {
    // A paused or stopped node never answers; give up after 20 s.
    const r = await fetch('/v1/devnet/nodes/' + encodeURIComponent(name) + '/' + encodeURIComponent(action),
      { method: 'POST', headers: { 'X-CityChain-Control': '1', Accept: 'application/json' }, signal: AbortSignal.timeout(20000) });
    let body = null;
    try { body = await r.json(); } catch (e) { /* no body */ }
    if (!r.ok) throw new Error((body && body.error && body.error.message) || r.status + ' ' + r.statusText);
    Object.assign(NET, { msg: () => t('ctl_done', t('act_' + action), name), detail: body.message || '' });
  } catch (e) {
    // Stopping the node that serves this page ends the request with it.
    if (self && (action === 'restart' || action === 'start')) Object.assign(NET, { msg: () => t('ctl_self_restart', name), detail: '', back: name });
    else if (self && action !== 'cut' && action !== 'heal') Object.assign(NET, { msg: () => t('ctl_self_gone', name), detail: '' });
    else Object.assign(NET, { msg: () => t('error') + e.message, detail: '', bad: true });
  }
  NET.busy = '';
  render(false);
}

function controlTable(data) {
  const top = Math.max(0, ...data.nodes.filter(n => n.reachable).map(n => n.height));
  const rows = data.nodes.map(n => {
    const self = n.peer_id === data.self, look = nodeLook(n, top);
    const buttons = data.devnet ? allowed(n.state).map(a => el('button', {
      type: 'button', id: `ctl-${n.name}-${a}`, class: 'ctl ' + a, title: t('act_help_' + a),
      disabled: NET.busy || NET.stale ? '' : null, on: { click: () => control(n.name, a, self) } }, t('act_' + a))) : null;
    return el('tr', { id: 'net-row-' + n.name },
      el('td', null, n.api && !self ? el('a', { href: n.api + '/#/network', title: t('net_open') }, n.name) : n.name,
        self ? [' ', badge(t('net_this'), 'nil')] : null),
      el('td', null, badge(t('st_' + look), look === 'running' ? 'ok' : look === 'stopped' || look === 'exited' ? 'bad' : 'warn')),
      el('td', null, n.reachable ? n.height : '—'),
      el('td', { class: 'hide-sm' }, n.peers ? n.peers.length + (n.other_peers ? ' +' + n.other_peers : '') : ''),
      data.devnet ? el('td', { class: 'ctls' }, buttons) : null);
  });
  return table('net-nodes', [[t('col_node')], [t('col_state')], [t('col_height')], [t('col_links'), 'hide-sm'], data.devnet ? [t('col_controls')] : null].filter(Boolean), rows);
}

async function viewNetwork() {
  let data;
  try {
    data = await netData();
    NET.last = data;
    NET.stale = false;
    if (NET.back) { // the page's own node came back from a restart
      const name = NET.back;
      Object.assign(NET, { msg: () => t('ctl_self_back', name), detail: '', back: '' });
    }
  } catch (e) {
    if (!NET.last) throw e;
    // This node is down or paused: keep its last view, with this node
    // marked as not answering, and no controls (they go through it).
    data = { ...NET.last, nodes: NET.last.nodes.map(n => n.peer_id === NET.last.self ? { ...n, reachable: false } : n) };
    NET.stale = true;
  }
  const msg = NET.msg ? el('p', { id: 'ctl-msg', class: NET.bad ? 'error' : 'ok', role: 'status' }, NET.msg(),
    NET.detail ? el('span', { class: 'muted' }, ' — ' + NET.detail) : null) : el('p', { id: 'ctl-msg', role: 'status' });
  return el('div', null, el('h1', null, t('net_title')),
    el('div', { class: 'grid two' },
      card(t('net_graph'), netGraph(data), el('p', { class: 'muted' }, t('net_legend'))),
      card(t('net_nodes'), data.devnet ? el('p', null, t('net_help')) : el('p', { class: 'warn', id: 'net-no-devnet' }, t('net_no_devnet')),
        NET.stale ? el('p', { class: 'error', id: 'net-stale' }, t('net_stale')) : null,
        msg, controlTable(data))));
}

// ---- router ------------------------------------------------------------------------------

// A route is a hash path; each maps to a view and says whether it
// follows the live stream (re-rendered as events arrive).
function route() {
  const parts = (location.hash.replace(/^#\/?/, '') || '').split('/').map(p => {
    try { return decodeURIComponent(p); } catch (e) { return null; } // a stray % in a typed address
  });
  if (parts.includes(null)) return { nav: '', view: () => el('p', { class: 'error' }, t('bad_address')) };
  switch (parts[0]) {
    case '': return { nav: 'dash', live: true, view: viewDashboard };
    case 'blocks': return { nav: 'blocks', view: () => viewBlocks(parts[1] ? Number(parts[1]) : null) };
    case 'block': return { nav: 'blocks', view: () => viewBlock(parts[1] || 'latest') };
    case 'txs': return { nav: 'blocks', view: () => viewTxs(parts[1] ? Number(parts[1]) : null) };
    case 'tx': return { nav: '', view: () => viewTx(parts[1] || ''), retry: true };
    case 'account': return { nav: '', view: () => viewAccount(parts[1] || '') };
    case 'validators': return { nav: 'vals', live: true, view: viewValidators };
    case 'network': return { nav: 'net', poll: true, view: viewNetwork };
    case 'trace': return { nav: 'trace', view: () => viewTrace(parts.slice(1).join('/')) };
    case 'order': return { nav: 'order', view: () => viewOrder(parts[1] || '') };
    case 'orders': return { nav: 'order', view: () => viewOrdersOf(parts[1] || '') };
    case 'device': return { nav: 'city', onBlock: !!parts[1], view: () => viewDevice(parts[1] || '') };
    case 'city': return { nav: 'city', onBlock: true, view: viewCity };
    case 'verify': return { nav: 'verify', view: viewVerify };
    default: return { nav: '', view: () => el('p', { class: 'error' }, t('not_found')) };
  }
}

// focusKey names the focused element so that it can be found again in a
// redrawn view: by id, or a link by its target and text.
function focusKey(e) {
  if (!e || e === document.body) return null;
  if (e.id) return { id: e.id };
  if (e.tagName === 'A') return { href: e.getAttribute('href'), text: e.textContent };
  return null;
}
function refocus(view, k) {
  const e = k.id ? document.getElementById(k.id)
    : [...view.querySelectorAll('a')].find(a => a.getAttribute('href') === k.href && a.textContent === k.text);
  if (e && view.contains(e)) e.focus({ preventScroll: true });
}

let renderSeq = 0, pendingFocus = false;
async function render(focus) {
  const seq = ++renderSeq;
  const r = route();
  drawNav(r.nav);
  const view = document.getElementById('view');
  let node;
  try {
    const out = r.view();
    if (out instanceof Promise) {
      if (focus) view.replaceChildren(el('p', { class: 'muted' }, t('loading')));
      node = await out;
    } else node = out;
  } catch (e) {
    node = el('p', { class: 'error' }, t('error') + e.message);
  }
  if (seq !== renderSeq) { // a newer render won; it takes over the move to the top
    pendingFocus = pendingFocus || focus;
    return;
  }
  const key = view.contains(document.activeElement) ? focusKey(document.activeElement) : null;
  view.replaceChildren(node);
  if (focus || pendingFocus) {
    pendingFocus = false;
    window.scrollTo(0, 0);
    view.focus({ preventScroll: true });
  } else if (key) refocus(view, key);
}

// rerenderLive redraws the current page when the stream brings news it
// shows: live pages on every event, the city's pages on every block, a
// transaction page that is not yet committed when a block arrives. It
// redraws at most once a second, and not while a pointer is pressed or
// someone types in the page, so that links and buttons stay clickable on
// a busy chain.
let liveTimer = 0, lastLive = 0, pointerDown = false;
addEventListener('pointerdown', () => { pointerDown = true; }, true);
addEventListener('pointerup', () => { pointerDown = false; }, true);
addEventListener('pointercancel', () => { pointerDown = false; }, true);
function rerenderLive(type) {
  const r = route();
  const st = (document.querySelector('#tx-status .badge') || { dataset: {} }).dataset.status;
  const stale = r.live || (r.onBlock && type === 'block') || (r.retry && type === 'block' && st !== 'ok' && st !== 'failed');
  if (!stale || liveTimer) return;
  const go = () => {
    const typing = document.activeElement && /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName);
    if (pointerDown || typing) { liveTimer = setTimeout(go, 250); return; }
    liveTimer = 0;
    lastLive = Date.now();
    render(false);
  };
  liveTimer = setTimeout(go, Math.max(0, 1000 - (Date.now() - lastLive)));
}

let navDrawn = '';
function drawNav(active) {
  if (navDrawn === active + '/' + lang) return; // unchanged: keep the links (and a click on one)
  navDrawn = active + '/' + lang;
  const items = [['dash', '#/', t('nav_dash')], ['blocks', '#/blocks', t('nav_blocks')], ['vals', '#/validators', t('nav_vals')], ['net', '#/network', t('nav_net')],
    ['trace', '#/trace', t('nav_trace')], ['order', '#/order', t('nav_order')], ['city', '#/city', t('nav_city')], ['verify', '#/verify', t('nav_verify')]];
  document.getElementById('nav').replaceChildren(...items.map(([k, href, label]) =>
    el('a', { href, class: k === active ? 'on' : null, 'aria-current': k === active ? 'page' : null }, label)));
}

function drawChrome() {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.title = t('title');
  const lb = document.getElementById('lang');
  lb.textContent = t('other_lang');
  lb.lang = lang === 'zh' ? 'en' : 'zh-CN'; // the button names the other language in that language
  document.getElementById('q').placeholder = t('search');
  document.getElementById('q').setAttribute('aria-label', t('search'));
  document.getElementById('foot').textContent = t('foot');
  showLive();
}

function search(ev) {
  ev.preventDefault();
  const q = document.getElementById('q').value.trim();
  if (!q) return;
  if (/^\d+$/.test(q)) location.hash = '#/block/' + q;
  else if (/^city1[0-9a-z]+$/i.test(q)) location.hash = '#/account/' + q.toLowerCase();
  else if (/^[0-9a-f]{64}$/i.test(q)) location.hash = '#/tx/' + q.toLowerCase();
  else if (/^(urn:epc:|https?:\/\/)/i.test(q)) location.hash = '#/trace/' + epcPath(q);
  else location.hash = '#/block/' + encodeURIComponent(q);
}

function start() {
  document.getElementById('lang').addEventListener('click', () => {
    lang = lang === 'en' ? 'zh' : 'en';
    try { localStorage.setItem(LANG_KEY, lang); } catch (e) { /* not remembered */ }
    drawChrome();
    render(false);
  });
  document.getElementById('search').addEventListener('submit', search);
  // The network page follows the supervisor's view, which has no event
  // stream: it is asked again every 2 s while the page is open.
  setInterval(() => {
    if (!route().poll || document.hidden || NET.busy || NET.polling || pointerDown) return;
    NET.polling = true;
    render(false).finally(() => { NET.polling = false; });
  }, 2000);
  window.addEventListener('hashchange', () => render(true));
  drawChrome();
  render(true);
  connect();
  loadInitial().then(() => render(false), e => {
    document.getElementById('view').replaceChildren(el('p', { class: 'error' }, t('error') + e.message));
  });
}

start();
