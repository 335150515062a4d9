// 網站無障礙規範 (WCAG 2.x AA): axe-core on every page every role of the lived-in demo
// reaches by following links, signed out and as the social worker, her supervisor, the
// permission administrator, the ethics auditor, the director and the district office's
// staff. Fails on any serious or critical violation and lists them all.
//
// The pages are found, not listed: from the home page the test follows every same-origin
// link it has not seen (one page per route shape, so /registrations/115-000012 and
// /registrations/115-000013 count once), so a new page is checked without touching the test.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { signIn } from '../lib/browser.mjs';
import { useDemo } from '../lib/harness.mjs';
import { signInAs } from '../lib/workflow.mjs';
import { DEMO_PASSWORD } from '../lib/server.mjs';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const demo = useDemo({ livedIn: true });

/** Most pages one role's crawl visits (every route shape of the app fits well within). */
const MAX_PAGES = 80;

/**
 * Links not followed: they change state or language (a GET that sets a cookie), sign out,
 * or answer with a file rather than a page.
 */
function followable(url, origin) {
  if (url.origin !== origin) return false;
  const p = url.pathname;
  if (p.startsWith('/lang/') || p === '/logout' || p.startsWith('/static/')) return false;
  if (p.startsWith('/api/') || p.startsWith('/scim/')) return false;
  if (/\.(pdf|csv|json|zip|png|svg|ico)$/.test(p) || p.endsWith('/pdf') || p.includes('/download')) {
    return false;
  }
  return true;
}

/** One page per route shape: numbers, registration and request numbers become `#`. */
function shape(url) {
  return url.pathname
    .replace(/R?\d+-\d+/g, '#')
    .replace(/\d+/g, '#')
    .replace(/\/[A-Z]\d{4}(?=\/|$)/g, '/ITEM');
}

async function axeViolations(page) {
  const loaded = await page.evaluate(() => typeof window.axe !== 'undefined');
  if (!loaded) await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
      }));
  });
}

/**
 * Visits what `page` can reach from `/` and runs axe on each HTML page; returns the pages
 * seen and every serious or critical violation with its page.
 */
async function crawl(page, role) {
  const origin = new URL(page.url()).origin;
  const seen = new Set();
  const queue = [new URL('/', origin)];
  const found = [];
  const visited = [];
  while (queue.length > 0 && visited.length < MAX_PAGES) {
    const url = queue.shift();
    const key = shape(url);
    if (seen.has(key)) continue;
    seen.add(key);
    const response = await page.goto(url.href);
    if (!response) continue;
    const type = response.headers()['content-type'] || '';
    if (!type.startsWith('text/html')) continue;
    // A page that locked the session or sent the person elsewhere is checked where it
    // landed (under its own shape).
    const landed = new URL(page.url());
    seen.add(shape(landed));
    visited.push(landed.pathname);
    for (const v of await axeViolations(page)) {
      found.push({ role, page: landed.pathname, ...v });
    }
    const hrefs = await page.$$eval('a[href]', (as) => as.map((a) => a.href));
    for (const href of hrefs) {
      let next;
      try {
        next = new URL(href);
      } catch {
        continue;
      }
      next.hash = '';
      if (followable(next, origin) && !seen.has(shape(next))) queue.push(next);
    }
  }
  return { visited, found };
}

const ROLES = [
  ['signed-out', null],
  ['social-worker', 'lin.meiling'],
  ['supervisor', 'chen.jianhong'],
  ['permission-admin', 'wu.zhiming'],
  ['ethics-auditor', 'zheng.zhihao'],
  ['director', 'zhou.wenhua'],
  ['district-staff', 'cai.peiling'],
];

test('every page of every role has no serious or critical axe-core violation', { timeout: 900_000 }, async () => {
  const all = [];
  const report = [];
  for (const [role, account] of ROLES) {
    await demo.run(`a11y-${role}`, async ({ page }) => {
      if (account) {
        const r = await signIn(page, account, DEMO_PASSWORD);
        assert.equal(r.status(), 303, `${account} signs in`);
      } else {
        await page.goto('/');
      }
      const { visited, found } = await crawl(page, role);
      report.push(`${role}: ${visited.length} pages`);
      // Signed in, the crawl reaches well beyond the home page (the menus of the role).
      assert.ok(visited.length >= (account ? 4 : 3), `${role} visited only ${visited.join(', ')}`);
      // The login page and the lock page are checked as well, signed out and signed in.
      if (!account) {
        await page.goto('/login');
        for (const v of await axeViolations(page)) all.push({ role, page: '/login', ...v });
      }
      all.push(...found);
    });
  }
  const listed = all
    .map((v) => `${v.role} ${v.page}: [${v.impact}] ${v.id} — ${v.help}\n    ${v.nodes.join('\n    ')}`)
    .join('\n');
  assert.equal(all.length, 0, `axe-core found serious or critical violations:\n${listed}\n(${report.join('; ')})`);
});

test('the screen lock page is announced and passes axe-core', { timeout: 120_000 }, async () => {
  await demo.run('a11y-locked', async ({ page }) => {
    await signInAs(page, 'lin.meiling');
    await page.locator('#lock-now').focus();
    const loaded = page.waitForEvent('load');
    await page.keyboard.press('Enter');
    await loaded;
    assert.equal(new URL(page.url()).pathname, '/session/locked');
    // The lock is said to assistive technology, not only shown: a live region that speaks
    // at once (the refusal of a wrong password is the page's alert).
    assert.equal(await page.getAttribute('#locked-announcement', 'aria-live'), 'assertive');
    assert.match(await page.locator('#locked-announcement').innerText(), /螢幕已鎖定/);
    assert.match(await page.title(), /鎖定/);
    const found = await axeViolations(page);
    assert.deepEqual(found, [], JSON.stringify(found, null, 2));
  });
});

test('every page says where you are in its title and language', { timeout: 120_000 }, async () => {
  await demo.run('a11y-titles', async ({ page }) => {
    await signInAs(page, 'lin.meiling');
    const titles = new Map();
    for (const path of ['/', '/registrations', '/registrations/new', '/registrations/mine', '/catalogue']) {
      await page.goto(path);
      assert.equal(await page.getAttribute('html', 'lang'), 'zh-Hant-TW', path);
      const title = await page.title();
      assert.match(title, /查調守門員/, path);
      titles.set(path, title);
    }
    // Different places, different titles.
    assert.equal(new Set(titles.values()).size, titles.size, JSON.stringify([...titles]));
    // The favicon is served.
    const icon = await page.evaluate(async () => {
      const res = await fetch('/favicon.ico');
      return { status: res.status, type: res.headers.get('content-type') };
    });
    assert.equal(icon.status, 200);
    assert.match(icon.type, /image\/svg\+xml/);
  });
});
