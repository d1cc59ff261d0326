// The browser tests' harness: the real stack (`sextant demo`: localkube,
// the sample Git repository, the controller, the API server and the UI)
// as a child process, an API client, Debian's Chromium driven by
// playwright-core, and waits that poll a condition (never a fixed sleep).
//
// Environment:
//   SEXTANT_BIN       the sextant binary (default target/debug/sextant of
//                     this checkout); build it after ./scripts/build-ui.sh
//                     so it embeds the UI
//   SEXTANT_CHROMIUM  the browser (default /usr/bin/chromium); never
//                     downloaded
//   SEXTANT_E2E_KEEP  set to keep the temporary folder (demo files, repo)

import { spawn, execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, createWriteStream, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

const run = promisify(execFile);

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const ARTIFACTS = join(ROOT, 'ui/e2e/artifacts');

/** The flags Chromium runs with (besides Playwright's own). */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** How long a UI condition may take (the stack shares a busy machine). */
export const UI_TIMEOUT = 60_000;

/**
 * Poll `fn` until it returns a truthy value (returned) or `timeout` ms
 * pass (then throw, with `what` and the last value or error).
 */
export async function until(what, fn, { timeout = UI_TIMEOUT, interval = 250 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${detail})`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** Wait until `locator`'s text contains `text` (a string or RegExp). */
export async function untilText(locator, text, opts) {
  const ok = (t) => (text instanceof RegExp ? text.test(t) : t.includes(text));
  return until(`text ${text} in ${locator}`, async () => {
    const t = (await locator.allInnerTexts()).join('\n');
    if (!ok(t)) throw new Error(`text is ${JSON.stringify(t.slice(0, 300))}`);
    return true;
  }, opts);
}

/** Wait until `locator` matches exactly `n` elements. */
export async function untilCount(locator, n, opts) {
  return until(`${n} of ${locator}`, async () => {
    const c = await locator.count();
    if (c !== n) throw new Error(`${c} elements`);
    return true;
  }, opts);
}

/** The demo: started in a fresh temporary folder, on free loopback ports. */
export class Demo {
  /** Start it and wait until its banner names the server and password. */
  static async start() {
    const bin = process.env.SEXTANT_BIN ? resolve(process.env.SEXTANT_BIN) : join(ROOT, 'target/debug/sextant');
    if (!existsSync(bin)) {
      throw new Error(
        `no sextant binary at ${bin}: build it with ./scripts/build-ui.sh && cargo build -p sextant-cli, or set SEXTANT_BIN`,
      );
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    const dir = mkdtempSync(join(tmpdir(), 'sextant-ui-e2e-'));
    const log = createWriteStream(join(ARTIFACTS, 'demo.log'));
    // Its own process group, so stopping it also stops whatever it runs.
    const child = spawn(bin, ['demo', '--no-wait', '--server-listen', '127.0.0.1:0', '--dir', join(dir, 'demo')], {
      cwd: ROOT,
      env: { ...process.env, HOME: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const demo = new Demo(child, dir);
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      log.write(d);
    });
    child.stderr.on('data', (d) => {
      demo.stderrTail = (demo.stderrTail + d).slice(-8000);
      log.write(d);
    });
    child.on('exit', (code, signal) => {
      demo.exited = { code, signal };
      log.end(`\n[harness] demo exited: code ${code}, signal ${signal}\n`);
    });
    try {
      await until(
        'the demo to print the server URL and admin password',
        () => {
          if (demo.exited) throw new Error(`the demo exited (${JSON.stringify(demo.exited)}): ${demo.stderrTail}`);
          const url = /^server:\s+(http:\/\/127\.0\.0\.1:\d+)/m.exec(stdout)?.[1];
          const password = /admin password: (\S+)/.exec(stdout)?.[1];
          const apps = /^apps:\s+(.+?) \(Applications/m.exec(stdout)?.[1];
          const kubeconfig = /^kubeconfig: (\S+)/m.exec(stdout)?.[1];
          const repo = /^repository: (\S+)/m.exec(stdout)?.[1];
          if (!url || !password || !apps || !kubeconfig || !repo) return false;
          Object.assign(demo, { url, password, apps: apps.split(', '), kubeconfig, repo });
          return true;
        },
        { timeout: 120_000 },
      );
    } catch (e) {
      await demo.stop();
      throw e;
    }
    return demo;
  }

  constructor(child, dir) {
    this.child = child;
    this.dir = dir;
    this.exited = null;
    this.stderrTail = '';
    this.token = null;
    // Last resort: never leave the demo behind, even when the run is
    // interrupted (Ctrl-C, the runner's timeout): exiting also runs
    // Playwright's own exit handler, which kills the browser.
    this.onExit = () => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      if (!process.env.SEXTANT_E2E_KEEP) {
        try {
          rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
        } catch (e) {
          process.stderr.write(`could not remove ${dir}: ${e.message}\n`);
        }
      }
    };
    this.onSignal = (signal) => process.exit(signal === 'SIGINT' ? 130 : 143);
    process.on('exit', this.onExit);
    process.once('SIGINT', this.onSignal);
    process.once('SIGTERM', this.onSignal);
  }

  /** Stop the demo (SIGTERM to its group; SIGKILL after 20 s), remove the folder. */
  async stop() {
    if (!this.exited) {
      const gone = new Promise((r) => this.child.once('exit', r));
      try {
        process.kill(-this.child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const timer = setTimeout(() => this.onExit(), 20_000);
      await gone;
      clearTimeout(timer);
    }
    // Whatever of its group is left (git, helm).
    this.onExit();
    process.off('exit', this.onExit);
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }

  /** Call the API as admin (a bearer token: no CSRF token needed). */
  async api(method, path, body, { token } = {}) {
    if (!token && !this.token) {
      const s = await this.apiAs(null, 'POST', '/api/v1/session', { username: 'admin', password: this.password, token: true });
      this.token = s.body.token;
    }
    return this.apiAs(token ?? this.token, method, path, body);
  }

  /** One request; answers `{status, body}`. */
  async apiAs(token, method, path, body) {
    const headers = { Accept: 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const r = await fetch(this.url + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    let parsed;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    return { status: r.status, body: parsed };
  }

  /** The API call that must succeed; its body. */
  async ok(method, path, body) {
    const r = await this.api(method, path, body);
    if (r.status < 200 || r.status >= 300) {
      throw new Error(`${method} ${path}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    }
    return r.body;
  }

  /** One Application as the API has it. */
  app(name) {
    return this.ok('GET', `/api/v1/applications/${encodeURIComponent(name)}`);
  }

  /** Wait until every demo app is Synced and Healthy. */
  async untilAllSynced() {
    await until(
      `apps ${this.apps.join(', ')} Synced and Healthy`,
      async () => {
        const list = await this.ok('GET', '/api/v1/applications');
        const states = list.items.map((a) => `${a.name}=${a.syncStatus}/${a.healthStatus}`);
        const ready = this.apps.every((n) =>
          list.items.some((a) => a.name === n && a.syncStatus === 'Synced' && a.healthStatus === 'Healthy'),
        );
        if (!ready) throw new Error(states.join(', '));
        return true;
      },
      { timeout: 180_000, interval: 500 },
    );
  }

  /** Run git in the demo repository, with an identity of its own. */
  async git(...args) {
    const { stdout } = await run(
      'git',
      ['-c', 'user.name=Sextant UI tests', '-c', 'user.email=ui-tests@sextant.invalid', ...args],
      { cwd: this.repo, env: { ...process.env, HOME: this.dir, GIT_CONFIG_NOSYSTEM: '1' } },
    );
    return stdout.trim();
  }

  /** kubectl against the demo's cluster; `input` goes to its stdin. */
  kubectl(args, input) {
    return new Promise((res, rej) => {
      const p = execFile(
        'kubectl',
        ['--kubeconfig', this.kubeconfig, ...args],
        { env: { ...process.env, HOME: this.dir } },
        (err, stdout, stderr) => (err ? rej(new Error(`kubectl ${args.join(' ')}: ${stderr || err.message}`)) : res(stdout.trim())),
      );
      if (input !== undefined) p.stdin.end(input);
    });
  }
}

