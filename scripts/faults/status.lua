-- wrk script: count responses by status class, and fail the run on anything but 3xx.
-- Each wrk thread has its own Lua state; done() merges them.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  counts = { ["2xx"] = 0, ["3xx"] = 0, ["4xx"] = 0, ["5xx"] = 0, other = 0 }
end

function response(status, headers, body)
  local class
  if status >= 200 and status < 300 then class = "2xx"
  elseif status >= 300 and status < 400 then class = "3xx"
  elseif status >= 400 and status < 500 then class = "4xx"
  elseif status >= 500 and status < 600 then class = "5xx"
  else class = "other" end
  counts[class] = counts[class] + 1
end

function done(summary, latency, requests)
  local total = { ["2xx"] = 0, ["3xx"] = 0, ["4xx"] = 0, ["5xx"] = 0, other = 0 }
  for _, t in ipairs(threads) do
    local c = t:get("counts")
    for k, v in pairs(c) do total[k] = total[k] + v end
  end
  local non3xx = total["2xx"] + total["4xx"] + total["5xx"] + total["other"]
  local e = summary.errors
  io.write(string.format("STATUS 2xx=%d 3xx=%d 4xx=%d 5xx=%d other=%d non3xx=%d\n",
    total["2xx"], total["3xx"], total["4xx"], total["5xx"], total["other"], non3xx))
  io.write(string.format("ERRORS connect=%d read=%d write=%d timeout=%d status=%d\n",
    e.connect, e.read, e.write, e.timeout, e.status))
  io.write(string.format("LATENCY p50_us=%d p99_us=%d max_us=%d\n",
    latency:percentile(50), latency:percentile(99), latency.max))
end
