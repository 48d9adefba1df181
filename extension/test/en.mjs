// Imported first by the unit tests: the lib modules read their sentences
// from the English messages.json, as the extension does in an English browser.
import { readFileSync } from 'node:fs';
import { useMessages } from '../lib/i18n.js';

/** The English messages.json. */
export const en = JSON.parse(readFileSync(new URL('../_locales/en/messages.json', import.meta.url), 'utf8'));
useMessages(en);
