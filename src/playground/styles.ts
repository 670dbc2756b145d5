/**
 * The Playground's stylesheet, inlined in the page (one response, no extra route: with API keys
 * on, only `/` itself is open). System CJK fonts only -- no web fonts, so it works offline.
 */
export const PLAYGROUND_CSS = `
:root {
  --fg: #1f2328; --muted: #59636e; --bg: #ffffff; --panel: #f6f8fa; --line: #d1d9e0;
  --accent: #0b63ce; --accent-fg: #ffffff; --bar: #2f81f7; --bar-neg: #cf222e;
  --error-bg: #ffebe9; --error-fg: #82071e; --focus: #fb8c00;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root {
    --fg: #e6edf3; --muted: #9198a1; --bg: #0d1117; --panel: #161b22; --line: #3d444d;
    --accent: #4493f8; --accent-fg: #0d1117; --bar: #4493f8; --bar-neg: #f85149;
    --error-bg: #3c1618; --error-fg: #ffb1ad;
  }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; color: var(--fg); background: var(--bg);
  /* CJK faces first: a Latin UI font first would also draw the shared punctuation (“”…). */
  font: 16px/1.6 "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif;
}
main { max-width: 60rem; margin: 0 auto; padding: 1rem 1rem 3rem; }
header { display: flex; flex-wrap: wrap; align-items: baseline; justify-content: space-between; gap: .25rem 1rem; }
h1 { font-size: 1.5rem; margin: .5rem 0; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; }
p { margin: .25rem 0 .75rem; }
.pg-lead { color: var(--muted); }
a { color: var(--accent); }
code, pre, textarea.pg-mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Noto Sans Mono CJK SC", monospace; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.pg-field { margin: 0 0 1rem; }
.pg-field > label, .pg-legend { display: block; font-weight: 600; margin-bottom: .25rem; }
.pg-hint { display: block; font-weight: normal; color: var(--muted); font-size: .875rem; }
fieldset { border: 0; padding: 0; margin: 0 0 1rem; min-width: 0; }
select, textarea, input {
  width: 100%; font: inherit; color: inherit; background: var(--bg);
  border: 1px solid var(--line); border-radius: 6px; padding: .45rem .6rem;
}
/* Grows with its text where supported (Chromium); elsewhere the rows attribute and resize apply. */
textarea { resize: vertical; min-height: 2.75rem; field-sizing: content; max-height: 14rem; }
.pg-button {
  font: inherit; min-height: 2.75rem; padding: .4rem 1rem; border-radius: 6px; cursor: pointer;
  border: 1px solid var(--line); background: var(--panel); color: var(--fg);
  white-space: nowrap; flex: none;
}
.pg-button:hover { border-color: var(--accent); }
.pg-button[aria-pressed="true"] { background: var(--accent); color: var(--accent-fg); border-color: var(--accent); }
.pg-primary { background: var(--accent); color: var(--accent-fg); border-color: var(--accent); font-weight: 600; min-width: 8rem; }
.pg-button:disabled { opacity: .6; cursor: progress; }
.pg-examples { display: flex; flex-wrap: wrap; gap: .5rem; }
.pg-rows { list-style: none; padding: 0; margin: 0 0 .5rem; }
.pg-row { margin-bottom: .5rem; }
.pg-row-label { display: block; font-size: .875rem; color: var(--muted); }
.pg-row-body { display: flex; gap: .5rem; align-items: flex-start; }
.pg-row-body textarea { flex: 1; }
.pg-actions { display: flex; flex-wrap: wrap; gap: .75rem; align-items: center; margin: 1rem 0; }
.pg-key-box { padding: .75rem; border: 1px solid var(--line); border-radius: 6px; background: var(--panel); margin-bottom: 1rem; }
.pg-key-row { display: flex; flex-wrap: wrap; gap: .5rem; }
.pg-key-row input { flex: 1 1 12rem; }
.pg-status { color: var(--muted); min-height: 1.6em; margin: 0; }
.pg-error { white-space: pre-line; background: var(--error-bg); color: var(--error-fg); border-radius: 6px; padding: .6rem .8rem; margin: .5rem 0; }
.pg-meta { display: flex; flex-wrap: wrap; gap: .25rem 1.5rem; margin: .5rem 0 1rem; }
.pg-meta-item { display: flex; gap: .4rem; }
.pg-meta dt { color: var(--muted); }
.pg-meta dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
.pg-ranking { list-style: none; padding: 0; margin: 0; }
.pg-hit { padding: .6rem 0; border-top: 1px solid var(--line); }
.pg-hit-head { display: flex; gap: .5rem; }
.pg-rank { font-weight: 700; color: var(--accent); min-width: 2rem; }
.pg-hit-text { overflow-wrap: anywhere; }
.pg-bar { height: .6rem; background: var(--panel); border-radius: 3px; margin: .35rem 0 .25rem 2.5rem; overflow: hidden; }
.pg-bar-fill { display: block; height: 100%; background: var(--bar); }
.pg-bar-fill.pg-negative { background: var(--bar-neg); }
.pg-hit-numbers { display: flex; flex-wrap: wrap; gap: .25rem 1.25rem; margin-left: 2.5rem; font-variant-numeric: tabular-nums; }
.pg-origin { color: var(--muted); }
.pg-scroll { overflow-x: auto; }
.pg-table { border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: .875rem; }
.pg-table caption { text-align: left; color: var(--muted); padding-bottom: .25rem; }
.pg-table th, .pg-table td { border: 1px solid var(--line); padding: .2rem .5rem; text-align: right; white-space: nowrap; }
.pg-table th[scope="row"] { text-align: left; }
.pg-snippet { margin: 0 0 1rem; }
.pg-snippet-head { display: flex; justify-content: space-between; align-items: center; gap: .5rem; }
.pg-snippet h3 { font-size: 1rem; margin: .5rem 0; }
.pg-snippet pre { margin: 0; background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: .75rem; overflow-x: auto; font-size: .8125rem; line-height: 1.5; }
[hidden] { display: none !important; }
@media (max-width: 480px) {
  main { padding: .75rem .75rem 2rem; }
  h1 { font-size: 1.25rem; }
  .pg-bar, .pg-hit-numbers { margin-left: 0; }
  .pg-primary { width: 100%; }
}
`;
