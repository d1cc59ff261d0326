import { useEffect, useRef } from 'react';
import { Link, Navigate, NavLink, Route, Routes, useLocation } from 'react-router-dom';
import { useAuth } from './auth';
import { ChangePasswordButton } from './components/ChangePassword';
import { Loading } from './components/common';
import { AppDetail } from './pages/AppDetail';
import { AppList } from './pages/AppList';
import { AppSets } from './pages/AppSets';
import { Login } from './pages/Login';
import { Settings } from './pages/Settings';

export function App() {
  const { user, logout, isAdmin } = useAuth();
  const location = useLocation();
  const main = useRef<HTMLElement>(null);

  // Move focus to the page's content when the route changes, for
  // keyboard and screen reader users.
  useEffect(() => {
    const h1 = main.current?.querySelector('h1');
    if (h1 instanceof HTMLElement) {
      h1.tabIndex = -1;
      h1.focus({ preventScroll: true });
    }
  }, [location.pathname]);

  if (user === undefined) {
    return (
      <main className="page">
        <Loading what="Sextant" />
      </main>
    );
  }
  if (user === null) {
    if (location.pathname !== '/login') {
      const next = location.pathname + location.search;
      return <Navigate to={`/login?next=${encodeURIComponent(next)}`} replace />;
    }
    return (
      <main className="page page-login" ref={main}>
        <Login />
      </main>
    );
  }

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top-bar">
        <Link to="/applications" className="brand">
          <img src="favicon.svg" alt="" width="24" height="24" />
          Sextant
        </Link>
        <nav aria-label="Main">
          <NavLink to="/applications">Applications</NavLink>
          <NavLink to="/applicationsets">ApplicationSets</NavLink>
          {isAdmin && <NavLink to="/settings">Settings</NavLink>}
        </nav>
        <div className="user">
          <span className="user-name" title={`Roles: ${user.roles.join(', ') || 'none'}`}>
            {user.username}
          </span>
          {user.roles.length > 0 && (
            <span className="user-roles" aria-label="Roles">
              {user.roles.join(', ')}
            </span>
          )}
          <ChangePasswordButton account={user.username} />
          <button type="button" onClick={() => void logout()}>
            Log out
          </button>
        </div>
      </header>
      <main id="main" className="page" ref={main}>
        <Routes>
          <Route path="/" element={<Navigate to="/applications" replace />} />
          <Route path="/login" element={<LoginDone />} />
          <Route path="/applications" element={<AppList />} />
          <Route path="/applications/:name/*" element={<AppDetail />} />
          <Route path="/applicationsets" element={<AppSets />} />
          <Route path="/settings/*" element={<Settings />} />
          <Route path="*" element={<NotFound />} />
        </Routes>
      </main>
    </>
  );
}

/** After logging in, go where the user was headed. */
function LoginDone() {
  const location = useLocation();
  const next = new URLSearchParams(location.search).get('next');
  const safe = next && next.startsWith('/') && !next.startsWith('//') ? next : '/applications';
  return <Navigate to={safe} replace />;
}

function NotFound() {
  return (
    <>
      <h1>Page not found</h1>
      <p>
        There is no page here. Go to the <Link to="/applications">applications</Link>.
      </p>
    </>
  );
}
