import { configFromBlock } from './config.js';
import { prefetchFirstPage, type Prefetched } from './prefetch.js';

/**
 * Inlined into index.html (allowed by its hash in the CSP) and run by the parser before the stylesheet
 * and the app's module: the first page's API request(s) start here instead of after the module has
 * loaded and started. The app takes them over (`createApi`'s `prefetched`). It never throws; on any
 * doubt it starts nothing and the app asks as it always did (and reports a bad configuration).
 */
declare global {
  interface Window {
    vraPrefetched?: Prefetched;
  }
}

performance.mark('vra:prefetch');
try {
  window.vraPrefetched = prefetchFirstPage(
    configFromBlock(document.getElementById('config')?.textContent),
    location,
  );
} catch {
  // The app reads the configuration again and says what is wrong with it.
}
