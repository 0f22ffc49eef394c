/** @jsxImportSource preact */
/**
 * A small time-series chart (uPlot, canvas). Charts carry an accessible name and their numbers
 * are also in the views' tables, so nothing is only visible as pixels.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot, { type AlignedData, type Series } from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** One line of a chart. */
export interface Line {
  readonly label: string;
  readonly color: string;
  /** One value per x (null: no value). */
  readonly values: readonly (number | null)[];
}

/** A chart of lines over time: `times` in epoch seconds. */
export function TimeChart(props: {
  readonly title: string;
  readonly times: readonly number[];
  readonly lines: readonly Line[];
  readonly unit: string;
  readonly width?: number;
  readonly height?: number;
}) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = props.lines.map((l) => l.label).join('|');
  useEffect(() => {
    if (!host.current) return undefined;
    const series: Series[] = [
      {},
      ...props.lines.map((l) => ({
        label: l.label,
        stroke: l.color,
        width: 2,
        value: (_u: uPlot, v: number | null) =>
          v === null ? '—' : `${v.toFixed(1)} ${props.unit}`,
      })),
    ];
    plot.current = new uPlot(
      {
        width: props.width ?? 520,
        height: props.height ?? 160,
        series,
        axes: [{}, { size: 50, values: (_u, ticks) => ticks.map((t) => `${t}`) }],
        scales: { y: { range: (_u, min, max) => [Math.min(0, min), Math.max(1, max)] } },
        legend: { live: false },
      },
      data(props.times, props.lines),
      host.current,
    );
    return () => {
      plot.current?.destroy();
      plot.current = null;
    };
    // Made once per set of lines (`shape`); new points only update its data (below).
  }, [shape]);
  useEffect(() => {
    plot.current?.setData(data(props.times, props.lines));
  }, [props.times, props.lines]);
  return <div ref={host} role="img" aria-label={props.title} class="chart" />;
}

function data(times: readonly number[], lines: readonly Line[]): AlignedData {
  return [times as number[], ...lines.map((l) => l.values as (number | null)[])];
}
