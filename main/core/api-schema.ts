/**
 * A very small runtime schema for the arguments that cross the bridge (api.ts). Every request
 * from a renderer or a WebSocket is untrusted input: main checks its shape before any core code
 * sees it. Plain TypeScript with no imports, so the renderer and the preload may share it.
 */

export interface Schema<T> {
  /** Returns the first problem as a short path-qualified sentence, or undefined when valid. */
  check(value: unknown, at: string): string | undefined;
  /** Phantom: only for type inference. */
  readonly _type?: T;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

const plainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export const s = {
  string(options: { min?: number; max?: number; pattern?: RegExp } = {}): Schema<string> {
    const { min = 0, max = 4096, pattern } = options;
    return {
      check: (value, at) => {
        if (typeof value !== 'string') return `${at} must be text`;
        if (value.length < min || value.length > max) {
          return `${at} must be ${min} to ${max} characters`;
        }
        if (pattern && !pattern.test(value)) return `${at} is not in the expected form`;
        return undefined;
      },
    };
  },
  /** A whole number in [min, max]. */
  integer(options: { min?: number; max?: number } = {}): Schema<number> {
    const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = options;
    return {
      check: (value, at) => {
        if (typeof value !== 'number' || !Number.isInteger(value)) {
          return `${at} must be a whole number`;
        }
        if (value < min || value > max) return `${at} must be from ${min} to ${max}`;
        return undefined;
      },
    };
  },
  /** A finite number in [min, max]. */
  number(options: { min?: number; max?: number } = {}): Schema<number> {
    const { min = -Number.MAX_VALUE, max = Number.MAX_VALUE } = options;
    return {
      check: (value, at) => {
        if (typeof value !== 'number' || !Number.isFinite(value)) return `${at} must be a number`;
        if (value < min || value > max) return `${at} must be from ${min} to ${max}`;
        return undefined;
      },
    };
  },
  boolean(): Schema<boolean> {
    return {
      check: (value, at) =>
        typeof value === 'boolean' ? undefined : `${at} must be true or false`,
    };
  },
  literal<const L extends string>(...options: L[]): Schema<L> {
    return {
      check: (value, at) =>
        typeof value === 'string' && (options as string[]).includes(value)
          ? undefined
          : `${at} must be one of ${options.join(', ')}`,
    };
  },
  array<T>(item: Schema<T>, options: { max?: number } = {}): Schema<T[]> {
    const max = options.max ?? 10_000;
    return {
      check: (value, at) => {
        if (!Array.isArray(value)) return `${at} must be a list`;
        if (value.length > max) return `${at} has more than ${max} items`;
        for (const [index, element] of value.entries()) {
          const problem = item.check(element, `${at}[${index}]`);
          if (problem) return problem;
        }
        return undefined;
      },
    };
  },
  optional<T>(inner: Schema<T>): Schema<T | undefined> & { readonly optional: true } {
    return {
      optional: true,
      check: (value, at) => (value === undefined ? undefined : inner.check(value, at)),
    };
  },
  /** An object with exactly these keys: unknown keys are refused, not ignored. */
  object<P extends Record<string, Schema<unknown>>>(
    properties: P,
  ): Schema<
    { [K in keyof P as P[K] extends { optional: true } ? never : K]: Infer<P[K]> } & {
      [K in keyof P as P[K] extends { optional: true } ? K : never]?: Infer<P[K]>;
    }
  > {
    return {
      check: (value, at) => {
        if (!plainObject(value)) return `${at} must be an object`;
        for (const key of Object.keys(value)) {
          if (!Object.hasOwn(properties, key)) return `${at}.${key} is not expected`;
        }
        for (const [key, schema] of Object.entries(properties)) {
          const problem = schema.check(value[key], `${at}.${key}`);
          if (problem) return problem;
        }
        return undefined;
      },
    };
  },
  /** No argument at all (undefined), or an empty object from transports that always send one. */
  none(): Schema<void> {
    return {
      check: (value, at) =>
        value === undefined ||
        value === null ||
        (plainObject(value) && Object.keys(value).length === 0)
          ? undefined
          : `${at} must be empty`,
    };
  },
};
