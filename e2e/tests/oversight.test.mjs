// Oversight in the browser (§4 ¶2, §7, §8 ¶2): the ethics office's alert visible on its inbox
// page (not hidden in <title>), the director's dashboard with its SVG charts, closing the
// quarterly review with its report, and a corrective report filed, submitted and accepted.

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { clickAndLoad, pathOf, shot } from '../lib/browser.mjs';
import { useDemo } from '../lib/harness.mjs';
import { fileForm2, signedIn, signInAs } from '../lib/workflow.mjs';

// F131104093 is on this demo's restricted list: registering it alerts the ethics office.
const listDir = mkdtempSync(join(tmpdir(), 'querywarden-e2e-restricted-'));
const restricted = join(listDir, 'restricted.txt');
writeFileSync(restricted, '# restricted list for the e2e test\nF131104093\n');

const demo = useDemo({ args: ['--restricted-list', restricted] });

test('the ethics alert shows on the inbox page, not only in the title', { timeout: 180_000 }, async () => {
  await demo.run('ethics-alert', async ({ page, open }) => {
    await signInAs(page, 'lin.meiling');
    const no = await fileForm2(page, {
      relevance: '申請人申請中低收入老人生活津貼，須查核其投保資料',
      caseNo: '115社助字第88號',
    });

    const zheng = await signedIn(open, 'zheng.zhihao');
    await clickAndLoad(zheng, zheng.locator('#nav-registrations'));
    const alerts = zheng.locator('#ethics-alerts');
    assert.equal(await alerts.isVisible(), true, 'the alerts table is on the page');
    assert.ok((await alerts.innerText()).includes(no), 'the alert names the registration');
    const title = await zheng.title();
    assert.ok(!title.includes(no), `the title is only the page's name: ${title}`);
    await shot(zheng, 'ethics-alert', '01-inbox');
  });
});

test("the director's dashboard draws its charts", { timeout: 120_000 }, async () => {
  await demo.run('dashboard', async ({ page }) => {
    await signInAs(page, 'zhou.wenhua');
    await clickAndLoad(page, page.locator('#nav-oversight'));
    assert.equal(pathOf(page), '/oversight');
    assert.equal(await page.locator('#ov-dashboard').isVisible(), true);
    assert.equal(await page.locator('#ov-charts svg.chart').count(), 4);
    assert.equal(await page.locator('#chart-items').isVisible(), true);
    assert.match(await page.locator('#ov-open-findings').innerText(), /^\d+$/);
    // §8: the audits waiting for his review, counted, with the way to them.
    const waiting = page.locator('#ov-audits-awaiting-review');
    assert.match(await waiting.innerText(), /^\d+$/);
    assert.equal(await waiting.getAttribute('href'), '/oversight/audits#review-queue');
    await shot(page, 'dashboard', '01-director');
  });
});

test('closing the quarterly review produces the report', { timeout: 120_000 }, async () => {
  await demo.run('review', async ({ page }) => {
    await signInAs(page, 'wu.zhiming');
    await page.goto('/oversight');
    // The scheduler opened the review of the quarter just ended when the server started.
    const link = page.locator('#ov-reviews a.ov-review-open').first();
    await link.waitFor();
    await clickAndLoad(page, link);
    assert.equal(await page.getAttribute('#ov-review-state', 'data-state'), 'open');
    await shot(page, 'review', '01-open');
    // Every finding gets its conclusion before closing.
    while ((await page.locator('form.ov-conclude').count()) > 0) {
      const form = page.locator('form.ov-conclude').first();
      await form.locator('input[name=note]').fill('經查證係公務需要，已說明');
      await clickAndLoad(page, form.locator('button[type=submit]'));
    }
    await clickAndLoad(page, page.locator('#ov-close'));
    assert.equal(await page.getAttribute('#ov-review-state', 'data-state'), 'closed');
    assert.equal(await page.locator('#ov-report').isVisible(), true);
    assert.match(await page.locator('#ov-report').innerText(), /"quarter"/);
    assert.equal(await page.locator('#ov-close').count(), 0, 'a closed review cannot close again');
    await shot(page, 'review', '02-closed');
  });
});

test('a corrective report is filed, submitted and accepted', { timeout: 180_000 }, async () => {
  await demo.run('corrective-report', async ({ page, open }) => {
    await signInAs(page, 'wu.zhiming');
    await page.goto('/oversight/violations');
    await page.fill('#ov-file-account', 'lin.meiling');
    await page.fill('#ov-file-rule', '§6 查調結果以電子郵件傳送');
    await page.fill('#ov-file-evidence', '資訊小組郵件紀錄');
    await clickAndLoad(page, page.locator('#ov-file'));
    assert.match(pathOf(page), /^\/oversight\/violations\/\d+$/);
    const casePath = pathOf(page);
    assert.equal(await page.getAttribute('#ov-case-state', 'data-state'), 'awaiting_report');
    await shot(page, 'corrective-report', '01-filed');

    const lin = await signedIn(open, 'lin.meiling');
    await lin.goto('/oversight/violations');
    await clickAndLoad(lin, lin.locator(`a.ov-case-open[href="${casePath}"]`));
    await lin.fill('#ov-report-text', '已刪除寄出的郵件，並完成個人資料保護教育訓練');
    await clickAndLoad(lin, lin.locator('#ov-report-submit'));
    assert.equal(await lin.getAttribute('#ov-case-state', 'data-state'), 'report_submitted');
    await shot(lin, 'corrective-report', '02-submitted');

    await page.goto(casePath);
    await page.check('#ov-accept');
    await clickAndLoad(page, page.locator('#ov-decide'));
    assert.equal(await page.getAttribute('#ov-case-state', 'data-state'), 'accepted');
    assert.equal(await page.locator('#ov-decide').count(), 0, 'nothing more to decide');
    await shot(page, 'corrective-report', '03-accepted');
  });
});
