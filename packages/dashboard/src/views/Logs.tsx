/** Logs: the router's log tail or a node's, with a level filter and follow mode. */
import { useState } from 'react';
import { useNodeLogs, useNodes, useRouterLogs } from '../api/hooks';
import { filterByLevel, LogView } from '../components/LogView';
import { Card, ErrorMessage, Field, PageHeader, Select } from '../components/ui';

export default function Logs() {
  const [source, setSource] = useState('router');
  const [level, setLevel] = useState('info');
  const [follow, setFollow] = useState(true);
  const { nodes } = useNodes();
  const router = useRouterLogs(follow, source === 'router');
  const node = useNodeLogs(source === 'router' ? null : source, follow, source !== 'router');
  const active = source === 'router' ? router : node;
  return (
    <div>
      <PageHeader title="Logs" description="Recent log lines from the router and its nodes." />
      <Card className="p-3">
        <div className="mb-3 flex flex-wrap items-end gap-3">
          <Field label="Source">
            {(id) => (
              <Select id={id} value={source} onChange={(e) => setSource(e.target.value)} className="w-56">
                <option value="router">Router</option>
                {(nodes ?? []).map((n) => (
                  <option key={n.id} value={n.id}>
                    Node: {n.custom_name || n.machine_name}
                  </option>
                ))}
              </Select>
            )}
          </Field>
          <Field label="Level">
            {(id) => (
              <Select id={id} value={level} onChange={(e) => setLevel(e.target.value)} className="w-32">
                {['debug', 'info', 'warn', 'error'].map((l) => (
                  <option key={l} value={l}>
                    {l}
                  </option>
                ))}
              </Select>
            )}
          </Field>
          <label className="flex items-center gap-2 pb-2 text-sm">
            <input
              type="checkbox"
              checked={follow}
              onChange={(e) => setFollow(e.target.checked)}
              className="size-4 accent-indigo-600"
            />
            Follow
          </label>
          {active.data?.path ? (
            <span className="pb-2 font-mono text-xs text-zinc-500">{active.data.path}</span>
          ) : null}
        </div>
        <ErrorMessage error={active.error} />
        <LogView
          label={source === 'router' ? 'Router log' : 'Node log'}
          entries={filterByLevel(active.data?.entries ?? [], level)}
          follow={follow}
        />
      </Card>
    </div>
  );
}
