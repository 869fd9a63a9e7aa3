#!/usr/bin/env bash
# Builds SmartDCC's gbcs-parser from the shared snapshot beside the repo (<repo>/../shared)
# into ./parser (sources, gitignored) and ./dist (compiled, gitignored), with this folder's
# node_modules (typescript, @tsconfig/node20, @types/node). The parser stays a reference:
# nothing of it is committed to hansim.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
# A git worktree's shared/ is beside its main checkout, the folder of the common .git.
main="$(cd "$repo" && git rev-parse --path-format=absolute --git-common-dir 2>/dev/null || echo "$repo/.git")"
src="${GBCS_PARSER_DIR:-}"
for candidate in "$repo/../shared/gbcs/gbcs-parser" "$(dirname "$main")/../shared/gbcs/gbcs-parser"; do
  [ -n "$src" ] || { [ -f "$candidate/src/index.ts" ] && src="$candidate"; } || true
done
src="${src:-$repo/../shared/gbcs/gbcs-parser}"
if [ ! -f "$src/src/index.ts" ]; then
  echo "gbcs build: SmartDCC's gbcs-parser not found at $src (expected <repo>/../shared/gbcs/gbcs-parser)" >&2
  exit 1
fi
rm -rf "$here/parser" "$here/dist"
mkdir -p "$here/parser"
cp -R "$src/src" "$src/tsconfig.json" "$here/parser/"
"$here/node_modules/.bin/tsc" -p "$here/parser/tsconfig.json" --outDir "$here/dist"
echo "gbcs build: gbcs-parser compiled into $here/dist" >&2
