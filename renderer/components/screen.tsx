import { useEffect, useRef, type ReactNode } from 'react';

/**
 * One step's page: its heading takes focus when the step opens, so keyboard and screen-reader
 * users start at the top of the new step (WCAG 2.4.3).
 */
export function Screen({ title, children }: { title: string; children: ReactNode }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    heading.current?.focus();
  }, []);
  return (
    <section aria-labelledby="screen-title" className="screen">
      <h1 id="screen-title" tabIndex={-1} ref={heading}>
        {title}
      </h1>
      {children}
    </section>
  );
}
