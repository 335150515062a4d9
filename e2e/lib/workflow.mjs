// The steps many walks share: a person signed in (on the page at hand or a fresh context), a
// date typed the way the forms take it, Form 2 (查詢登記表, §4) filled and filed on its page,
// Form 3 (查調資料申請表, §5 ¶3) and Form 4 (the unannounced audit of lin.meiling, §8) filled.

import assert from 'node:assert/strict';
import { clickAndLoad, signIn, taipeiDay } from './browser.mjs';
import { DEMO_PASSWORD } from './server.mjs';

/** `page` signed in as `account` with the demo password; it must sign in. Answers `page`. */
export async function signInAs(page, account) {
  const r = await signIn(page, account, DEMO_PASSWORD);
  assert.equal(r.status(), 303, `${account} signs in`);
  return page;
}

/** A fresh context signed in as `account`; answers its page. */
export async function signedIn(open, account) {
  const { page } = await open();
  return signInAs(page, account);
}

/** Today in Taipei plus `days`, as the date fields take it: `民國年/月/日`. */
export function rocInDays(days) {
  const { year, month, day } = taipeiDay(new Date(Date.now() + days * 86_400_000));
  return `${year - 1911}/${month}/${day}`;
}

/** The relevance the demo's registrations give (it passes §4 ¶1's purpose rules). */
export const RELEVANCE = '申請人申請低收入戶資格，須查核其投保薪資以核算家庭總收入';

/**
 * Fills the open Form 2 page: 王大同 with `subjectId`, the `items`, the welfare-law basis,
 * `relevance` and `caseNo`.
 */
export async function fillForm2(
  page,
  { subjectId = 'F131104093', items = ['C0101'], relevance = RELEVANCE, caseNo = '115社助字第12號' } = {},
) {
  await page.fill('#subject_name', '王大同');
  await page.fill('#subject_id', subjectId);
  for (const item of items) {
    await page.check(`input[name=items][value=${item}]`);
  }
  await page.selectOption('#legal_basis', 'social-assistance-44-3-1');
  await page.fill('#relevance', relevance);
  await page.fill('#case_no', caseNo);
}

/** Opens Form 2, fills it as [`fillForm2`] does with `form`, files it; answers its number. */
export async function fileForm2(page, form = {}) {
  await page.goto('/registrations/new');
  await fillForm2(page, form);
  await clickAndLoad(page, page.locator('#reg-submit'));
  return page.locator('#reg-no').innerText();
}

/** `approver` approves registration `no`; then `querier` runs it. */
export async function approveAndExecute(querier, approver, no) {
  await approver.goto(`/registrations/${no}`);
  await clickAndLoad(approver, approver.locator('#reg-approve'));
  await querier.goto(`/registrations/${no}`);
  await clickAndLoad(querier, querier.locator('#reg-execute'));
}

/**
 * Fills the open Form 3 page as the district office files it: the elderly-welfare unit is
 * asked for C0101 under the senior-citizens-welfare basis, `count` subjects declared and
 * `subjects` listed (`name,ID` a line).
 */
export async function fillForm3(page, { count = '1', subjects = '陳阿明,E123456783' } = {}) {
  await page.fill('#phone', '07-5511111');
  await page.selectOption('#responsible_unit', 'elderly-welfare');
  await page.selectOption('#legal_basis', 'senior-citizens-welfare-12-1-2');
  await page.fill('#relevance', '中低收入老人生活津貼申請，需確認申請人就業收入');
  await page.check('input[name=items][value=C0101]');
  await page.fill('#declared_subject_count', count);
  await page.fill('#subjects', subjects);
}

/**
 * Fills the open Form 4 page: the IT group audits lin.meiling's queries of the last thirty
 * days today, one case, the documents due in ten days.
 */
export async function fillAuditOfLin(page) {
  await page.fill('input[name=period_from]', rocInDays(-30));
  await page.fill('input[name=period_to]', rocInDays(0));
  await page.fill('input[name=audit_date]', rocInDays(0));
  await page.selectOption('select[name=querier]', 'lin.meiling');
  await page.selectOption('select[name=auditing_unit]', 'it-group');
  await page.fill('input[name=auditing_unit_phone]', '07-3368333#2101');
  await page.fill('input[name=documents_deadline]', rocInDays(10));
  await page.fill('input[name=cases]', '1');
}
