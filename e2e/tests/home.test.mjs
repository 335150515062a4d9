// The home page per role: signed out it explains the system and how to
// sign in, and lists nobody (the demo's accounts are on its own start page, /demo); signed in
// it lists what waits for the person, oldest first, with the deadline as an ROC date and the
// working days left, and the navigation counts it on every page.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clickAndLoad, pathOf, shot } from '../lib/browser.mjs';
import { useDemo } from '../lib/harness.mjs';
import { fileForm2, signedIn, signInAs } from '../lib/workflow.mjs';
import { DEMO_PASSWORD } from '../lib/server.mjs';

const demo = useDemo();

test('signed out, the home page explains the system; the demo start page lists the accounts', { timeout: 120_000 }, async () => {
  await demo.run('home-signed-out', async ({ page }) => {
    await page.goto('/');
    assert.equal(await page.locator('#how-to-sign-in').isVisible(), true);
    assert.equal(await page.locator('#worklist').count(), 0);
    const text = await page.locator('main').innerText();
    assert.ok(!text.includes('lin.meiling'), 'no staff list on the home page');
    await shot(page, 'home', '01-signed-out');

    await clickAndLoad(page, page.locator('#home-demo-link a'));
    assert.equal(pathOf(page), '/demo');
    const accounts = await page.locator('#demo-accounts tbody td:first-child').allInnerTexts();
    assert.ok(accounts.includes('lin.meiling') && accounts.includes('chen.jianhong'));
    assert.equal(await page.locator('#demo-password code').innerText(), DEMO_PASSWORD);
    await shot(page, 'home', '02-demo-start');
  });
});

test('what waits for the supervisor and the querier, with ROC deadlines and counts in the menu', { timeout: 180_000 }, async () => {
  await demo.run('home-worklist', async ({ page, open }) => {
    await signInAs(page, 'lin.meiling');
    assert.equal(await page.locator('#worklist-empty').isVisible(), true, 'nothing waits yet');
    const no = await fileForm2(page, { subjectId: 'A123456789', caseNo: '115社助字第89號' });

    // The supervisor: the registration waits for his approval, counted beside the menu.
    const chen = await signedIn(open, 'chen.jianhong');
    const row = chen.locator('#worklist-table tr[data-task=approve_registration]');
    assert.equal(await row.count(), 1);
    assert.ok((await row.innerText()).includes(no));
    assert.match(await chen.locator('#nav-registrations').innerText(), /待核准 1/);
    await shot(chen, 'home', '03-supervisor');
    await chen.goto('/catalogue');
    assert.match(await chen.locator('#nav-registrations').innerText(), /待核准 1/, 'on every page');

    // Approved from the worklist's link: the querier now has it to run, with the day the
    // approval expires (民國) and the working days left.
    await chen.goto('/');
    await clickAndLoad(chen, row.locator('a'));
    assert.equal(pathOf(chen), `/registrations/${no}`);
    await chen.fill('#approve-comment', '同意查調');
    await clickAndLoad(chen, chen.locator('#reg-approve'));
    await page.goto('/');
    const run = page.locator('#worklist-table tr[data-task=execute_registration]');
    assert.equal(await run.count(), 1);
    const cells = await run.locator('td').allInnerTexts();
    assert.ok(cells[1].includes(no));
    assert.match(cells[3], /^民國 \d+ 年 \d+ 月 \d+ 日$/);
    assert.match(cells[4], /尚餘 \d+ 個工作天|今日到期/);
    assert.match(await page.locator('#nav-registrations').innerText(), /待查調 1/);
    await shot(page, 'home', '04-querier');
  });
});
