/**
 * The dashboard's stylesheet and its one script, served from /ui/app.css and /ui/app.js (the Content-Security-Policy
 * allows no inline script or style). The page works without the script; it adds live refresh and log following.
 */
export const APP_CSS = `
:root { color-scheme: light dark; --bg: #fff; --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --accent: #0a58ca;
  --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --killed: #6e7781; --chip: #f6f8fa; --free: #e6ebf0; }
@media (prefers-color-scheme: dark) { :root { --bg: #0d1117; --fg: #e6edf3; --muted: #9da7b3; --line: #30363d;
  --accent: #58a6ff; --ok: #3fb950; --bad: #f85149; --warn: #d29922; --killed: #8b949e; --chip: #161b22; --free: #21262d; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, sans-serif; background: var(--bg); color: var(--fg); }
a { color: var(--accent); }
.skip { position: absolute; left: -999px; } .skip:focus { left: 8px; top: 8px; background: var(--bg); padding: 4px; }
header { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; padding: 8px 16px; border-bottom: 1px solid var(--line); }
header strong { margin-right: 8px; }
nav ul { display: flex; flex-wrap: wrap; gap: 4px 14px; list-style: none; margin: 0; padding: 0; }
nav a[aria-current=page] { font-weight: 600; text-decoration: none; color: var(--fg); }
header form { margin-left: auto; }
main { padding: 12px 16px 40px; max-width: 1200px; }
h1 { font-size: 1.35rem; margin: 8px 0 12px; } h2 { font-size: 1.1rem; margin: 20px 0 8px; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); }
.scroll { overflow-x: auto; }
.state { display: inline-block; padding: 0 6px; border-radius: 8px; background: var(--chip); border: 1px solid var(--line); font-size: .85em; }
.state-SUCCEEDED { color: var(--ok); } .state-DEAD, .state-FAILED { color: var(--bad); } .state-RUNNING, .state-SUBMITTED { color: var(--accent); }
.state-KILLED { color: var(--killed); } .state-QUEUED { color: var(--warn); }
.muted { color: var(--muted); } .error { color: var(--bad); } .notice { border-left: 3px solid var(--accent); padding: 4px 10px; background: var(--chip); }
form.inline { display: inline; } .actions { display: flex; flex-wrap: wrap; gap: 8px; align-items: end; margin: 10px 0; }
label { display: block; font-weight: 600; margin: 10px 0 3px; } .hint { font-weight: normal; color: var(--muted); font-size: .9em; }
input, select, textarea, button { font: inherit; color: inherit; background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 5px 8px; }
textarea { width: 100%; min-height: 4.5em; font-family: ui-monospace, monospace; } input[type=text], input[type=url], input[type=password], select { width: min(100%, 420px); }
button { cursor: pointer; background: var(--chip); } button.danger { color: var(--bad); }
:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
fieldset { border: 1px solid var(--line); border-radius: 8px; margin: 12px 0; } legend { font-weight: 600; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 0 16px; }
.field-error { color: var(--bad); margin: 2px 0; }
pre { background: var(--chip); border: 1px solid var(--line); border-radius: 6px; padding: 8px; overflow: auto; max-height: 28em; white-space: pre-wrap; }
ol.timeline { list-style: none; padding-left: 0; border-left: 2px solid var(--line); } ol.timeline li { margin: 0 0 8px 12px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 12px; }
svg.chart { width: 100%; height: auto; } svg .axis { font-size: 9px; fill: var(--muted); } svg .grid { stroke: var(--line); }
svg .c-ok { fill: var(--ok); } svg .c-dead { fill: var(--bad); } svg .c-killed { fill: var(--killed); }
svg path.line { fill: none; stroke-width: 1.5; } svg path.c-depth { stroke: var(--warn); } svg circle.c-depth { fill: var(--warn); }
svg path.c-wait { stroke: var(--accent); } svg circle.c-wait { fill: var(--accent); }
svg.bar { width: 200px; height: 14px; vertical-align: middle; } svg.bar .free { fill: var(--free); } svg.bar .used { fill: var(--accent); }
.legend span { margin-right: 10px; } .sw { display: inline-block; width: 10px; height: 10px; margin-right: 4px; }
.sw-ok { background: var(--ok); } .sw-dead { background: var(--bad); } .sw-killed { background: var(--killed); } .sw-depth { background: var(--warn); } .sw-wait { background: var(--accent); }
@media (max-width: 640px) { th.wide, td.wide { display: none; } main { padding: 8px; } }
`

export const APP_JS = `
'use strict';
(function () {
  var main = document.getElementById('main');
  var every = main && Number(main.getAttribute('data-refresh'));
  // A button held down is not swapped out under the pointer (its click would be lost), and once a form is posted
  // the page is left alone: the post's answer replaces it.
  var pressing = false, leaving = false;
  document.addEventListener('pointerdown', function () { pressing = true; }, true);
  document.addEventListener('pointerup', function () { setTimeout(function () { pressing = false; }, 0); }, true);
  document.addEventListener('pointercancel', function () { pressing = false; }, true);
  document.addEventListener('submit', function () { leaving = true; }, true);
  function typing() {
    var a = document.activeElement;
    return a && main.contains(a) && /INPUT|TEXTAREA|SELECT/.test(a.tagName);
  }
  function swappable() { return !pressing && !leaving && !typing(); }
  // Live refresh: the page's main part again, unless the user is typing in it or pressing a button.
  if (every > 0) {
    setInterval(function () {
      if (leaving || typing()) return;
      fetch(location.href, {headers: {'x-cms-fragment': '1'}, credentials: 'same-origin'}).then(function (r) {
        if (leaving) return;
        if (r.redirected) { location.reload(); return; }
        if (r.ok) return r.text().then(function (t) {
          if (!swappable()) return;
          // The log being followed is kept (its stream goes on), not fetched again.
          var old = main.querySelector('pre[data-started]');
          main.innerHTML = t;
          var fresh = old && main.querySelector('pre[data-follow="' + old.getAttribute('data-follow') + '"]');
          if (fresh) fresh.replaceWith(old);
          follow();
        });
      }).catch(function () {});
    }, every);
  }
  // Logs that follow: the engine's output streamed into the <pre>, as text.
  function follow() {
    var pre = document.querySelector('pre[data-follow]');
    if (!pre || pre.getAttribute('data-started')) return;
    pre.setAttribute('data-started', '1');
    fetch(pre.getAttribute('data-follow'), {credentials: 'same-origin'}).then(function (r) {
      if (!r.ok || !r.body) return;
      pre.textContent = '';
      var reader = r.body.getReader(), dec = new TextDecoder();
      function pump() { return reader.read().then(function (x) { if (x.done) return; pre.textContent += dec.decode(x.value, {stream: true}); pre.scrollTop = pre.scrollHeight; return pump(); }); }
      return pump();
    }).catch(function () {});
  }
  follow();
})();
`
