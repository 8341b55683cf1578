-- Neovim's own JSON-RPC client (vim.lsp.rpc, the one its language-server support uses: Content-Length framing) drives
-- `lethe stdio`. Run headless by CLITests.testStdioBridgeWithNeovim:
--   LETHE=… LETHE_SOCKET=… LETHE_DATA=… LETHE_REPORT=… nvim --headless -u NONE -i NONE -c 'luafile nvim_stdio.lua'
-- It writes what it saw as JSON to $LETHE_REPORT; the Swift test asserts on it.
local report = { progress = {}, errors = {} }
local function finish()
  local f = io.open(os.getenv("LETHE_REPORT"), "w")
  f:write(vim.fn.json_encode(report))
  f:close()
  vim.cmd("qa!")
end

local ok, rpc = pcall(vim.lsp.rpc.start, os.getenv("LETHE"), { "stdio", "--socket", os.getenv("LETHE_SOCKET") }, {
  notification = function(method, params)
    if method == "$/progress" then table.insert(report.progress, params) end
  end,
  on_error = function(code, err) table.insert(report.errors, tostring(code) .. " " .. vim.inspect(err)) end,
  on_exit = function(code, signal) report.exit = code end,
})
if not ok then
  report.startError = tostring(rpc)
  finish()
  return
end

-- One request at a time, each waited for (vim.wait runs the event loop).
local function call(method, params)
  local reply
  rpc.request(method, params, function(err, result) reply = { err = err, result = result } end)
  if not vim.wait(60000, function() return reply ~= nil end, 10) then reply = { timeout = true } end
  return reply
end

local done, failure = pcall(function()
  report.status = call("server/status", vim.empty_dict())
  report.missing = call("model/info", { model = "no-such-model" })
  report.load = call("dataset/load", { name = "tiny", path = os.getenv("LETHE_DATA"), classes = 3 })
  report.create = call("model/create", { name = "m", dataset = "tiny", architecture = { kind = "mlp", hidden = { 8 } } })
  report.train = call("model/train", { model = "m", dataset = "tiny", epochs = 3, workDoneToken = "nvim" })
end)
if not done then report.scriptError = tostring(failure) end
if rpc.terminate then rpc.terminate() end -- 0.8 and later; 0.7 stops the child when Neovim exits
finish()
