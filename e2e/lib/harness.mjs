// One demo server and one browser per test file; each test gets its own browser context
// (its own cookies), and on failure a screenshot and the end of the server log.

import { after, before } from 'node:test';
import { launchBrowser, newContext, shot } from './browser.mjs';
import { sharedDemoCa, startDemo } from './server.mjs';

/**
 * Registers before/after hooks for the file and returns an object whose `run(name, fn)`
 * gives `fn` a fresh context and page.
 */
export function useDemo({ args = [], livedIn = false } = {}) {
  const env = { server: null, browser: null };

  before(async () => {
    const demoCa = await sharedDemoCa();
    env.server = await startDemo({ demoCa, args, livedIn });
    env.browser = await launchBrowser();
  }, { timeout: 180_000 });

  after(async () => {
    await env.browser?.close();
    await env.server?.stop();
  }, { timeout: 30_000 });

  /** A new context and page on the file's server. */
  env.open = async () => {
    const context = await newContext(env.browser, env.server.url);
    const page = await context.newPage();
    return { context, page };
  };

  /**
   * Runs `fn({ context, page, open })` in a fresh context; `open()` gives further contexts,
   * all closed afterwards. On failure the page is saved as <name>-failure.png.
   */
  env.run = async (name, fn) => {
    const contexts = [];
    const open = async () => {
      const c = await env.open();
      contexts.push(c.context);
      return c;
    };
    const { context, page } = await open();
    try {
      await fn({ context, page, open });
    } catch (e) {
      await shot(page, name, 'failure').catch(() => {});
      const log = env.server?.log() ?? '';
      e.message += `\n--- last lines of the demo server's log ---\n${log.split('\n').slice(-25).join('\n')}`;
      throw e;
    } finally {
      for (const c of contexts) await c.close().catch(() => {});
    }
  };

  return env;
}
