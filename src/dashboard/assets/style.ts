/**
 * The dashboard's style sheet, served as a file (`/assets/dashboard.css`).
 *
 * @since 0.1.0
 */

/** @since 0.1.0 @category assets */
export const css = `
:root { --bg: #f7f7f8; --fg: #1d1d22; --muted: #6b6b76; --line: #dcdce2; --card: #fff; --accent: #2f5bd3; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, sans-serif; background: var(--bg); color: var(--fg); }
header { display: flex; gap: 1.2em; align-items: center; padding: .6em 1.2em; background: #1d1d22; color: #fff; }
header a { color: #d8defa; text-decoration: none; } header a:hover { text-decoration: underline; }
header strong { margin-right: 1em; } header .spacer { flex: 1; }
#live-status { font-size: 12px; color: #9fe0a8; }
main { padding: 1em 1.2em; max-width: 1200px; }
h1 { font-size: 20px; margin: .2em 0 .6em; } h2 { font-size: 16px; margin: 1.2em 0 .4em; }
a { color: var(--accent); }
.cards { display: flex; flex-wrap: wrap; gap: .6em; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .5em .8em;
  min-width: 8em; text-decoration: none; color: inherit; }
.card .n { font-size: 22px; font-weight: 600; display: block; }
table { border-collapse: collapse; background: var(--card); width: 100%; }
th, td { text-align: left; padding: .3em .6em; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: 12px; text-transform: uppercase; }
td.mono, .mono { font-family: ui-monospace, monospace; font-size: 12.5px; }
pre { background: #f0f0f3; border: 1px solid var(--line); padding: .6em; overflow: auto; max-height: 30em;
  white-space: pre-wrap; word-break: break-word; font-size: 12.5px; margin: .3em 0; }
.status { display: inline-block; padding: 0 .5em; border-radius: 9px; font-size: 12px; background: #e4e4ea; }
.s-completed { background: #d5f2dc; color: #145c26; }
.s-failed, .s-timed_out, .s-children_tasks_failed, .s-finalize_task_failed { background: #fbd9d9; color: #8a1616; }
.s-running { background: #d9e6fb; color: #173f8a; }
.s-waiting_for_children_tasks, .s-waiting_for_finalize_task { background: #ece0fb; color: #4d2183; }
.s-ready { background: #fdf0cc; color: #7a5800; } .s-cancelled { background: #e4e4ea; color: #444; }
form.filters { display: flex; flex-wrap: wrap; gap: .6em; align-items: end; margin-bottom: .8em; }
form.filters label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); }
input, select, button { font: inherit; padding: .25em .5em; }
button { cursor: pointer; border: 1px solid var(--line); background: var(--card); border-radius: 4px; }
button.danger { border-color: #c33; color: #a11; }
.notice { background: #fff6d6; border: 1px solid #e8d48a; padding: .5em .8em; border-radius: 4px; margin: .6em 0; }
.error { background: #fde2e2; border: 1px solid #e9a3a3; padding: .5em .8em; border-radius: 4px; margin: .6em 0; }
.pager { margin: .8em 0; display: flex; gap: 1em; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2em 1em; background: var(--card);
  border: 1px solid var(--line); padding: .6em .8em; border-radius: 6px; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; }
.tree ul { list-style: none; padding-left: 1.3em; border-left: 1px dotted var(--line); margin: 0; }
.tree > ul { padding-left: 0; border: 0; }
.tree summary, .tree .leaf { padding: .15em .3em; border-radius: 4px; }
.tree .failed-path > summary, .tree .failed-path.leaf { background: #fde2e2; outline: 1px solid #e9a3a3; }
.chart rect.started { fill: #7b9be6; } .chart rect.finished { fill: #5cbf7a; }
.chart text { font-size: 10px; fill: var(--muted); } .chart line { stroke: var(--line); }
.legend span { margin-right: 1em; font-size: 12px; }
.legend .started { color: #4f73c9; } .legend .finished { color: #2f9a52; }
.actions { display: flex; gap: .6em; margin: .6em 0; }
.muted { color: var(--muted); }
.tree .focus > summary, .tree .leaf.focus { font-weight: 600; }
`
