// 網站無障礙規範 (WCAG 2.1.1 keyboard, 2.4.7 focus visible): register → approve → execute →
// view with the keyboard alone — Tab to reach things, Enter or Space to use them, typing to
// fill fields. No mouse click anywhere; pages are opened only by the first visit of a URL.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pathOf, shot } from '../lib/browser.mjs';
import { useDemo } from '../lib/harness.mjs';
import { DEMO_PASSWORD } from '../lib/server.mjs';

const demo = useDemo();

/** Presses Tab until the focused element matches `selector` (and `text`, if given). */
async function tabTo(page, selector, text) {
  for (let i = 0; i < 200; i++) {
    await page.keyboard.press('Tab');
    const hit = await page.evaluate(
      ([sel, want]) => {
        const a = document.activeElement;
        return !!a && a.matches(sel) && (want == null || a.textContent.trim() === want);
      },
      [selector, text ?? null],
    );
    if (hit) {
      // 2.4.7: where the focus is can be seen.
      const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
      assert.notEqual(outline, 'none', `focus on ${selector} is visible`);
      return;
    }
  }
  throw new Error(`Tab never reached ${selector}${text ? ` "${text}"` : ''} on ${pathOf(page)}`);
}

/** Presses `key` on the focused element and waits for the page it loads. */
async function pressAndLoad(page, key) {
  const loaded = page.waitForEvent('load', { timeout: 20_000 });
  await page.keyboard.press(key);
  await loaded;
}

/** Tabs to `selector` and types `text` there. */
async function typeAt(page, selector, text) {
  await tabTo(page, selector);
  await page.keyboard.type(text);
}

/** Tabs to `selector` and presses `key` there, waiting for the page it loads. */
async function pressAt(page, selector, key = 'Enter') {
  await tabTo(page, selector);
  await pressAndLoad(page, key);
}

/** Chooses the option whose value is `value` in the focused <select> with the arrow keys. */
async function arrowToOption(page, value) {
  for (let i = 0; i < 60; i++) {
    if ((await page.evaluate(() => document.activeElement.value)) === value) return;
    await page.keyboard.press('ArrowDown');
  }
  throw new Error(`no option ${value}`);
}

/** Signs in from the home page with the keyboard (the DEMO card signer is ticked). */
async function signInByKeyboard(page, account) {
  await page.goto('/');
  await pressAt(page, '#login-link');
  await typeAt(page, '#account', account);
  await typeAt(page, '#password', DEMO_PASSWORD);
  await tabTo(page, '#login-submit');
  const answer = page.waitForResponse(
    (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/login',
  );
  const loaded = page.waitForEvent('load');
  await page.keyboard.press('Enter');
  assert.equal((await answer).status(), 303, `${account} signs in`);
  await loaded;
}

test('register → approve → execute → view with the keyboard only', { timeout: 240_000 }, async () => {
  await demo.run('keyboard', async ({ page, open }) => {
    await signInByKeyboard(page, 'lin.meiling');

    // The skip link is the first stop and lands on the content.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.className), 'skip-link');

    // Form 2, filled and sent from the keyboard.
    await pressAt(page, '#nav-registrations');
    await pressAt(page, '#reg-new');
    await typeAt(page, '#subject_name', '王大同');
    await typeAt(page, '#subject_id', 'F131104093');
    await tabTo(page, 'input[name=items][value=C0101]');
    await page.keyboard.press('Space');
    assert.equal(await page.isChecked('input[name=items][value=C0101]'), true);
    await tabTo(page, '#legal_basis');
    await arrowToOption(page, 'social-assistance-44-3-1');
    await typeAt(page, '#relevance', '申請人申請低收入戶資格，須查核其投保薪資以核算家庭總收入');
    await typeAt(page, '#case_no', '115社助字第88號');
    await shot(page, 'keyboard', '01-form');
    await pressAt(page, '#reg-submit');
    assert.match(pathOf(page), /^\/registrations\/\d+-\d+$/);
    const no = await page.locator('#reg-no').innerText();
    assert.equal(await page.getAttribute('#reg-state', 'data-state'), 'registered');

    // Her supervisor approves from his inbox.
    const { page: chen } = await open();
    await signInByKeyboard(chen, 'chen.jianhong');
    await tabTo(chen, '#nav-registrations');
    await pressAndLoad(chen, 'Enter');
    await tabTo(chen, '#to-approve a.reg-open', no);
    await pressAndLoad(chen, 'Enter');
    await tabTo(chen, '#approve-comment');
    await chen.keyboard.type('同意查調');
    await tabTo(chen, '#reg-approve');
    await pressAndLoad(chen, 'Enter');
    assert.equal(await chen.getAttribute('#reg-state', 'data-state'), 'approved');
    await shot(chen, 'keyboard', '02-approved');

    // She runs it from her inbox (connected mode: the demo's simulator) and opens the result.
    await pressAt(page, '#nav-registrations');
    await tabTo(page, '#to-execute a.reg-open', no);
    await pressAndLoad(page, 'Enter');
    await pressAt(page, '#reg-execute', 'Space');
    await page.locator('#result-open-C0101').waitFor();
    await pressAt(page, '#result-open-C0101');
    assert.match(pathOf(page), /\/results\/C0101$/);
    const mark = await page.locator('#watermark-text').innerText();
    assert.match(mark, /林美玲/);
    assert.ok(mark.includes(`登記編號 ${no}`), mark);
    await shot(page, 'keyboard', '03-result');
  });
});
