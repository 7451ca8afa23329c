/**
 * aws-local-stepfunctions 3 targets Node 22 and calls `Promise.withResolvers` in every Task state;
 * on Node 20 each Task would fail with a TypeError. The same few lines as adapter-stepfunctions'
 * src/local/polyfill.ts (copied rather than loading that package's whole root for them).
 */
const P = Promise as unknown as { withResolvers?: unknown };
if (typeof P.withResolvers !== 'function') {
  P.withResolvers = function withResolvers<T>() {
    let resolve!: (value: T | PromiseLike<T>) => void;
    let reject!: (reason?: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

export {};
