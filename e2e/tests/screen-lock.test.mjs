// Screen lock: after the idle time (and with the "lock now" button) the page is covered at
// once, the server refuses the session, only the lock screen is shown, and the password
// unlocks it.
//
// The idle timer is the page's own setTimeout; Playwright's clock API replaces the page's
// timers so the test moves time forward instead of waiting 5 real minutes.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiMe, clickAndLoad, pathOf, sessionCookie, shot, signIn } from '../lib/browser.mjs';
import { useDemo } from '../lib/harness.mjs';
import { DEMO_PASSWORD } from '../lib/server.mjs';

const demo = useDemo();

/** Texts from the home page that the lock screen must not show. */
async function privateTexts(page) {
  const texts = [await page.locator('.userbar .who').innerText()];
  // Every task and number in the worklist (what waits for the person), if any.
  texts.push(...(await page.locator('main table tbody td:nth-child(-n+2)').allInnerTexts()));
  const checkpoint = page.locator('main pre.note');
  if (await checkpoint.count()) {
    // The signed note's signature line is distinctive; it must not survive the lock.
    const lines = (await checkpoint.innerText()).split('\n').filter((l) => l.trim());
    texts.push(lines.at(-1));
  }
  return texts.map((t) => t.trim()).filter(Boolean);
}

/** Asserts the lock screen is shown and carries none of `secrets`, in the DOM or on screen. */
async function assertLockScreen(page, secrets, who, path = '/session/locked') {
  assert.equal(pathOf(page), path);
  assert.equal(await page.isVisible('#locked-screen'), true);
  assert.equal(await page.isVisible('#unlock-password'), true);
  assert.equal(await page.isVisible('#unlock-submit'), true);
  const html = await page.content();
  const text = await page.locator('body').innerText();
  for (const secret of [...secrets, who.name, who.account]) {
    assert.equal(html.includes(secret), false, `the lock page's DOM does not contain ${secret}`);
    assert.equal(text.includes(secret), false, `the lock page does not show ${secret}`);
  }
  assert.equal(await page.locator('main table, main pre').count(), 0);
}

/** While locked, the API answers 423 and pages go to the lock screen. */
async function assertServerRefuses(page) {
  const me = await apiMe(page);
  assert.equal(me.status, 423, '/api/v1/me is refused while locked');
  assert.equal(me.body?.error?.code, 'session.locked');
  for (const path of ['/', '/catalogue', '/account/password']) {
    await page.goto(path);
    assert.equal(pathOf(page), '/session/locked', `${path} goes to the lock screen`);
  }
}

async function unlock(page, password) {
  await page.fill('#unlock-password', password);
  await clickAndLoad(page, page.locator('#unlock-submit'));
}

