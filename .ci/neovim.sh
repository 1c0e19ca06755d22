#!/usr/bin/env bash
# Neovim end to end: the docs/editors.md snippet for Neovim 0.7 to 0.10,
# extracted from the docs as written, runs in a headless Neovim on a
# policy with one unknown role; the check passes when a `policyc` client is
# attached to the buffer and has published its P0201 diagnostic. Installs
# Debian's neovim (0.7.2, the oldest version the docs name) when `nvim` is
# missing and apt-get can. POLICYC=PATH tests that binary (default: the
# release build .ci/run makes). Usage: .ci/neovim.sh
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
policyc="${POLICYC:-$repo/target/release/policyc}"
[ -x "$policyc" ] || { echo "neovim: no policyc at $policyc (build it, or set POLICYC)" >&2; exit 1; }
if ! command -v nvim >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq >/dev/null && apt-get install -y --no-install-recommends neovim >/dev/null
  else
    echo "neovim: nvim is not installed" >&2; exit 1
  fi
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$work/project/.git" "$work/project/sub" "$work/config/nvim"
ln -s "$policyc" "$work/bin/policyc"
# The second Lua block of the Neovim section: the 0.7-0.10 snippet.
awk '/^## Neovim/{in_section=1} /^## Helix/{in_section=0}
     in_section && /^```lua$/{n++; if (n==2) {grab=1; next}}
     grab && /^```$/{grab=0}
     grab' "$repo/docs/editors.md" > "$work/config/nvim/init.lua"
grep -q "start_client" "$work/config/nvim/init.lua" || { echo "neovim: snippet not found in docs/editors.md" >&2; exit 1; }
printf 'role admin "Admin" {\n  inherits membr\n}\n' > "$work/project/sub/acl.policy"
cat > "$work/check.lua" <<'LUA'
local function attached()
  for id = 1, 20 do
    local c = vim.lsp.get_client_by_id(id)
    if c and c.name == "policyc" and vim.lsp.buf_is_attached(0, id) then
      return c
    end
  end
end
local function has_p0201()
  for _, d in ipairs(vim.diagnostic.get(0)) do
    if d.code == "P0201" or tostring(d.message):find("unknown role", 1, true) then
      return true
    end
  end
  return false
end
local ok = vim.wait(20000, function() return attached() ~= nil and has_p0201() end, 50)
local c = attached()
local lines = {
  "nvim " .. tostring(vim.version().major) .. "." .. tostring(vim.version().minor) .. "." .. tostring(vim.version().patch),
  "filetype=" .. vim.bo.filetype,
  "attached=" .. tostring(c ~= nil),
  "root=" .. tostring(c and c.config.root_dir),
  "p0201=" .. tostring(has_p0201()),
}
vim.fn.writefile(lines, vim.env.RESULT)
vim.cmd(ok and "qall!" or "cquit!")
LUA
cd "$work/project/sub"
set +e
PATH="$work/bin:$PATH" XDG_CONFIG_HOME="$work/config" XDG_DATA_HOME="$work/data" \
  XDG_STATE_HOME="$work/state" RESULT="$work/result" \
  timeout 60 nvim --headless -c "luafile $work/check.lua" acl.policy
status=$?
set -e
cat "$work/result" 2>/dev/null | sed 's/^/neovim: /'
[ "$status" = 0 ] || { echo "neovim: FAILED: the policyc client did not attach or publish P0201 (exit $status)" >&2; exit 1; }
grep -qx "root=$work/project" "$work/result" || { echo "neovim: FAILED: wrong root_dir" >&2; exit 1; }
echo "neovim: the docs/editors.md snippet attached policyc and showed P0201"
