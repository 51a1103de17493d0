/**
 * Minimal types for the part of the `diff` package (jsdiff v7, which ships no
 * type declarations) that simrun uses. If `@types/diff` is ever added to
 * devDependencies, delete this file.
 */
declare module 'diff' {
  export interface ArrayChange<T> {
    /** Number of tokens in this component. */
    count: number;
    /** True for tokens only in the new array. */
    added: boolean;
    /** True for tokens only in the old array. */
    removed: boolean;
    value: T[];
  }
  export interface ArrayOptions<T> {
    comparator?: (left: T, right: T) => boolean;
    /** Give up (return undefined) once the edit script would be longer than this. */
    maxEditLength?: number;
    oneChangePerToken?: boolean;
  }
  /** Myers diff of two token arrays; undefined when `maxEditLength` is exceeded. */
  export function diffArrays<T>(oldArr: readonly T[], newArr: readonly T[], options?: ArrayOptions<T>): ArrayChange<T>[] | undefined;
}
