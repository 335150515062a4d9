// Query permissions (§2, Form 1) in the browser: one application from the applicant through
// her supervisor, the permission administrator (effective today) and the countersign, ending
// in her grants and the administrator's overview. A screenshot of every page on the way.
// (The demo starts lin.meiling with every item, so her application narrows them to two.)

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clickAndLoad, pathOf, shot } from '../lib/browser.mjs';
import { useDemo } from '../lib/harness.mjs';
import { signedIn, signInAs } from '../lib/workflow.mjs';

const demo = useDemo();

// lin.meiling's invented national ID: its last four digits are on her demo staff record.
const LIN_ID = 'A100131234';

/** Opens the inbox, finds the application, opens it and approves it. */
async function approveFromInbox(page, name, formNumber, { date, comment } = {}) {
  await page.goto('/permissions');
  await clickAndLoad(page, page.locator('#perm-inbox-link'));
  const row = page.locator('#inbox tr', { hasText: formNumber });
  assert.equal(await row.count(), 1, `${formNumber} waits in the inbox`);
  await shot(page, 'permissions', `${name}-1-inbox`);
  await clickAndLoad(page, row.locator('a.inbox-open'));
  assert.match(pathOf(page), /^\/permissions\/applications\/\d+$/);
  assert.equal(await page.isVisible('#decide-form'), true, 'the decision form is shown');
  assert.equal(await page.locator('#app-national-id').innerText(), 'A10****234');
  await page.check('#decision-approve');
  if (date !== undefined) {
    assert.equal(await page.isVisible('#effective_from'), true, 'the administrator gives a date');
    await page.fill('#effective_from', date);
  }
  if (comment) await page.fill('#comment', comment);
  await shot(page, 'permissions', `${name}-2-decide`);
  await clickAndLoad(page, page.locator('#decide-submit'));
  assert.match(await page.locator('#perm-notice').innerText(), /已完成簽核/);
  await shot(page, 'permissions', `${name}-3-decided`);
}

function rocShortToday() {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Taipei', year: 'numeric', month: '2-digit', day: '2-digit' })
      .formatToParts(new Date())
      .map((p) => [p.type, p.value]),
  );
  return `${Number(parts.year) - 1911}/${parts.month}/${parts.day}`;
}

test('one application goes from the applicant to the countersign and becomes her grants', { timeout: 240_000 }, async () => {
  await demo.run('permissions', async ({ page, open }) => {
    // The applicant fills in Form 1.
    await signInAs(page, 'lin.meiling');
    await clickAndLoad(page, page.locator('#nav-permissions'));
    assert.equal(pathOf(page), '/permissions');
    await shot(page, 'permissions', 'lin-1-home');
    await clickAndLoad(page, page.locator('#perm-apply-link'));
    assert.equal(pathOf(page), '/permissions/apply');
    assert.equal(await page.isChecked('#kind-new'), true);
    // The demo already gave lin.meiling every item; she narrows them to two (異動查調項目).
    await page.check('#kind-change_items');
    await page.fill('#reason', '辦理低收入戶及中低收入戶資格審查');
    await page.fill('#national_id', LIN_ID);
    await page.fill('#phone', '07-7344800');
    await page.fill('#email', 'lin.meiling@example.org');
    await page.fill('#egov_account', 'egov-lin');
    await page.check('#item-C0101');
    await page.check('#item-B0101');
    await page.check('#read_pdpa');
    await page.check('#has_card');
    await shot(page, 'permissions', 'lin-2-apply');
    await clickAndLoad(page, page.locator('#apply-save'));
    assert.match(pathOf(page), /^\/permissions\/applications\/\d+$/);
    assert.equal(await page.getAttribute('#app-state', 'data-state'), 'draft');
    assert.equal(await page.locator('#app-national-id').innerText(), 'A10****234');
    assert.equal((await page.content()).includes(LIN_ID), false, 'the full ID is never shown');
    const formNumber = (await page.locator('#form-number').innerText()).trim();
    assert.match(formNumber, /^\d{3}-\d{4}$/);
    await shot(page, 'permissions', 'lin-3-draft');
    await clickAndLoad(page, page.locator('#app-submit'));
    assert.equal(await page.getAttribute('#app-state', 'data-state'), 'pending');
    assert.match(await page.locator('#app-state-detail').innerText(), /申請人單位主管/);
    await shot(page, 'permissions', 'lin-4-submitted');

    // Her supervisor, the permission administrator (effective today), the countersign.
    await approveFromInbox(await signedIn(open, 'chen.jianhong'), 'chen', formNumber, { comment: '同意' });
    const wu = await signedIn(open, 'wu.zhiming');
    await approveFromInbox(wu, 'wu', formNumber, { date: rocShortToday(), comment: '核定' });
    await approveFromInbox(await signedIn(open, 'zhang.shuhui'), 'zhang', formNumber);

    // The applicant sees every sign-off with ROC dates, and her grants.
    await page.goto('/permissions');
    const mine = page.locator('#perm-mine tr', { hasText: formNumber });
    assert.equal(await mine.getAttribute('data-state'), 'approved');
    await shot(page, 'permissions', 'lin-5-home-approved');
    await clickAndLoad(page, mine.locator('a'));
    assert.equal(await page.getAttribute('#app-state', 'data-state'), 'approved');
    const steps = page.locator('#app-steps tbody tr');
    assert.equal(await steps.count(), 3);
    const signers = await steps.allInnerTexts();
    for (const [i, who] of ['陳建宏', '吳志明', '張淑慧'].entries()) {
      assert.match(signers[i], new RegExp(who));
      assert.match(signers[i], /民國 \d+ 年 \d+ 月 \d+ 日/);
    }
    await shot(page, 'permissions', 'lin-6-approved');
    await clickAndLoad(page, page.locator('#nav-permissions'));
    await clickAndLoad(page, page.locator('#perm-grants-link'));
    const items = await page.locator('#grants tr[data-status="active"] .grant-item').allInnerTexts();
    assert.equal(items.length, 2, `active: ${items}`);
    assert.ok(items.some((t) => t.startsWith('C0101')));
    assert.ok(items.some((t) => t.startsWith('B0101')));
    assert.ok(await page.locator('#grants tr[data-status="ended"]').count() > 0, 'the other items ended');
    await shot(page, 'permissions', 'lin-7-grants');

    // The administrator's overview, filtered by unit and item.
    await wu.goto('/permissions');
    await clickAndLoad(wu, wu.locator('#perm-overview-link'));
    await wu.selectOption('#filter-unit', 'social-assistance');
    await wu.selectOption('#filter-item', 'C0101');
    await clickAndLoad(wu, wu.locator('#filter-submit'));
    assert.equal(await wu.locator('#grants tbody tr').count(), 1);
    assert.match(await wu.locator('#grants tbody tr').innerText(), /林美玲/);
    await shot(wu, 'permissions', 'wu-4-overview');
  });
});
