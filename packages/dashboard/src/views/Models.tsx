/**
 * Models: registered models with lifecycle badges and live byte progress, which nodes have
 * each one, Delete, and the Register dialog (with the router's validation errors inline and a
 * picker fed by discover-gguf).
 */
import { type FormEvent, useState } from 'react';
import { ApiError, api } from '../api/client';
import { queryKeys, useApiMutation, useModels, useNodes } from '../api/hooks';
import type { ApiModel, DiscoverResult, Role } from '../api/types';
import {
  Badge,
  Button,
  Card,
  ConfirmDialog,
  Dialog,
  Empty,
  ErrorMessage,
  Field,
  PageHeader,
  Progress,
  Select,
  Spinner,
  STATUS_TONE,
  TextInput,
} from '../components/ui';
import { formatBytes, formatPercent } from '../lib/format';

export const isCloudModel = (m: ApiModel) =>
  /^(openai|google|anthropic):/.test(m.id) || m.owned_by !== 'router';

function RegisterDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const [repo, setRepo] = useState('');
  const [format, setFormat] = useState('gguf');
  const [filename, setFilename] = useState('');
  const [policy, setPolicy] = useState('quality');
  const [quantization, setQuantization] = useState('');
  const [discovered, setDiscovered] = useState<DiscoverResult | null>(null);
  const [discoverError, setDiscoverError] = useState<unknown>(null);
  const [discovering, setDiscovering] = useState(false);
  const register = useApiMutation(
    () => ({
      path: '/v0/models/register',
      method: 'POST',
      body: {
        repo: repo.trim(),
        format,
        ...(filename.trim() ? { filename: filename.trim() } : {}),
        ...(format === 'gguf' ? { gguf_policy: policy } : {}),
        ...(quantization.trim() ? { quantization: quantization.trim() } : {}),
      },
    }),
    [queryKeys.models],
  );
  const fieldError = (param: string) =>
    register.error instanceof ApiError && register.error.param === param ? register.error.message : null;
  const generalError =
    register.error &&
    !(
      register.error instanceof ApiError &&
      ['repo', 'filename', 'quantization'].includes(register.error.param ?? '')
    )
      ? register.error
      : null;

  const discover = async () => {
    setDiscovering(true);
    setDiscoverError(null);
    try {
      setDiscovered(
        await api<DiscoverResult>('/v0/models/discover-gguf', {
          method: 'POST',
          body: { model: repo.trim() },
        }),
      );
    } catch (err) {
      setDiscoverError(err);
    } finally {
      setDiscovering(false);
    }
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    await register.mutateAsync(undefined).then(
      () => {
        setRepo('');
        setFilename('');
        setDiscovered(null);
        register.reset();
        onClose();
      },
      () => {},
    );
  };

  return (
    <Dialog
      open={open}
      onClose={onClose}
      title="Register a model"
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" form="register-model" variant="primary" disabled={register.isPending}>
            Register
          </Button>
        </>
      }
    >
      <form id="register-model" onSubmit={submit} className="space-y-4">
        <Field
          label="Repository or URL"
          hint="A Hugging Face repo like org/name, or a file URL"
          error={fieldError('repo')}
        >
          {(id, hint) => (
            <div className="flex gap-2">
              <TextInput
                id={id}
                aria-describedby={hint}
                required
                placeholder="ggml-org/tiny-llamas"
                value={repo}
                onChange={(e) => setRepo(e.target.value)}
              />
              <Button onClick={discover} disabled={!repo.trim() || discovering}>
                Find GGUF
              </Button>
            </div>
          )}
        </Field>
        <ErrorMessage error={discoverError} />
        {discovered ? (
          <div className="max-h-48 space-y-2 overflow-y-auto rounded-lg border border-zinc-200 p-2 dark:border-zinc-800">
            {discovered.gguf_alternatives.length === 0 ? (
              <p className="text-sm text-zinc-500">No GGUF files found for {discovered.base_model}.</p>
            ) : (
              discovered.gguf_alternatives.map((alt) => (
                <div key={alt.repo}>
                  <div className="flex items-center gap-2 text-xs font-medium">
                    {alt.repo} {alt.trusted ? <Badge tone="green">trusted</Badge> : null}
                  </div>
                  <ul className="mt-1 space-y-1">
                    {alt.files.map((f) => (
                      <li key={f.filename}>
                        <button
                          type="button"
                          className="flex w-full justify-between gap-2 rounded px-2 py-1 text-left text-xs hover:bg-zinc-100 dark:hover:bg-zinc-800"
                          onClick={() => {
                            setRepo(alt.repo);
                            setFilename(f.filename);
                            setFormat('gguf');
                          }}
                        >
                          <span className="truncate font-mono">{f.filename}</span>
                          <span className="text-zinc-500">
                            {f.quantization ?? ''} {formatBytes(f.size_bytes)}
                          </span>
                        </button>
                      </li>
                    ))}
                  </ul>
                </div>
              ))
            )}
          </div>
        ) : null}
        <div className="grid gap-3 sm:grid-cols-2">
          <Field label="Format">
            {(id) => (
              <Select id={id} value={format} onChange={(e) => setFormat(e.target.value)}>
                <option value="gguf">GGUF</option>
                <option value="safetensors">safetensors</option>
              </Select>
            )}
          </Field>
          <Field label="GGUF policy">
            {(id) => (
              <Select
                id={id}
                value={policy}
                disabled={format !== 'gguf'}
                onChange={(e) => setPolicy(e.target.value)}
              >
                <option value="quality">Quality</option>
                <option value="memory">Memory</option>
                <option value="speed">Speed</option>
              </Select>
            )}
          </Field>
          <Field label="Filename" hint="Optional: pick one GGUF file" error={fieldError('filename')}>
            {(id, hint) => (
              <TextInput
                id={id}
                aria-describedby={hint}
                value={filename}
                onChange={(e) => setFilename(e.target.value)}
              />
            )}
          </Field>
          <Field label="Quantization" hint="Optional, e.g. Q4_K_M" error={fieldError('quantization')}>
            {(id, hint) => (
              <TextInput
                id={id}
                aria-describedby={hint}
                value={quantization}
                onChange={(e) => setQuantization(e.target.value)}
              />
            )}
          </Field>
        </div>
        <ErrorMessage error={generalError} />
      </form>
    </Dialog>
  );
}

