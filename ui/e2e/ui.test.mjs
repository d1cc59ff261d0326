// Browser tests of the web UI against the real stack (`sextant demo`),
// one flow after another, as a person would use it: log in; list and
// filter apps; open one and see its tree; see a diff after a commit; sync
// from the sync dialog and watch the app become Synced; restart a
// Deployment through its resource actions; roll back; the
// settings pages; the ApplicationSets page; an action refused to a
// read-only user; a password change. A screenshot of
// each page goes to ui/e2e/artifacts/ (and FAILED-*.png when a step fails),
// and each page is checked with axe-core (WCAG 2.1 A and AA rules): a
// serious or critical violation fails the step.
//
//   ./scripts/ui-e2e.sh      (installs what is missing, then node --test ui/e2e/)

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkAccessibility, Demo, launchBrowser, read, screenshot, until, untilCount, untilText } from './harness.mjs';

const VIEWER_PASSWORD = 'viewer-password-1';
const NEW_VIEWER_PASSWORD = 'viewer-password-2';
const APP = 'payments';
const APP_FILE = 'clusters/demo/apps/payments/deployment.yaml';

let demo;
let context;
let page;
let broken = '';
const commits = {};

/** A test that depends on the ones before it: skipped once one failed;
 * screenshots the page when it fails. */
function step(name, fn, timeout = 240_000) {
  it(name, { timeout }, async (t) => {
    if (broken) {
      t.skip(`an earlier step failed (${broken})`);
      return;
    }
    try {
      await fn();
    } catch (e) {
      broken = name;
      const slug = name.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
      if (page) await screenshot(page, `FAILED-${slug}`).catch(() => {});
      if (demo?.exited) e.message += `\nthe demo exited: ${demo.stderrTail}`;
      throw e;
    }
  });
}

/** The app's state in the API. */
const appState = async () => {
  const a = await demo.app(APP);
  return { sync: a.status?.sync, op: a.status?.operationState, history: a.status?.history ?? [], spec: a.spec };
};

const replicas = () => demo.kubectl(['get', 'deployment', APP, '-n', 'payments', '-o', 'jsonpath={.spec.replicas}']);

