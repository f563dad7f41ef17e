// MQTT 3.1.1 topic names and filters (spec §4.7), shared by the printers' brokers and the proxy.

/** A valid filter: non-empty, `+` alone in its level, `#` alone and last, no NUL. */
export function isValidFilter(filter: string): boolean {
  if (filter.length === 0 || filter.includes('\u0000')) return false;
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return false;
    if (level.includes('+') && level !== '+') return false;
  }
  return true;
}

/** A valid topic name for PUBLISH: non-empty, no wildcards, no NUL. */
export function isValidTopic(topic: string): boolean {
  // eslint-disable-next-line no-control-regex -- MQTT forbids NUL in a topic name
  return topic.length > 0 && !/[+#\u0000]/.test(topic);
}

/** Whether a topic name matches a filter; `$…` topics are not matched by a leading wildcard. */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
