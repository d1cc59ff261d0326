// The web UI at scale, measured in a real browser (issue 13's speed aims):
//
// - the applications page with 10,000 Applications: from navigation to
//   the list shown with its count (the page loads every page of the list
//   from the server, then renders a virtualized list), and a text filter
//   typed into it;
// - an app of 1,000 objects: from navigation to its resource tree shown
//   (its summary line and first rows; a large tree is virtualized);
// - a burst of 1,000 changes while the applications page is open: the
//   longest main-thread task (live updates are batched, so the page keeps
//   answering).
//
// The real stack (`sextant demo`): the 1,000 objects are ConfigMaps of a
// folder committed to the demo repository, synced by the controller; the
// 10,000 Applications are created straight in localkube, with a
// destination that does not exist (the controller marks each with its
// error once, then leaves them be). Medians of SEXTANT_BENCH_ROUNDS (5)
// page loads; run with `./scripts/ui-e2e.sh --bench`. Figures go to stdout
// and to ui/e2e/artifacts/bench.json. Environment: SEXTANT_BENCH_APPS
// (10000), SEXTANT_BENCH_OBJECTS (1000), SEXTANT_BENCH_ROUNDS (5).

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARTIFACTS, Demo, launchBrowser, screenshot, until, untilText } from './harness.mjs';

const APPS = Number(process.env.SEXTANT_BENCH_APPS ?? 10_000);
const OBJECTS = Number(process.env.SEXTANT_BENCH_OBJECTS ?? 1_000);
const ROUNDS = Number(process.env.SEXTANT_BENCH_ROUNDS ?? 5);
const NS = 'sextant';
const BIG = 'big';
const APPS_PATH = `/apis/sextant.dev/v1alpha1/namespaces/${NS}/applications`;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => `${Math.round(x)} ms`;

