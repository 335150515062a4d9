// What the pages say and how they sit in the window: no page scrolls sideways at 1,280 px,
// and the audit-trail search reads in words, counts, pages both ways and exports CSV (§7, §8).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clickAndLoad, shot } from '../lib/browser.mjs';
import { useDemo } from '../lib/harness.mjs';
import { fillForm3, signedIn } from '../lib/workflow.mjs';
import { DEMO_PASSWORD } from '../lib/server.mjs';

const demo = useDemo();

/** The page's width beyond the window, in CSS pixels (0 when nothing scrolls sideways). */
async function overflow(page) {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

test('no page scrolls sideways at a 1,280 px window', { timeout: 180_000 }, async () => {
  await demo.run('words-width', async ({ open }) => {
    const pages = {
      'lin.meiling': ['/', '/registrations', '/registrations/new', '/registrations/batch', '/permissions', '/permissions/apply', '/catalogue'],
      'cai.peiling': ['/requests', '/requests/new'],
      'zheng.zhihao': ['/audit', '/oversight'],
      'wu.zhiming': ['/permissions/inbox', '/permissions/admin/grants', '/permissions/admin/accounts', '/admin/usage-log', '/admin/enrolment'],
    };
    for (const [account, paths] of Object.entries(pages)) {
      const page = await signedIn(open, account);
      for (const path of paths) {
        const r = await page.goto(path);
        assert.ok(r.status() < 400, `${account} ${path}: ${r.status()}`);
        assert.equal(page.viewportSize().width, 1280);
        const extra = await overflow(page);
        if (extra > 0) await shot(page, 'words-width', path.replaceAll('/', '_'));
        assert.ok(extra <= 0, `${path} (${account}) is ${extra} px wider than the window`);
      }
    }
  });
});

test('the audit search reads in words, counts, pages both ways and exports', { timeout: 180_000 }, async () => {
  await demo.run('words-audit', async ({ open }) => {
    const page = await signedIn(open, 'zheng.zhihao');
    await page.goto('/audit');
    // More searches than one page holds: each is itself recorded (§7).
    const csrf = await page.locator('input[name=csrf]').first().inputValue();
    for (let i = 0; i < 55; i++) {
      const r = await page.request.post('/audit/search', { form: { csrf, action: 'auth.login.succeeded' } });
      assert.equal(r.status(), 200);
    }

    // The action is a list, in words.
    const label = await page.locator('#audit-action option[value="audit_trail.searched"]').innerText();
    assert.equal(label, '查詢稽核軌跡');
    await page.selectOption('#audit-action', 'audit_trail.searched');
    await clickAndLoad(page, page.locator('#audit-search'));
    await shot(page, 'words-audit', '01-first-page');
    const total = await page.locator('#audit-total').innerText();
    const [all, shown] = total.match(/\d+/g).map(Number);
    assert.ok(all >= 55, total);
    assert.equal(shown, 50);
    // Actions and outcomes in words, never their codes.
    const cells = await page.locator('#audit-results tbody tr td:nth-child(4)').allInnerTexts();
    assert.ok(cells.every((c) => c === '查詢稽核軌跡'), cells.join());
    const outcomes = await page.locator('#audit-results tbody tr td:nth-child(6)').allInnerTexts();
    assert.ok(outcomes.every((c) => c === '成功'), outcomes.join());
    assert.equal(await page.locator('#audit-newer').count(), 0, 'the first page has nothing newer');
    const firstSeq = await page.locator('#audit-results tbody tr').first().getAttribute('data-seq');

    // Older, then back.
    await clickAndLoad(page, page.locator('#audit-older button'));
    await shot(page, 'words-audit', '02-older');
    const olderFirst = Number(await page.locator('#audit-results tbody tr').first().getAttribute('data-seq'));
    assert.ok(olderFirst < Number(firstSeq));
    await clickAndLoad(page, page.locator('#audit-newer button'));
    const backFirst = await page.locator('#audit-results tbody tr').first().getAttribute('data-seq');
    // Searches made meanwhile are newer still: the page back starts at or after the first one.
    assert.ok(Number(backFirst) >= Number(firstSeq), `${backFirst} < ${firstSeq}`);

    // Export: a CSV file of every matching record, itself recorded.
    const download = page.waitForEvent('download');
    await page.click('#audit-export');
    const file = await download;
    assert.match(file.suggestedFilename(), /^audit-trail-\d{8}-\d{6}\.csv$/);
    const path = await file.path();
    const { readFile } = await import('node:fs/promises');
    const text = (await readFile(path, 'utf8')).replace(/^\uFEFF/, '');
    const lines = text.trim().split('\n');
    assert.match(lines[0], /^序號,時間（臺北）,執行者帳號,動作,動作代碼/);
    assert.ok(lines.length - 1 >= all, `${lines.length - 1} rows for ${all}`);
    assert.ok(lines.slice(1).every((l) => l.includes(',查詢稽核軌跡,audit_trail.searched,')));

    await page.goto('/audit');
    await page.selectOption('#audit-action', 'audit_trail.exported');
    await clickAndLoad(page, page.locator('#audit-search'));
    assert.match(await page.locator('#audit-total').innerText(), /符合 1 筆/);
  });
});

test('a refused form keeps what was typed; unlocking returns to the locked page', { timeout: 180_000 }, async () => {
  await demo.run('words-kept', async ({ open }) => {
    // Form 3 with a count that does not match the list: refused, everything typed kept.
    const cai = await signedIn(open, 'cai.peiling');
    await cai.goto('/requests/new');
    await cai.fill('#applicant_title', '課員');
    const list = '陳阿明,E123456783';
    await fillForm3(cai, { count: '2', subjects: list });
    await clickAndLoad(cai, cai.locator('#req-submit'));
    await shot(cai, 'words-kept', '01-form3-refused');
    assert.equal(await cai.getAttribute('#req-error', 'data-code'), 'request.subject_count');
    assert.doesNotMatch(await cai.locator('#req-error').innerText(), /request\.subject_count|批次檔/);
    assert.equal(await cai.inputValue('#subjects'), list);
    assert.equal(await cai.inputValue('#relevance'), '中低收入老人生活津貼申請，需確認申請人就業收入');
    assert.equal(await cai.inputValue('#declared_subject_count'), '2');
    assert.equal(await cai.isChecked('input[name=items][value=C0101]'), true);

    // Lock on a page, a wrong password says how many attempts are left, unlock returns there.
    const lin = await signedIn(open, 'lin.meiling');
    await lin.goto('/registrations/new');
    await clickAndLoad(lin, lin.locator('#lock-now'));
    assert.equal(new URL(lin.url()).pathname, '/session/locked');
    await lin.fill('#unlock-password', 'not-my-password');
    await clickAndLoad(lin, lin.locator('#unlock-submit'));
    assert.match(await lin.locator('#locked-screen [role=alert]').innerText(), /再錯 \d+ 次將鎖定帳號/);
    await lin.fill('#unlock-password', DEMO_PASSWORD);
    await clickAndLoad(lin, lin.locator('#unlock-submit'));
    assert.equal(new URL(lin.url()).pathname, '/registrations/new');
    await shot(lin, 'words-kept', '02-unlocked-back');
  });
});

test('sign-in without a card reader ends with a message, not an endless wait', { timeout: 120_000 }, async () => {
  await demo.run('words-no-reader', async ({ page }) => {
    await page.clock.install();
    await page.goto('/login');
    await page.fill('#account', 'lin.meiling');
    await page.fill('#password', DEMO_PASSWORD);
    await page.uncheck('#use-demo-signer');
    await page.click('#login-submit');
    const status = page.locator('#login-status');
    await page.waitForFunction(() => document.getElementById('login-status').textContent !== '');
    // Nothing answers on the card component's port: after the timeout the page says what to
    // check (or, if the browser blocked the component's window, says that at once). The
    // timeout starts only once the nonce has come back, which on a busy machine can be after
    // a first jump of the page's clock: jump again until the message shows (six jumps at most).
    const settled = () => page.evaluate(() => {
      const text = document.getElementById('login-status').textContent;
      return /讀卡元件/.test(text) && !/正在等待/.test(text);
    });
    for (let jump = 0; jump < 6 && !(await settled()); jump += 1) {
      await page.clock.fastForward(25_000);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    assert.match(await status.innerText(), /讀卡元件(沒有回應|的視窗被瀏覽器封鎖)/);
    await shot(page, 'words-no-reader', '01-message');
    assert.equal(new URL(page.url()).pathname, '/login');
  });
});
