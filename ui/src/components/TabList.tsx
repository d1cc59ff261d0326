import { tabListKeys } from '../tabs';

/** A row of tabs (the ARIA tabs pattern): buttons `${idPrefix}${tab}`
 * controlling the panel `panelId`; the arrow keys, Home and End move
 * between them, and only the selected one is in the Tab order. */
export function TabList<T extends string>({
  label,
  tabs,
  current,
  onSelect,
  idPrefix,
  panelId,
}: {
  label: string;
  tabs: readonly (readonly [T, string])[];
  current: T;
  onSelect: (tab: T) => void;
  idPrefix: string;
  panelId: string;
}) {
  return (
    <div
      role="tablist"
      aria-label={label}
      className="tabs"
      onKeyDown={tabListKeys(
        tabs.map(([t]) => t),
        current,
        onSelect,
      )}
    >
      {tabs.map(([t, name]) => (
        <button
          key={t}
          type="button"
          role="tab"
          id={`${idPrefix}${t}`}
          tabIndex={current === t ? 0 : -1}
          aria-selected={current === t}
          aria-controls={panelId}
          className={current === t ? 'tab on' : 'tab'}
          onClick={() => onSelect(t)}
        >
          {name}
        </button>
      ))}
    </div>
  );
}
