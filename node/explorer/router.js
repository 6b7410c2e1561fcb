// The router, the page chrome, and the start of the page.

// A route is a hash path; each maps to a view and says whether it
// follows the live stream (re-rendered as events arrive).
function route() {
  const parts = (location.hash.replace(/^#\/?/, '') || '').split('/').map(p => {
    try { return decodeURIComponent(p); } catch (e) { return null; } // a stray % in a typed address
  });
  if (parts.includes(null)) return { nav: '', view: () => el('p', { class: 'error' }, t('bad_address')) };
  // A part that is, or holds once decoded, a segment "." or ".." would
  // walk the API path the page fetches to another route: such an address
  // is not followed.
  if (parts.some(p => p.split('/').some(s => s === '.' || s === '..'))) return { nav: '', view: () => el('p', { class: 'error' }, t('dot_address')) };
  switch (parts[0]) {
    case '': return { nav: 'dash', live: true, view: viewDashboard };
    case 'blocks': return { nav: 'blocks', view: () => viewBlocks(parts[1] ? Number(parts[1]) : null) };
    case 'block': return { nav: 'blocks', view: () => viewBlock(parts[1] || 'latest') };
    case 'txs': return { nav: 'blocks', view: () => viewTxs(parts[1] ? Number(parts[1]) : null) };
    case 'tx': return { nav: '', view: () => viewTx(parts[1] || ''), retry: true };
    case 'account': return { nav: '', view: () => viewAccount(parts[1] || '') };
    case 'validators': return { nav: 'vals', live: true, view: viewValidators };
    case 'validator': return { nav: 'vals', onBlock: true, view: () => viewValidator(parts[1] || '') };
    case 'network': return { nav: 'net', poll: true, view: viewNetwork };
    case 'trace': return { nav: 'trace', view: () => viewTrace(parts.slice(1).join('/')) };
    case 'order': return { nav: 'order', view: () => viewOrder(parts[1] || '') };
    case 'orders': return { nav: 'order', view: () => viewOrdersOf(parts[1] || '') };
    case 'device': return { nav: 'city', onBlock: !!parts[1], view: () => viewDevice(parts[1] || '') };
    case 'city': return { nav: 'city', onBlock: true, view: viewCity };
    case 'verify': return { nav: 'verify', view: viewVerify };
    case 'apps': return parts[1] === undefined || parts[1] === '' ? { nav: 'apps', view: viewApps }
      : parts.length > 2 ? { nav: 'apps', onBlock: true, view: () => viewAppQuery(parts[1], parts.slice(2).join('/')) }
      : { nav: 'apps', view: () => viewApp(parts[1]) };
    case 'labs': return { nav: 'labs', onBlock: true, view: viewLabs };
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
    ['trace', '#/trace', t('nav_trace')], ['order', '#/order', t('nav_order')], ['city', '#/city', t('nav_city')], ['verify', '#/verify', t('nav_verify')],
    ['apps', '#/apps', t('nav_apps')], ['labs', '#/labs', t('nav_labs')]];
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
