/** @jsxImportSource preact */
/**
 * The console's shell: the operator's key, the navigation between views (the URL's hash, so a
 * view can be linked and the browser's back button works) and the view itself.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { createApi } from '../shared/api.js';
import type { PageConfig } from '../shared/config.js';
import { socketUrl } from '../shared/config.js';
import { DeadLettersView } from './dead-letters.js';
import { ExceptionsView } from './exceptions.js';
import { FeedView } from './feed.js';
import { ApiContext } from './hooks.js';
import { LatencyView } from './latency.js';
import { OrdersView } from './orders.js';
import { SourcesView } from './sources.js';

const VIEWS = [
  { path: 'sources', label: 'Sources' },
  { path: 'dead-letters', label: 'Dead letters' },
  { path: 'exceptions', label: 'Exceptions' },
  { path: 'orders', label: 'Orders' },
  { path: 'latency', label: 'Latency' },
  { path: 'feed', label: 'Live events' },
] as const;
type View = (typeof VIEWS)[number]['path'];

/** The key is kept for this tab only (sessionStorage), never in the URL. */
const KEY_STORAGE = 'crossdock-ops-key';

function route(): { view: View; q: string | null } {
  const [path, query] = window.location.hash.replace(/^#\/?/, '').split('?');
  const view = VIEWS.find((v) => v.path === path)?.path ?? 'sources';
  return { view, q: new URLSearchParams(query ?? '').get('q') };
}

/** The console. */
export function App(props: { config: PageConfig }) {
  const { config } = props;
  const [key, setKey] = useState<string | null>(
    () => sessionStorage.getItem(KEY_STORAGE) ?? config.demoKeys?.operations ?? null,
  );
  const [draft, setDraft] = useState(key ?? '');
  const [where, setWhere] = useState(route);
  useEffect(() => {
    const onHash = () => setWhere(route());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  const api = useMemo(
    () => (key ? createApi(config.endpoint, socketUrl(config.endpoint), key) : null),
    [key, config.endpoint],
  );
  useEffect(() => () => api?.close(), [api]);
  const openOrder = (id: string) => {
    window.location.hash = `#/orders?q=${encodeURIComponent(id)}`;
  };
  const signIn = (e: Event) => {
    e.preventDefault();
    const value = draft.trim();
    if (!value) return;
    sessionStorage.setItem(KEY_STORAGE, value);
    setKey(value);
  };
  return (
    <div class="shell">
      <header class="top">
        <h1>
          Crossdock <span class="muted">operations</span>
        </h1>
        <form class="key" onSubmit={signIn}>
          <label>
            API key
            <input
              type="password"
              autoComplete="off"
              value={draft}
              maxLength={512}
              onInput={(e) => setDraft((e.currentTarget as HTMLInputElement).value)}
            />
          </label>
          <button type="submit">Use key</button>
        </form>
        <a href="/playground" class="muted">
          Playground
        </a>
      </header>
      <nav aria-label="Views" class="views">
        <ul>
          {VIEWS.map((v) => (
            <li key={v.path}>
              <a href={`#/${v.path}`} aria-current={where.view === v.path ? 'page' : undefined}>
                {v.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main>
        {!api ? (
          <p>Enter an operations or admin API key to start.</p>
        ) : (
          <ApiContext.Provider value={api}>
            {where.view === 'sources' && <SourcesView />}
            {where.view === 'dead-letters' && <DeadLettersView onOpenOrder={openOrder} />}
            {where.view === 'exceptions' && <ExceptionsView onOpenOrder={openOrder} />}
            {where.view === 'orders' && <OrdersView initial={where.q} />}
            {where.view === 'latency' && <LatencyView onOpenOrder={openOrder} />}
            {where.view === 'feed' && <FeedView />}
          </ApiContext.Provider>
        )}
      </main>
    </div>
  );
}
