/**
 * What every console view shares: the API of the signed-in key, loading a query (once, on
 * demand or on an interval) with its errors kept, and the time formats.
 */
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';
import { errorText, type Api, type ApiResult } from '../shared/api.js';

/** The API of the key the operator entered. */
export const ApiContext = createContext<Api | null>(null);

/** The console's API; views render only once a key is entered. */
export function useApi(): Api {
  const api = useContext(ApiContext);
  if (!api) throw new Error('useApi outside the signed-in console');
  return api;
}

/** A query's state: its last data, its error text, whether it is loading, and a reload. */
export interface Loaded<T> {
  readonly data: T | null;
  readonly error: string | null;
  readonly loading: boolean;
  reload(): Promise<void>;
}

/**
 * Runs `query` now and again every `everyMs` (when given) and on `reload()`. The newest answer
 * wins: an older response arriving late is dropped.
 */
export function useQuery<T>(
  query: string,
  variables: Record<string, unknown>,
  everyMs?: number,
): Loaded<T> {
  const api = useApi();
  const [state, setState] = useState<{ data: T | null; error: string | null; loading: boolean }>({
    data: null,
    error: null,
    loading: true,
  });
  const sequence = useRef(0);
  const key = JSON.stringify(variables);
  const reload = useCallback(async () => {
    const mine = ++sequence.current;
    setState((s) => ({ ...s, loading: true }));
    const result: ApiResult<T> = await api.request<T>(
      query,
      JSON.parse(key) as Record<string, unknown>,
    );
    if (mine !== sequence.current) return;
    setState({ data: result.data, error: errorText(result.errors), loading: false });
  }, [api, query, key]);
  useEffect(() => {
    void reload();
    if (!everyMs) return undefined;
    const timer = setInterval(() => void reload(), everyMs);
    return () => clearInterval(timer);
  }, [reload, everyMs]);
  return { ...state, reload };
}

/** A date-time as the operator's locale shows it, with seconds. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { hour12: false });
}

/** Milliseconds, rounded for reading. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  return ms >= 100 ? `${Math.round(ms)} ms` : `${ms.toFixed(1)} ms`;
}