/** The demo's localkube: its URL and token, from the kubeconfig. */
function cluster(demo) {
  const text = readFileSync(demo.kubeconfig, 'utf8');
  const server = /server:\s*(\S+)/.exec(text)?.[1];
  const token = /token:\s*(\S+)/.exec(text)?.[1];
  if (!server?.startsWith('http://')) throw new Error(`the bench talks plain HTTP to localkube; the kubeconfig names ${server}`);
  return async (method, path, body, contentType = 'application/json') => {
    const headers = { 'Content-Type': contentType, Accept: 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    const r = await fetch(server + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (r.status >= 300) throw new Error(`${method} ${path}: HTTP ${r.status} ${await r.text()}`);
    return r.json();
  };
}

/** Run `fn(i)` for i in 0..n, `width` at a time. */
async function pool(n, width, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

const appName = (i) => `bench-${String(i).padStart(5, '0')}`;

async function createApps(kube, repo) {
  const teams = ['checkout', 'payments', 'search', 'catalog', 'identity', 'billing', 'ads', 'infra'];
  const started = Date.now();
  await pool(APPS, 32, (i) =>
    kube('POST', APPS_PATH, {
      apiVersion: 'sextant.dev/v1alpha1',
      kind: 'Application',
      metadata: { name: appName(i), namespace: NS, labels: { team: teams[i % teams.length], tier: i % 3 ? 'backend' : 'frontend' } },
      spec: {
        project: 'default',
        source: { repoURL: repo, path: `services/${appName(i)}`, targetRevision: 'HEAD' },
        destination: { name: 'bench-nowhere', namespace: `ns-${i % 50}` },
      },
    }),
  );
  return Date.now() - started;
}

/** The big app: OBJECTS ConfigMaps in ten files, synced by the controller. */
async function createBigApp(demo, repoUrl) {
  const dir = join(demo.repo, 'bench', BIG);
  mkdirSync(dir, { recursive: true });
  const per = Math.ceil(OBJECTS / 10);
  for (let f = 0; f < 10; f++) {
    const docs = [];
    for (let i = f * per; i < Math.min(OBJECTS, (f + 1) * per); i++) {
      docs.push(`apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings-${String(i).padStart(4, '0')}\ndata:\n  index: "${i}"\n`);
    }
    writeFileSync(join(dir, `part-${f}.yaml`), docs.join('---\n'));
  }
  await demo.git('add', '-A');
  await demo.git('commit', '--quiet', '-m', `bench: ${OBJECTS} ConfigMaps`);
  await demo.ok('POST', '/api/v1/applications', {
    apiVersion: 'sextant.dev/v1alpha1',
    kind: 'Application',
    metadata: { name: BIG },
    spec: {
      project: 'default',
      source: { repoURL: repoUrl, path: `bench/${BIG}`, targetRevision: 'HEAD' },
      destination: { server: 'https://kubernetes.default.svc', namespace: BIG },
      syncPolicy: { automated: { prune: true }, syncOptions: ['CreateNamespace=true'] },
    },
  });
  await until(
    `app ${BIG} Synced with ${OBJECTS} objects`,
    async () => {
      const a = await demo.app(BIG);
      return a.status?.sync?.status === 'Synced' && (a.status?.resources?.length ?? 0) >= OBJECTS;
    },
    { timeout: 600_000, interval: 2000 },
  );
}

/** Wait until the server lists every app and the counts stop moving (the
 * controller has marked them all). */
async function settle(demo, expected) {
  let last = '';
  let same = 0;
  await until(
    `${expected} apps listed and their statuses settled`,
    async () => {
      const l = await demo.ok('GET', '/api/v1/applications?limit=1');
      const now = JSON.stringify(l.counts);
      same = now === last && l.total >= expected ? same + 1 : 0;
      last = now;
      return same >= 3;
    },
    { timeout: 900_000, interval: 3000 },
  );
}

async function login(page, demo) {
  await page.goto(`${demo.url}/login`);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(demo.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Applications', level: 1 }).waitFor();
}

/** Navigate to `path` and time until `ready` resolves (ms). */
async function timeLoad(page, url, ready) {
  const t0 = Date.now();
  await page.goto(url);
  await ready();
  return Date.now() - t0;
}

async function main() {
  const demo = await Demo.start();
  const figures = { apps: APPS, objects: OBJECTS, rounds: ROUNDS };
  let context;
  try {
    await demo.untilAllSynced();
    const kube = cluster(demo);
    // The repository as the demo's own apps name it.
    const repoUrl = (await demo.app(demo.apps[0])).spec.source.repoURL;
    console.log(`bench: creating app ${BIG} with ${OBJECTS} objects`);
    await createBigApp(demo, repoUrl);
    console.log(`bench: creating ${APPS} Applications in localkube`);
    figures.createSeconds = (await createApps(kube, repoUrl)) / 1000;
    const total = APPS + demo.apps.length + 1;
    await settle(demo, total);

    context = await launchBrowser(demo.dir);
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(120_000);
    await login(page, demo);
    const count = page.locator('.page-title .count');
    const all = new RegExp(`^${total} apps$`);

    // The applications page, loaded afresh each round: the first rows
    // shown (the page works from then on), and the whole list loaded.
    const first = [];
    const whole = [];
    for (let r = 0; r < ROUNDS; r++) {
      const t0 = Date.now();
      await page.goto(`${demo.url}/applications`);
      await page.locator('.app-row').first().waitFor();
      first.push(Date.now() - t0);
      await untilText(count, all, { timeout: 120_000, interval: 10 });
      whole.push(Date.now() - t0);
    }
    figures.appsPageFirstRowsMs = first;
    figures.appsPageMs = whole;
    await screenshot(page, 'bench-apps');

    // A text filter: `bench-00` matches the first 1,000 of them.
    const matching = Math.min(APPS, 1000);
    const filter = [];
    for (let r = 0; r < ROUNDS; r++) {
      await page.locator('#filter-search').fill('');
      await untilText(count, all, { timeout: 120_000, interval: 10 });
      const t0 = Date.now();
      await page.locator('#filter-search').fill('bench-00');
      await untilText(count, new RegExp(`^${matching} apps?$`), { timeout: 120_000, interval: 10 });
      filter.push(Date.now() - t0);
    }
    figures.filterMs = filter;
    await page.locator('#filter-search').fill('');
    await untilText(count, all, { timeout: 120_000, interval: 10 });

    // A burst of changes with the page open: the longest task.
    await page.evaluate(() => {
      window.__longest = 0;
      new PerformanceObserver((l) => {
        for (const e of l.getEntries()) window.__longest = Math.max(window.__longest, e.duration);
      }).observe({ type: 'longtask', buffered: false });
    });
    const burst = Math.min(APPS, 1000);
    const t0 = Date.now();
    await pool(burst, 32, (i) =>
      kube('PATCH', `${APPS_PATH}/${appName(i)}`, { metadata: { labels: { burst: String(t0) } } }, 'application/merge-patch+json'),
    );
    figures.burstSendMs = Date.now() - t0;
    // The stream delivers them; give the batches time to land.
    await page.waitForTimeout(3000);
    figures.burstLongestTaskMs = await page.evaluate(() => window.__longest);

    // The app of OBJECTS objects.
    const tree = [];
    for (let r = 0; r < ROUNDS; r++) {
      tree.push(
        await timeLoad(page, `${demo.url}/applications/${BIG}`, async () => {
          await untilText(page.locator('.tree-summary'), new RegExp(`^${OBJECTS} objects`), { timeout: 120_000, interval: 10 });
          await page.locator('.tree-row').first().waitFor();
        }),
      );
    }
    figures.treeMs = tree;
    // A look at the large tree, scrolled half-way (artifacts/bench-tree.png).
    await page.locator('.tree-scroller').evaluate((el) => el.scrollTo(0, el.scrollHeight / 2));
    await page.waitForTimeout(200);
    await screenshot(page, 'bench-tree');
  } finally {
    await context?.close().catch(() => {});
    await demo.stop();
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  writeFileSync(join(ARTIFACTS, 'bench.json'), `${JSON.stringify(figures, null, 2)}\n`);
  console.log(`
web UI at scale (median of ${ROUNDS}; every round in bench.json):
  applications page, ${APPS} apps, navigation to first rows:  ${ms(median(figures.appsPageFirstRowsMs))}  (${figures.appsPageFirstRowsMs.join(', ')})
  applications page, ${APPS} apps, navigation to all loaded:  ${ms(median(figures.appsPageMs))}  (${figures.appsPageMs.join(', ')})
  text filter to ${Math.min(APPS, 1000)} of them:                            ${ms(median(figures.filterMs))}  (${figures.filterMs.join(', ')})
  app of ${OBJECTS} objects, navigation to tree shown:         ${ms(median(figures.treeMs))}  (${figures.treeMs.join(', ')})
  ${Math.min(APPS, 1000)} changes in a burst (sent in ${ms(figures.burstSendMs)}): longest main-thread task ${figures.burstLongestTaskMs ? ms(figures.burstLongestTaskMs) : 'none over 50 ms'}
  (creating the ${APPS} Applications took ${figures.createSeconds.toFixed(1)} s)`);
}

main().catch((e) => {
  console.error(`bench: ${e.stack ?? e}`);
  process.exit(1);
});
