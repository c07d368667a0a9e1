// The page's language: `?lang=` in the URL, else the one last chosen in this browser, else Vietnamese.

import { LANGUAGES } from './i18n.js';

const STORAGE = 'daknong-ioc.lang';

export function initialLanguage() {
  const asked = new URLSearchParams(window.location.search).get('lang') ?? window.localStorage.getItem(STORAGE);
  return LANGUAGES.includes(asked) ? asked : 'vi';
}

/** The other language, remembered for the next load. */
export function toggleLanguage(lang) {
  const next = lang === 'vi' ? 'en' : 'vi';
  window.localStorage.setItem(STORAGE, next);
  return next;
}