function ModelRow({ model, nodes, admin }: { model: ApiModel; nodes: string[]; admin: boolean }) {
  const [confirm, setConfirm] = useState(false);
  const remove = useApiMutation(
    () => ({ path: `/v0/models/${encodeURIComponent(model.id)}`, method: 'DELETE' }),
    [queryKeys.models],
  );
  const status = model.lifecycle_status ?? (model.ready ? 'registered' : 'pending');
  const progress = model.download_progress;
  return (
    <li className="space-y-2 px-4 py-3" data-model={model.id}>
      <div className="flex flex-wrap items-center gap-2">
        <span className="min-w-0 flex-1 truncate font-mono text-sm font-medium">{model.id}</span>
        <Badge tone={STATUS_TONE[status] ?? 'gray'}>{status}</Badge>
        {model.format ? <Badge>{model.format}</Badge> : null}
        {admin && !isCloudModel(model) ? (
          <Button
            size="sm"
            variant="ghost"
            aria-label={`Delete ${model.id}`}
            onClick={() => setConfirm(true)}
          >
            Delete
          </Button>
        ) : null}
      </div>
      {progress && status !== 'registered' ? (
        <div className="space-y-1">
          <Progress label={`Caching ${model.id}`} value={progress.percent} />
          <div className="flex justify-between text-xs text-zinc-500">
            <span>
              {formatBytes(progress.bytes_downloaded)} of {formatBytes(progress.bytes_total)}
            </span>
            <span>{formatPercent(progress.percent, true)}</span>
          </div>
          {progress.error ? <p className="text-xs text-red-600 dark:text-red-400">{progress.error}</p> : null}
        </div>
      ) : null}
      {model.servable === false && model.servable_reason ? (
        <p className="text-xs text-amber-700 dark:text-amber-400">{model.servable_reason}</p>
      ) : null}
      <div className="text-xs text-zinc-500">
        {isCloudModel(model) ? 'cloud' : nodes.length ? `on ${nodes.join(', ')}` : 'on no node yet'}
      </div>
      <ConfirmDialog
        open={confirm}
        title="Delete model?"
        message={
          <>
            <strong>{model.id}</strong> is unregistered and its cached files are deleted from the router.
          </>
        }
        confirmLabel="Delete model"
        busy={remove.isPending}
        error={remove.error}
        onConfirm={() => remove.mutate(undefined, { onSuccess: () => setConfirm(false) })}
        onClose={() => setConfirm(false)}
      />
    </li>
  );
}

export default function Models({ role }: { role: Role }) {
  const { data, error, isLoading } = useModels();
  const { nodes } = useNodes();
  const [registering, setRegistering] = useState(false);
  const admin = role === 'admin';
  if (isLoading) return <Spinner />;
  const nodesWith = (id: string) =>
    (nodes ?? [])
      .filter((n) => n.models.some((m) => m.id === id))
      .map((n) => n.custom_name || n.machine_name);
  const models = data ?? [];
  return (
    <div>
      <PageHeader
        title="Models"
        description="Registered models, their caching progress and the nodes that serve them."
      >
        {admin ? (
          <Button variant="primary" onClick={() => setRegistering(true)}>
            Register model
          </Button>
        ) : null}
      </PageHeader>
      <ErrorMessage error={error} title="Could not load models" />
      <Card>
        {models.length === 0 ? (
          <Empty>No models yet.</Empty>
        ) : (
          <ul className="divide-y divide-zinc-100 dark:divide-zinc-800">
            {models.map((m) => (
              <ModelRow key={m.id} model={m} nodes={nodesWith(m.id)} admin={admin} />
            ))}
          </ul>
        )}
      </Card>
      {admin ? <RegisterDialog open={registering} onClose={() => setRegistering(false)} /> : null}
    </div>
  );
}
