// Server-Sent Events with the browser's EventSource: it reconnects by
// itself (sending Last-Event-ID); when the server refuses (401, 404) it
// stops, and the page offers to reconnect.

import { useCallback, useEffect, useRef, useState } from 'react';

export type StreamState = 'connecting' | 'open' | 'closed';

export type Handlers = Record<string, (data: string) => void>;

export function useEventSource(url: string | null, handlers: Handlers): { state: StreamState; reconnect: () => void } {
  const [state, setState] = useState<StreamState>('connecting');
  const [attempt, setAttempt] = useState(0);
  const ref = useRef(handlers);
  ref.current = handlers;
  useEffect(() => {
    if (!url) return;
    setState('connecting');
    const es = new EventSource(url, { withCredentials: true });
    es.onopen = () => setState('open');
    es.onerror = () => setState(es.readyState === EventSource.CLOSED ? 'closed' : 'connecting');
    const names = Object.keys(ref.current);
    const listeners = names.map((name) => {
      const l = (e: MessageEvent) => ref.current[name]?.(e.data as string);
      es.addEventListener(name, l as EventListener);
      return [name, l] as const;
    });
    return () => {
      for (const [name, l] of listeners) es.removeEventListener(name, l as EventListener);
      es.close();
    };
  }, [url, attempt]);
  const reconnect = useCallback(() => setAttempt((a) => a + 1), []);
  return { state, reconnect };
}