/** Debian's Chromium through playwright-core, with a fresh profile folder. */
export async function launchBrowser(dir) {
  const executablePath = process.env.SEXTANT_CHROMIUM || '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(`no Chromium at ${executablePath}: run ./scripts/ui-e2e.sh (it installs Debian's chromium) or set SEXTANT_CHROMIUM`);
  }
  const profile = join(dir, 'chromium-profile');
  mkdirSync(profile, { recursive: true });
  // launchPersistentContext passes --user-data-dir (launch() refuses it).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1280, height: 800 },
    timeout: 60_000,
  });
  context.setDefaultTimeout(UI_TIMEOUT);
  return context;
}

/** Save a screenshot of `page` as artifacts/NAME.png. */
export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: false, animations: 'disabled', caret: 'hide' });
  return path;
}

/** A file's text (for assertions on the repository). */
export const read = (path) => readFileSync(path, 'utf8');

/** The axe-core engine's source (from npm), read once. */
let axeSource;

/**
 * Check the page as it is now with axe-core (WCAG 2 A and AA rules) and
 * throw, listing each rule and where it fails, when a serious or critical
 * violation is found. The engine goes in through the DevTools protocol,
 * so the page's Content-Security-Policy stays as it is.
 */
export async function checkAccessibility(page, what) {
  axeSource ??= readFileSync(join(ROOT, 'ui/node_modules/axe-core/axe.min.js'), 'utf8');
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) {
    await page.evaluate(axeSource);
  }
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')}`);
  });
  if (violations.length > 0) {
    throw new Error(`accessibility of ${what}:\n  ${violations.join('\n  ')}`);
  }
}
