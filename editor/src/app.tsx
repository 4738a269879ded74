import { lazy, Suspense } from 'react';
import { href, navigate, useRoute } from './router.js';
import { NodeTypesProvider, SessionProvider, useSession } from './session.js';
import { LoginScreen } from './screens/login.js';
import { Loading } from './components/ui.js';
import { GridsScreen } from './screens/grids.js';

const EditorScreen = lazy(() => import('./screens/editor.js').then((m) => ({ default: m.EditorScreen })));
const ExecutionsScreen = lazy(() => import('./screens/executions.js').then((m) => ({ default: m.ExecutionsScreen })));
const ApprovalsScreen = lazy(() => import('./screens/approvals.js').then((m) => ({ default: m.ApprovalsScreen })));
const TemplatesScreen = lazy(() => import('./screens/templates.js').then((m) => ({ default: m.TemplatesScreen })));
const BrandScreen = lazy(() => import('./screens/brand.js').then((m) => ({ default: m.BrandScreen })));
const ConnectionsScreen = lazy(() => import('./screens/connections.js').then((m) => ({ default: m.ConnectionsScreen })));

export function App() {
  return (
    <SessionProvider fallback={<Loading what="Starting Gridflow…" />} signedOut={(setMe) => <LoginScreen onSignedIn={setMe} />}>
      <NodeTypesProvider>
        <Shell />
      </NodeTypesProvider>
    </SessionProvider>
  );
}

const NAV = [
  ['grids', 'Grids'],
  ['approvals', 'Approvals'],
  ['templates', 'Templates'],
  ['brand', 'Brand profiles'],
  ['connections', 'Connections'],
] as const;

function Shell() {
  const route = useRoute();
  const { me, workspace, switchWorkspace, logout } = useSession();
  const [section = 'grids'] = route.path;
  if (section === 'login' || section === 'signup') {
    navigate('/grids');
  }
  const isCanvas = section === 'grids' && route.path.length === 2;
  return (
    <div className={`shell${isCanvas ? ' shell-canvas' : ''}`}>
      <header className="topbar">
        <a className="brand" href={href('/grids')} data-testid="nav-home">
          <span aria-hidden>▦</span> Gridflow
        </a>
        <nav aria-label="Main">
          {NAV.map(([key, label]) => (
            <a key={key} href={href(`/${key}`)} className={section === key ? 'active' : ''} data-testid={`nav-${key}`} aria-current={section === key ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <div className="topbar-right">
          <label className="ws-switch">
            <span className="sr-only">Workspace</span>
            <select
              data-testid="workspace-switcher"
              aria-label="Workspace"
              value={workspace?.id ?? ''}
              onChange={(e) => switchWorkspace(e.target.value)}
            >
              {me?.workspaces.map((w) => (
                <option key={w.id} value={w.id}>
                  {w.name} ({w.role})
                </option>
              ))}
            </select>
          </label>
          <span className="muted" data-testid="current-user">
            {me?.user.name}
          </span>
          <button type="button" onClick={() => void logout()} data-testid="logout">
            Sign out
          </button>
        </div>
      </header>
      <main className="content">
        <Suspense fallback={<Loading />}>
          <Screen section={section} path={route.path} query={route.query} />
        </Suspense>
      </main>
    </div>
  );
}

function Screen({ section, path, query }: { section: string; path: string[]; query: URLSearchParams }) {
  switch (section) {
    case 'grids':
      if (path[1] && path[2] === 'executions') return <ExecutionsScreen gridId={path[1]} />;
      if (path[1]) return <EditorScreen key={path[1]} gridId={path[1]} executionId={query.get('execution')} />;
      return <GridsScreen />;
    case 'executions':
      return <ExecutionsScreen gridId={query.get('gridId') ?? undefined} />;
    case 'approvals':
      return <ApprovalsScreen />;
    case 'templates':
      return <TemplatesScreen />;
    case 'brand':
      return <BrandScreen />;
    case 'connections':
      return <ConnectionsScreen />;
    default:
      return <GridsScreen />;
  }
}
