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
const statusBadge = s => badge(s || '?', s === 'ok' ? 'ok' : s === 'failed' ? 'bad' : 'warn');

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
  const r = await fetch(path, { headers: { Accept: 'application/json' } });
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

function addBlock(b) {
  if (S.blocks.length && b.height <= S.blocks[0].height) return false;
  S.blocks.unshift(b);
  S.blocks.length = Math.min(S.blocks.length, MAX_BLOCKS);
  if (S.status) S.status.height = b.height;
  return true;
}
function addTx(x) {
  if (S.txs.some(y => y.hash === x.hash)) return;
  S.txs.unshift(x);
  S.txs.length = Math.min(S.txs.length, MAX_TXS);
}

async function loadInitial() {
  S.status = await api('/v1/status');
  const top = S.status.height;
  const hs = [];
  for (let h = top; h >= 1 && hs.length < 20; h--) hs.push(h);
  const blocks = await Promise.all(hs.map(h => api('/v1/blocks/' + h).catch(() => null)));
  for (const b of blocks.filter(Boolean).reverse()) {
    addBlock({ height: b.height, hash: b.hash, time: b.time, txs: b.txs.length, proposer: b.proposer });
    for (const x of b.txs) addTx({ ...x, height: b.height });
  }
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

function connect() {
  const es = new EventSource('/v1/events');
  es.onopen = () => { S.live = true; showLive(); };
  es.onerror = () => { S.live = false; showLive(); };
  const on = (type, fn) => es.addEventListener(type, e => {
    let d;
    try { d = JSON.parse(e.data); } catch (err) { return; }
    fn(d);
    rerenderLive(type);
  });
  on('block', d => { addBlock(d); scheduleValidators(); });
  on('tx', d => addTx(d));
  on('consensus', d => {
    S.step = d;
    noteRound(d);
    scheduleValidators();
  });
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

function rates() {
  const bs = S.blocks.slice(0, 20);
  if (bs.length < 2) return { interval: null, tps: null };
  const span = (new Date(bs[0].time) - new Date(bs[bs.length - 1].time)) / 1000;
  if (!(span > 0)) return { interval: null, tps: null };
  const txs = bs.slice(0, -1).reduce((n, b) => n + (b.txs || 0), 0);
  return { interval: span / (bs.length - 1), tps: txs / span };
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

function quorumBar() {
  const q = quorumState();
  if (!q || !q.total) return el('p', { class: 'muted' }, t('loading'));
  const fill = el('div', { class: 'fill' + (q.k >= q.quorum ? '' : ' short') });
  fill.style.width = Math.min(100, (100 * q.k) / q.total) + '%';
  const line = el('div', { class: 'line', title: '2f+1' });
  line.style.left = `calc(${(100 * q.quorum) / q.total}% - .1rem)`;
  return el('div', null,
    el('div', { class: 'quorum', id: 'quorum', role: 'img', 'aria-label': t('quorum', q.k, q.total, q.quorum) },
      fill, line, el('div', { class: 'label' }, t('quorum', q.k, q.total, q.quorum))),
    el('p', { class: 'muted' }, q.live ? t('quorum_help_live') : t('quorum_help_last')));
}

function proposerNow() {
  const c = S.vals && S.vals.consensus;
  return (c && c.proposer) || (S.step && S.step.proposer) || (S.blocks[0] && S.blocks[0].proposer) || '';
}

function validatorTable() {
  const v = S.vals;
  if (!v) return el('p', null, t('loading'));
  const c = v.consensus;
  const signed = new Set(((v.last_commit && v.last_commit.signatures) || []).map(s => s.validator));
  const prop = proposerNow();
  const rows = (v.validators || []).map(x => el('tr', null,
    el('td', null, acctLink(x.address), x.address === prop ? [' ', badge(t('is_proposer'), 'ok')] : null),
    el('td', null, x.power),
    el('td', null, c ? voteCell(c.prevotes, x.address) : el('span', { class: 'nil' }, t('vote_none'))),
    el('td', null, c ? voteCell(c.precommits, x.address) : el('span', { class: 'nil' }, t('vote_none'))),
    el('td', { class: 'hide-sm' }, signed.has(x.address) ? badge(t('yes'), 'ok') : badge(t('no'), 'nil'))));
  const now = c ? el('p', null, t('round_now', c.height, c.round, c.step) + (c.reason ? ' · ' + c.reason : ''))
    : el('p', { class: 'muted' }, t('no_consensus'));
  return el('div', null, now, quorumBar(),
    table('validators', [[t('col_validator')], [t('col_power')], [t('col_prevote')], [t('col_precommit')], [t('col_last'), 'hide-sm']], rows));
}

function roundLog() {
  if (!S.rounds.length) return el('p', { class: 'muted', id: 'rounds' }, t('no_rounds'));
  return el('ul', { class: 'log', id: 'rounds' }, S.rounds.map(r =>
    el('li', null, el('span', { class: 'muted' }, when(r.at) + ' '), r.newRound ? t('round_entry', r.height, r.round, r.reason) : t('timeout_entry', r.height, r.round, r.reason, r.step))));
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
      card(t('latest_txs'), txsTable(S.txs.slice(0, 10), 'latest-txs'))));
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
  const linked = parent && parent.hash === b.prev_hash;
  const box = (label, value) => el('div', { class: 'box' }, el('div', { class: 'muted' }, label), el('code', null, short(value, 12)));
  let firstTx = null;
  if (b.txs && b.txs.length) firstTx = await api('/v1/txs/' + b.txs[0].hash).catch(() => null);
  const sameRoot = parent && parent.state_root === b.state_root;
  return el('section', { class: 'card explain', id: 'explain' },
    el('h2', null, t('explain')),
    el('h3', null, t('ex_link_h')),
    el('p', null, t('ex_link')),
    el('div', { class: 'chain' },
      box('#' + (b.height - 1) + ' hash', parent ? parent.hash : '?'), el('span', { class: 'arrow' }, '→'),
      box('#' + b.height + ' prev_hash', b.prev_hash), el('span', { class: 'arrow' }, '→'),
      box('#' + b.height + ' hash', b.hash)),
    el('p', { class: linked ? 'ok' : 'bad' }, linked ? '✓ ' + t('ex_link_ok') : '✗ ' + t('ex_link_bad')),
    el('h3', null, t('ex_sign_h')),
    el('p', null, t('ex_sign_vote')),
    firstTx && firstTx.tx ? [el('p', null, t('ex_sign_tx')), signedTx(firstTx.tx)] : el('p', { class: 'muted' }, t('ex_sign_none')),
    el('h3', null, t('ex_state_h')),
    el('div', { class: 'chain' },
      box(t('before'), parent ? parent.state_root : '?'), el('span', { class: 'arrow' }, '→'), box(t('after'), b.state_root)),
    el('p', null, sameRoot ? t('ex_state_same') : t('ex_state_changed', (b.txs || []).length)));
}

// signedTx shows a transaction's JSON with the signature set apart: the
// part above the line is what was signed.
function signedTx(tx) {
  const { signature, ...signed } = tx;
  return el('pre', { id: 'tx-json' }, JSON.stringify(signed, null, 2) + '\n/* ↑ signed bytes = canonical CBOR of the fields above */\n"signature": "' + (signature || '') + '"');
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
      card(t('consensus_now'), c ? kv([[t('f_height'), c.height], [t('f_round'), c.round], [t('f_step'), c.step + (c.reason ? ' · ' + c.reason : '')],
        [t('proposer'), acctLink(c.proposer)]]) : el('p', { class: 'muted' }, t('no_consensus'))),
      card(t('last_commit'), lc ? [el('p', null, blockLink(lc.height), ' · ', t('commit_intro', lc.round, lc.signatures.length)),
        table('last-commit', [[t('col_validator')], [t('col_signature')]], lc.signatures.map(s =>
          el('tr', null, el('td', null, acctLink(s.validator)), el('td', { class: 'mono' }, s.signature))))] : el('p', null, '—')),
      card(t('f_pubkey'), table('val-keys', [[t('col_validator')], [t('f_pubkey')]], (v.validators || []).map(x =>
        el('tr', null, el('td', null, acctLink(x.address)), el('td', { class: 'mono' }, x.pubkey)))))));
}

