-- wrk script of bench/forward-auth.sh: GET /auth/verify, each request
-- with the cookie of one of many live sessions chosen at random. The
-- tokens come from bench/seed (account's own session creation), one per
-- line, in the file TOKENS_FILE names.
local cookie = os.getenv("COOKIE_NAME") or "mfagate_session"
local tokens = {}
for line in io.lines(os.getenv("TOKENS_FILE")) do
  if #line > 0 then tokens[#tokens + 1] = line end
end
if #tokens == 0 then error("no tokens in " .. os.getenv("TOKENS_FILE")) end

function init(args)
  -- Each wrk thread its own sequence.
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
end

function request()
  local t = tokens[math.random(#tokens)]
  return wrk.format("GET", "/auth/verify", { ["Cookie"] = cookie .. "=" .. t })
end
