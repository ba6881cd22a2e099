// What the browser tests share (link-flow.mjs, console.mjs, xero-live.mjs): the hub binary's
// path, checks, a free port, starting and stopping a hub (or any helper process) with its log in
// a temporary directory, API and CLI calls, the browser, and the run itself (a watchdog, the
// page and the logs on failure, everything stopped and removed whatever happens).

import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, openSync, closeSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { chromium } from 'playwright-core';

export const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/// The hub under test: argv[2], else BANKFEEDS_BIN, else the release build.
export const bin = resolve(process.argv[2] ?? process.env.BANKFEEDS_BIN ?? join(repo, 'target/release/bankfeeds'));
export const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const TIMEOUT_MS = 15_000; // per browser action / navigation / API call

export const log = (...a) => console.log('  ', ...a);
export class Failure extends Error {}
export function check(cond, message) {
  if (!cond) throw new Failure(message);
}
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/// Polls `fn` until it returns something truthy (returned), failing with `what` after `ms`.
export async function poll(what, fn, ms = 20_000, every = 200) {
  const until = Date.now() + ms;
  for (;;) {
    const got = await fn();
    if (got) return got;
    if (Date.now() > until) throw new Failure(`${what} within ${ms / 1000} s`);
    await sleep(every);
  }
}

export async function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.unref();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/// The environment of the hub and the CLI: only the flags (and `extra`) configure them, no stray
/// BANKFEEDS_* setting from the caller's shell.
export function hubEnv(extra = {}) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('BANKFEEDS_')) delete env[k];
  return { ...env, ...extra };
}

// ---------------------------------------------------------------- processes and cleanup

// Last resort if the script is interrupted or times out: no process it started outlives it,
// and no directory it made stays. (Playwright kills the browser it launched when the process
// exits.)
const procs = new Set();
const dirs = new Set();
process.once('exit', () => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    console.error(`\n${sig}: stopping`);
    process.exit(1);
  });
}

/// A temporary directory, removed when the run ends.
export function workDir(prefix) {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(d);
  return d;
}

/// A process started with its output appended to `logPath`; stopped with `stop()` (SIGTERM, then
/// SIGKILL after 5 s) or at exit.
export class Proc {
  constructor(name, command, args, { env, logPath }) {
    this.name = name;
    this.logPath = logPath;
    const fd = openSync(logPath, 'a');
    this.child = spawn(command, args, { env, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    procs.add(this.child);
  }

  get running() {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async stop() {
    if (!this.running) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(killer);
  }

  /// The log's last `n` lines, colours removed (the human log format colours even into a file).
  tail(n = 30) {
    let text = '';
    try {
      text = readFileSync(this.logPath, 'utf8');
    } catch {
      return [];
    }
    const lines = text.replace(/\x1b\[[0-9;]*m/g, '').trimEnd().split('\n');
    return lines.length === 1 && lines[0] === '' ? [] : lines.slice(-n);
  }
}

/// `bankfeeds serve` on a free loopback port with `dbUrl`, answering /healthz; `hub.base` is its URL.
export async function startHub(dir, dbUrl, extraEnv = {}, name = 'hub') {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const hub = new Proc(name, bin, ['serve', '--listen', `127.0.0.1:${port}`, '--database-url', dbUrl, '--public-url', base], {
    env: hubEnv(extraEnv),
    logPath: join(dir, `${name}.log`),
  });
  hub.base = base;
  log(`${name}: ${bin} serve on ${base} (${dbUrl})`);
  await waitHealthy(base, hub);
  return hub;
}

export async function waitHealthy(base, proc) {
  const until = Date.now() + 20_000;
  while (Date.now() < until) {
    if (!proc.running) throw new Failure(`the hub exited with ${proc.child.exitCode ?? proc.child.signalCode} before answering`);
    try {
      const r = await fetch(`${base}/healthz`);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Failure(`no answer from ${base}/healthz within 20 s`);
}

// ---------------------------------------------------------------- API and CLI

/// An API call with the organisation's credential; its status and parsed body.
export async function call(base, creds, method, path, body) {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: 'Basic ' + Buffer.from(`${creds.client_id}:${creds.client_secret}`).toString('base64'),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const text = await r.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: r.status, json, text };
}

/// An API call that must answer 200; its parsed body.
export async function api(base, creds, method, path, body) {
  const r = await call(base, creds, method, path, body);
  check(r.status === 200, `${method} ${path.replace(/access_token=[^&]+/, 'access_token=…')}: ${r.status} ${r.text}`);
  return r.json;
}

/// A `bankfeeds` command against `dbUrl` (none for commands without a database); the JSON it
/// printed last, or its trimmed output when that is not JSON.
export async function cli(args, dbUrl) {
  const full = dbUrl ? [...args, '--database-url', dbUrl] : args;
  const { stdout } = await promisify(execFile)(bin, full, { env: hubEnv(), timeout: 30_000 });
  const last = stdout.trim().split('\n').pop();
  try {
    return JSON.parse(last);
  } catch {
    return last;
  }
}

// ---------------------------------------------------------------- the browser

export async function launchBrowser() {
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: process.env.E2E_HEADED !== '1',
    args: ['--no-sandbox', '--disable-background-networking'],
  });
  log(`browser: ${chromiumPath} ${browser.version()}`);
  return browser;
}

/// A page in a context of its own (no shared cookies), 1200×800, with the time-outs set.
export async function newPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 }, locale: 'en-US' });
  context.setDefaultTimeout(TIMEOUT_MS);
  context.setDefaultNavigationTimeout(TIMEOUT_MS);
  return context.newPage();
}

// ---------------------------------------------------------------- the run

/// Runs `main(ctx)` under a watchdog of `overallMs`. `ctx.page` (set by main) is shown on
/// failure, as are the last lines of every process in `ctx.procs`; the browser in `ctx.browser`
/// is closed and the processes stopped whatever happens. Exits 0 with `pass`, 1 otherwise.
export function run({ name, overallMs, pass }, main) {
  const watchdog = setTimeout(() => {
    console.error(`\nFAIL: ${name} took longer than ${overallMs / 1000} s`);
    process.exit(1); // the 'exit' handler kills what was started
  }, overallMs);
  watchdog.unref();

  const ctx = { page: null, browser: null, procs: [] };
  const attempt = async () => {
    check(existsSync(bin), `no hub binary at ${bin} (build it with 'cargo build --release -p bankfeeds-cli', or pass its path)`);
    check(existsSync(chromiumPath), `no chromium at ${chromiumPath} (apt-get install -y chromium)`);
    let failed = null;
    try {
      await main(ctx);
    } catch (e) {
      failed = e;
    }
    if (failed && ctx.page) {
      console.error(`\n  page at failure: ${ctx.page.url()}`);
      const text = await ctx.page.locator('body').innerText({ timeout: 2_000 }).catch(() => '(unreadable)');
      console.error(text.split('\n').map((l) => `    | ${l}`).slice(0, 40).join('\n'));
    }
    await ctx.browser?.close().catch(() => {});
    for (const p of ctx.procs) await p.stop();
    if (failed) {
      for (const p of ctx.procs) {
        const tail = p.tail();
        if (tail.length) console.error(`\n  ${p.name} log (last ${tail.length} lines):\n${tail.map((l) => `    | ${l}`).join('\n')}`);
      }
      throw failed;
    }
  };
  attempt().then(
    () => {
      console.log(`\nPASS: ${pass}`);
      process.exit(0);
    },
    (e) => {
      console.error(`\nFAIL: ${e instanceof Failure ? e.message : e.stack ?? e}`);
      process.exit(1);
    },
  );
}
