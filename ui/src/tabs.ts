// Keyboard moves in a tab list, as the ARIA tabs pattern has them: the
// arrow keys go to the next or previous tab (wrapping), Home and End to
// the first and last. Only the selected tab is in the Tab order.

/** The tab `key` moves to from tab `index` of `count`, or null for a key
 * the tab list does not handle. */
export function nextTab(index: number, count: number, key: string): number | null {
  if (count === 0) return null;
  switch (key) {
    case 'ArrowRight':
      return (index + 1) % count;
    case 'ArrowLeft':
      return (index - 1 + count) % count;
    case 'Home':
      return 0;
    case 'End':
      return count - 1;
    default:
      return null;
  }
}

/** A keydown handler for a `role="tablist"` element: selects the tab the
 * key moves to and puts the focus on it. */
export function tabListKeys<T>(tabs: readonly T[], current: T, select: (tab: T) => void) {
  return (e: { key: string; preventDefault(): void; currentTarget: Element }) => {
    const next = nextTab(tabs.indexOf(current), tabs.length, e.key);
    if (next === null) return;
    e.preventDefault();
    select(tabs[next]);
    const list = e.currentTarget;
    // After the render that marks it selected.
    requestAnimationFrame(() => list.querySelectorAll<HTMLElement>('[role="tab"]')[next]?.focus());
  };
}