describe('web UI', () => {
  before(
    async () => {
      demo = await Demo.start();
      await demo.untilAllSynced();
      context = await launchBrowser(demo.dir);
      page = context.pages()[0] ?? (await context.newPage());
    },
    { timeout: 360_000 },
  );

  after(
    async () => {
      await context?.close().catch(() => {});
      await demo?.stop();
    },
    { timeout: 60_000 },
  );

  step('logs in', async () => {
    await page.goto(`${demo.url}/`);
    await page.waitForURL(/\/login\?next=/);
    await page.getByRole('heading', { name: 'Sextant', level: 1 }).waitFor();
    await screenshot(page, '01-login');
    await checkAccessibility(page, "the login page");

    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await untilText(page.getByRole('alert'), 'Invalid username or password');

    await page.getByLabel('Password').fill(demo.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Applications', level: 1 }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/applications');
    await untilText(page.locator('.top-bar .user-name'), 'admin');

    const rows = page.locator('.app-row');
    await untilCount(rows, demo.apps.length);
    await untilCount(page.locator('.app-row .status-sync.st-synced'), demo.apps.length);
    await untilCount(page.locator('.app-row .status-health.st-healthy'), demo.apps.length);
    for (const name of demo.apps) await rows.filter({ hasText: name }).first().waitFor();
    await untilText(page.locator('.page-title .live'), 'Live');
    // Also the README's picture (docs/images/ui-apps.png).
    await screenshot(page, '02-applications');
    await checkAccessibility(page, "the applications page");
  });

  step('lists and filters apps', async () => {
    const rows = page.locator('.app-row');
    const all = demo.apps.length;
    const clear = () => page.getByRole('button', { name: 'Clear filters' }).first().click();

    // By name: filtered by the server, kept in the URL.
    await page.locator('#filter-search').fill('pay');
    await page.waitForURL(/[?&]search=pay/);
    await untilCount(rows, 1);
    await untilText(rows, APP);
    await untilText(page.locator('.page-title .count'), '1 app');
    await screenshot(page, '03-applications-search');
    await clear();
    await untilCount(rows, all);

    // By destination namespace.
    if (demo.apps.includes('infrastructure')) {
      await page.locator('#filter-namespace').fill('monitoring');
      await page.waitForURL(/[?&]namespace=monitoring/);
      await untilCount(rows, 1);
      await untilText(rows, 'infrastructure');
      await clear();
      await untilCount(rows, all);
    }

    // By status: nothing is OutOfSync, everything is Healthy.
    const syncGroup = page.getByRole('group', { name: 'Sync status' });
    await syncGroup.getByRole('checkbox', { name: /^OutOfSync/ }).check();
    await page.waitForURL(/[?&]sync=OutOfSync/);
    await page.getByText('No application matches these filters.').waitFor();
    await untilCount(rows, 0);
    await screenshot(page, '04-applications-no-match');
    await clear();
    await untilCount(rows, all);
    const healthGroup = page.getByRole('group', { name: 'Health status' });
    await healthGroup.getByRole('checkbox', { name: /^Healthy/ }).check();
    await page.waitForURL(/[?&]health=Healthy/);
    await untilCount(rows, all);
    await clear();

    // The tiles view, then back to the list.
    await page.getByRole('radio', { name: 'Tiles' }).check();
    await untilCount(page.locator('.tile'), all);
    await screenshot(page, '05-applications-tiles');
    await checkAccessibility(page, "the applications page as tiles");
    await page.getByRole('radio', { name: 'List' }).check();
    await untilCount(rows, all);
  });

  step('opens an app and shows its tree', async () => {
    await page.locator('.app-row', { hasText: APP }).first().click();
    await page.waitForURL(new RegExp(`/applications/${APP}$`));
    await page.getByRole('heading', { name: APP, level: 1 }).waitFor();
    await untilText(page.locator('.page-title .status-sync'), 'Synced');
    await untilText(page.locator('.page-title .status-health'), 'Healthy');

    // Deployment -> ReplicaSet -> Pods, the Service, the ConfigMap.
    const tree = page.getByRole('list', { name: 'Resources' });
    for (const kind of ['Deployment', 'ReplicaSet', 'Pod', 'Service', 'ConfigMap']) {
      await tree.locator('.kind', { hasText: new RegExp(`^${kind}$`) }).first().waitFor();
    }
    await untilText(page.locator('.page-title .live'), 'Live');
    await screenshot(page, '06-app-tree');
    await checkAccessibility(page, "an application's resource tree");

    // An object's details.
    await tree.getByRole('button', { name: new RegExp(`^Deployment ${APP}\\b`) }).click();
    await page.waitForURL(/[?&]node=/);
    const panel = page.locator('.node-panel');
    await untilText(panel.locator('h2'), APP);
    await screenshot(page, '07-app-object');

    // A resource action: restart the Deployment, after a confirmation.
    await panel.getByRole('tab', { name: 'Actions' }).click();
    const actions = panel.getByRole('list', { name: 'Resource actions' });
    await actions.getByRole('button', { name: 'Restart' }).click();
    await panel.getByRole('button', { name: 'Run Restart' }).click();
    await untilText(panel.locator('.actions-tab .notice'), /Restart: patched Deployment\.apps/);
    const restartedAt = await demo.kubectl([
      'get', 'deployment', APP, '-n', 'payments',
      '-o', 'jsonpath={.spec.template.metadata.annotations.kubectl\\.kubernetes\\.io/restartedAt}',
    ]);
    assert.match(restartedAt, /Z$/, 'the pod template carries the restart');
    await screenshot(page, '07b-app-object-actions');
    await checkAccessibility(page, "the object panel's actions");
    await page.getByRole('button', { name: "Close the object's details" }).click();
    await untilCount(panel, 0);

    await page.getByRole('tab', { name: 'Events' }).click();
    await until('the events tab', async () => (await page.locator('#app-tabpanel table, #app-tabpanel .empty').count()) > 0);
    await screenshot(page, '08-app-events');
    await checkAccessibility(page, "an application's Events");
  });

  step('shows the diff of a new commit', async () => {
    // Manual sync, so the commit is not deployed by itself and a rollback
    // is allowed (the server refuses one while the app syncs automatically).
    const app = await demo.app(APP);
    const spec = structuredClone(app.spec);
    delete spec.syncPolicy.automated;
    await demo.ok('PUT', `/api/v1/applications/${APP}`, {
      apiVersion: app.apiVersion,
      kind: app.kind,
      metadata: { name: APP, namespace: app.metadata.namespace },
      spec,
    });
    await untilText(page.locator('.facts'), /Sync policy\s*manual/);
    // Refresh, and wait until the controller has taken the refresh (and so
    // the manual policy) in: it must not sync the commit below by itself.
    await page.getByRole('toolbar', { name: 'Application actions' }).getByRole('button', { name: 'Refresh', exact: true }).click();
    await untilText(page.locator('.notice'), 'Refresh requested.');
    await until('the controller to take the refresh', async () => {
      const annotations = await demo.kubectl(['get', 'applications', APP, '-n', 'sextant', '-o', 'jsonpath={.metadata.annotations}']);
      if (annotations.includes('sextant.dev/refresh')) throw new Error(annotations);
      return true;
    });

    commits.first = await demo.git('rev-parse', 'HEAD');
    const file = join(demo.repo, APP_FILE);
    const text = read(file);
    assert.match(text, /replicas: 2\n/);
    writeFileSync(file, text.replace('replicas: 2\n', 'replicas: 3\n'));
    await demo.git('commit', '--quiet', '-am', `${APP}: 3 replicas`);
    commits.second = await demo.git('rev-parse', 'HEAD');

    // The controller reads the repository every 5 s.
    await until(
      `${APP} OutOfSync at the new commit`,
      async () => {
        const { sync } = await appState();
        if (sync?.status !== 'OutOfSync' || sync?.revision !== commits.second) throw new Error(JSON.stringify(sync));
        return true;
      },
      { timeout: 120_000, interval: 500 },
    );
    await untilText(page.locator('.page-title .status-sync'), 'OutOfSync');

    await page.getByRole('tab', { name: 'Diff' }).click();
    await untilText(page.locator('.diff-summary'), 'A sync would change the cluster.');
    const diff = page.locator('.object-diff', { hasText: `Deployment payments/${APP}` });
    await untilText(diff.locator('.dl-del'), 'replicas: 2');
    await untilText(diff.locator('.dl-add'), 'replicas: 3');
    await screenshot(page, '09-app-diff');
    await checkAccessibility(page, "an application's diff");
  });

  step('syncs from the sync dialog and becomes Synced', async () => {
    await page.getByRole('button', { name: 'Sync…' }).click();
    const dialog = page.getByRole('dialog', { name: `Sync ${APP}` });
    await dialog.waitFor();
    await untilText(dialog.locator('.diff-preview .dl-add'), 'replicas: 3');
    await screenshot(page, '10-sync-dialog');
    await checkAccessibility(page, "the sync dialog");
    await dialog.getByRole('button', { name: 'Sync', exact: true }).click();
    await dialog.waitFor({ state: 'hidden' });
    await untilText(page.locator('.notice'), /sync/i);

    await until(
      `${APP} Synced at the new commit`,
      async () => {
        const { sync, op } = await appState();
        const done = sync?.status === 'Synced' && sync?.revision === commits.second && op?.phase === 'Succeeded';
        if (!done) throw new Error(JSON.stringify({ sync, phase: op?.phase, message: op?.message }));
        return true;
      },
      { timeout: 120_000, interval: 500 },
    );
    await untilText(page.locator('.page-title .status-sync'), 'Synced');
    await until('3 replicas in the cluster', async () => (await replicas()) === '3');
    const { op } = await appState();
    assert.equal(op.operation?.initiatedBy?.username, 'admin');
    await untilText(page.locator('.facts'), 'by admin');
    await screenshot(page, '11-app-synced');
  });

  step('rolls back to the first revision', async () => {
    await page.getByRole('tab', { name: 'History' }).click();
    const { history } = await appState();
    const target = history.filter((h) => h.revision === commits.first).sort((a, b) => b.id - a.id)[0];
    assert.ok(target, `a history entry at ${commits.first}: ${JSON.stringify(history)}`);
    const newest = Math.max(...history.map((h) => h.id));
    await untilText(page.locator('table.table tbody tr').first(), commits.second.slice(0, 7));
    await screenshot(page, '12-app-history');
    await checkAccessibility(page, "an application's history");

    await page.getByRole('button', { name: `Roll back to ${target.id}…` }).click();
    const dialog = page.getByRole('dialog', { name: `Roll back ${APP}` });
    await dialog.waitFor();
    await screenshot(page, '13-rollback-dialog');
    await dialog.getByRole('button', { name: 'Roll back', exact: true }).click();
    await dialog.waitFor({ state: 'hidden' });
    await untilText(page.locator('.notice'), /roll/i);

    await until(
      `${APP} rolled back to ${commits.first}`,
      async () => {
        const { history, op } = await appState();
        const last = history.find((h) => h.id === Math.max(...history.map((x) => x.id)));
        const done = last && last.id > newest && last.revision === commits.first && op?.phase === 'Succeeded';
        if (!done) throw new Error(JSON.stringify({ last, phase: op?.phase, message: op?.message }));
        return true;
      },
      { timeout: 120_000, interval: 500 },
    );
    await until('2 replicas in the cluster', async () => (await replicas()) === '2');
    // Git still says 3 replicas: the app is OutOfSync again.
    await untilText(page.locator('.page-title .status-sync'), 'OutOfSync');
    await untilText(page.locator('table.table tbody tr').first(), commits.first.slice(0, 7));
    await screenshot(page, '14-app-rolled-back');

    // The timeline: the rollback asked through the UI and the syncs.
    await page.getByRole('tab', { name: 'Timeline' }).click();
    const timeline = page.getByRole('list', { name: 'Timeline' });
    await untilText(timeline, `Synced to ${commits.first.slice(0, 7)}`);
    await untilText(timeline, 'Rollback Requested');
    await screenshot(page, '14b-app-timeline');
    await checkAccessibility(page, "an application's timeline");
  });

  step('shows the settings pages', async () => {
    // A read-only account for the next step, listed under Accounts.
    await demo.kubectl(
      ['apply', '-f', '-'],
      [
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata: {name: sextant-cm, namespace: sextant}',
        'data:',
        '  accounts.viewer: login',
        '---',
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata: {name: sextant-rbac-cm, namespace: sextant}',
        'data:',
        '  policy.csv: |',
        '    g, viewer, role:readonly',
        '',
      ].join('\n'),
    );
    // The server picks the account up from its watch.
    await until('the viewer account to take a password', async () => {
      const r = await demo.api('PUT', '/api/v1/account/password', {
        currentPassword: demo.password,
        newPassword: VIEWER_PASSWORD,
        name: 'viewer',
      });
      if (r.status !== 200) throw new Error(`HTTP ${r.status} ${JSON.stringify(r.body)}`);
      return true;
    });

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
    await page.waitForURL(/\/settings\/repositories$/);
    const pages = [
      ['Repositories', 'repositories', '15-settings-repositories'],
      ['Projects', 'projects', '16-settings-projects'],
      ['Clusters', 'clusters', '17-settings-clusters'],
      ['Accounts', 'accounts', '18-settings-accounts'],
    ];
    for (const [title, path, shot] of pages) {
      await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: title }).click();
      await page.waitForURL(new RegExp(`/settings/${path}$`));
      await page.getByRole('heading', { name: title, level: 2 }).waitFor();
      await until(`the ${title} page loaded`, async () => (await page.locator('.page [role="status"].loading').count()) === 0);
      if (path === 'projects') await untilText(page.locator('main'), 'default');
      if (path === 'clusters') await untilText(page.locator('main'), 'https://kubernetes.default.svc');
      if (path === 'accounts') {
        await page.getByRole('heading', { name: /^admin/, level: 3 }).waitFor();
        await page.getByRole('heading', { name: /^viewer/, level: 3 }).waitFor();
      }
      await screenshot(page, shot);
      await checkAccessibility(page, `the ${title} settings`);
    }
  });

  step('shows the ApplicationSet that makes the services', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'ApplicationSets' }).click();
    await page.waitForURL(/\/applicationsets$/);
    const set = page.getByRole('region', { name: 'demo-services' });
    await untilText(set.locator('.appset-state'), /Applications generated/);
    await untilText(set.locator('dd').first(), 'git directories');
    for (const name of ['checkout', 'payments']) {
      await set.locator('.appset-app', { hasText: name }).first().waitFor();
    }
    await screenshot(page, '19-applicationsets');
    await checkAccessibility(page, "the ApplicationSets page");
    await set.getByRole('link', { name: 'payments', exact: true }).click();
    await page.waitForURL(new RegExp(`/applications/${APP}$`));
    await untilText(page.locator('.facts'), /Made by\s*ApplicationSet demo-services/);
  });

  step('refuses a sync to a read-only user', async () => {
    const viewer = await context.browser().newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const vpage = await viewer.newPage();
      vpage.setDefaultTimeout(60_000);
      await vpage.goto(`${demo.url}/applications/${APP}`);
      await vpage.waitForURL(/\/login\?next=/);
      await vpage.getByLabel('Username').fill('viewer');
      await vpage.getByLabel('Password').fill(VIEWER_PASSWORD);
      await vpage.getByRole('button', { name: 'Log in' }).click();
      // Back where it was headed.
      await vpage.getByRole('heading', { name: APP, level: 1 }).waitFor();
      await untilText(vpage.locator('.top-bar .user-name'), 'viewer');
      assert.equal(await vpage.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).count(), 0);

      const before = (await appState()).history.length;
      await vpage.getByRole('button', { name: 'Sync…' }).click();
      const dialog = vpage.getByRole('dialog', { name: `Sync ${APP}` });
      await dialog.waitFor();
      // Reading is allowed: the preview loads (and makes the dialog scroll).
      await untilText(dialog.locator('.diff-preview .dl-add'), 'replicas: 3');
      await dialog.getByRole('button', { name: 'Sync', exact: true }).click();
      const alert = dialog.getByRole('alert');
      await untilText(alert, `permission denied: applications, sync, default/${APP} (account viewer)`);
      await untilText(alert, 'Ask an administrator');
      // In sight, not below the fold of the dialog's scrolling body.
      await until('the message in sight', () =>
        alert.evaluate((el) => {
          const r = el.getBoundingClientRect();
          const body = el.closest('.dialog-body').getBoundingClientRect();
          return r.height > 0 && r.top >= body.top - 1 && r.bottom <= body.bottom + 1 && r.bottom <= window.innerHeight;
        }),
      );
      await screenshot(vpage, '19-viewer-sync-refused');
      assert.equal((await appState()).history.length, before);
      assert.ok(await dialog.isVisible(), 'the dialog stays open with the message');
    } finally {
      await viewer.close();
    }
  });

  step('changes a password from the top bar and signs in with the new one', async () => {
    const viewer = await context.browser().newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const vpage = await viewer.newPage();
      vpage.setDefaultTimeout(60_000);
      await vpage.goto(`${demo.url}/applications`);
      await vpage.waitForURL(/\/login/);
      await vpage.getByLabel('Username').fill('viewer');
      await vpage.getByLabel('Password').fill(VIEWER_PASSWORD);
      await vpage.getByRole('button', { name: 'Log in' }).click();
      await untilText(vpage.locator('.top-bar .user-name'), 'viewer');
      await vpage.getByRole('button', { name: 'Password…' }).click();
      const dialog = vpage.getByRole('dialog', { name: 'Change your password' });
      await dialog.getByLabel('Current password').fill(VIEWER_PASSWORD);
      await dialog.getByLabel('New password', { exact: true }).fill(NEW_VIEWER_PASSWORD);
      // A mismatch is said before the server is asked.
      await dialog.getByLabel('New password again').fill('something-else');
      await untilText(dialog.getByRole('alert'), 'The two new passwords differ');
      assert.ok(await dialog.getByRole('button', { name: 'Change password' }).isDisabled());
      await dialog.getByLabel('New password again').fill(NEW_VIEWER_PASSWORD);
      await dialog.getByRole('button', { name: 'Change password' }).click();
      await untilText(dialog.getByRole('status'), 'was changed');
      await screenshot(vpage, '20-password-changed');
      await checkAccessibility(vpage, 'the password dialog');
      await dialog.getByRole('button', { name: 'Sign in again' }).click();
      await vpage.waitForURL(/\/login/);
      // The old password no longer works; the new one does.
      await vpage.getByLabel('Username').fill('viewer');
      await vpage.getByLabel('Password').fill(VIEWER_PASSWORD);
      await vpage.getByRole('button', { name: 'Log in' }).click();
      await untilText(vpage.getByRole('alert'), 'Invalid username or password');
      await vpage.getByLabel('Password').fill(NEW_VIEWER_PASSWORD);
      await vpage.getByRole('button', { name: 'Log in' }).click();
      await untilText(vpage.locator('.top-bar .user-name'), 'viewer');
    } finally {
      await viewer.close();
    }
  });
});
