// @ts-check
// The runtime of one local Lambda sandbox, run by node in its own process (see pool.ts): it loads
// the function's module once (init), then runs one invocation at a time, as Lambda's Node.js
// runtime does. Arguments: the entry's file URL and the handler's export name. Plain JS so that it
// runs unchanged from src (tests) and from dist.

const [entry = '', handlerName = 'handler'] = process.argv.slice(2);
const file = entry.slice(entry.lastIndexOf('/') + 1).replace(/\.[^.]*$/, '');

/** @param {unknown} e @param {string} [type] */
function format(e, type) {
  const error = e instanceof Error ? e : new Error(String(e));
  return {
    errorType: type ?? (e instanceof Error ? error.name : typeof e),
    errorMessage: error.message,
    trace: (error.stack ?? '').split('\n'),
  };
}

/** @type {Promise<Function>} */
const loaded = import(entry).then(
  (mod) => {
    const handler = mod[handlerName];
    if (typeof handler !== 'function') {
      throw Object.assign(new Error(`${file}.${handlerName} is undefined or not exported`), { name: 'Runtime.HandlerNotFound' });
    }
    return handler;
  },
  (e) => {
    const code = /** @type {{ code?: string }} */ (e).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND')
      throw Object.assign(new Error(`Error: ${e.message}`), { name: 'Runtime.ImportModuleError' });
    if (e instanceof SyntaxError) throw Object.assign(new Error(`${e.name}: ${e.message}`), { name: 'Runtime.UserCodeSyntaxError' });
    throw e;
  },
);

/** @param {object} message */
function reply(message) {
  if (process.send) process.send(message);
}

loaded.then(
  () => reply({ type: 'ready' }),
  () => reply({ type: 'ready' }),
);

process.on('message', async (/** @type {any} */ message) => {
  if (!message || message.type !== 'invoke') return;
  const { id, event, context } = message;
  const ctx = {
    ...context,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, context.deadlineMs - Date.now()),
  };
  let handler;
  try {
    handler = await loaded;
  } catch (e) {
    reply({ type: 'result', id, ok: false, error: format(e, /** @type {Error} */ (e).name) });
    return;
  }
  try {
    const input = JSON.parse(event);
    const result =
      handler.length >= 3
        ? await new Promise((resolve, reject) => {
            const r = handler(input, ctx, (/** @type {unknown} */ err, /** @type {unknown} */ value) => (err ? reject(err) : resolve(value)));
            if (r && typeof r.then === 'function') r.then(resolve, reject);
          })
        : await handler(input, ctx);
    reply({ type: 'result', id, ok: true, payload: JSON.stringify(result === undefined ? null : result) });
  } catch (e) {
    reply({ type: 'result', id, ok: false, error: format(e) });
  }
});
