// Bulk work where it piles up (§5): the supervisor approves several registrations at once
// from the approval queue — each row shows the subject's name and masked ID, the querier,
// the legal basis and the relevance before its checkbox — and one withdrawn meanwhile is
// refused on its own while the others are approved; the result page says which and why.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clickAndLoad, pathOf, shot } from '../lib/browser.mjs';
import { useDemo } from '../lib/harness.mjs';
import { signInAs } from '../lib/workflow.mjs';

const demo = useDemo();

/** A synthetic citizen ID `A1nnnnnnnC` whose check digit is right (A counts as 10). */
function citizenId(n) {
  const body = `1${String(n).padStart(7, '0')}`;
  const weights = [8, 7, 6, 5, 4, 3, 2, 1];
  let sum = 1 + 0 * 9;
  for (let i = 0; i < 8; i += 1) sum += Number(body[i]) * weights[i];
  const check = (10 - (sum % 10)) % 10;
  return `A${body}${check}`;
}

/** lin registers one subject (for herself) through the form; returns its number. */
async function register(page, name, id, relevance) {
  await page.goto('/registrations/new');
  await page.fill('#subject_name', name);
  await page.fill('#subject_id', id);
  await page.check('input[name=items][value=C0101]');
  await page.selectOption('#legal_basis', 'social-assistance-44-3-1');
  await page.fill('#relevance', relevance);
  await page.fill('#case_no', '115社助字第88號');
  await clickAndLoad(page, page.locator('#reg-submit'));
  assert.match(pathOf(page), /^\/registrations\/\d+-\d+$/);
  return page.locator('#reg-no').innerText();
}

test('a supervisor approves several registrations at once; one withdrawn meanwhile is refused alone', { timeout: 180_000 }, async () => {
  await demo.run('bulk', async ({ page, open }) => {
    await signInAs(page, 'lin.meiling');
    const subjects = [
      ['王小明', citizenId(2_000_001), '低收入戶資格審查，須查核申請人甲之投保薪資'],
      ['李小華', citizenId(2_000_002), '中低收入戶複查，須確認申請人乙目前就業狀況'],
      ['張小英', citizenId(2_000_003), '急難救助申請，須確認申請人丙是否仍有投保'],
    ];
    const nos = [];
    for (const [name, id, why] of subjects) nos.push(await register(page, name, id, why));

    // The supervisor's queue: each row shows what the decision rests on, the ID masked.
    const { page: chen } = await open();
    await signInAs(chen, 'chen.jianhong');
    await chen.goto('/registrations');
    await clickAndLoad(chen, chen.locator('#bulk-open'));
    assert.equal(pathOf(chen), '/registrations/approvals');
    for (const [i, no] of nos.entries()) {
      const row = chen.locator(`#bulk-queue tr[data-no="${no}"]`);
      const [name, id, why] = subjects[i];
      assert.equal(await row.locator('.bulk-subject-name').innerText(), name);
      const masked = await row.locator('.bulk-subject-id').innerText();
      assert.equal(masked, `${id.slice(0, 3)}****${id.slice(7)}`, 'the ID is masked');
      assert.match(await row.innerText(), /林美玲/, 'the querier is named');
      assert.match(await row.innerText(), /社會救助法/, 'the legal basis is named');
      assert.equal(await row.locator('.bulk-relevance').innerText(), why);
      // The checkbox has a name a screen reader reads out.
      await chen.getByLabel(`選取登記 ${no}`).check();
    }
    const html = await chen.content();
    for (const [, id] of subjects) assert.ok(!html.includes(id), 'no whole ID on the page');
    await shot(chen, 'bulk', '01-queue-ticked');

    // Meanwhile lin withdraws the third.
    await page.goto(`/registrations/${nos[2]}`);
    await clickAndLoad(page, page.locator('#reg-cancel'));
    assert.equal(await page.getAttribute('#reg-state', 'data-state'), 'cancelled');

    // Approve the ticked: two approved, the withdrawn one refused with its reason.
    await chen.fill('#bulk-comment', '同意查調');
    await clickAndLoad(chen, chen.locator('#bulk-approve'));
    assert.match(await chen.locator('#bulk-summary').innerText(), /已處理 2 筆，未能處理 1 筆/);
    for (const no of nos.slice(0, 2)) {
      assert.equal(
        await chen.getAttribute(`#bulk-decided tr[data-no="${no}"] td[data-state]`, 'data-state'),
        'approved',
      );
    }
    const refused = chen.locator(`#bulk-refused tr[data-no="${nos[2]}"]`);
    assert.equal(await refused.getAttribute('data-code'), 'registration.wrong_state');
    assert.match(await refused.innerText(), /狀態/);
    await shot(chen, 'bulk', '02-result');

    // Each is its own decision: the registration page shows it approved.
    await chen.goto(`/registrations/${nos[0]}`);
    assert.equal(await chen.getAttribute('#reg-state', 'data-state'), 'approved');

    // Refusing without a reason is refused whole, and says so beside the field.
    await page.goto('/registrations/new');
    const fourth = await register(page, '陳小芳', citizenId(2_000_004), '身心障礙者生活補助複查，須確認申請人丁收入');
    await chen.goto('/registrations/approvals');
    await chen.getByLabel(`選取登記 ${fourth}`).check();
    await clickAndLoad(chen, chen.locator('#bulk-reject'));
    assert.equal(await chen.getAttribute('#bulk-error', 'data-code'), 'approval.comment_required');
    assert.equal(await chen.getAttribute('#bulk-comment', 'aria-invalid'), 'true');
    await shot(chen, 'bulk', '03-reject-needs-reason');
  });
});
