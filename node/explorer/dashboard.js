// The dashboard: the live numbers, the round in progress with its votes
// and quorum bars, the round-change log, the latest blocks and txs.

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

// evidenceBadge marks a block that carries evidence of misbehaviour; b
// is a summary (a count) or a whole block (a list).
function evidenceBadge(b) {
  const n = typeof b.evidence === 'number' ? b.evidence : (b.evidence || []).length;
  return n > 0 ? [' ', badge(t('ev_badge', n), 'bad')] : null;
}

function blocksTable(blocks, id) {
  return table(id, [[t('col_height')], [t('col_time')], [t('col_txs')], [t('col_proposer'), 'hide-sm'], [t('col_hash'), 'hide-sm']],
    blocks.map(b => el('tr', null, el('td', null, blockLink(b.height), evidenceBadge(b)), el('td', null, when(b.time)),
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
