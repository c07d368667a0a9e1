// The one-time key prompt: a form in the page (no browser dialog), the key kept only in this browser.

import { el, fill } from './dom.js';
import { t } from './i18n.js';
import { forgetKey, initialKey, saveKey } from './keystore.js';

/** Shows the prompt in `host` (with an optional message, e.g. a revoked key) until a key is entered. */
export function askForKey(host, lang, message = null) {
  return new Promise((resolve) => {
    const input = el('input', {
      type: 'password',
      autocomplete: 'off',
      spellcheck: 'false',
      'aria-label': t(lang, 'key.prompt'),
      placeholder: 'ioc_…',
    });
    const form = el(
      'form',
      {
        class: 'keygate',
        onsubmit: (event) => {
          event.preventDefault(); // never submitted: the key must not reach a URL or the server's logs
          const key = input.value.trim();
          if (key) {
            host.hidden = true;
            fill(host);
            resolve(key);
          }
        },
      },
      message ? el('p', { class: 'keygate-message', role: 'alert' }, message) : null,
      el('label', {}, t(lang, 'key.prompt'), input),
      el('button', { type: 'submit' }, t(lang, 'key.save')),
    );
    fill(host, form);
    host.hidden = false;
    input.focus();
  });
}

/** The page's key: the one given or kept (see keystore.js), else asked for; onAsk() runs before asking. */
export async function obtainKey(page, host, lang, onAsk) {
  const kept = initialKey(page);
  if (kept) return kept;
  onAsk();
  const key = await askForKey(host, lang);
  saveKey(page, key);
  return key;
}

/** The API refused the key (revoked or mistyped): forget it, say so plainly and ask for another. */
export async function replaceRefusedKey(page, host, lang) {
  forgetKey(page);
  const key = await askForKey(host, lang, t(lang, 'key.revoked'));
  saveKey(page, key);
  return key;
}
