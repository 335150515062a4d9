// Printed documents (Forms 1–4) in the browser: each record's page links its form; the link
// downloads a PDF whose text (pdftotext) carries the form's title and labels, and the HTML
// view of the same form opens. A screenshot of each HTML view on the way.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { clickAndLoad, pathOf, shot } from '../lib/browser.mjs';
import { useDemo } from '../lib/harness.mjs';
import { approveAndExecute, fileForm2, fillAuditOfLin, fillForm3, signedIn, signInAs } from '../lib/workflow.mjs';

const demo = useDemo();

/** Clicks the PDF link in `#linkId` and returns the downloaded PDF's text. */
async function downloadForm(page, linkId, name) {
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.locator(`#${linkId} a[download]`).click(),
  ]);
  assert.match(download.suggestedFilename(), /^form\d-.+\.pdf$/, 'the file names the record');
  const path = await download.path();
  const bytes = readFileSync(path);
  assert.equal(bytes.subarray(0, 5).toString(), '%PDF-', `${name} is a PDF`);
  return execFileSync('pdftotext', ['-layout', path, '-'], { encoding: 'utf8' });
}

async function htmlView(page, linkId, name) {
  await clickAndLoad(page, page.locator(`#${linkId} a:not([download])`));
  assert.match(pathOf(page), /^\/documents\/form\d\//);
  await shot(page, 'documents', name);
  return page.locator('section.document').innerText();
}

test('each form downloads from its record’s page', { timeout: 300_000 }, async () => {
  await demo.run('documents', async ({ page, open }) => {
    // Form 1: lin.meiling's demo application (approved at every step).
    await signInAs(page, 'lin.meiling');
    await page.goto('/permissions');
    await clickAndLoad(page, page.locator('a[href^="/permissions/applications/"]').first());
    const f1 = await downloadForm(page, 'doc-form1', 'Form 1');
    assert.match(f1, /資料查詢者權限申請表/);
    assert.match(f1, /申請使用單位主管核章/);
    assert.match(f1, /電子簽核/);
    assert.match(await htmlView(page, 'doc-form1', '01-form1'), /權限管理者核章/);

    // Form 2: a registration, approved and executed.
    const no = await fileForm2(page);
    const chen = await signedIn(open, 'chen.jianhong');
    await approveAndExecute(page, chen, no);
    await page.goto(`/registrations/${no}`);
    const f2 = await downloadForm(page, 'doc-form2', 'Form 2');
    assert.match(f2, /查調資料登記表/);
    assert.match(f2, /王大同/);
    assert.doesNotMatch(f2, /F131104093/, 'the ID is masked');
    assert.match(f2, /電子簽核/, 'the supervisor’s approval is in its seal box');
    assert.match(await htmlView(page, 'doc-form2', '02-form2'), /單位主管核章/);

    // The unit's Form 2 register, from the supervisor's unit page (prefilled: his unit, this
    // month so far): the registration is on its sheet.
    await chen.goto('/oversight/unit');
    await clickAndLoad(chen, chen.locator('#doc-register-show'));
    assert.equal(pathOf(chen), '/documents/register');
    const sheet = await chen.locator('section.document').innerText();
    assert.match(sheet, /查調資料登記表/);
    assert.ok(sheet.includes(no), `the registration is on the register: ${sheet}`);
    await shot(chen, 'documents', '02-register');

    // Form 3: a request from the district office.
    const cai = await signedIn(open, 'cai.peiling');
    await cai.goto('/requests/new');
    await fillForm3(cai);
    await clickAndLoad(cai, cai.locator('#req-submit'));
    // Her office's supervisor consents (申請人單位主管核章, §5 ¶3): the form's box shows it.
    const rno = await cai.locator('#req-no').innerText();
    const yang = await signedIn(open, 'yang.shuling');
    await yang.goto(`/requests/${rno}`);
    await clickAndLoad(yang, yang.locator('#req-consent'));
    await cai.goto(`/requests/${rno}`);
    const f3 = await downloadForm(cai, 'doc-form3', 'Form 3');
    assert.match(f3, /查調資料申請表/);
    assert.match(f3, /楊淑玲/, 'the office supervisor’s consent is in its seal box');
    assert.match(f3, /陳阿明/);
    assert.doesNotMatch(f3, /E123456783/, 'the ID is masked');
    assert.match(await htmlView(cai, 'doc-form3', '03-form3'), /業務權責單位/);

    // Form 4: the IT group audits lin.meiling's queries.
    const wu = await signedIn(open, 'wu.zhiming');
    await wu.goto('/oversight/audits');
    await clickAndLoad(wu, wu.locator('#audit-new'));
    await fillAuditOfLin(wu);
    await clickAndLoad(wu, wu.locator('#audit-open-submit'));
    assert.match(pathOf(wu), /^\/oversight\/audits\/\d+$/);
    const f4 = await downloadForm(wu, 'doc-form4', 'Form 4');
    assert.match(f4, /稽核紀錄表/);
    assert.match(f4, new RegExp(`登記 ${no}`), 'the sampled case is listed');
    assert.match(await htmlView(wu, 'doc-form4', '04-form4'), /稽核單位主管/);

    // Someone not entitled gets the same refusal as a number that does not exist.
    const other = await signedIn(open, 'cai.peiling');
    const res = await other.request.get(`/api/v1/documents/form2/${no}`);
    assert.equal(res.status(), 404);
    assert.equal((await res.json()).error.code, 'documents.not_found');
  });
});
