// The network view and the classroom controls of a devnet.

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
