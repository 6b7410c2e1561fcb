// Blocks, transactions, accounts and validators, and the "explain this
// block" view.

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
    [t('f_evidence_hash'), el('code', null, b.evidence_hash || ZERO), 'evidence-hash'],
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
      await evidenceCard(b),
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
        el('tr', null, el('td', null, valLink(x.address)), el('td', { class: 'mono' }, x.pubkey))))),
      card(t('ev_records'), S.evidence && S.evidence.length
        ? [el('p', null, t('ev_records_help')), recordsTable(S.evidence, 'evidence-list', true, v.height)]
        : el('p', { class: 'muted', id: 'evidence-list' }, S.evidence ? t('ev_records_none') : t('loading')))));
}

// ---- evidence of misbehaviour ------------------------------------------------
// A block may carry evidence that a validator signed two statements an
// honest one never signs together; poa records each offence (GET
// /v1/apps/poa/evidence) and removes the offender from the set.

const valLink = a => a ? link('#/validator/' + encodeURIComponent(a), short(a, 12), 'mono') : '';

// offenceName says what a piece of evidence (kind, vote_type) or a poa
// record (kind, type) proves.
function offenceName(kind, voteType) {
  if (kind === 'conflicting_proposal') return t('ev_kind_proposal');
  return t('ev_kind_vote', voteType === 2 ? t('ev_precommit') : t('ev_prevote'));
}

// hashCell shows one of the two conflicting block hashes; all zeros is a
// vote for no block.
const hashCell = h => h === ZERO ? el('span', { class: 'nil' }, t('vote_nil')) : el('code', { title: h }, short(h, 8));

// outcome says what poa did about a recorded offence, as seen from the
// set that signs height next.
function outcome(r, next) {
  if (r.removal_at) {
    return r.removal_at <= next ? badge(t('ev_removed', r.removal_at), 'bad')
      : badge(t('ev_removal_due', r.removal_at, r.removal_at - next), 'warn');
  }
  return el('span', { class: 'muted' }, t('ev_not_removed', (STRINGS[lang].ev_reasons || {})[r.not_removed] || r.not_removed || '—'));
}

// evidenceCard lists the evidence block b carries, with what each piece
// proves, the two blocks it names, and what poa did about it.
async function evidenceCard(b) {
  const evs = b.evidence || [];
  if (!evs.length) return null;
  const [recs, vals] = await Promise.all([api('/v1/apps/poa/evidence').catch(() => null),
    S.vals ? Promise.resolve(S.vals) : api('/v1/validators').catch(() => null)]);
  const next = vals ? vals.height : 0;
  const rows = evs.map(ev => {
    const r = (recs || []).find(x => x.validator === ev.offender && x.height === ev.height && x.round === ev.round &&
      x.type === ev.vote_type && x.kind === ev.kind);
    let did = '—';
    if (r && r.committed_at < b.height && !r.reporter) did = [t('ev_repeat'), ' ', blockLink(r.committed_at)];
    else if (r) did = outcome(r, next);
    return el('tr', null, el('td', null, valLink(ev.offender)), el('td', null, offenceName(ev.kind, ev.vote_type)),
      el('td', null, ev.height + ' / ' + ev.round), el('td', null, hashCell(ev.block_hashes[0])),
      el('td', null, hashCell(ev.block_hashes[1])), el('td', null, did));
  });
  const kinds = new Set(evs.map(ev => ev.kind));
  return el('section', { class: 'card evidence', id: 'evidence' },
    el('h2', null, t('ev_title', evs.length)),
    el('p', null, t('ev_intro')),
    kinds.has('duplicate_vote') ? el('p', null, t('ev_explain_vote')) : null,
    kinds.has('conflicting_proposal') ? el('p', null, t('ev_explain_proposal')) : null,
    table('block-evidence', [[t('col_validator')], [t('col_offence')], [t('col_at')], [t('col_block_a')], [t('col_block_b')], [t('col_outcome')]], rows),
    el('p', { class: 'muted' }, t('ev_poa')));
}

// recordsTable lists poa's records of offences, with the validator when
// they are of several.
function recordsTable(recs, id, withValidator, next) {
  return table(id, [withValidator ? [t('col_validator')] : null, [t('col_offence')], [t('col_at')], [t('col_reported')], [t('col_outcome')]].filter(Boolean),
    recs.map(r => el('tr', null, withValidator ? el('td', null, valLink(r.validator)) : null,
      el('td', null, offenceName(r.kind, r.type)), el('td', null, r.height + ' / ' + r.round),
      el('td', null, blockLink(r.committed_at)), el('td', null, outcome(r, next)))));
}

// viewValidator shows one validator: whether it is in the set, and the
// offences poa recorded against it, with its removal.
async function viewValidator(addr) {
  const [vals, recs] = await Promise.all([api('/v1/validators'), api('/v1/apps/poa/evidence').catch(() => null)]);
  const me = (vals.validators || []).find(x => x.address === addr);
  const mine = (recs || []).filter(r => r.validator === addr);
  return el('div', null, el('h1', null, t('val_title')),
    el('div', { class: 'grid' },
      card(null, kv([
        [t('f_address'), el('code', null, addr)],
        [t('val_member_h'), me ? badge(t('val_member', vals.height, me.power), 'ok') : badge(t('val_not_member', vals.height), 'nil'), 'val-member'],
        me ? [t('f_pubkey'), el('code', null, me.pubkey)] : null,
        [t('account_title'), link('#/account/' + encodeURIComponent(addr), t('val_account'))],
      ])),
      card(t('val_evidence'), mine.length ? [el('p', null, t('val_evidence_help')), recordsTable(mine, 'val-evidence', false, vals.height)]
        : el('p', { class: 'muted', id: 'val-evidence' }, recs ? t('val_no_evidence') : t('ev_no_poa')))));
}
