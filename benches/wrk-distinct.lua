-- wrk requests that each name a window of their own: `prefix` (args[1]) then an RFC 3339
-- time, `base` (args[2], epoch ms) plus two milliseconds per request, each of two threads
-- on its own millisecond. Used by benches/gateway.rs and scripts/bench-ab.sh.
local threads = 0
setup = function(thread)
  thread:set("id", threads)
  threads = threads + 1
end
init = function(args)
  prefix = args[1]
  base = tonumber(args[2])
  sent = 0
end
request = function()
  sent = sent + 1
  local ms = base + sent * 2 + id
  local path = prefix .. os.date("!%Y-%m-%dT%H:%M:%S", math.floor(ms / 1000))
    .. string.format(".%03dZ", ms % 1000)
  return wrk.format("GET", path)
end
