/** The one page: header, workflow rail, architecture, dense baseline, alert region. */
import { useEffect } from 'react';
import { startOnce } from './actions';
import { ImportanceView } from './components/importance/ImportanceView';
import { ErrorAlert } from './components/ErrorAlert';
import { FontWarmup } from './components/FontWarmup';
import { Header } from './components/Header';
import { RestoreNote } from './components/RestoreNote';
import { WorkflowRail } from './components/WorkflowRail';
import { PrunePanel } from './components/prune/PrunePanel';
import { ResultsRow } from './components/prune/ResultsRow';
import { Guide } from './components/teach/Guide';

export function App() {
  useEffect(() => startOnce(), []);
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to main content
      </a>
      <Header />
      {typeof crossOriginIsolated !== 'undefined' && !crossOriginIsolated ? (
        <p className="banner" role="note">
          This page is not cross-origin isolated, so WASM runs single-threaded. Serve it with COOP/COEP headers (npm start does).
        </p>
      ) : null}
      <ErrorAlert />
      <Guide />
      <RestoreNote />
      <div className="columns">
        <WorkflowRail />
        <ImportanceView />
        <PrunePanel />
      </div>
      <ResultsRow />
      <FontWarmup />
    </div>
  );
}
