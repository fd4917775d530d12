-- wrk script: each request takes the next path of a file, every path exactly once; then wrk ends.
--
--   wrk -t1 -c100 -d120s --timeout 60s -s bench/wrk_paths.lua http://127.0.0.1:8000 -- POST paths.txt
--
-- Used by bench/portal_verify.py: a verification token works once, so a load test of the confirm
-- POST needs a distinct path per request, and a measured count rather than a duration. A
-- connection with nothing left to send parks (delay); when the last answer arrives the script
-- sends wrk SIGINT, which ends its run at once. Prints, for the caller to parse:
--   SECONDS <first request to last answer>   ANSWERED <n>   FAILED <n> <first non-200 status>
--   QUANTILE <percent> <microseconds>         (400 of them: the latency distribution)
-- Needs LuaJIT (its FFI gives a monotonic clock and kill); Debian's wrk is built with it.
-- Run it with one thread (-t1): the counts live in that thread.

local ffi = require("ffi")
ffi.cdef([[
  typedef struct { long tv_sec; long tv_nsec; } wrk_paths_timespec;
  int clock_gettime(int clock, wrk_paths_timespec *t);
  int getpid(void);
  int kill(int pid, int sig);
]])
local CLOCK_MONOTONIC, SIGINT = 1, 2
local clock = ffi.new("wrk_paths_timespec")
local function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
  return tonumber(clock.tv_sec) * 1000000 + tonumber(clock.tv_nsec) / 1000
end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  method = args[1]
  paths = {}
  for line in io.lines(args[2]) do
    if line ~= "" then
      paths[#paths + 1] = line
    end
  end
  reserved, sent, answered, failed, first_failure = 0, 0, 0, 0, ""
  started, finished = 0, 0
  headers = {}
  if method == "POST" then
    -- A form post without fields, as the Confirm button sends.
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    body = ""
  end
end

-- wrk calls delay() before each request(): the connection reserves the next path, or parks.
function delay()
  if reserved >= #paths then
    return 3600000
  end
  reserved = reserved + 1
  return 0
end

function request()
  if reserved == 0 then
    -- wrk builds one request before the run to check the script: it uses up no path.
    return wrk.format(method, paths[1], headers, body)
  end
  if sent == 0 then
    started = now_us()
  end
  sent = sent + 1
  return wrk.format(method, paths[sent], headers, body)
end

function response(status, response_headers, response_body)
  answered = answered + 1
  if status ~= 200 then
    failed = failed + 1
    if first_failure == "" then
      first_failure = tostring(status)
    end
  end
  if answered == #paths then
    finished = now_us()
    ffi.C.kill(ffi.C.getpid(), SIGINT)
  end
end

function done(summary, latency, requests)
  local thread = threads[1]
  io.write(string.format("SECONDS %.6f\n", (thread:get("finished") - thread:get("started")) / 1e6))
  io.write(string.format("ANSWERED %d\n", thread:get("answered")))
  io.write(string.format("FAILED %d %s\n", thread:get("failed"), thread:get("first_failure")))
  local errors = summary.errors
  io.write(string.format("SOCKET_ERRORS %d\n", errors.connect + errors.read + errors.write + errors.timeout))
  -- The latency distribution as 400 quantiles (every 0.25 %), enough to merge several runs.
  for step = 1, 400 do
    io.write(string.format("QUANTILE %.2f %d\n", step / 4, latency:percentile(step / 4)))
  end
end
