// The Labs page: each guided lab with the state of its steps on this
// chain, from GET /v1/labs, redrawn on every block. The node checks what
// the chain shows; steps that need a student's own files are checked by
// `citychain lab check N` on the student's machine, and say so.

// The page's texts, one object per language like strings.js, merged into
// STRINGS so that t() finds them.
Object.assign(STRINGS.en, {
  nav_labs: 'Labs',
  labs_title: 'Labs',
  labs_intro: 'The guided labs and how far each one is done on this chain, updated with every block. Steps marked "on your machine" need your own files (a keystore, an answer, a certificate): run the lab\'s check command in a terminal.',
  labs_as_of: h => `as of block ${h}`,
  lab_head: (n, title) => `Lab ${n} · ${title}`,
  lab_done: 'done',
  lab_progress: (k, n) => `${k} of ${n} steps`,
  lab_state_done: 'done', lab_state_todo: 'to do', lab_state_local: 'on your machine',
  lab_hint: 'Hint: ',
  lab_doc: 'Document', lab_check: 'Check',
});
Object.assign(STRINGS.zh, {
  nav_labs: '实验',
  labs_title: '实验',
  labs_intro: '各个实验在这条链上完成到哪一步，每出一个块更新一次。标为“在你的电脑上检查”的步骤需要你自己的文件（密钥库、答案或证书）：请在终端里运行该实验的检查命令。',
  labs_as_of: h => `截至区块 ${h}`,
  lab_head: (n, title) => `实验 ${n} · ${title}`,
  lab_done: '已完成',
  lab_progress: (k, n) => `完成 ${k}/${n} 步`,
  lab_state_done: '完成', lab_state_todo: '未完成', lab_state_local: '在你的电脑上检查',
  lab_hint: '提示：',
  lab_doc: '实验文档', lab_check: '检查命令',
});

// inLang picks the current language from a text the node sends in both.
const inLang = x => (x && (x[lang] || x.en)) || '';

const LAB_BADGE = { done: 'ok', todo: 'bad', local: 'warn' };
const LAB_MARK = { done: '✓', todo: '✗', local: '?' };

function labStep(s) {
  return el('li', { class: 'lab-step', 'data-state': s.state },
    badge(LAB_MARK[s.state] + ' ' + t('lab_state_' + s.state), LAB_BADGE[s.state] || 'nil'), ' ',
    el('strong', null, inLang(s.name)),
    s.detail && inLang(s.detail) ? el('div', { class: 'muted' }, inLang(s.detail)) : null,
    s.hint ? el('div', null, t('lab_hint'), inLang(s.hint)) : null);
}

function labCard(l) {
  const done = l.steps.filter(s => s.state === 'done').length;
  return el('section', { class: 'card', id: 'lab-' + l.number },
    el('h2', null, t('lab_head', l.number, inLang(l.title)), ' ',
      l.done ? badge(t('lab_done'), 'ok') : badge(t('lab_progress', done, l.steps.length), 'nil')),
    el('ol', { class: 'lab-steps' }, l.steps.map(labStep)),
    kv([
      [t('lab_check'), el('code', null, 'citychain lab check ' + l.number + (lang === 'zh' ? ' --lang zh' : ''))],
      [t('lab_doc'), el('code', null, 'docs/' + lang + '/labs/' + l.slug + '.md')],
    ]));
}

async function viewLabs() {
  const v = await api('/v1/labs');
  return el('div', null,
    el('h1', null, t('labs_title')),
    el('p', { class: 'muted' }, t('labs_intro'), ' ', el('span', { id: 'labs-height' }, t('labs_as_of', v.height))),
    el('div', { class: 'grid two' }, (v.labs || []).map(labCard)));
}
