// Starts and stops `querywarden demo` for the browser tests.
//
// Every server gets a fresh temporary data directory (so tests cannot see each other's
// sessions, lockouts or audit records) and listens on a free loopback port, read back from
// the "網址 URL:" line the demo prints on stdout.
//
// The first start in an empty data directory makes the demo CA and a card for every demo
// person (RSA keys: several seconds in a debug build). `sharedDemoCa()` does that once per
// `node --test` run and hands out the `demo-ca/` folder, which `startDemo({ demoCa })` copies
// into each new data directory, so later starts take well under a second.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const QUERYWARDEN_BIN =
  process.env.QUERYWARDEN_BIN || '/var/tmp/querywarden-target/debug/querywarden';

export const DEMO_PASSWORD = 'demo-password-115';

const URL_LINE = /網址 URL:\s*(http:\/\/127\.0\.0\.1:\d+\/)/;
const START_TIMEOUT_MS = 90_000;
const LOG_LIMIT = 200_000;

// Servers still running when the process ends for any reason are killed, never left behind.
const running = new Set();
process.on('exit', () => {
  for (const child of running) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

function checkBinary() {
  if (!existsSync(QUERYWARDEN_BIN)) {
    throw new Error(
      `querywarden binary not found at ${QUERYWARDEN_BIN}; build it with ` +
        '`cargo build -p querywarden-cli` or set QUERYWARDEN_BIN',
    );
  }
}

/**
 * Starts a demo server in a new temporary data directory.
 * @param {{ demoCa?: string, args?: string[], livedIn?: boolean }} [options] a `demo-ca/` folder
 *   to copy in (skips key generation); extra `demo` arguments (e.g. `--restricted-list <file>`);
 *   `livedIn`: the demo with a quarter of history (otherwise `--empty`, the bare organisation
 *   the older tests count on)
 * @returns {Promise<{ url: string, dataDir: string, log: () => string, stop: () => Promise<void> }>}
 */
export async function startDemo({ demoCa, args = [], livedIn = false } = {}) {
  checkBinary();
  const dataDir = await mkdtemp(join(tmpdir(), 'querywarden-e2e-data-'));
  if (demoCa) {
    await cp(demoCa, join(dataDir, 'demo-ca'), { recursive: true });
  }
  const child = spawn(
    QUERYWARDEN_BIN,
    ['demo', '--data', dataDir, '--listen', '127.0.0.1:0', ...(livedIn ? [] : ['--empty']), ...args],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
  );
  running.add(child);

  let output = '';
  const append = (chunk) => {
    if (output.length < LOG_LIMIT) output += chunk.toString('utf8');
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);

  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });

  let url;
  try {
    url = await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`demo did not print its URL within ${START_TIMEOUT_MS} ms`)),
        START_TIMEOUT_MS,
      );
      const onData = () => {
        const m = URL_LINE.exec(output);
        if (m) {
          clearTimeout(timer);
          child.stdout.off('data', onData);
          resolve(m[1]);
        }
      };
      child.stdout.on('data', onData);
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`demo exited before serving (code ${code}, signal ${signal})`));
      });
    });
  } catch (e) {
    child.kill('SIGKILL');
    await exited;
    await rm(dataDir, { recursive: true, force: true });
    throw new Error(`${e.message}\n--- demo output ---\n${output}`);
  }

  let stopped = false;
  return {
    url: url.replace(/\/$/, ''),
    dataDir,
    log: () => output,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(killer);
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/**
 * A generated `demo-ca/` folder shared by the test files of one `node --test` run (the test
 * files run in child processes of the runner, so they share `process.ppid`). Folders left by
 * runners that are gone are removed. Keyed by the binary's mtime, so a rebuild regenerates.
 * @returns {Promise<string>} path of the `demo-ca/` folder
 */
export async function sharedDemoCa() {
  checkBinary();
  const root = join(tmpdir(), `querywarden-e2e-ca-${process.getuid?.() ?? 'user'}`);
  await mkdir(root, { recursive: true });
  for (const name of await readdir(root)) {
    const pid = Number.parseInt(name.split('-')[0], 10);
    if (Number.isInteger(pid) && pid !== process.ppid && !alive(pid)) {
      await rm(join(root, name), { recursive: true, force: true });
    }
  }
  const { mtimeMs, size } = await stat(QUERYWARDEN_BIN);
  const final = join(root, `${process.ppid}-${Math.trunc(mtimeMs)}-${size}`);
  const ca = join(final, 'demo-ca');
  if (existsSync(join(ca, 'anchors.pem'))) return ca;

  // Generate by starting a demo once; copy its demo-ca next to the final place and move it
  // there in one step. If another test file won the race, use theirs.
  const server = await startDemo();
  const staging = `${final}.tmp-${process.pid}`;
  try {
    await cp(join(server.dataDir, 'demo-ca'), join(staging, 'demo-ca'), { recursive: true });
  } finally {
    await server.stop();
  }
  try {
    await rename(staging, final);
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    if (!existsSync(join(ca, 'anchors.pem'))) throw e;
  }
  return ca;
}
