// The pages of every module: the list of the chain's modules (GET
// /v1/apps), a page per module from its index (GET /v1/apps/{name}/) and
// the links it gives, and any of its queries without parameters shown as
// JSON. They need nothing of a module beyond the SDK, so a new module has
// its pages as soon as the node runs it.

const appPath = name => '#/apps/' + encodeURIComponent(name);

// appHref turns a link a module gives into an address of this page: an
// explorer page stays as it is, one of the module's own queries opens in
// the query page, and anything else is dropped.
function appHref(name, href) {
  const own = '/v1/apps/' + name + '/';
  if (/^#\/[^\s]*$/.test(href)) return href;
  if (href.startsWith(own) && href.length > own.length && !href.includes('?')) return appPath(name) + '/' + href.slice(own.length);
  return null;
}

function appLinks(m, id) {
  const ls = (m.links || []).map(l => { const h = appHref(m.name, String(l.href || '')); return h ? link(h, l.title) : null; }).filter(Boolean);
  return el('span', { id }, ls.flatMap((l, i) => i ? [' · ', l] : [l]));
}

async function viewApps() {
  const a = await api('/v1/apps');
  return el('div', null, el('h1', null, t('apps_title')), el('p', { class: 'muted' }, t('apps_help')),
    card(null, table('apps-list', [[t('col_app')], [t('apps_what')], [t('apps_pages'), 'hide-sm']],
      (a.apps || []).map(m => el('tr', null,
        el('td', null, link(appPath(m.name), m.name)),
        el('td', null, m.title || ''),
        el('td', { class: 'hide-sm' }, appLinks(m)))))));
}

async function viewApp(name) {
  const [list, ix] = await Promise.all([api('/v1/apps'),
    api('/v1/apps/' + encodeURIComponent(name) + '/').catch(e => ({ error: e.message }))]);
  const m = (list.apps || []).find(x => x.name === name);
  if (!m) return el('p', { class: 'error', id: 'app-error' }, t('app_unknown', name));
  const docs = (id, rows, query) => table(id, [[t('col_name')], [t('col_doc')], [t('app_args'), 'hide-sm']],
    rows.map(r => el('tr', null,
      el('td', null, query && !r.name.includes('{') ? link(appPath(name) + '/' + r.name, r.name, 'mono') : el('code', null, r.name)),
      el('td', null, r.doc || ''), el('td', { class: 'hide-sm' }, (r.args || []).join(', ')))));
  return el('div', null, el('p', null, link('#/apps', t('apps_title'))), el('h1', null, t('app_title', name)),
    el('div', { class: 'grid' },
      card(null, kv([[t('apps_what'), m.title || '—'], [t('apps_pages'), appLinks(m, 'app-links')],
        [t('app_cli'), el('code', null, 'citychain tx ' + name + ' --help · citychain query ' + name + ' --help')]])),
      ix.error ? card(null, el('p', { class: 'error', id: 'app-index' }, t('app_no_index') + ix.error))
        : el('div', { class: 'grid two', id: 'app-index' },
          card(t('app_actions'), docs('app-actions', ix.actions || [], false)),
          card(t('app_queries'), docs('app-queries', ix.queries || [], true)))));
}

// viewAppQuery shows one query's answer as JSON.
async function viewAppQuery(name, path) {
  const url = '/v1/apps/' + encodeURIComponent(name) + '/' + path.split('/').map(encodeURIComponent).join('/');
  let answer;
  try { answer = el('pre', { id: 'app-answer' }, JSON.stringify(await api(url), null, 2)); } catch (e) {
    answer = el('p', { class: 'error', id: 'app-answer' }, e.message);
  }
  return el('div', null, el('p', null, link(appPath(name), t('app_back', name))), el('h1', null, name + '/' + path),
    card(null, el('p', { class: 'muted' }, el('code', null, 'GET ' + url)), answer));
}
