-- wrk script: etcd's JSON gateway (etcd v3.4 on its client port, Capstan on its web port).
--
--   BENCH_WORKLOAD=put BENCH_PREFIX=bench/gw/1/ BENCH_VALUE_BYTES=255 BENCH_KEYS=1000 BENCH_CLIENTS=16 \
--   BENCH_OUT=point.json wrk -t 2 -c 16 -d 10s -s etcd-gateway.lua http://127.0.0.1:2379
--
-- BENCH_WORKLOAD is put (POST /v3/kv/put of BENCH_PREFIX<thread>/<n>, a key no other request
-- uses, with a BENCH_VALUE_BYTES-byte value), range-linearizable or range-serializable
-- (POST /v3/kv/range of bench/range/<k>, k in 0..BENCH_KEYS-1, which `capstan bench --workload
-- range-...` writes). At the end it writes BENCH_OUT: one JSON object with the fields of the
-- points of `capstan bench --json` (operations are 2xx answers; errors by kind: status for other
-- answers, and wrk's socket errors connect, read, write, timeout; latencies in ms, of every answer,
-- left out when no answer succeeded).

local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

local function base64(text)
  local out = {}
  for i = 1, #text, 3 do
    local a, b, c = text:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local s1 = math.floor(n / 262144) % 64
    local s2 = math.floor(n / 4096) % 64
    local s3 = math.floor(n / 64) % 64
    local s4 = n % 64
    out[#out + 1] = alphabet:sub(s1 + 1, s1 + 1) .. alphabet:sub(s2 + 1, s2 + 1)
      .. (b and alphabet:sub(s3 + 1, s3 + 1) or "=") .. (c and alphabet:sub(s4 + 1, s4 + 1) or "=")
  end
  return table.concat(out)
end

local workload = os.getenv("BENCH_WORKLOAD")
local prefix = os.getenv("BENCH_PREFIX")
local keys = tonumber(os.getenv("BENCH_KEYS"))
local value64 = base64(string.rep("v", tonumber(os.getenv("BENCH_VALUE_BYTES"))))
local serializable = workload == "range-serializable" and ',"serializable":true' or ""
local threads_started = 0

-- Runs in the main Lua state, once per thread: each thread gets its own number, the global id.
function setup(thread)
  threads_started = threads_started + 1
  thread:set("id", threads_started)
end

-- The rest runs in each thread's own Lua state.
function init(args)
  counter = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  counter = counter + 1
  if workload == "put" then
    local key = base64(prefix .. id .. "/" .. counter)
    return wrk.format(nil, "/v3/kv/put", nil, '{"key":"' .. key .. '","value":"' .. value64 .. '"}')
  end
  local key = base64("bench/range/" .. ((id * 7919 + counter) % keys))
  return wrk.format(nil, "/v3/kv/range", nil, '{"key":"' .. key .. '"' .. serializable .. '}')
end

-- Runs in the main Lua state once the run is over.
function done(summary, latency, requests)
  local e = summary.errors
  local seconds = summary.duration / 1e6
  local operations = summary.requests - e.status
  local errors = {}
  for _, kind in ipairs({"connect", "read", "write", "status", "timeout"}) do
    if e[kind] > 0 then
      errors[#errors + 1] = string.format('"%s":%d', kind, e[kind])
    end
  end
  local function ms(us) return string.format("%.3f", us / 1000) end
  -- No latency when nothing succeeded: the figures would be those of the failures.
  local latencies = ""
  if operations > 0 then
    latencies = string.format('"latency":{"count":%d,"p50":%s,"p90":%s,"p99":%s,"p999":%s,"max":%s},',
      summary.requests, ms(latency:percentile(50)), ms(latency:percentile(90)), ms(latency:percentile(99)),
      ms(latency:percentile(99.9)), ms(latency.max))
  end
  local clients = tonumber(os.getenv("BENCH_CLIENTS"))
  local file = assert(io.open(os.getenv("BENCH_OUT"), "w"))
  file:write(string.format(
    '{"workload":"%s","clients":%d,"connections":%d,"watchers":0,"seconds":%.3f,"operations":%d,'
      .. '"operationsPerSecond":%.1f,%s"errors":{%s}}\n',
    workload, clients, clients, seconds, operations, operations / seconds, latencies, table.concat(errors, ",")))
  file:close()
end
