// Copyright verify: a file hashed in the browser, and the record's
// Merkle proof checked here up to the block header.

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
