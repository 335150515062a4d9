// The steps many walks share: a second person signed in on a fresh context, a date typed the
// way the forms take it, and Form 2 (查詢登記表, §4) filled and filed on its page.

import assert from 'node:assert/strict';
import { clickAndLoad, signIn, taipeiDay } from './browser.mjs';
import { DEMO_PASSWORD } from './server.mjs';

/** A fresh context signed in as `account`; answers its page. */
export async function signedIn(open, account) {
  const { page } = await open();
  const r = await signIn(page, account, DEMO_PASSWORD);
  assert.equal(r.status(), 303, `${account} signs in`);
  return page;
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
