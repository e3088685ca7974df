/** A titled screen panel; the body scrolls on its own. */
import type { ReactNode } from 'react';

export function Panel(props: { title: ReactNode; area: string; extra?: ReactNode; children: ReactNode; testId?: string; stale?: boolean }) {
  return (
    <section className={`panel area-${props.area}`} data-testid={props.testId ?? props.area} data-stale={props.stale ?? undefined}>
      <header className="panel-head">
        <h2>{props.title}</h2>
        {props.extra !== undefined && <div className="panel-extra">{props.extra}</div>}
      </header>
      <div className="panel-body">{props.children}</div>
    </section>
  );
}
