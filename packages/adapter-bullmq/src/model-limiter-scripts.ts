// Lua scripts of the Redis model limiter. Keys of one model (same hash tag):
//   KEYS[1] entries  zset  permit id -> grant time (ms, Redis clock): the sliding window
//   KEYS[2] amounts  hash  '<id>:i' / '<id>:o' -> input / output tokens counted for the permit
//   KEYS[3] state    hash  r, i, o (window sums), seq, and the adaptive state: factor, ceiling,
//                          epoch, ver (core's AdaptiveState, computed by core's maths in the client
//                          and written back by ADAPT_SCRIPT only if ver is still the one read)
//   KEYS[4] inflight zset  permit id -> lease end (a killed worker's permits lapse)
// Budget ARGV (both scripts, 1-5): rpm, tpm, itpm, otpm, maxInFlight; 0 = no limit.

const COMMON = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function num(v, d) if v then return tonumber(v) end return d end
local limits = { tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]) }
local function amounts(id)
  local a = redis.call('HMGET', KEYS[2], id .. ':i', id .. ':o')
  return num(a[1], 0), num(a[2], 0)
end
-- amount of a (requests, input, output) use along budget dimension d
local function dim(d, r, i, o)
  if d == 1 then return r elseif d == 2 then return i + o elseif d == 3 then return i else return o end
end
`;

/** Reserves an estimate if it fits now: returns \{1, id, epoch\}, or \{0, wait ms\} (-1: until a call in flight ends). */
export const ACQUIRE_SCRIPT = `${COMMON}
local span, est_i, est_o, lease = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local now = now_ms()
local sr, si, so = num(redis.call('HGET', KEYS[3], 'r'), 0), num(redis.call('HGET', KEYS[3], 'i'), 0), num(redis.call('HGET', KEYS[3], 'o'), 0)
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - span)) do
  local i, o = amounts(id)
  sr, si, so = sr - 1, si - i, so - o
  redis.call('HDEL', KEYS[2], id .. ':i', id .. ':o')
  redis.call('ZREM', KEYS[1], id)
end
redis.call('HSET', KEYS[3], 'r', sr, 'i', si, 'o', so)
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
local factor = num(redis.call('HGET', KEYS[3], 'factor'), 1)
local epoch = num(redis.call('HGET', KEYS[3], 'epoch'), 0)
local max_in_flight = tonumber(ARGV[5])
if max_in_flight > 0 and redis.call('ZCARD', KEYS[4]) >= math.max(1, math.floor(max_in_flight * factor)) then
  return {0, -1}
end
local wait = 0
for d = 1, 4 do
  if limits[d] > 0 then
    local limit = limits[d] * factor
    local want = dim(d, 1, est_i, est_o)
    local used = dim(d, sr, si, so)
    if used > 0 and used + want > limit then
      local walk = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
      for k = 1, #walk, 2 do
        local i, o = amounts(walk[k])
        used = used - dim(d, 1, i, o)
        if used <= 0 or used + want <= limit then
          wait = math.max(wait, tonumber(walk[k + 1]) + span - now)
          break
        end
      end
    end
  end
end
if wait > 0 then return {0, math.ceil(wait)} end
local id = tostring(redis.call('HINCRBY', KEYS[3], 'seq', 1))
redis.call('ZADD', KEYS[1], now, id)
redis.call('HSET', KEYS[2], id .. ':i', est_i, id .. ':o', est_o)
redis.call('HSET', KEYS[3], 'r', sr + 1, 'i', si + est_i, 'o', so + est_o)
redis.call('ZADD', KEYS[4], now + lease, id)
local ttl = math.ceil(span * 10 + lease)
for k = 1, 4 do redis.call('PEXPIRE', KEYS[k], ttl) end
return {1, id, epoch}
`;

/**
 * Ends a permit: the window counts its actual tokens (nothing at all for a throttle, the estimated
 * input for another failure), a success with the provider's latency placed as core's
 * `receivedEntryAt` does: it leaves one window after the provider received it (its end less the
 * latency, never before the grant), without the margin. ARGV 6-: id, kind ('ok' | 'throttled' |
 * 'failed'), actual input, actual output, provider latency ms (-1: unknown), the window's margin ms.
 * Returns the adaptive state read: \{factor, ceiling, epoch, ver\} (factor and ceiling as strings).
 */
export const SETTLE_SCRIPT = `${COMMON}
local id, kind, act_i, act_o, latency, margin = ARGV[6], ARGV[7], tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11])
redis.call('ZREM', KEYS[4], id)
local granted = redis.call('ZSCORE', KEYS[1], id)
if granted then
  local i, o = amounts(id)
  if kind == 'throttled' then
    -- refused by the provider: the call counts nothing in the window
    redis.call('ZREM', KEYS[1], id)
    redis.call('HDEL', KEYS[2], id .. ':i', id .. ':o')
    redis.call('HINCRBY', KEYS[3], 'r', -1)
    act_i, act_o = 0, 0
  else
    if kind == 'failed' then act_i, act_o = i, 0 end
    redis.call('HSET', KEYS[2], id .. ':i', act_i, id .. ':o', act_o)
    -- leaves one window after the provider received it: its end less the provider's own time
    if kind == 'ok' and latency >= 0 then
      redis.call('ZADD', KEYS[1], 'XX', math.max(tonumber(granted), now_ms() - latency) - margin, id)
    end
  end
  redis.call('HINCRBY', KEYS[3], 'i', act_i - i)
  redis.call('HINCRBY', KEYS[3], 'o', act_o - o)
end
local a = redis.call('HMGET', KEYS[3], 'factor', 'ceiling', 'epoch', 'ver')
return {a[1] or '1', a[2] or '1', num(a[3], 0), num(a[4], 0)}
`;

/**
 * Writes the adaptive state the client computed from the one it read, if nobody wrote since
 * (KEYS[1] state; ARGV: ver read, factor, ceiling, epoch). Returns \{1\} or, when another write came
 * first, \{0, factor, ceiling, epoch, ver\} to compute again from.
 */
export const ADAPT_SCRIPT = `
local a = redis.call('HMGET', KEYS[1], 'factor', 'ceiling', 'epoch', 'ver')
local ver = tonumber(a[4] or '0')
if ver ~= tonumber(ARGV[1]) then return {0, a[1] or '1', a[2] or '1', tonumber(a[3] or '0'), ver} end
redis.call('HSET', KEYS[1], 'factor', ARGV[2], 'ceiling', ARGV[3], 'epoch', ARGV[4], 'ver', ver + 1)
return {1}
`;
