/**
 * Writing Hadoop's XML configuration files (`<configuration><property><name/><value/></property>...`).
 *
 * Values are XML-escaped, so any accepted string stays one value. Two things XML escaping cannot make safe are
 * refused: characters XML 1.0 forbids (control characters but tab, newline and carriage return), and `${`, which
 * Hadoop's Configuration expands as a variable when it reads the value (a path or name holding `${user.name}`
 * would silently become another one).
 */

/** A property's value as cms writes it: numbers and booleans are written as Hadoop reads them back. */
export type PropertyValue = string | number | boolean

/**
 * One `<property>`, in the order the file lists them. `final`: no configuration loaded after this file (such as the
 * one a client ships with its application) may change it.
 */
export type Property = readonly [name: string, value: PropertyValue, final?: 'final']

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.\-]*$/
const ESCAPES: Record<string, string> = {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;'}
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/

export function xmlEscape(text: string): string {
  if (FORBIDDEN.test(text)) throw new Error(`XML cannot hold control characters: ${JSON.stringify(text)}`)
  return text.replace(/[&<>"']/g, (ch) => ESCAPES[ch])
}

export function renderProperty([name, value, final]: Property): string {
  if (!NAME.test(name)) throw new Error(`invalid Hadoop property name: ${JSON.stringify(name)}`)
  if (typeof value === 'number' && !Number.isFinite(value)) throw new Error(`${name}: not a number: ${value}`)
  const text = String(value)
  if (text.includes('${')) throw new Error(`${name}: a value cannot contain "\${" (Hadoop would expand it): ${JSON.stringify(text)}`)
  return `  <property><name>${name}</name><value>${xmlEscape(text)}</value>${final ? '<final>true</final>' : ''}</property>`
}

/** A whole configuration file; a property named twice is a mistake (Hadoop keeps the last one silently). */
export function renderConfiguration(properties: readonly Property[]): string {
  const seen = new Set<string>()
  for (const [name] of properties) {
    if (seen.has(name)) throw new Error(`Hadoop property ${name} is set twice`)
    seen.add(name)
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!-- Written by cms: edits are replaced on the next converge. -->',
    '<configuration>',
    ...properties.map(renderProperty),
    '</configuration>',
    '',
  ].join('\n')
}
