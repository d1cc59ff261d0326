// Who is logged in. The session is an HttpOnly cookie the page never
// sees; the CSRF token is kept in memory only (after a reload it comes
// from /api/v1/session/userinfo).

import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, ApiError, onUnauthenticated, setCsrfToken } from './api';
import type { SessionResponse, UserInfo } from './types';

interface Auth {
  /** null: not logged in; undefined: still asking. */
  user: UserInfo | null | undefined;
  /** Why the user was sent to the login page, if not by choice. */
  notice: string;
  login(username: string, password: string): Promise<void>;
  logout(): Promise<void>;
  isAdmin: boolean;
}

const AuthContext = createContext<Auth | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<UserInfo | null | undefined>(undefined);
  const [notice, setNotice] = useState('');

  const loadUser = useCallback(async () => {
    try {
      const info = await api<UserInfo>('api/v1/session/userinfo', { quiet401: true });
      setCsrfToken(info.csrfToken ?? null);
      setUser(info);
    } catch (e) {
      setCsrfToken(null);
      if (e instanceof ApiError && e.status === 401) {
        setUser(null);
      } else {
        setNotice(e instanceof Error ? e.message : String(e));
        setUser(null);
      }
    }
  }, []);

  useEffect(() => {
    void loadUser();
  }, [loadUser]);

  useEffect(
    () =>
      onUnauthenticated(() => {
        setCsrfToken(null);
        setUser((u) => {
          if (u) setNotice('Your session has ended (logged out, expired, or the password changed). Log in again.');
          return null;
        });
      }),
    [],
  );

  const login = useCallback(
    async (username: string, password: string) => {
      const s = await api<SessionResponse>('api/v1/session', {
        method: 'POST',
        body: { username, password },
        quiet401: true,
      });
      setCsrfToken(s.csrfToken);
      setNotice('');
      await loadUser();
    },
    [loadUser],
  );

  const logout = useCallback(async () => {
    try {
      await api('api/v1/session', { method: 'DELETE', quiet401: true });
    } finally {
      setCsrfToken(null);
      setNotice('');
      setUser(null);
    }
  }, []);

  const value = useMemo<Auth>(
    () => ({
      user,
      notice,
      login,
      logout,
      isAdmin: !!user && (user.roles.includes('role:admin') || user.username === 'admin'),
    }),
    [user, notice, login, logout],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const a = useContext(AuthContext);
  if (!a) throw new Error('useAuth outside AuthProvider');
  return a;
}
