import { useFlow } from '../app-state.ts';

/** The polite live region every step announces progress through (WCAG 4.1.3). */
export function LiveRegion() {
  const announcement = useFlow((s) => s.announcement);
  return (
    <div className="visually-hidden" role="status" aria-live="polite" aria-atomic="true">
      <span key={announcement.seq}>{announcement.text}</span>
    </div>
  );
}
