// BullMQ ships the CommonJS build of its Lua scripts without type declarations.
declare module 'bullmq/dist/cjs/scripts/addStandardJob-9.js' {
  /** BullMQ's `addStandardJob` Lua script (9 keys). */
  export const addStandardJob: { name: string; content: string; keys: number };
}

declare module 'bullmq/dist/cjs/scripts/addDelayedJob-6.js' {
  /** BullMQ's `addDelayedJob` Lua script (6 keys). */
  export const addDelayedJob: { name: string; content: string; keys: number };
}
