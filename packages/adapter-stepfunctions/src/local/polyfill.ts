/**
 * aws-local-stepfunctions 3 targets Node 22 and calls `Promise.withResolvers` (Node 22+) in every
 * Task state; on Node 20 each Task would fail with a TypeError that `States.ALL` catchers catch.
 * This installs the few-line equivalent when it is missing. Imported before the interpreter.
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
