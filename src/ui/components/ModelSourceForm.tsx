/**
 * Step 1 inputs for the Hub and local-files sources (issue 5). Stateless towards the store: it
 * builds a ModelSource and hands it to `onLoad`; the caller runs it as a job (progress, Cancel,
 * errors with hints come from the existing job machinery).
 *   hub:   repo id / "org/name@revision" / Hub URL, endpoint (default huggingface.co), optional token
 *   files: pick a folder, pick files, or drop a folder / files (safetensors + config.json +
 *          tokenizer.json, or an .onnx file with its external data and tokenizer.json)
 * Test ids: model-source-hub-input, model-source-endpoint, model-source-token, model-source-hub-load,
 * model-source-files-input (folder), model-source-files-pick (files), model-source-drop.
 */
import { useState, type DragEvent, type FormEvent } from 'react';
import type { ModelSource } from '../../api/types';
import { filesFromDrop, filesFromInput } from '../dropped-files';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

interface Props {
  kind: 'hub' | 'files';
  disabled: boolean;
  onLoad: (source: ModelSource) => void;
}

export function ModelSourceForm({ kind, disabled, onLoad }: Props) {
  return kind === 'hub' ? <HubForm disabled={disabled} onLoad={onLoad} /> : <FilesForm disabled={disabled} onLoad={onLoad} />;
}

function HubForm({ disabled, onLoad }: Omit<Props, 'kind'>) {
  const [repo, setRepo] = useState('');
  const [endpoint, setEndpoint] = useState(DEFAULT_ENDPOINT);
  const [token, setToken] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!repo.trim()) return;
    onLoad({
      kind: 'hub',
      repo: repo.trim(),
      endpoint: endpoint.trim() || DEFAULT_ENDPOINT,
      ...(token.trim() ? { token: token.trim() } : {}),
    });
  };
  return (
    <form className="source-form" onSubmit={submit}>
      <label>
        Repo id or URL
        <input
          data-testid="model-source-hub-input"
          value={repo}
          placeholder="org/name or org/name@revision"
          spellCheck={false}
          autoComplete="off"
          onChange={(e) => setRepo(e.target.value)}
        />
      </label>
      <details>
        <summary>Endpoint and access token</summary>
        <label>
          Hub endpoint
          <input data-testid="model-source-endpoint" value={endpoint} spellCheck={false} onChange={(e) => setEndpoint(e.target.value)} />
        </label>
        <label>
          Access token (gated or private models)
          <input
            data-testid="model-source-token"
            type="password"
            value={token}
            autoComplete="off"
            placeholder="hf_…"
            onChange={(e) => setToken(e.target.value)}
          />
        </label>
      </details>
      <button type="submit" className="button" data-testid="model-source-hub-load" disabled={disabled || !repo.trim()}>
        Download and load
      </button>
    </form>
  );
}

function FilesForm({ disabled, onLoad }: Omit<Props, 'kind'>) {
  const [over, setOver] = useState(false);
  const load = (files: ReturnType<typeof filesFromInput>) => {
    if (files.length > 0) onLoad({ kind: 'files', files });
  };
  const drop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    if (!disabled) void filesFromDrop(e.dataTransfer).then(load);
  };
  return (
    <div
      className={over ? 'source-form drop over' : 'source-form drop'}
      data-testid="model-source-drop"
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={drop}
    >
      <p className="help">Drop a model folder here, or pick one: config.json + tokenizer.json + safetensors, or an .onnx export.</p>
      <label className="button secondary">
        Pick a folder
        <input
          data-testid="model-source-files-input"
          type="file"
          multiple
          disabled={disabled}
          ref={(el) => el?.setAttribute('webkitdirectory', '')}
          onChange={(e) => load(filesFromInput(e.target.files))}
          hidden
        />
      </label>
      <label className="button secondary">
        Pick files
        <input
          data-testid="model-source-files-pick"
          type="file"
          multiple
          disabled={disabled}
          onChange={(e) => load(filesFromInput(e.target.files))}
          hidden
        />
      </label>
    </div>
  );
}
