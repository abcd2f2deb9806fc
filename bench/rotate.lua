-- wrk script: GET the paths in BENCH_PATHS (space-separated) in turn; print the figures as JSON.
local paths, i = {}, 0
for path in string.gmatch(os.getenv("BENCH_PATHS") or "/", "%S+") do
  paths[#paths + 1] = path
end

request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"n": %d, "errors": %d, "p50": %.3f, "p95": %.3f, "p99": %.3f, "rps": %.1f}\n',
    summary.requests, e.status + e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, summary.requests / (summary.duration / 1e6)))
end
