/** The signed-in user, their workspaces and the node-type catalogue, shared by every screen. */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, ApiError, currentWorkspaceId, setCurrentWorkspaceId } from './api/client.js';
import type { Me, NodeTypeInfo, WorkspaceRef } from './api/types.js';
import { closeSocket } from './api/live.js';

interface SessionValue {
  me: Me | null;
  workspace: WorkspaceRef | null;
  setMe: (me: Me | null) => void;
  switchWorkspace: (id: string) => void;
  logout: () => Promise<void>;
  refresh: () => Promise<void>;
}

/** The session cookie is httpOnly; this flag only says "a sign-in happened in this browser". */
const HINT_KEY = 'gridflow.signedIn';
function hasSessionHint(): boolean {
  try {
    return localStorage.getItem(HINT_KEY) === '1';
  } catch {
    return true;
  }
}
function setSessionHint(on: boolean): void {
  try {
    if (on) localStorage.setItem(HINT_KEY, '1');
    else localStorage.removeItem(HINT_KEY);
  } catch {
    /* storage blocked: we simply ask the server each time */
  }
}

const SessionContext = createContext<SessionValue | null>(null);

export function useSession(): SessionValue {
  const v = useContext(SessionContext);
  if (!v) throw new Error('useSession outside SessionProvider');
  return v;
}

export function SessionProvider({ children, fallback, signedOut }: { children: ReactNode; fallback: ReactNode; signedOut: (setMe: (m: Me) => void) => ReactNode }) {
  const [me, setMeState] = useState<Me | null>(null);
  const [checked, setChecked] = useState(false);
  const [wsKey, setWsKey] = useState(0);

  const setMe = useCallback((m: Me | null) => {
    setSessionHint(!!m);
    if (m) {
      const stored = currentWorkspaceId();
      if (!stored || !m.workspaces.some((w) => w.id === stored)) setCurrentWorkspaceId(m.currentWorkspaceId ?? m.workspaces[0]?.id ?? null);
    }
    setMeState(m);
  }, []);

  const refresh = useCallback(async () => {
    // Without the hint there is no session to check: skip the request (and its 401 in the console).
    if (!hasSessionHint()) {
      setMeState(null);
      setChecked(true);
      return;
    }
    try {
      setMe(await api.me());
    } catch (e) {
      if (e instanceof ApiError && (e.status === 401 || e.status === 403)) setSessionHint(false);
      else console.warn('GET /api/me failed', e);
      setMeState(null);
    } finally {
      setChecked(true);
    }
  }, [setMe]);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  // A 401 from any API call: the session ended; back to the sign-in screen.
  useEffect(() => {
    const onUnauthorized = () => {
      setSessionHint(false);
      setMeState(null);
    };
    window.addEventListener('gridflow:unauthorized', onUnauthorized);
    return () => window.removeEventListener('gridflow:unauthorized', onUnauthorized);
  }, []);

  const value = useMemo<SessionValue>(() => {
    const wsId = currentWorkspaceId();
    const workspace = me?.workspaces.find((w) => w.id === wsId) ?? me?.workspaces[0] ?? null;
    return {
      me,
      workspace,
      setMe,
      switchWorkspace: (id: string) => {
        setCurrentWorkspaceId(id);
        void api.switchWorkspace(id).catch(() => {});
        closeSocket();
        setWsKey((k) => k + 1);
        location.hash = '#/grids';
      },
      logout: async () => {
        try {
          await api.logout();
        } finally {
          closeSocket();
          setSessionHint(false);
          setCurrentWorkspaceId(null);
          setMeState(null);
          location.hash = '#/login';
        }
      },
      refresh,
    };
    // wsKey: re-derive the workspace after a switch
  }, [me, setMe, refresh, wsKey]);

  if (!checked) return <>{fallback}</>;
  if (!me) return <>{signedOut(setMe)}</>;
  return (
    <SessionContext.Provider value={value}>
      <div key={wsKey} style={{ display: 'contents' }}>
        {children}
      </div>
    </SessionContext.Provider>
  );
}

// ---------------------------- node types ----------------------------

interface NodeTypesValue {
  list: NodeTypeInfo[];
  byType: Map<string, NodeTypeInfo>;
  loading: boolean;
  error: unknown;
  reload: () => void;
}

const NodeTypesContext = createContext<NodeTypesValue>({ list: [], byType: new Map(), loading: true, error: null, reload: () => {} });

export const useNodeTypes = () => useContext(NodeTypesContext);

export function NodeTypesProvider({ children, initial }: { children: ReactNode; initial?: NodeTypeInfo[] }) {
  const [list, setList] = useState<NodeTypeInfo[]>(initial ?? []);
  const [loading, setLoading] = useState(!initial);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (initial) return;
    let live = true;
    setLoading(true);
    api.nodeTypes().then(
      (l) => {
        if (!live) return;
        setList(l);
        setError(null);
        setLoading(false);
      },
      (e: unknown) => {
        if (!live) return;
        setError(e);
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
  }, [initial, tick]);
  const value = useMemo(
    () => ({ list, byType: new Map(list.map((t) => [t.type, t])), loading, error, reload: () => setTick((t) => t + 1) }),
    [list, loading, error],
  );
  return <NodeTypesContext.Provider value={value}>{children}</NodeTypesContext.Provider>;
}