// ---- router ------------------------------------------------------------------------------

// A route is a hash path; each maps to a view and says whether it
// follows the live stream (re-rendered as events arrive).
function route() {
  const parts = (location.hash.replace(/^#\/?/, '') || '').split('/').map(decodeURIComponent);
  switch (parts[0]) {
    case '': return { nav: 'dash', live: true, view: viewDashboard };
    case 'blocks': return { nav: 'blocks', view: () => viewBlocks(parts[1] ? Number(parts[1]) : null) };
    case 'block': return { nav: 'blocks', view: () => viewBlock(parts[1] || 'latest') };
    case 'tx': return { nav: '', view: () => viewTx(parts[1] || ''), retry: true };
    case 'account': return { nav: '', view: () => viewAccount(parts[1] || '') };
    case 'validators': return { nav: 'vals', live: true, view: viewValidators };
    default: return { nav: '', view: () => el('p', { class: 'error' }, t('not_found')) };
  }
}

let renderSeq = 0;
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
  if (seq !== renderSeq) return; // a newer render won
  view.replaceChildren(node);
  if (focus) { window.scrollTo(0, 0); view.focus({ preventScroll: true }); }
}

// rerenderLive redraws the current page when the stream brings news it
// shows: live pages on every event, a transaction page that is not yet
// committed when a block arrives.
let liveFrame = 0;
function rerenderLive(type) {
  const r = route();
  const stale = r.live || (r.retry && type === 'block' && !/^(ok|failed)$/.test((document.getElementById('tx-status') || {}).textContent || ''));
  if (!stale || liveFrame) return;
  liveFrame = requestAnimationFrame(() => { liveFrame = 0; render(false); });
}

function drawNav(active) {
  const items = [['dash', '#/', t('nav_dash')], ['blocks', '#/blocks', t('nav_blocks')], ['vals', '#/validators', t('nav_vals')]];
  document.getElementById('nav').replaceChildren(...items.map(([k, href, label]) =>
    el('a', { href, class: k === active ? 'on' : null, 'aria-current': k === active ? 'page' : null }, label)));
}

function drawChrome() {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.title = t('title');
  document.getElementById('lang').textContent = t('other_lang');
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
  window.addEventListener('hashchange', () => render(true));
  drawChrome();
  render(true);
  connect();
  loadInitial().then(() => render(false), e => {
    document.getElementById('view').replaceChildren(el('p', { class: 'error' }, t('error') + e.message));
  });
}

start();