test('idle lock covers the page, hides the data, is enforced by the server; the password unlocks', { timeout: 120_000 }, async () => {
  await demo.run('idle-lock', async ({ context, page }) => {
    const who = { account: 'lin.meiling', name: '林美玲' };
    // The page's timers are under the test's control from the first page on.
    await page.clock.install();
    await signIn(page, who.account, DEMO_PASSWORD);
    assert.equal(pathOf(page), '/');
    await shot(page, 'idle-lock', '01-home');
    const secrets = await privateTexts(page);
    assert.ok(secrets.some((s) => s.includes(who.name)));
    const lockAfter = Number(await page.getAttribute('body', 'data-lock-after-ms'));
    assert.equal(lockAfter, 5 * 60_000, 'five minutes by default');

    // Hold the page's lock call so the cover can be checked before it leaves the page.
    let lockCall;
    let lockCalled;
    const lockRequested = new Promise((resolve) => {
      lockCalled = resolve;
    });
    await page.route('**/api/v1/session/lock', (route) => {
      lockCall = route;
      lockCalled();
    });
    const cover = page.locator('#lock-cover');

    // Nearly idle long enough: nothing happens yet.
    await page.clock.fastForward(lockAfter - 10_000);
    assert.equal(await cover.isVisible(), false);
    assert.equal(pathOf(page), '/');
    // Input restarts the idle time.
    await page.mouse.move(200, 200);
    await page.mouse.move(220, 240);
    await page.clock.fastForward(lockAfter - 10_000);
    assert.equal(await cover.isVisible(), false, 'mouse input restarted the idle timer');
    assert.equal((await apiMe(page)).status, 200);

    // Idle past the limit: the cover goes up at once, before the server has answered.
    await page.clock.fastForward(20_000);
    await lockRequested;
    assert.equal(lockCall.request().method(), 'POST');
    assert.ok(lockCall.request().headers()['x-csrf-token'], 'the lock call carries the CSRF token');
    assert.equal(await cover.isVisible(), true, 'the lock cover is shown');
    assert.equal(
      await page.locator('main').evaluate((m) => getComputedStyle(m).visibility),
      'hidden',
    );
    const box = await cover.boundingBox();
    const viewport = page.viewportSize();
    assert.ok(box.x <= 0 && box.y <= 0, 'the cover starts at the top left');
    assert.ok(box.width >= viewport.width && box.height >= viewport.height, 'and fills the window');
    // Whatever is on screen at the user's name and the data is the cover, not the data.
    // (The home page's data is what waits for the person: its worklist.)
    for (const selector of ['.userbar .who', '#worklist', 'main h1']) {
      const onTop = await page.locator(selector).first().evaluate((el) => {
        const r = el.getBoundingClientRect();
        const x = Math.min(Math.max(r.left + r.width / 2, 0), window.innerWidth - 1);
        const y = Math.min(Math.max(r.top + r.height / 2, 0), window.innerHeight - 1);
        const hit = document.elementFromPoint(x, y);
        return Boolean(hit && hit.closest('#lock-cover'));
      });
      assert.equal(onTop, true, `${selector} is covered`);
    }
    await shot(page, 'idle-lock', '02-cover');

    // Let the lock reach the server; the page then goes to the lock screen.
    const lockResponse = page.waitForResponse((r) => r.url().endsWith('/api/v1/session/lock'));
    const locked = page.waitForURL('**/session/locked');
    await lockCall.continue();
    await page.unroute('**/api/v1/session/lock');
    assert.equal((await lockResponse).status(), 204);
    await locked;
    await page.waitForLoadState('load');
    await shot(page, 'idle-lock', '03-locked');
    await assertLockScreen(page, secrets, who);
    assert.ok(await sessionCookie(context), 'the session is kept, only locked');

    await assertServerRefuses(page);
    await shot(page, 'idle-lock', '04-home-while-locked');

    // A wrong password keeps the screen locked.
    await unlock(page, 'not-my-password');
    assert.equal(pathOf(page), '/session/unlock');
    assert.equal(await page.getAttribute('#locked-screen [role=alert]', 'data-code'), 'login.wrong_password');
    assert.match(await page.locator('#locked-screen [role=alert]').innerText(), /再錯 \d+ 次/);
    await shot(page, 'idle-lock', '05-wrong-unlock');
    // (the answer to the unlock form's post, still the lock screen)
    await assertLockScreen(page, secrets, who, '/session/unlock');
    assert.equal((await apiMe(page)).status, 423);

    // Unlocking returns to the last page asked for while locked.
    await unlock(page, DEMO_PASSWORD);
    assert.equal(pathOf(page), '/account/password');
    assert.match(await page.locator('.userbar .who').innerText(), /林美玲/);
    assert.equal(await page.isVisible('#lock-cover'), false);
    assert.equal((await apiMe(page)).status, 200);
    await shot(page, 'idle-lock', '06-unlocked');
  });
});

test('"lock now" locks in one click; the password unlocks', { timeout: 120_000 }, async () => {
  await demo.run('lock-now', async ({ page }) => {
    const who = { account: 'chen.jianhong', name: '陳建宏' };
    await signIn(page, who.account, DEMO_PASSWORD);
    assert.equal(pathOf(page), '/');
    await shot(page, 'lock-now', '01-home');
    const secrets = await privateTexts(page);

    await clickAndLoad(page, page.locator('#lock-now'));
    await shot(page, 'lock-now', '02-locked');
    await assertLockScreen(page, secrets, who);
    await assertServerRefuses(page);

    await unlock(page, DEMO_PASSWORD);
    assert.equal(pathOf(page), '/account/password');
    assert.match(await page.locator('.userbar .who').innerText(), /陳建宏/);
    assert.equal((await apiMe(page)).status, 200);
    await shot(page, 'lock-now', '03-unlocked');
  });
});
