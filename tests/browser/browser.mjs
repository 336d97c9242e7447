// A provider office's day in a real browser (Debian's Chromium, driven by playwright-core):
// sign in as Shanghai, record a project, commit and disburse money for it, see both on the
// scorecard, switch to Chinese, and be refused when changing Beijing's project. Screenshots of
// the main pages go to OUT.
//
// Usage: node browser.mjs BASE_URL OUT_DIR   (CHROMIUM overrides /usr/bin/chromium)
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const [base, out] = process.argv.slice(2);
if (!base || !out) {
  console.error('usage: node browser.mjs BASE_URL OUT_DIR');
  process.exit(2);
}
mkdirSync(out, { recursive: true });

function check(condition, message) {
  if (!condition) {
    throw new Error(`browser test: ${message}`);
  }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
// A screenshot of the page, which must fit the viewport's width: wide tables scroll within
// their own box, charts shrink to fit.
async function shot(name) {
  const [doc, view] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  check(doc <= view, `${name}: the page is ${doc} px wide in a ${view} px window`);
  await page.screenshot({ path: `${out}/${name}.png`, fullPage: true });
}

// The words of the page still in Latin letters that are neither a region's name nor a symbol
// every reader knows: the same rule as counterpart_app::lang::untranslated. The records' own
// words (marked lang="en": citations, notes as recorded) and a closed <details> are left out.
function englishLeft(names) {
  const known = new Set(['CSV', 'XLSX', 'JSON', 'OpenAPI', 'IATI', 'PDF', 'Atom', 'SVG', 'API',
    'V', 'M', 'L', 'V*', 'GDP', 'ID', 'TOTP', 'URL', 'English', 'Counterpart', 'XPCC']);
  const parts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (el.closest('[lang=en], [translate=no], script, style')) continue;
    const details = el.closest('details');
    if (details && !details.open && !el.closest('summary')) continue;
    parts.push(n.textContent);
  }
  let text = parts.join(' ');
  for (const name of [...names].sort((a, b) => b.length - a.length)) text = text.split(name).join(' ');
  const left = [];
  for (let word of text.split(/[^\x21-\x7e]+/)) {
    word = word.replace(/^[!-)+-/:-@[-^`{-~]+|[!-)+-/:-@[-^`{-~]+$/g, '');
    if (!/[A-Za-z]/.test(word)) continue;
    const inner = word.replace(/\*+$/, '');
    if ((/[./@:=]/.test(inner) && !inner.includes('_')) || /[0-9]/.test(inner)) continue;
    if (known.has(word)) continue;
    left.push(word);
  }
  return [...new Set(left)];
}

// The scorecard's 2019 row: [projects, delivered yuan].
async function scorecard2019() {
  await page.goto(`${base}/providers/shanghai?year=2019`);
  return page.evaluate(() => {
    const table = [...document.querySelectorAll('h2')]
      .find((h) => h.textContent.startsWith('Quota against money'))?.nextElementSibling;
    const headers = [...table.querySelectorAll('th')].map((th) => th.textContent.trim());
    const row = [...table.querySelectorAll('tbody tr')].find((tr) => tr.cells[0].textContent.trim() === '2019');
    const cell = (label) => row.cells[headers.indexOf(label)];
    // Money cells carry the exact amount in fen beside the rounded figure shown.
    return [Number(cell('projects').textContent.replace(/[^0-9]/g, '')), Number(cell('delivered (yuan)').dataset.fen) / 100];
  });
}

try {
  // The public overview, then sign in.
  await page.goto(`${base}/`);
  check(await page.locator('#funds-chart svg').count() === 1, 'the overview has its chart');
  check(await page.locator('#simulated').count() === 1, 'the demo is labelled simulated');
  await shot('overview');
  await page.click('text=Sign in');
  await page.fill('input[name=name]', 'shanghai');
  await page.fill('input[name=password]', 'demo-shanghai-2010');
  await page.click('#login button');
  check((await page.textContent('#me')) === 'shanghai', 'signed in as shanghai');

  const [projectsBefore, deliveredBefore] = await scorecard2019();

  // Record a project.
  await page.goto(`${base}/projects`);
  await shot('projects');
  await page.click('#new-project');
  const id = `browser.${Date.now()}`;
  await page.fill('input[name=id]', id);
  // The recipient is a choice among Shanghai's pairs; the year starts at the program's.
  const choices = await page.$$eval('select[name=recipient] option', (os) => os.map((o) => o.value));
  check(choices.includes('kashgar.bachu-county') && !choices.includes('hotan.hotan-city'),
    `the recipients offered are Shanghai's pairs: ${choices.join(', ')}`);
  check((await page.inputValue('input[name=year]')) === '2019', 'the year defaults to the program\'s last');
  await page.selectOption('select[name=recipient]', 'kashgar.bachu-county');
  await page.selectOption('select[name=category]', 'education');
  await page.fill('input[name=title_en]', 'Bachu No. 3 School');
  await page.fill('input[name=title_zh]', '巴楚县第三中学');
  await page.fill('input[name=year]', '2019');
  await page.fill('input[name=budget_yuan]', '2,500,000');
  await page.click('#project-form button');
  check(page.url().endsWith(`/projects/${id}`), `the new project's page opens (${page.url()})`);

  // Commit, then disburse part of it.
  for (const [suffix, kind, amount, date] of [['c', 'commit', '2500000', '2019-03-01'], ['d', 'disburse', '1000000', '2019-06-01']]) {
    await page.fill('#post-transfer input[name=id]', `${id}.${suffix}`);
    await page.selectOption('#post-transfer select[name=kind]', kind);
    await page.fill('#post-transfer input[name=amount_yuan]', amount);
    await page.fill('#post-transfer input[name=value_date]', date);
    await page.click('#post-transfer button');
    const message = await page.textContent('#message');
    check(!(await page.locator('div.error').count()), `posting ${kind} succeeded: ${message}`);
  }
  check((await page.locator('#transfers tbody tr').count()) === 2, 'both transfers are listed');
  await shot('project');

  // The scorecard shows them.
  const [projectsAfter, deliveredAfter] = await scorecard2019();
  check(projectsAfter === projectsBefore + 1, `scorecard projects ${projectsBefore} → ${projectsAfter}`);
  check(deliveredAfter - deliveredBefore === 1000000,
    `scorecard delivered ${deliveredBefore} → ${deliveredAfter}`);
  // Over all years, its chart draws quota, committed and delivered money: three bars a year.
  await page.goto(`${base}/providers/shanghai`);
  const bars = await page.locator('#years-chart svg rect').count();
  check(bars >= 3 * 11, `the scorecard's chart has ${bars} bars`);
  await shot('scorecard');

  // Chinese, on every page from now on.
  await page.click('#lang');
  check((await page.getAttribute('html', 'lang')) === 'zh-Hans', 'the page is in Chinese');
  check((await page.textContent('header')).includes('项目'), 'the navigation is in Chinese');
  await page.goto(`${base}/ledger`);
  check((await page.getAttribute('html', 'lang')) === 'zh-Hans', 'the language is remembered');
  // Shanghai's ledger opens with its own money by year, 2010–2019.
  check((await page.locator('#balances tbody tr').count()) === 10, 'the ledger shows Shanghai\'s money by year');
  await shot('ledger-zh');

  // Beijing's project: no form, and a forged post is refused.
  const other = await page.evaluate(async () => {
    const r = await fetch('/api/v1/projects?provider=beijing&per_page=1');
    return (await r.json()).items[0].id;
  });
  await page.goto(`${base}/projects/${other}`);
  check(await page.locator('#post-transfer').count() === 0, 'no transfer form on another provider\'s project');
  const csrf = await page.getAttribute('header input[name=csrf]', 'value');
  const refused = await page.evaluate(async ([other, csrf]) => {
    const body = new URLSearchParams({ csrf, id: `${other}.forged`, kind: 'disburse', amount_yuan: '1', value_date: '2019-06-01' });
    const r = await fetch(`/projects/${other}/transfers`, { method: 'POST', body });
    return [r.status, await r.text()];
  }, [other, csrf]);
  check(refused[0] === 403, `changing Beijing's project is refused (${refused[0]})`);
  check(refused[1].includes('other_office'), 'the refusal says why');
  await page.setContent(refused[1]);
  await shot('refused');

  // Every page in both languages: a screenshot each, no page wider than the window, and no
  // English word or raw code left on a Chinese page.
  const names = await page.evaluate(async () => {
    const csv = await (await fetch('/api/v1/tables/regions.csv')).text();
    const summary = await (await fetch('/api/v1/summary')).json();
    const rows = csv.trim().split('\n').slice(1);
    const fields = (line) => [...line.matchAll(/("([^"]|"")*"|[^,]*)(,|$)/g)].map((m) => m[1].replace(/^"|"$/g, '').replace(/""/g, '"'));
    return [summary.program, ...rows.map((r) => fields(r)[3])].filter(Boolean);
  });
  const pages = [['overview', '/'], ['projects', '/projects'], ['project', `/projects/${id}`],
    ['new-project', '/projects/new'], ['ledger', '/ledger'], ['people', '/people'],
    ['pairing', '/pairing'], ['assessment', '/assessment'], ['scorecard', '/providers/shanghai'],
    ['recipient', '/recipients/kashgar'], ['account', '/account']];
  const untranslated = [];
  for (const lang of ['en', 'zh']) {
    for (const [name, path] of pages) {
      await page.goto(`${base}${path}${path.includes('?') ? '&' : '?'}lang=${lang}`);
      check((await page.getAttribute('html', 'lang')) === (lang === 'zh' ? 'zh-Hans' : 'en'), `${path} is in ${lang}`);
      await shot(`${name}-${lang}`);
      if (lang === 'zh') {
        const left = await page.evaluate(englishLeft, names);
        if (left.length) untranslated.push(`${path}: ${left.slice(0, 30).join(' | ')}`);
      }
    }
  }
  // The program office asks the pairing page why Zhejiang is not proposed for Aksu.
  await page.click('header form[action="/logout"] button');
  await page.goto(`${base}/login?lang=en`);
  await page.fill('input[name=name]', 'admin');
  await page.fill('input[name=password]', 'demo-admin-2010');
  await page.click('#login button');
  await page.goto(`${base}/pairing`);
  check(await page.locator('#weights').count() === 1, 'the program office has the pairing controls');
  await page.selectOption('#weights select[name=provider]', 'zhejiang');
  await page.selectOption('#weights select[name=recipient]', 'aksu');
  await page.click('#weights button');
  const why = await page.locator('h2', { hasText: 'Why not?' }).count();
  check(why === 1, `the page answers why not Zhejiang–Aksu (${page.url()})`);
  await shot('pairing-why-not-en');
  await page.goto(`${page.url()}&lang=zh`);
  const left = await page.evaluate(englishLeft, names);
  if (left.length) untranslated.push(`pairing, why not: ${left.join(' | ')}`);
  await shot('pairing-why-not-zh');
  check(untranslated.length === 0, `Chinese pages still show English:\n${untranslated.join('\n')}`);
  console.log(`browser test passed: project ${id} recorded, 1,000,000 yuan disbursed, refused on ${other}; screenshots in ${out}`);
} catch (e) {
  await shot('failure').catch(() => {});
  console.error(e.message);
  process.exitCode = 1;
} finally {
  await browser.close();
}
