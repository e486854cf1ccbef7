/** History: filtered, paged request records; a detail panel with bodies; CSV/JSON export. */
import { useState } from 'react';
import {
  type HistoryFilterValues,
  historyQuery,
  useApiKeys,
  useHistory,
  useHistoryRecord,
  useNodes,
} from '../api/hooks';
import { Pager } from '../components/Pager';
import {
  Badge,
  Button,
  Card,
  CopyButton,
  cx,
  Dialog,
  Empty,
  ErrorMessage,
  Field,
  PageHeader,
  Select,
  Spinner,
  StatusBadge,
  TextInput,
  td,
  th,
} from '../components/ui';
import { formatDateTime, formatDuration, formatNumber } from '../lib/format';

function JsonBlock({ label, value }: { label: string; value: unknown }) {
  const text =
    value === null || value === undefined
      ? ''
      : typeof value === 'string'
        ? value
        : JSON.stringify(value, null, 2);
  return (
    <section className="space-y-1.5">
      <div className="flex items-center justify-between">
        <h3 className="text-xs font-semibold uppercase tracking-wide text-zinc-500">{label}</h3>
        {text ? <CopyButton text={text} label={`Copy ${label.toLowerCase()}`} /> : null}
      </div>
      {/* biome-ignore lint/a11y/useSemanticElements: a named, focusable scroll region around preformatted JSON. */}
      <pre
        role="region"
        aria-label={label}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: long bodies scroll, so keyboard users must reach them.
        tabIndex={0}
        className="max-h-72 overflow-auto whitespace-pre-wrap break-all rounded-lg bg-zinc-950 p-3 font-mono text-xs text-zinc-200"
      >
        {text || 'Not stored (streamed or failed requests keep no response body).'}
      </pre>
    </section>
  );
}

function RecordDialog({ id, onClose }: { id: string; onClose: () => void }) {
  const { data, error, isLoading } = useHistoryRecord(id);
  return (
    <Dialog open onClose={onClose} title="Request details" wide>
      {isLoading ? <Spinner /> : null}
      <ErrorMessage error={error} />
      {data ? (
        <div className="space-y-4">
          <dl className="grid grid-cols-2 gap-3 text-sm sm:grid-cols-4">
            {[
              ['Status', <StatusBadge key="s" status={data.status} />],
              ['Model', data.model],
              ['Node', data.node_machine_name ?? '—'],
              ['Client IP', data.client_ip ?? '—'],
              ['Duration', formatDuration(data.duration_ms)],
              ['TTFT', formatDuration(data.time_to_first_token_ms)],
              ['Tokens in / out', `${data.prompt_tokens ?? '—'} / ${data.completion_tokens ?? '—'}`],
              ['Time', formatDateTime(data.timestamp)],
            ].map(([k, v]) => (
              <div key={String(k)} className="min-w-0 rounded-lg bg-zinc-50 px-3 py-2 dark:bg-zinc-800/50">
                <dt className="text-xs text-zinc-500">{k}</dt>
                <dd className="truncate font-medium">{v}</dd>
              </div>
            ))}
          </dl>
          {data.error_message ? <ErrorMessage error={new Error(data.error_message)} title="Error" /> : null}
          <JsonBlock label="Request body" value={data.request_body} />
          <JsonBlock label="Response body" value={data.response_body} />
        </div>
      ) : null}
    </Dialog>
  );
}

