// Enrolment with one's own card (§3) in the browser: the permission administrator issues a
// reset code on /admin/enrolment (shown once), the colleague enters it on /enrol, proves
// the card (here the DEMO signer, which on this page signs for the holder of the account's
// own enrolment code, since she has no password to give it) and sets a password only she
// knows; the old password no longer signs in, the new one does. A wrong code is refused
// with its rule code before anything is posted.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clickAndLoad, pathOf, shot, signIn, submitSigned } from '../lib/browser.mjs';
import { useDemo } from '../lib/harness.mjs';
import { signInAs } from '../lib/workflow.mjs';
import { DEMO_PASSWORD } from '../lib/server.mjs';

const demo = useDemo();
const NEW_PASSWORD = 'only-she-knows-this-115';

/**
 * Fills the enrolment form and submits it; the DEMO signer signs for `account` with `code`.
 * Resolves with the answer: the server's to the form's post, or the signer's refusal.
 */
async function enrol(page, code, account, password) {
  await page.goto('/enrol');
  await page.fill('#code', code);
  await page.fill('#password', password);
  await page.fill('#password_again', password);
  assert.equal(await page.isChecked('#use-demo-signer'), true, 'the DEMO signer is ticked');
  await page.fill('#account', account);
  return submitSigned(page, '/enrol', '#enrol-submit');
}

test('a reset code, the own card and an own password replace the old password', { timeout: 180_000 }, async () => {
  await demo.run('enrolment', async ({ page, open }) => {
    // The administrator issues the code on the enrolment desk.
    await signInAs(page, 'wu.zhiming');
    await clickAndLoad(page, page.locator('#nav-enrolment'));
    assert.equal(pathOf(page), '/admin/enrolment');
    assert.equal(await page.locator('#crl-table tbody tr').count() > 0, true, 'the CRL in force is listed');
    await page.fill('#account', 'lin.meiling');
    await page.selectOption('#purpose', 'reset');
    await page.fill('#reason', '遺失密碼');
    await shot(page, 'enrolment', '01-issue');
    await clickAndLoad(page, page.locator('#issue-submit'));
    const code = (await page.locator('#the-code').innerText()).trim();
    assert.match(code, /^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/);
    await shot(page, 'enrolment', '02-issued');
    // Shown once: the desk, opened again, does not show it.
    await page.goto('/admin/enrolment');
    assert.equal(await page.locator('#the-code').count(), 0);

    // The colleague, in her own browser: a wrong code first. The card does not sign for it,
    // so nothing is posted and she stays on the form with the rule code shown.
    const { page: lin } = await open();
    let answer = await enrol(lin, 'ZZZZ-ZZZZ-ZZZZ-ZZZZ', 'lin.meiling', NEW_PASSWORD);
    assert.equal(new URL(answer.url()).pathname, '/demo/card/sign');
    assert.equal(answer.status(), 401);
    assert.equal(await lin.locator('#login-error').getAttribute('data-code'), 'enrolment.unknown_code');
    assert.equal(pathOf(lin), '/enrol');
    await shot(lin, 'enrolment', '03-wrong-code');
    answer = await enrol(lin, code, 'lin.meiling', NEW_PASSWORD);
    assert.equal(new URL(answer.url()).pathname, '/enrol');
    assert.equal(answer.status(), 200);
    assert.equal(await lin.isVisible('#enrol-done'), true);
    await shot(lin, 'enrolment', '04-done');

    // The old password is gone; the new one signs in with the card.
    const old = await signIn(lin, 'lin.meiling', DEMO_PASSWORD);
    assert.equal(old.status(), 401);
    assert.equal(await lin.locator('#login-error').getAttribute('data-code'), 'login.wrong_password');
    const fresh = await signIn(lin, 'lin.meiling', NEW_PASSWORD);
    assert.equal(fresh.status(), 303);
    assert.match(await lin.locator('.userbar .who').innerText(), /林美玲/);
    await shot(lin, 'enrolment', '05-signed-in');
  });
});
