-- wrk script for the VizTube benchmark (bench/run.py writes the paths file).
-- Usage: wrk ... -s bench/wrk/rotate.lua http://127.0.0.1:PORT -- METHOD TOKEN PATHS_FILE THREADS
--   METHOD      GET or POST
--   TOKEN       Bearer access token, or "-" for an anonymous caller
--   PATHS_FILE  one request path per line; each thread walks the list from its own offset,
--               so rotating endpoints (video detail, like toggle) spread over many ids
--   THREADS     wrk's -t, so that threads start at evenly spread offsets
-- done() prints BENCH_LATENCY (exact microseconds) and BENCH_STATUS (3xx/4xx/5xx counts
-- summed over threads), which bench/wrk_output.py prefers over wrk's rounded summary.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("thread_index", #threads)
end

function init(args)
   method = args[1]
   local token = args[2]
   local thread_count = tonumber(args[4]) or 1
   paths = {}
   for line in io.lines(args[3]) do
      if #line > 0 then
         paths[#paths + 1] = line
      end
   end
   headers = { ["Accept"] = "application/json" }
   if token ~= "-" then
      headers["Authorization"] = "Bearer " .. token
   end
   body = nil
   if method ~= "GET" then
      body = ""  -- an explicit Content-Length: 0
   end
   position = math.floor((thread_index - 1) * #paths / thread_count)
   s3xx, s4xx, s5xx = 0, 0, 0
end

function request()
   position = position % #paths + 1
   return wrk.format(method, paths[position], headers, body)
end

function response(status, headers, body)
   if status >= 500 then
      s5xx = s5xx + 1
   elseif status >= 400 then
      s4xx = s4xx + 1
   elseif status >= 300 then
      s3xx = s3xx + 1
   end
end

function done(summary, latency, requests)
   local c3, c4, c5 = 0, 0, 0
   for _, thread in ipairs(threads) do
      c3 = c3 + thread:get("s3xx")
      c4 = c4 + thread:get("s4xx")
      c5 = c5 + thread:get("s5xx")
   end
   io.write(string.format("BENCH_STATUS 3xx=%d 4xx=%d 5xx=%d\n", c3, c4, c5))
   io.write(string.format(
      "BENCH_LATENCY p50_us=%d p99_us=%d max_us=%d requests=%d duration_us=%d\n",
      latency:percentile(50), latency:percentile(99), latency.max,
      summary.requests, summary.duration))
end
