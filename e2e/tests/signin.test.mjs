// Sign-in with the DEMO card signer, a wrong password, and the language switch.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiMe, clickAndLoad, pathOf, rocToday, sessionCookie, shot, signIn } from '../lib/browser.mjs';
import { useDemo } from '../lib/harness.mjs';
import { DEMO_PASSWORD } from '../lib/server.mjs';

const demo = useDemo();

test('demo sign-in as lin.meiling lands on the zh-TW home page with her name', { timeout: 120_000 }, async () => {
  await demo.run('signin', async ({ context, page }) => {
    const before = rocToday();
    await page.goto('/login');
    assert.equal(await page.getAttribute('html', 'lang'), 'zh-Hant-TW');
    await assert.doesNotReject(page.locator('fieldset.demo').waitFor({ state: 'visible' }));
    assert.equal(await page.isChecked('#use-demo-signer'), true);
    assert.equal(await sessionCookie(context), undefined, 'no session before signing in');
    await shot(page, 'signin', '01-login');

    const response = await signIn(page, 'lin.meiling', DEMO_PASSWORD);
    assert.equal(response.status(), 303, 'a successful sign-in redirects');
    assert.equal(pathOf(page), '/');
    await shot(page, 'signin', '02-home');

    assert.equal(await page.getAttribute('html', 'lang'), 'zh-Hant-TW');
    const who = await page.locator('.userbar .who').innerText();
    assert.match(who, /林美玲/);
    assert.match(who, /lin\.meiling/);
    assert.equal(await page.isVisible('#lock-now'), true);
    assert.equal(await page.isVisible('#logout'), true);
    assert.match(await page.locator('h1').innerText(), /歡迎使用查調守門員/);

    // The footer date is in the Republic of China calendar, Taipei time.
    const footer = await page.locator('footer').innerText();
    const shown = footer.match(/民國 \d+ 年 \d+ 月 \d+ 日/);
    assert.ok(shown, `a 民國 date in the footer: ${footer}`);
    assert.ok([before, rocToday()].includes(shown[0]), `${shown[0]} is today (${before})`);

    const cookie = await sessionCookie(context);
    assert.ok(cookie, 'qw_session is set');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.equal(await page.getAttribute('body', 'data-lock-after-ms'), String(5 * 60_000));

    const me = await apiMe(page);
    assert.equal(me.status, 200);
    assert.equal(me.body.account, 'lin.meiling');
    assert.equal(me.body.name, '林美玲');
  });
});

test('a wrong password shows the error (its code an attribute) and sets no session', { timeout: 120_000 }, async () => {
  await demo.run('wrong-password', async ({ context, page }) => {
    await page.goto('/login');
    await shot(page, 'wrong-password', '01-login');
    const response = await signIn(page, 'chen.jianhong', 'not-the-right-password');
    assert.equal(response.status(), 401);
    assert.equal(pathOf(page), '/login');
    await shot(page, 'wrong-password', '02-error');

    const error = page.locator('#login-error');
    assert.equal(await error.isVisible(), true);
    assert.equal(await error.getAttribute('data-code'), 'login.wrong_password');
    assert.doesNotMatch(await error.innerText(), /login\.wrong_password/, 'the code is not shown as text');
    const message = (await error.locator('p').first().innerText()).trim();
    assert.ok(message.length > 0, 'a message for people, not only the code');
    assert.equal(await page.inputValue('#account'), 'chen.jianhong', 'the account is kept');
    assert.equal(await page.inputValue('#password'), '', 'the password is not sent back');

    assert.equal(await sessionCookie(context), undefined, 'no qw_session cookie');
    assert.equal(await page.locator('.userbar .who').count(), 0, 'nobody is signed in');
    assert.equal((await apiMe(page)).status, 401);
  });
});

test('the language link switches the pages to English and back', { timeout: 120_000 }, async () => {
  await demo.run('english', async ({ page }) => {
    await page.goto('/login');
    assert.equal(await page.getAttribute('html', 'lang'), 'zh-Hant-TW');
    const link = page.locator('header a.lang');
    assert.equal((await link.innerText()).trim(), 'English');
    // The link sets a cookie and comes back to the same page.
    await clickAndLoad(page, link);
    assert.equal(pathOf(page), '/login');
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.equal(await page.locator('h1').innerText(), 'Sign in with your citizen certificate');
    assert.equal((await page.locator('#login-submit').innerText()).trim(), 'Sign and sign in');
    assert.equal((await page.locator('header a.lang').innerText()).trim(), '中文');
    await shot(page, 'english', '01-login');

    await signIn(page, 'li.guowei', DEMO_PASSWORD);
    assert.equal(pathOf(page), '/');
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.equal(await page.locator('h1').innerText(), 'Welcome to querywarden');
    assert.equal((await page.locator('#logout').innerText()).trim(), 'Sign out');
    assert.equal((await page.locator('#lock-now').innerText()).trim(), 'Lock screen now');
    assert.match(await page.locator('.userbar .who').innerText(), /李國偉/);
    await shot(page, 'english', '02-home');

    await clickAndLoad(page, page.locator('header a.lang'));
    assert.equal(await page.getAttribute('html', 'lang'), 'zh-Hant-TW');
    assert.equal(pathOf(page), '/');
    assert.match(await page.locator('h1').innerText(), /歡迎使用查調守門員/);
    assert.match(await page.locator('.userbar .who').innerText(), /李國偉/, 'still signed in');
    await shot(page, 'english', '03-back-to-zh-TW');
  });
});
