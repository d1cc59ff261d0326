-- The sandbox every health script runs in: builds a fresh environment per
-- evaluation. This chunk runs once per Lua state, in the state's full
-- globals; scripts never see those globals or this chunk's locals, only the
-- tables `new_env` returns.
--
-- What a script gets is the dialect of Argo CD's health scripts: Lua 5.1's
-- base, string, table and math libraries (plus the 5.1 names 5.2 dropped:
-- unpack, table.getn, table.maxn, math.mod, math.log10), os.time and os.date,
-- and goto. No io, no os beyond the clock, no load/require/dofile, no debug,
-- no coroutines, no collectgarbage, no string.dump, no __gc finalizers.

local deadline_passed = ...

local G = _G
local pairs, rawget, error, type = pairs, rawget, error, type
local raw_setmetatable, raw_pcall, raw_xpcall = setmetatable, pcall, xpcall
local string_lib, table_lib, math_lib, os_lib = string, table, math, os

-- Every string shares one metatable whose __index is the real string table;
-- hide it, so no script can change what later scripts call.
G.getmetatable("").__metatable = false

local BASE_NAMES = {
  "assert", "error", "getmetatable", "ipairs", "next", "pairs", "rawequal",
  "rawget", "rawlen", "rawset", "select", "tonumber", "tostring", "type",
  "_VERSION",
}

local function copy(lib, except)
  local out = {}
  for k, v in pairs(lib) do
    if k ~= except then
      out[k] = v
    end
  end
  return out
end

local function getn(t)
  return #t
end

local function maxn(t)
  local max = 0
  for k in pairs(t) do
    if type(k) == "number" and k > max then
      max = k
    end
  end
  return max
end

local function log10(x)
  return math_lib.log(x, 10)
end

-- A finalizer would run whenever the collector gets to it: during another
-- script, or outside any time limit.
local function setmetatable(t, mt)
  if type(mt) == "table" and rawget(mt, "__gc") ~= nil then
    error("__gc metamethods are not allowed in health scripts", 2)
  end
  return raw_setmetatable(t, mt)
end

-- pcall must not swallow the time limit: once it has passed, an error
-- caught inside the script is raised again.
local function rethrow_after_deadline(ok, ...)
  if not ok and deadline_passed() then
    error((...), 0)
  end
  return ok, ...
end

local function pcall(f, ...)
  return rethrow_after_deadline(raw_pcall(f, ...))
end

local function xpcall(f, handler, ...)
  return rethrow_after_deadline(raw_xpcall(f, handler, ...))
end

local function print() end

-- What scripts see, built once. Never handed out directly: each evaluation
-- gets empty overlays whose protected metatables read through to these, so
-- a script's writes land in its own overlay and vanish with it.
local BASE = {}
for i = 1, #BASE_NAMES do
  BASE[BASE_NAMES[i]] = G[BASE_NAMES[i]]
end
BASE.setmetatable = setmetatable
BASE.pcall = pcall
BASE.xpcall = xpcall
BASE.print = print
BASE.unpack = table_lib.unpack

local STRING = copy(string_lib, "dump")
local TABLE = copy(table_lib)
TABLE.getn = getn
TABLE.maxn = maxn
local MATH = copy(math_lib)
MATH.mod = math_lib.fmod
MATH.log10 = log10
local OS = { time = os_lib.time, date = os_lib.date }

local function reads_through(view)
  return { __index = view, __metatable = false }
end
local BASE_MT = reads_through(BASE)
local STRING_MT = reads_through(STRING)
local TABLE_MT = reads_through(TABLE)
local MATH_MT = reads_through(MATH)
local OS_MT = reads_through(OS)

return function(obj)
  local env = raw_setmetatable({
    string = raw_setmetatable({}, STRING_MT),
    table = raw_setmetatable({}, TABLE_MT),
    math = raw_setmetatable({}, MATH_MT),
    os = raw_setmetatable({}, OS_MT),
    obj = obj,
  }, BASE_MT)
  env._G = env
  return env
end
