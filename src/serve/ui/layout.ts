import type {Scope} from '../keys.js'
import {html, type Html} from './html.js'
import {allows, type Session} from './session.js'

interface NavItem {
  path: string
  label: string
  /** The scope that sees it. */
  scope: Scope
}

const NAV: NavItem[] = [
  {path: '/ui/tasks', label: 'Tasks', scope: 'read'},
  {path: '/ui/submit', label: 'Submit', scope: 'submit'},
  {path: '/ui/schedules', label: 'Schedules', scope: 'read'},
  {path: '/ui/sources', label: 'Sources', scope: 'read'},
  {path: '/ui/clusters', label: 'Clusters', scope: 'read'},
  {path: '/ui/keys', label: 'Keys', scope: 'admin'},
]

export interface PageInput {
  title: string
  /** The nav entry this page belongs to. */
  section?: string
  session?: Session
  body: Html
  /** Reload the main part this often (ms) while the page is open. */
  refreshMs?: number
}

/** A whole page: header with the pages this key may use, the main part, the stylesheet and the script. */
export function page(p: PageInput): string {
  const nav = NAV.filter((n) => allows(p.session, n.scope))
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${p.title} · cms serve</title><link rel="stylesheet" href="/ui/app.css"><script src="/ui/app.js" defer></script></head>
<body><a class="skip" href="#main">Skip to content</a>
<header><strong>cms serve</strong>${
    p.session
      ? html`<nav aria-label="Main"><ul>${nav.map((n) => html`<li><a href="${n.path}"${n.path === p.section ? html` aria-current="page"` : ''}>${n.label}</a></li>`)}</ul></nav>
<form method="post" action="/ui/logout"><input type="hidden" name="_csrf" value="${p.session.csrf}"><button type="submit">Log out ${p.session.keyName} (${p.session.scope})</button></form>`
      : ''
  }</header>
<main id="main"${p.refreshMs ? html` data-refresh="${p.refreshMs}"` : ''}>${p.body}</main>
</body></html>`.text
}

/** The hidden CSRF field every form of a session carries. */
export function csrfField(session: Session): Html {
  return html`<input type="hidden" name="_csrf" value="${session.csrf}">`
}

/** A one-button form that posts to `action` (kill, rerun, revoke, ...). */
export function postButton(session: Session, action: string, label: string, opts: {danger?: boolean; confirm?: string} = {}): Html {
  return html`<form class="inline" method="post" action="${action}">${csrfField(session)}<button type="submit"${opts.danger ? html` class="danger"` : ''}>${label}</button></form>`
}

export function stateChip(state: string): Html {
  return html`<span class="state state-${/^[A-Z_]+$/.test(state) ? state : 'OTHER'}">${state}</span>`
}

export function when(iso: string | undefined): Html {
  if (!iso) return html``
  return html`<time datetime="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>`
}
