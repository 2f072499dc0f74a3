-- bench/guard/xff.lua - wrk script: GET the URL's path from 1000 client identities,
-- round robin in X-Forwarded-For (10.0.x.y), as bench/guard/loadgen does.
local n = 0
local reqs = {}
init = function(args)
  local clients = tonumber(os.getenv("CLIENTS") or "1000")
  for i = 0, clients - 1 do
    reqs[i + 1] = wrk.format("GET", wrk.path, {
      ["Host"] = wrk.host .. ":" .. wrk.port,
      ["X-Forwarded-For"] = string.format("10.%d.%d.%d", math.floor(i / 65536) % 256, math.floor(i / 256) % 256, i % 256),
    })
  end
  n = 0
end
request = function()
  n = n % #reqs + 1
  return reqs[n]
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"duration_us":%d,"non2xx":%d,"socket_errors":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
