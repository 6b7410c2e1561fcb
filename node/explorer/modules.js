// The module pages: a product's provenance, orders, the city's devices.

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
    el('div', { class: 'muted' }, t('f_height'), ' ', blockLink(ev.height), ' · ', txLink(ev.tx_hash)),
    ev.event_hash ? el('div', { class: 'muted' }, el('code', null, ev.event_hash)) : null)))
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
