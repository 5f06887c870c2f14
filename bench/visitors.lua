-- wrk: every request from another visitor, as when a link goes round a group. Each one
-- carries another address in X-Forwarded-For (the server trusts 127.0.0.1 as its proxy),
-- so each open stores that visitor's seen key and counts a unique visitor.
local n, id = 0, 0
function setup(thread)
  id = id + 1
  thread:set("id", id)
end
function request()
  n = n + 1
  local v = n * 4 + id
  wrk.headers["X-Forwarded-For"] = string.format("10.%d.%d.%d",
    math.floor(v / 65536) % 256, math.floor(v / 256) % 256, v % 256)
  return wrk.format()
end
