/**
 * A time-series line chart on uPlot (small, fast, canvas). Lives in its own lazy chunk with
 * the views that use it, so the login page and first load never pay for it.
 */
import { useEffect, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  color: string;
  values: Array<number | null>;
  /** Draw as filled bars rather than a line. */
  bars?: boolean;
}

/** Follows the theme class on <html>, so the chart is rebuilt in the new theme's colours. */
function useDarkMode(): boolean {
  const [dark, setDark] = useState(() => document.documentElement.classList.contains('dark'));
  useEffect(() => {
    const watch = new MutationObserver(() => setDark(document.documentElement.classList.contains('dark')));
    watch.observe(document.documentElement, { attributes: true, attributeFilter: ['class'] });
    return () => watch.disconnect();
  }, []);
  return dark;
}

export function TimeChart({
  x,
  series,
  height = 200,
  label,
  yMax,
  unit = '',
}: {
  /** Unix seconds. */
  x: number[];
  series: ChartSeries[];
  height?: number;
  label: string;
  yMax?: number;
  unit?: string;
}) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const dark = useDarkMode();
  const shape = series.map((s) => `${s.label}:${s.bars ? 'b' : 'l'}`).join('|');

  // biome-ignore lint/correctness/useExhaustiveDependencies: the plot is rebuilt only when the series' shape changes; data updates go through setData below.
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const axis = {
      stroke: dark ? '#a1a1aa' : '#71717a',
      grid: { stroke: dark ? 'rgba(255,255,255,0.06)' : 'rgba(0,0,0,0.06)', width: 1 },
      ticks: { show: false },
      font: '11px system-ui, sans-serif',
    };
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, yMax ?? Math.max(1, max * 1.15)] } },
      axes: [axis, { ...axis, size: 44, values: (_u, vals) => vals.map((v) => `${+v.toFixed(1)}${unit}`) }],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          fill: s.bars ? s.color : `${s.color}22`,
          points: { show: false },
          paths: s.bars ? uPlot.paths.bars?.({ size: [0.7, 12] }) : undefined,
          value: (_u: uPlot, v: number | null) => (v === null ? '—' : `${+v.toFixed(1)}${unit}`),
        })),
      ],
    };
    plot.current = new uPlot(opts, [x, ...series.map((s) => s.values)] as uPlot.AlignedData, el);
    const resize = new ResizeObserver(() =>
      plot.current?.setSize({ width: Math.max(200, el.clientWidth), height }),
    );
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [shape, height, yMax, unit, dark]);

  useEffect(() => {
    plot.current?.setData([x, ...series.map((s) => s.values)] as uPlot.AlignedData);
  });

  return <div ref={host} role="img" aria-label={label} className="w-full min-w-0 overflow-hidden" />;
}

export default TimeChart;
