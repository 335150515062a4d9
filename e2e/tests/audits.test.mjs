// Unannounced audits (§8, Form 4) in the browser: the IT group opens an audit of lin.meiling's
// queries, she attaches a document and submits, the auditor records the opinions, the four
// sign-offs follow in order, and the director finds the record waiting and reviews it.
// A screenshot of every page on the way.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clickAndLoad, pathOf, shot } from '../lib/browser.mjs';
import { useDemo } from '../lib/harness.mjs';
import { approveAndExecute, fileForm2, fillAuditOfLin, signedIn, signInAs } from '../lib/workflow.mjs';

const demo = useDemo();

const PDF = Buffer.from('%PDF-1.7\n%audit evidence\n%%EOF');

test('an audit goes from opening to the director’s review', { timeout: 240_000 }, async () => {
  await demo.run('audits', async ({ page, open }) => {
    // lin.meiling queries once (registered, approved, executed).
    await signInAs(page, 'lin.meiling');
    const no = await fileForm2(page);
    const chen = await signedIn(open, 'chen.jianhong');
    await approveAndExecute(page, chen, no);

    // The IT group opens the audit (Form 4).
    const wu = await signedIn(open, 'wu.zhiming');
    await clickAndLoad(wu, wu.locator('#nav-audits'));
    await shot(wu, 'audits', '01-list-wu');
    await clickAndLoad(wu, wu.locator('#audit-new'));
    await fillAuditOfLin(wu);
    await shot(wu, 'audits', '02-new');
    await clickAndLoad(wu, wu.locator('#audit-open-submit'));
    assert.match(pathOf(wu), /^\/oversight\/audits\/\d+$/);
    const url = pathOf(wu);
    assert.equal(await wu.getAttribute('#audit-state', 'data-state'), 'documents');
    assert.equal(await wu.locator(`#audit-cases tr[data-case="${no}"]`).count(), 1);
    await shot(wu, 'audits', '03-opened');

    // lin is told now; she attaches the document and submits.
    await page.goto('/oversight');
    assert.match(await page.locator('#ov-notices').innerText(), /不定期稽核/);
    await page.goto(url);
    const row = page.locator(`#audit-cases tr[data-case="${no}"]`);
    await row.locator('input[type=file]').setInputFiles({ name: '公文.pdf', mimeType: 'application/pdf', buffer: PDF });
    await clickAndLoad(page, row.locator('form.attach button'));
    assert.match(await page.locator('#audit-notice').innerText(), /已附送/);
    assert.match(await row.locator('.doc').innerText(), /公文\.pdf/);
    await shot(page, 'audits', '04-attached');
    await clickAndLoad(page, page.locator('#audit-submit-documents'));
    assert.equal(await page.getAttribute('#audit-state', 'data-state'), 'opinions');

    // The auditor records the case's opinion and the overall opinion.
    await wu.goto(url);
    const case_ = wu.locator(`#audit-cases tr[data-case="${no}"]`);
    await case_.locator('input[name=text]').fill('核准在查調之前，用途相符');
    await clickAndLoad(wu, case_.locator('form.opinion button'));
    await wu.fill('#audit-overall-form textarea[name=text]', '抽查案件符合規定');
    await clickAndLoad(wu, wu.locator('#audit-overall-form button'));
    assert.equal(await wu.getAttribute('#audit-state', 'data-state'), 'sign_off.querier');
    await shot(wu, 'audits', '05-opinions');

    // The sign-offs, in Form 4's order; each signer sees the button only at their turn.
    assert.equal(await wu.locator('#audit-sign').count(), 0, 'not the auditor’s turn yet');
    const zhang = await signedIn(open, 'zhang.shuhui');
    for (const [who, p] of [['lin', page], ['wu', wu], ['chen', chen], ['zhang', zhang]]) {
      await p.goto(url);
      await clickAndLoad(p, p.locator('#audit-sign button'));
      assert.match(await p.locator('#audit-notice').innerText(), /已簽章/, `${who} signed`);
    }
    await shot(zhang, 'audits', '06-signed');

    // The director finds it waiting for his review — counted on his dashboard, whose link
    // leads to the queue — and reviews it.
    const zhou = await signedIn(open, 'zhou.wenhua');
    await clickAndLoad(zhou, zhou.locator('#nav-oversight'));
    const waiting = zhou.locator('#ov-audits-awaiting-review');
    assert.equal(await waiting.innerText(), '1');
    await shot(zhou, 'audits', '07-director-dashboard');
    await clickAndLoad(zhou, waiting);
    assert.equal(pathOf(zhou), '/oversight/audits');
    assert.equal(await zhou.locator('#review-queue a').count(), 1);
    await shot(zhou, 'audits', '07-director-queue');
    await clickAndLoad(zhou, zhou.locator('#review-queue a').first());
    assert.equal(pathOf(zhou), url);
    await zhou.fill('#audit-review-form input[name=comment]', '准予備查');
    await clickAndLoad(zhou, zhou.locator('#audit-review-form button'));
    assert.equal(await zhou.getAttribute('#audit-state', 'data-state'), 'reviewed');
    assert.match(await zhou.locator('#audit-review').innerText(), /准予備查/);
    assert.equal(await zhou.locator('#audit-review-form').count(), 0, 'read-only');
    await shot(zhou, 'audits', '08-reviewed');
    await zhou.goto('/oversight/audits');
    assert.equal(await zhou.locator('#review-queue-empty').count(), 1);
    await zhou.goto('/oversight');
    assert.equal(await zhou.locator('#ov-audits-awaiting-review').innerText(), '0');
  });
});
