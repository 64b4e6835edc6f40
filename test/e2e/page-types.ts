/**
 * The little of the DOM that the e2e tests' page functions touch, typed here because the tests
 * compile without lib.dom. Use as `(globalThis as unknown as PageGlobals).document` inside
 * page.evaluate: the cast is erased, so the function still runs in the page as written.
 */
export interface PageElement {
  readonly tagName: string;
  readonly id: string;
  readonly className: unknown;
  readonly classList: { contains(name: string): boolean };
  readonly scrollWidth: number;
  readonly clientWidth: number;
  readonly textContent: string | null;
  getAttribute(name: string): string | null;
  getBoundingClientRect(): {
    readonly width: number;
    readonly height: number;
    readonly right: number;
  };
  closest(selector: string): PageElement | null;
}

export interface PageDocument {
  readonly title: string;
  readonly body: PageElement & { readonly innerText: string };
  readonly documentElement: PageElement & { readonly style: { fontSize: string } };
  querySelectorAll(selector: string): ArrayLike<PageElement> & Iterable<PageElement>;
}

export interface PageGlobals {
  readonly document: PageDocument;
  readonly localStorage: Record<string, string>;
  readonly sessionStorage: Record<string, string>;
}
