-- wrk script of bench/forward-auth.sh: GET /auth/verify with a new random
-- token at each request, spelt as a session token is (stale cookies, or
-- someone guessing), none of them a session.
--
-- The shape of a token, in one place: TOKEN_LEN characters of base64url
-- (RFC 4648, no padding), the last from LAST_CHARS. Today's tokens are 64
-- characters carrying 48 bytes (32 random and a 16-byte MAC), with no
-- spare bits, so any character may come last: these pass every check of
-- the token's form and only the MAC tells them from sessions. (The tokens
-- before the MAC were 43 characters, whose last had to be one of
-- "AEIMQUYcgkosw048": TOKEN_LEN=43 TOKEN_LAST_CHARS=AEIMQUYcgkosw048.)
local TOKEN_LEN = tonumber(os.getenv("TOKEN_LEN") or "64")
local ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
local LAST_CHARS = os.getenv("TOKEN_LAST_CHARS") or ALPHABET
local cookie = os.getenv("COOKIE_NAME") or "mfagate_session"

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
end

function request()
  local b = {}
  for i = 1, TOKEN_LEN - 1 do
    local k = math.random(64)
    b[i] = ALPHABET:sub(k, k)
  end
  local k = math.random(#LAST_CHARS)
  b[TOKEN_LEN] = LAST_CHARS:sub(k, k)
  return wrk.format("GET", "/auth/verify", { ["Cookie"] = cookie .. "=" .. table.concat(b) })
end
