// Where a page keeps its API key: given once (typed in, or in the URL fragment) and kept in local storage.

import { takeKeyFromHash } from './fragment.js';

function storageName(page) {
  return `daknong-ioc.api-key.${page}`;
}

/** The page's key: from the fragment `#key=…` (then removed from the address bar), else the one kept. */
export function initialKey(page) {
  const { key, hash } = takeKeyFromHash(window.location.hash);
  if (key) {
    saveKey(page, key);
    window.history.replaceState(null, '', window.location.pathname + window.location.search + hash);
  }
  return window.localStorage.getItem(storageName(page));
}

export function saveKey(page, key) {
  window.localStorage.setItem(storageName(page), key);
}

export function forgetKey(page) {
  window.localStorage.removeItem(storageName(page));
}
