/** Browser entry point: mounts the React app. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import './ui/styles.css';
import { engine } from './ui/jobs';

// Automation hook (benchmarks, debugging): the same worker client the UI uses.
(window as unknown as { __pruneStudio: unknown }).__pruneStudio = {
  run: (method: string, args: unknown[]) => engine().run(method as never, args as never),
};

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
