// The citizen access desk in the browser (個人資料保護法 §10, §13): a querier registers a
// look-up of a subject; the personal-data contact records the subject's request (in person),
// sees the ROC deadline and the working days left, extends it once with a reason, produces
// the report (the registration listed with its ROC time, unit and legal basis; the ID nowhere
// on the page) and records the answer.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { clickAndLoad, pathOf, rocToday, shot, signIn } from '../lib/browser.mjs';
import { useDemo } from '../lib/harness.mjs';
import { fileForm2 } from '../lib/workflow.mjs';
import { DEMO_PASSWORD } from '../lib/server.mjs';

const demo = useDemo();
const SUBJECT = 'F131104093';

test('from recording a request to the report and the answer', { timeout: 240_000 }, async () => {
  await demo.run('citizen', async ({ page, open }) => {
    // A registration that concerns the subject.
    let r = await signIn(page, 'lin.meiling', DEMO_PASSWORD);
    assert.equal(r.status(), 303);
    const reg = await fileForm2(page, {
      subjectId: SUBJECT,
      relevance: '申請人申請中低收入老人生活津貼，須查核其投保資料',
      caseNo: '115社助字第88號',
    });

    // The contact officer: the desk is in her navigation.
    const { page: desk } = await open();
    r = await signIn(desk, 'zhang.shuhui', DEMO_PASSWORD);
    assert.equal(r.status(), 303);
    await clickAndLoad(desk, desk.locator('#nav-citizen'));
    assert.equal(pathOf(desk), '/citizen-requests');
    await shot(desk, 'citizen', '01-desk');

    // Without an identity check the request is refused, with its code, and nothing kept.
    await desk.fill('#cr-national-id', SUBJECT);
    await desk.fill('#cr-asked', '本人勞保資料被查調之紀錄');
    await clickAndLoad(desk, desk.locator('#cr-record'));
    assert.equal(await desk.locator('#cr-error-code').innerText(), 'citizen_report.no_identity_check');
    assert.equal(await desk.locator('#cr-empty').isVisible(), true, 'no request recorded');
    assert.ok(!(await desk.content()).includes(SUBJECT), 'the ID is not echoed back');
    await shot(desk, 'citizen', '02-refused');

    // Recorded in person, received today (ROC, prefilled).
    await desk.fill('#cr-national-id', SUBJECT);
    await desk.check('#cr-identity-in-person');
    await clickAndLoad(desk, desk.locator('#cr-record'));
    assert.match(pathOf(desk), /^\/citizen-requests\/\d{3}-\d{6}$/);
    const no = await desk.locator('#cr-no').innerText();
    assert.equal(await desk.locator('#cr-received-on').innerText(), rocToday());
    assert.match(await desk.locator('#cr-due').innerText(), /^民國 \d+ 年 \d+ 月 \d+ 日$/);
    assert.match(await desk.locator('#cr-days-left').innerText(), /^\d+$/);
    assert.equal(await desk.getAttribute('#cr-state', 'data-state'), 'open');
    assert.ok(!(await desk.content()).includes(SUBJECT));
    await shot(desk, 'citizen', '03-request');

    // One extension, with its reason; the form is gone afterwards.
    const firstDue = await desk.locator('#cr-due').innerText();
    await desk.fill('#cr-extend-reason', '須調閱多個單位之紀錄');
    await clickAndLoad(desk, desk.locator('#cr-extend'));
    assert.ok((await desk.locator('#cr-notice').innerText()).length > 0);
    assert.notEqual(await desk.locator('#cr-due').innerText(), firstDue);
    assert.ok((await desk.locator('#cr-extension').innerText()).includes('須調閱多個單位之紀錄'));
    assert.equal(await desk.locator('#cr-extend-form').count(), 0);

    // The report.
    await clickAndLoad(desk, desk.locator('#cr-produce'));
    assert.equal(pathOf(desk), `/citizen-requests/${no}/report`);
    const entries = desk.locator('#cr-entries tbody tr');
    assert.ok((await entries.count()) >= 1);
    const first = await entries.first().innerText();
    assert.ok(first.includes(reg), `the registration is listed: ${first}`);
    assert.ok(first.includes('社會救助科') && first.includes('social-assistance-44-3-1'), first);
    assert.match(await entries.first().locator('.cr-at').innerText(), /^民國 \d+ 年 \d+ 月 \d+ 日 \d\d:\d\d$/);
    assert.equal(await desk.locator('#cr-withheld').innerText(), '0');
    assert.ok((await desk.locator('#cr-checkpoint').innerText()).length > 0);
    const appendix = JSON.parse(await desk.locator('#cr-appendix').inputValue());
    assert.equal(appendix.withheld, undefined, 'the citizen is not told of withheld entries');
    assert.equal(appendix.appendix.entries.length, appendix.entries.length);
    assert.ok(!(await desk.content()).includes(SUBJECT), 'the ID is not on the report page');
    await shot(desk, 'citizen', '04-report');

    // The answer, with today's date.
    await desk.goto(`/citizen-requests/${no}`);
    await clickAndLoad(desk, desk.locator('#cr-answer'));
    assert.equal(await desk.locator('#cr-answered').innerText(), rocToday());
    assert.equal(await desk.getAttribute('#cr-state', 'data-state'), 'answered');
    await shot(desk, 'citizen', '05-answered');

    // The reply letter: its HTML view, then the PDF from the request's page.
    await clickAndLoad(desk, desk.locator('#doc-citizen-letter a:not([download])'));
    assert.equal(pathOf(desk), `/documents/citizen-letter/${no}`);
    const letter = await desk.locator('section.document').innerText();
    assert.match(letter, /當事人查詢個人資料答復書/);
    assert.match(letter, /准予提供/);
    assert.ok(letter.includes(reg), `the registration is in the letter: ${letter}`);
    assert.ok(letter.includes('F13****093'), 'the ID is printed masked');
    assert.ok(!(await desk.content()).includes(SUBJECT), 'the whole ID is not in the letter');
    await shot(desk, 'citizen', '06-letter');
    await desk.goto(`/citizen-requests/${no}`);
    const [download] = await Promise.all([
      desk.waitForEvent('download'),
      desk.locator('#doc-citizen-letter a[download]').click(),
    ]);
    assert.equal(download.suggestedFilename(), `citizen-letter-${no}.pdf`, 'the file names the request only');
    const bytes = readFileSync(await download.path());
    assert.equal(bytes.subarray(0, 5).toString(), '%PDF-');
    const text = execFileSync('pdftotext', ['-layout', await download.path(), '-'], { encoding: 'utf8' });
    assert.match(text, /當事人查詢個人資料答復書/);
    assert.match(text, /准予提供/);
    assert.ok(text.includes(reg), 'the registration is listed in the PDF');
    assert.ok(!text.includes(SUBJECT), 'the whole ID is not in the PDF');

    // The querier has no desk.
    assert.equal(await page.locator('#nav-citizen').count(), 0);
  });
});
