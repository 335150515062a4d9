// Headless Debian Chromium through playwright-core, plus the steps the tests share:
// screenshots, sign-in through the login page with the DEMO card signer, and calls to the
// API made from inside the page (so they carry exactly the browser's cookies).

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

// The machine's network is closed: Chromium's own background connections must be off, or
// they are refused and slow everything down.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SCREENSHOT_DIR = join(REPO, 'test-output', 'screenshots');

/**
 * Launches Chromium. `chromium.launch()` gives the browser a fresh temporary user-data-dir
 * of its own and deletes it on close; every test then works in its own browser context.
 */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 60_000,
  });
}

/** A new context (its own cookies) with a zh-TW browser and a fixed window size. */
export async function newContext(browser, baseURL) {
  const context = await browser.newContext({
    baseURL,
    locale: 'zh-TW',
    timezoneId: 'Asia/Taipei',
    viewport: { width: 1280, height: 800 },
  });
  context.setDefaultTimeout(15_000);
  context.setDefaultNavigationTimeout(20_000);
  return context;
}

/** Full-page screenshot saved as test-output/screenshots/<test>-<step>.png. */
export async function shot(page, test, step) {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${test}-${step}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** The path of the page's URL, e.g. `/session/locked`. */
export function pathOf(page) {
  return new URL(page.url()).pathname;
}

/**
 * Fills the login form and submits it with the DEMO card signer; waits for the page the
 * server answers with (home on success, the login page with an error otherwise).
 */
export async function signIn(page, account, password) {
  if (pathOf(page) !== '/login') {
    await page.goto('/login');
  }
  await page.fill('#account', account);
  await page.fill('#password', password);
  const demo = page.locator('#use-demo-signer');
  assert.equal(await demo.isChecked(), true, 'the DEMO signer is ticked by default');
  try {
    return await submitSigned(page, '/login', '#login-submit');
  } catch (e) {
    const status = await page
      .locator('#login-status')
      .textContent()
      .catch(() => '(page gone)');
    throw new Error(`sign-in as ${account} did not post the form: ${e.message}; status: ${status}`);
  }
}

/**
 * Clicks `submit` on a form the DEMO card signer signs (the login, the enrolment): the script
 * fetches a nonce, has the demo card sign it, then posts the form to `formPath`. Answers that
 * post once the page it loads is there; or the signer's refusal once the page shows it (the
 * demo card signs only with the account's password).
 */
export async function submitSigned(page, formPath, submit) {
  const answer = page.waitForResponse(
    (r) => {
      const path = new URL(r.url()).pathname;
      return r.request().method() === 'POST'
        && (path === formPath || (path === '/demo/card/sign' && !r.ok()));
    },
    { timeout: 20_000 },
  );
  const loaded = page.waitForEvent('load', { timeout: 20_000 }).catch(() => null);
  await page.click(submit);
  const response = await answer;
  if (new URL(response.url()).pathname === formPath) {
    await loaded;
  } else {
    await page.locator('#login-error').waitFor({ timeout: 5_000 });
  }
  return response;
}

/** GET /api/v1/me with fetch() inside the page: the status and the JSON body. */
export async function apiMe(page) {
  return page.evaluate(async () => {
    const r = await fetch('/api/v1/me', { credentials: 'same-origin' });
    let body = null;
    try {
      body = await r.json();
    } catch {
      // not JSON
    }
    return { status: r.status, body };
  });
}

/** The context's session cookie, if any. */
export async function sessionCookie(context) {
  const cookies = await context.cookies();
  return cookies.find((c) => c.name === 'qw_session');
}

/** The calendar day of `when` in Taipei: `{ year, month, day }`, Gregorian, as numbers. */
export function taipeiDay(when = new Date()) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone: 'Asia/Taipei',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
    })
      .formatToParts(when)
      .map((p) => [p.type, p.value]),
  );
  return { year: Number(parts.year), month: Number(parts.month), day: Number(parts.day) };
}

/** Today's date in Taipei as the pages print it: 民國 Y 年 M 月 D 日. */
export function rocToday(now = new Date()) {
  const { year, month, day } = taipeiDay(now);
  return `民國 ${year - 1911} 年 ${month} 月 ${day} 日`;
}

/** Clicks something that loads a new page (link, form button) and waits for that page. */
export async function clickAndLoad(page, locator) {
  const loaded = page.waitForEvent('load', { timeout: 20_000 });
  await locator.click();
  await loaded;
}
