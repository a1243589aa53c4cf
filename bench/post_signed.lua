-- wrk script: POST pre-signed requests (bench/signatures.py). LT_FILE has one request a line:
-- Content-Digest TAB Signature-Input TAB Signature TAB body. Each of the two wrk threads sends every
-- other line, formatted once in init(), so no nonce or message_id is sent twice in a run (as long as
-- the file holds more requests than the run sends; a wrap-around would show as refused replays).
-- The Host header is fixed: the signatures cover @target-uri http://lienthong.bench/v1/messages.
local file = os.getenv("LT_FILE")
local key = os.getenv("LT_KEY")
local nthreads = 2
thread_id = 0
local threads = {}
local requests = {}
local i = 0

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  local n = 0
  for line in io.lines(file) do
    if n % nthreads == thread_id - 1 then
      local digest, input, sig, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      table.insert(requests, wrk.format("POST", "/v1/messages", {
        ["Host"] = "lienthong.bench", ["Content-Type"] = "application/json", ["Authorization"] = "ApiKey " .. key,
        ["Content-Digest"] = digest, ["Signature-Input"] = input, ["Signature"] = sig}, body))
    end
    n = n + 1
  end
end

function request()
  i = i % #requests + 1
  return requests[i]
end