export default function History() {
  const [draft, setDraft] = useState<HistoryFilterValues>({});
  const [filters, setFilters] = useState<HistoryFilterValues>({});
  const [page, setPage] = useState(1);
  const [perPage, setPerPage] = useState(25);
  const [selected, setSelected] = useState<string | null>(null);
  const { data, error, isLoading } = useHistory(filters, page, perPage);
  const { nodes } = useNodes();
  const keys = useApiKeys();
  const set = (k: keyof HistoryFilterValues) => (e: { target: { value: string } }) =>
    setDraft((d) => ({ ...d, [k]: e.target.value }));
  const exportUrl = (format: string) =>
    `/v0/dashboard/request-responses/export?${historyQuery(filters, { format })}`;

  return (
    <div>
      <PageHeader title="History" description="Every request the router handled, with its bodies.">
        <a
          href={exportUrl('csv')}
          download
          className="rounded-lg bg-white px-3.5 py-2 text-sm font-medium ring-1 ring-inset ring-zinc-300 hover:bg-zinc-50 dark:bg-zinc-800 dark:ring-zinc-700"
        >
          Export CSV
        </a>
        <a
          href={exportUrl('json')}
          download
          className="rounded-lg bg-white px-3.5 py-2 text-sm font-medium ring-1 ring-inset ring-zinc-300 hover:bg-zinc-50 dark:bg-zinc-800 dark:ring-zinc-700"
        >
          Export JSON
        </a>
      </PageHeader>
      <Card className="mb-4 p-3">
        <form
          className="grid grid-cols-2 gap-3 md:grid-cols-3 xl:grid-cols-7"
          onSubmit={(e) => {
            e.preventDefault();
            setFilters(draft);
            setPage(1);
          }}
        >
          <Field label="Model">
            {(id) => (
              <TextInput id={id} value={draft.model ?? ''} onChange={set('model')} placeholder="any" />
            )}
          </Field>
          <Field label="Node">
            {(id) => (
              <Select id={id} value={draft.node_id ?? ''} onChange={set('node_id')}>
                <option value="">any</option>
                {(nodes ?? []).map((n) => (
                  <option key={n.id} value={n.id}>
                    {n.custom_name || n.machine_name}
                  </option>
                ))}
              </Select>
            )}
          </Field>
          <Field label="Status">
            {(id) => (
              <Select id={id} value={draft.status ?? ''} onChange={set('status')}>
                <option value="">any</option>
                <option value="success">success</option>
                <option value="error">error</option>
              </Select>
            )}
          </Field>
          <Field label="API key">
            {(id) => (
              <Select id={id} value={draft.api_key_id ?? ''} onChange={set('api_key_id')}>
                <option value="">any</option>
                {(keys.data ?? []).map((k) => (
                  <option key={k.id} value={k.id}>
                    {k.name}
                  </option>
                ))}
              </Select>
            )}
          </Field>
          <Field label="From">
            {(id) => (
              <TextInput id={id} type="datetime-local" value={draft.from ?? ''} onChange={set('from')} />
            )}
          </Field>
          <Field label="To">
            {(id) => <TextInput id={id} type="datetime-local" value={draft.to ?? ''} onChange={set('to')} />}
          </Field>
          <div className="col-span-2 flex items-end gap-2 md:col-span-3 xl:col-span-1">
            <Button type="submit" variant="primary" className="flex-1">
              Apply
            </Button>
            <Button
              onClick={() => {
                setDraft({});
                setFilters({});
                setPage(1);
              }}
            >
              Clear
            </Button>
          </div>
        </form>
      </Card>
      <ErrorMessage error={error} title="Could not load history" />
      <Card>
        {isLoading ? (
          <Spinner />
        ) : !data || data.records.length === 0 ? (
          <Empty>No requests match.</Empty>
        ) : (
          <div className="overflow-x-auto">
            <table className="w-full">
              <thead className="bg-zinc-50 dark:bg-zinc-900/60">
                <tr>
                  <th className={th}>Time</th>
                  <th className={th}>Model</th>
                  <th className={th}>Status</th>
                  <th className={cx(th, 'hidden md:table-cell')}>Node</th>
                  <th className={cx(th, 'hidden sm:table-cell')}>Duration</th>
                  <th className={cx(th, 'hidden lg:table-cell')}>Tokens</th>
                  <th className={cx(th, 'hidden lg:table-cell')}>TTFT</th>
                </tr>
              </thead>
              <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800">
                {data.records.map((r) => (
                  <tr key={r.id} className="hover:bg-zinc-50 dark:hover:bg-zinc-800/40">
                    <td className={cx(td, 'whitespace-nowrap')}>
                      <button
                        type="button"
                        className="text-left font-medium text-indigo-600 hover:underline dark:text-indigo-400"
                        onClick={() => setSelected(r.id)}
                      >
                        {formatDateTime(r.timestamp)}
                      </button>
                    </td>
                    <td className={cx(td, 'max-w-[12rem] truncate font-mono text-xs')}>
                      {r.model} {r.stream ? <Badge>stream</Badge> : null}
                    </td>
                    <td className={td}>
                      <StatusBadge status={r.status} />
                    </td>
                    <td className={cx(td, 'hidden md:table-cell')}>{r.node_machine_name ?? '—'}</td>
                    <td className={cx(td, 'hidden tabular-nums sm:table-cell')}>
                      {formatDuration(r.duration_ms)}
                    </td>
                    <td className={cx(td, 'hidden tabular-nums lg:table-cell')}>
                      {formatNumber(r.prompt_tokens)} / {formatNumber(r.completion_tokens)}
                    </td>
                    <td className={cx(td, 'hidden tabular-nums lg:table-cell')}>
                      {formatDuration(r.time_to_first_token_ms)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {data ? (
          <Pager
            page={data.page}
            pages={Math.max(1, Math.ceil(data.total / data.per_page))}
            total={data.total}
            perPage={perPage}
            sizes={[10, 25, 50, 100]}
            onPage={setPage}
            onPerPage={(s) => {
              setPerPage(s);
              setPage(1);
            }}
          />
        ) : null}
      </Card>
      {selected ? <RecordDialog id={selected} onClose={() => setSelected(null)} /> : null}
    </div>
  );
}
