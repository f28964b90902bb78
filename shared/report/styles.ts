/** The report's only styling, inlined into the page (no external stylesheet or font). */
export const REPORT_CSS = `
:root { color-scheme: light; --ink: #1d2430; --muted: #5b6575; --line: #dfe3ea; --bg: #f6f7f9; --ok: #1f7a4d; --bad: #b42318; --warn: #a15c00; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 980px; margin: 0 auto; padding: 24px 20px 48px; }
header h1 { font-size: 22px; margin: 0 0 4px; word-break: break-all; }
h2 { font-size: 17px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 14px; margin: 16px 0 6px; }
.status { display: inline-block; padding: 2px 10px; border-radius: 999px; font-weight: 600; font-size: 13px; color: #fff; background: var(--muted); vertical-align: middle; }
.status-completed { background: var(--ok); } .status-failed { background: var(--bad); } .status-in-progress, .status-interrupted { background: var(--warn); }
.error { background: #fdecea; border: 1px solid #f5c2bd; color: var(--bad); padding: 8px 12px; border-radius: 6px; white-space: pre-wrap; word-break: break-word; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 12px 0; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; word-break: break-all; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(130px, 1fr)); gap: 10px; margin: 12px 0; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.card .label { color: var(--muted); font-size: 12px; } .card .num { display: block; font-size: 22px; font-weight: 600; }
.card.bad .num { color: var(--bad); }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); margin: 6px 0; }
table { font-size: 13px; }
th, td { text-align: left; padding: 5px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #eef1f5; font-weight: 600; font-size: 13px; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code { font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; word-break: break-all; }
.more, .note { color: var(--muted); font-size: 13px; margin: 4px 0 10px; }
figure { margin: 12px 0; } figcaption { color: var(--muted); font-size: 12px; font-weight: 600; }
.chart { max-width: 100%; height: auto; background: #fff; border: 1px solid var(--line); border-radius: 8px; margin: 6px 0; }
.chart text { font: 12px system-ui, sans-serif; fill: var(--ink); } .chart .value { fill: var(--muted); }
.bar-0 rect { fill: #3b6fd8; } .bar-1 rect { fill: #7a57d1; } .bar-2 rect { fill: #1f8a70; } .bar-3 rect { fill: #d08c1f; } .bar-4 rect { fill: #c2410c; } .bar-5 rect { fill: #64748b; }
footer { color: var(--muted); font-size: 12px; margin-top: 32px; }
`;
