-- wrk script: POST a status change with a fresh message_id each time (a repeat id would take the
-- duplicate path). The template comes from the environment, written by bench/run.py; LT_RUN is
-- unique per wrk run, so a later run against the same database never repeats an earlier run's ids.
local counter = 0
local run = os.getenv("LT_RUN") or "0"
thread_id = 0
local threads = {}
local template = os.getenv("LT_BODY")
local key = os.getenv("LT_KEY")

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function request()
  counter = counter + 1
  local body = string.gsub(template, "MSGID", "b" .. run .. "-" .. thread_id .. "-" .. counter)
  return wrk.format("POST", "/v1/messages", {["Content-Type"] = "application/json", ["Authorization"] = "ApiKey " .. key}, body)
end
