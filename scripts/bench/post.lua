-- wrk script for scripts/bench.sh: one text per request in TensorFlow Serving's row format,
-- {"instances": ["<text>"]}, cycling through the texts in BENCH_TEXTS (one per line), and a JSON
-- summary written to BENCH_OUT when the run ends.
--
--   BENCH_TEXTS=scripts/bench/texts.txt BENCH_OUT=out.json \
--     wrk -t2 -c64 -d15s -s scripts/bench/post.lua http://127.0.0.1:8080/v1/models/imdb-sentiment:predict
--
-- BENCH_ROWS=N puts N texts into each request (default 1).
-- BENCH_GET=1 sends plain GETs instead (the HTTP ceiling on a cheap endpoint such as
-- /v2/health/live); the summary is the same.

local function json_string(s)
  s = s:gsub('\\', '\\\\'):gsub('"', '\\"'):gsub('\n', '\\n'):gsub('\r', '\\r'):gsub('\t', '\\t')
  return '"' .. s .. '"'
end

local bodies = {}
local get_only = os.getenv("BENCH_GET") == "1"
local counter = 0
local threads = 0

-- runs in wrk's main state once per thread: give each thread its own starting text
function setup(thread)
  thread:set("thread_index", threads)
  threads = threads + 1
end

function init(args)
  if get_only then
    return
  end
  local path = os.getenv("BENCH_TEXTS") or "scripts/bench/texts.txt"
  local f = assert(io.open(path, "r"), "cannot read BENCH_TEXTS " .. path)
  local texts = {}
  for line in f:lines() do
    if line:match("%S") then
      texts[#texts + 1] = json_string(line)
    end
  end
  f:close()
  assert(#texts > 0, "no texts in " .. path)
  local rows = tonumber(os.getenv("BENCH_ROWS") or "1")
  for i = 1, #texts do
    local parts = {}
    for j = 0, rows - 1 do
      parts[#parts + 1] = texts[(i + j - 1) % #texts + 1]
    end
    bodies[i] = '{"instances": [' .. table.concat(parts, ", ") .. ']}'
  end
  -- threads start at different texts, so concurrent requests carry different ones
  counter = ((thread_index or 0) * 7) % #bodies
end

function request()
  if get_only then
    return wrk.format("GET")
  end
  counter = counter % #bodies + 1
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, bodies[counter])
end

function done(summary, latency, requests)
  local out = os.getenv("BENCH_OUT")
  if not out then
    return
  end
  local e = summary.errors
  local f = assert(io.open(out, "w"))
  f:write(string.format(
    '{"duration_s": %.6f, "requests": %d, "bytes": %d, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
      .. '"latency_ms": {"mean": %.4f, "stdev": %.4f, "min": %.4f, "max": %.4f, '
      .. '"p50": %.4f, "p90": %.4f, "p99": %.4f, "p999": %.4f}}\n',
    summary.duration / 1e6, summary.requests, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean / 1e3, latency.stdev / 1e3, latency.min / 1e3, latency.max / 1e3,
    latency:percentile(50) / 1e3, latency:percentile(90) / 1e3,
    latency:percentile(99) / 1e3, latency:percentile(99.9) / 1e3))
  f:close()
end
