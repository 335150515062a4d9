// Query registration in the browser: register → approve → execute → view → print,
// and a Form 3 request from the district office to the delivered result.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clickAndLoad, pathOf, shot } from '../lib/browser.mjs';
import { useDemo } from '../lib/harness.mjs';
import { fillForm2, fillForm3, signedIn, signInAs } from '../lib/workflow.mjs';

const demo = useDemo();

test('register → approve → execute → view → print', { timeout: 180_000 }, async () => {
  await demo.run('registration', async ({ page, open }) => {
    await signInAs(page, 'lin.meiling');

    // Register (Form 2): lin queries for herself.
    await clickAndLoad(page, page.locator('#nav-registrations'));
    await shot(page, 'registration', '01-inbox-lin');
    await clickAndLoad(page, page.locator('#reg-new'));
    await fillForm2(page, { items: ['C0101', 'B0101'] });
    await shot(page, 'registration', '02-form');
    await clickAndLoad(page, page.locator('#reg-submit'));
    assert.match(pathOf(page), /^\/registrations\/\d+-\d+$/);
    const no = await page.locator('#reg-no').innerText();
    assert.equal(await page.getAttribute('#reg-state', 'data-state'), 'registered');
    const shownId = await page.locator('#reg-subject-id').innerText();
    assert.notEqual(shownId, 'F131104093', 'the ID is masked');
    assert.equal(await page.locator('#reg-approve').count(), 0, 'no approving one’s own');
    await shot(page, 'registration', '03-registered');

    // The supervisor approves from the inbox.
    const chen = await signedIn(open, 'chen.jianhong');
    await chen.goto('/registrations');
    await shot(chen, 'registration', '04-inbox-chen');
    await clickAndLoad(chen, chen.locator(`#to-approve a.reg-open:text("${no}")`));
    await shot(chen, 'registration', '05-to-approve');
    await chen.fill('#approve-comment', '同意查調');
    await clickAndLoad(chen, chen.locator('#reg-approve'));
    assert.equal(await chen.getAttribute('#reg-state', 'data-state'), 'approved');
    await shot(chen, 'registration', '06-approved');

    // Execute in connected mode (the demo's BLI simulator).
    await page.goto(`/registrations/${no}`);
    await shot(page, 'registration', '07-to-execute');
    await clickAndLoad(page, page.locator('#reg-execute'));
    await page.locator('#result-open-C0101').waitFor();
    await shot(page, 'registration', '08-executed');

    // View: watermark with the viewer, the time and the number; no-store.
    const viewed = page.waitForResponse((x) => new URL(x.url()).pathname.endsWith('/results/C0101'));
    await page.click('#result-open-C0101');
    const response = await viewed;
    await page.waitForLoadState('load');
    assert.equal(response.headers()['cache-control'], 'no-store');
    const mark = await page.locator('#watermark-text').innerText();
    assert.match(mark, /林美玲/);
    assert.match(mark, /民國 \d+ 年/);
    assert.ok(mark.includes(`登記編號 ${no}`), mark);
    assert.ok((await page.locator('#watermark span').count()) > 10, 'the watermark covers the page');
    assert.equal(await page.locator('a[download]').count(), 0, 'no download link');
    await shot(page, 'registration', '09-result');

    // Print for the case file: numbered, watermarked, print stylesheet.
    await clickAndLoad(page, page.locator('#result-print'));
    assert.match(await page.locator('#print-no').innerText(), /1/);
    assert.match(await page.locator('#watermark-text').innerText(), /列印第 1 份/);
    await shot(page, 'registration', '10-print-view');
    await page.emulateMedia({ media: 'print' });
    assert.equal(await page.locator('header.top').isVisible(), false, 'no page chrome on paper');
    assert.equal(await page.locator('#watermark').isVisible(), true, 'the watermark prints');
    await shot(page, 'registration', '11-printed');
    await page.emulateMedia({ media: 'screen' });
  });
});

test('a Form 3 request from the district office reaches its delivered result', { timeout: 180_000 }, async () => {
  await demo.run('form3', async ({ page, open }) => {
    await signInAs(page, 'cai.peiling');
    await page.goto('/requests/new');
    await fillForm3(page);
    await shot(page, 'form3', '01-request-form');
    await clickAndLoad(page, page.locator('#req-submit'));
    assert.match(pathOf(page), /^\/requests\/R\d+-\d+$/);
    const rno = await page.locator('#req-no').innerText();
    assert.equal(await page.getAttribute('#req-state', 'data-state'), 'awaiting_consent');
    await shot(page, 'form3', '02-filed');
    // §5 ¶3: a district-office applicant sees only the menus that apply to her.
    assert.equal(await page.locator('#nav-permissions').count(), 0);
    assert.equal(await page.locator('#nav-oversight').count(), 0);
    assert.equal(await page.locator('#nav-mine').count(), 1);

    // Her office's supervisor consents (申請人單位主管核章) before the bureau sees it.
    const yang = await signedIn(open, 'yang.shuling');
    await yang.goto('/registrations');
    await clickAndLoad(yang, yang.locator(`#requests-to-sign a.req-open:text("${rno}")`));
    await clickAndLoad(yang, yang.locator('#req-consent'));
    assert.equal(await yang.getAttribute('#req-state', 'data-state'), 'submitted');
    await shot(yang, 'form3', '02b-consented');

    // The responsible unit (li.guowei, elderly welfare) accepts and assigns himself.
    const li = await signedIn(open, 'li.guowei');
    await li.goto('/registrations');
    await clickAndLoad(li, li.locator(`#requests-to-review a.req-open:text("${rno}")`));
    await shot(li, 'form3', '03-review');
    await li.fill('#accept-opinion', '符合老人福利法規定，受理');
    await clickAndLoad(li, li.locator('#req-accept'));
    assert.equal(await li.getAttribute('#req-state', 'data-state'), 'accepted');
    const no = await li.locator('#req-registrations a.reg-open').first().innerText();
    await shot(li, 'form3', '04-accepted');

    // The unit supervisor approves the registration.
    const xu = await signedIn(open, 'xu.wenjie');
    await xu.goto(`/registrations/${no}`);
    await clickAndLoad(xu, xu.locator('#reg-approve'));
    assert.equal(await xu.getAttribute('#reg-state', 'data-state'), 'approved');
    await shot(xu, 'form3', '05-approved');

    // The querier executes; he and the unit supervisor sign the request; he records delivery
    // inside the system, which closes it.
    await li.goto(`/registrations/${no}`);
    await clickAndLoad(li, li.locator('#reg-execute'));
    await li.locator('#result-open-C0101').waitFor();
    await li.goto(`/requests/${rno}`);
    await clickAndLoad(li, li.locator('#req-sign'));
    await xu.goto(`/requests/${rno}`);
    await clickAndLoad(xu, xu.locator('#req-sign'));
    await li.goto(`/requests/${rno}`);
    await clickAndLoad(li, li.locator('#req-deliver'));
    assert.equal(await li.getAttribute('#req-state', 'data-state'), 'closed');
    await shot(li, 'form3', '06-delivered');

    // The district office sees the result, watermarked with her name.
    await page.goto(`/requests/${rno}`);
    await shot(page, 'form3', '07-requester-view');
    await clickAndLoad(page, page.locator('#req-results a.result-open').first());
    assert.match(await page.locator('#watermark-text').innerText(), /蔡佩玲/);
    assert.match(await page.locator('#result-subject').innerText(), /陳阿明/);
    await shot(page, 'form3', '08-result');
  });
});
