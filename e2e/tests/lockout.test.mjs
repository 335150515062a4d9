// Account lockout: after 5 wrong passwords even the right one is refused (15 minutes).
// Uses huang.yating, whom no other test signs in as.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiMe, pathOf, sessionCookie, shot, signIn } from '../lib/browser.mjs';
import { useDemo } from '../lib/harness.mjs';
import { DEMO_PASSWORD } from '../lib/server.mjs';

const demo = useDemo();
const ACCOUNT = 'huang.yating';

async function errorCode(page) {
  const error = page.locator('#login-error');
  assert.equal(await error.isVisible(), true, 'the login page shows an error');
  // The code for machines is the alert's attribute; the text is for people.
  return (await error.getAttribute('data-code')).trim();
}

test('five wrong passwords lock the account; then the right password is refused too', { timeout: 120_000 }, async () => {
  await demo.run('lockout', async ({ context, page }) => {
    await page.goto('/login');
    await shot(page, 'lockout', '00-login');

    const codes = [];
    let lockedAt = 0;
    for (let attempt = 1; attempt <= 6 && !lockedAt; attempt += 1) {
      const response = await signIn(page, ACCOUNT, `wrong-password-${attempt}!`);
      assert.equal(pathOf(page), '/login');
      await shot(page, 'lockout', `0${attempt}-wrong-${attempt}`);
      const code = await errorCode(page);
      codes.push(code);
      if (code === 'login.account_locked') {
        lockedAt = attempt;
        assert.equal(response.status(), 423);
      } else {
        assert.equal(code, 'login.wrong_password', `attempt ${attempt}`);
        assert.equal(response.status(), 401);
      }
      assert.equal(await sessionCookie(context), undefined);
    }
    assert.ok(
      lockedAt === 5 || lockedAt === 6,
      `the 5th or 6th attempt reports the lockout; codes were ${codes.join(', ')}`,
    );

    const response = await signIn(page, ACCOUNT, DEMO_PASSWORD);
    assert.equal(response.status(), 423);
    assert.equal(pathOf(page), '/login');
    assert.equal(await errorCode(page), 'login.account_locked', 'the right password is refused');
    await shot(page, 'lockout', '07-right-password-refused');
    assert.equal(await sessionCookie(context), undefined, 'no session for a locked account');
    assert.equal((await apiMe(page)).status, 401);
  });
});
