// Options page: lists the sites with saved settings; forget one or all.
import { listSites, forgetSite, clearAll } from './settings.js';
import { describeSettings } from './lib/settings-core.js';
import { t, localize } from './lib/i18n.js';

const $ = (id) => document.getElementById(id);

async function render() {
  const sites = await listSites();
  $('empty').hidden = sites.length > 0;
  $('sites').hidden = sites.length === 0;
  $('clear-all').disabled = sites.length === 0;
  const rows = sites.map(({ site, settings }) => {
    const tr = document.createElement('tr');
    tr.dataset.testid = 'site-row';
    tr.dataset.site = site;
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = site;
    const td = document.createElement('td');
    td.textContent = describeSettings(settings);
    const act = document.createElement('td');
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = t('options_forget');
    b.setAttribute('aria-label', t('options_forget_label', site));
    b.addEventListener('click', async () => {
      await forgetSite(site);
      $('msg').textContent = t('options_forgot', site);
      render();
    });
    act.append(b);
    tr.append(th, td, act);
    return tr;
  });
  $('site-rows').replaceChildren(...rows);
}

$('clear-all').addEventListener('click', async () => {
  await clearAll();
  $('msg').textContent = t('options_cleared');
  render();
});

chrome.storage.onChanged.addListener((_, area) => { if (area === 'local') render(); });
localize();
render();
