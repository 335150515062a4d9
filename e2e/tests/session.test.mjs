// Sign-out, and one live session per person.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiMe, clickAndLoad, pathOf, sessionCookie, shot, signIn } from '../lib/browser.mjs';
import { useDemo } from '../lib/harness.mjs';
import { DEMO_PASSWORD } from '../lib/server.mjs';

const demo = useDemo();

test('sign-out ends the session on the server and removes the cookie', { timeout: 120_000 }, async () => {
  await demo.run('sign-out', async ({ context, page }) => {
    await signIn(page, 'wu.zhiming', DEMO_PASSWORD);
    assert.equal(pathOf(page), '/');
    assert.match(await page.locator('.userbar .who').innerText(), /吳志明/);
    await shot(page, 'sign-out', '01-home');
    const before = await sessionCookie(context);
    assert.ok(before, 'signed in with a session cookie');
    assert.equal((await apiMe(page)).status, 200);

    await clickAndLoad(page, page.locator('#logout'));
    assert.equal(pathOf(page), '/login');
    await shot(page, 'sign-out', '02-login');
    assert.equal(await sessionCookie(context), undefined, 'the cookie is gone');
    const me = await apiMe(page);
    assert.equal(me.status, 401);
    assert.equal(me.body?.error?.code, 'session.required');

    await page.goto('/');
    assert.equal(await page.locator('.userbar .who').count(), 0, 'nobody is signed in');
    assert.equal(await page.isVisible('#login-link'), true);
    await shot(page, 'sign-out', '03-home-signed-out');
    await page.goto('/account/password');
    assert.equal(pathOf(page), '/login', 'pages that need a session send to sign-in');

    // The old cookie is dead on the server too, not only deleted in the browser.
    await context.addCookies([before]);
    assert.equal((await apiMe(page)).status, 401, 'the old session token is refused');
    await page.goto('/account/password');
    assert.equal(pathOf(page), '/login');
  });
});

test('a second sign-in of the same person ends the first session', { timeout: 120_000 }, async () => {
  await demo.run('second-login', async ({ context: first, page, open }) => {
    await signIn(page, 'zhang.shuhui', DEMO_PASSWORD);
    assert.equal(pathOf(page), '/');
    assert.match(await page.locator('.userbar .who').innerText(), /張淑慧/);
    await shot(page, 'second-login', '01-first-home');
    const firstToken = (await sessionCookie(first)).value;

    const { context: second, page: page2 } = await open();
    await signIn(page2, 'zhang.shuhui', DEMO_PASSWORD);
    assert.equal(pathOf(page2), '/');
    assert.match(await page2.locator('.userbar .who').innerText(), /張淑慧/);
    await shot(page2, 'second-login', '02-second-home');
    assert.notEqual((await sessionCookie(second)).value, firstToken, 'a new session id');

    // The first browser's session is over: its next navigation goes to sign-in.
    await page.goto('/account/password');
    assert.equal(pathOf(page), '/login');
    await shot(page, 'second-login', '03-first-sent-to-login');
    assert.equal((await apiMe(page)).status, 401);
    await page.goto('/');
    assert.equal(await page.locator('.userbar .who').count(), 0, 'first browser is signed out');
    await shot(page, 'second-login', '04-first-home-signed-out');

    // The second one is unaffected.
    assert.equal((await apiMe(page2)).status, 200);
    await page2.reload();
    assert.match(await page2.locator('.userbar .who').innerText(), /張淑慧/);
  });
});
