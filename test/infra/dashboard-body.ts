import type { Template } from 'aws-cdk-lib/assertions';
import { flatten } from './fixtures';

/** One metric a dashboard graph draws (references flattened as in `flatten`: `<Ref:Id>`, `<Id.Attr>`). */
export interface ChartedMetric {
  widget: string;
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
  stat?: string;
}

/** A SEARCH expression a graph draws: `{namespace,dim,...} Name="value" ...`, its statistic and period. */
export interface ChartedSearch {
  widget: string;
  namespace: string;
  dimensionNames: string[];
  filter: Record<string, string>;
  stat: string;
  period: number;
}

export interface DashboardWidget {
  type: string;
  width: number;
  height: number;
  x: number;
  y: number;
  properties: { title?: string; markdown?: string; alarms?: string[]; metrics?: unknown[][] };
}

/** The dashboards of a template, their bodies parsed. */
export function dashboards(template: Template): Array<{ name: string; widgets: DashboardWidget[] }> {
  return Object.values(template.findResources('AWS::CloudWatch::Dashboard')).map((d) => ({
    name: flatten(d.Properties.DashboardName),
    widgets: (JSON.parse(flatten(d.Properties.DashboardBody)) as { widgets: DashboardWidget[] }).widgets,
  }));
}

const SEARCH = /SEARCH\('\{([^}]*)\}([^']*)',\s*'([^']+)',\s*(\d+)\)/g;

/** Every metric and SEARCH the graphs of these widgets draw. */
export function chartedSeries(widgets: DashboardWidget[]): { metrics: ChartedMetric[]; searches: ChartedSearch[] } {
  const metrics: ChartedMetric[] = [];
  const searches: ChartedSearch[] = [];
  for (const w of widgets) {
    const widget = w.properties.title ?? '';
    for (const entry of w.properties.metrics ?? []) {
      const options = (typeof entry.at(-1) === 'object' ? entry.at(-1) : {}) as { expression?: string; stat?: string };
      if (options.expression) {
        for (const [, schema, filter, stat, period] of options.expression.matchAll(SEARCH)) {
          const [namespace, ...dimensionNames] = schema!.split(',');
          const pairs = [...filter!.matchAll(/(\w+)="([^"]*)"/g)].map(([, k, v]) => [k!, v!]);
          searches.push({ widget, namespace: namespace!, dimensionNames, filter: Object.fromEntries(pairs), stat: stat!, period: Number(period) });
        }
        continue;
      }
      const strings = entry.filter((v): v is string => typeof v === 'string');
      const [namespace, metricName, ...rest] = strings;
      const dimensions: Record<string, string> = {};
      for (let i = 0; i + 1 < rest.length; i += 2) dimensions[rest[i]!] = rest[i + 1]!;
      metrics.push({ widget, namespace: namespace!, metricName: metricName!, dimensions, stat: options.stat });
    }
  }
  return { metrics, searches };
}
