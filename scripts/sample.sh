#!/usr/bin/env bash
# The main job on a local sample: build a sample tree (small files, a larger binary, an empty
# file, a nested directory), create a repository, take a snapshot, restore it, and verify that the
# restored tree is byte-identical to the source. If restic is installed, it checks the repository
# too (a cairn repository is a restic repository).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x dist/cli/cairn.js ] || npm run build >/dev/null
cairn() { node dist/cli/cairn.js "$@"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CAIRN_REPOSITORY="$work/repo" CAIRN_PASSWORD="sample password"

echo "== sample tree in $work/sample"
mkdir -p "$work/sample/docs/nested" "$work/sample/models"
for i in $(seq 1 200); do head -c $((i * 37)) /dev/urandom > "$work/sample/docs/file-$i.txt"; done
cp test/fixtures/SekienAkashita.jpg "$work/sample/docs/nested/"
head -c $((64 << 20)) /dev/urandom > "$work/sample/models/checkpoint.bin"
: > "$work/sample/empty"

echo "== cairn repo init";       cairn repo init | head -1
echo "== cairn snapshot";        cairn snapshot "$work/sample"
echo "== cairn snapshot again (deduplicated: nothing new)"; cairn snapshot "$work/sample" | grep -E 'Added|saved'
echo "== cairn snapshots";       cairn snapshots
echo "== cairn restore latest";  cairn restore latest --target "$work/restore"
echo "== verify"
diff -r "$work/sample" "$work/restore$work/sample" && echo "   ok: the restored tree is byte-identical to the source"
if command -v restic >/dev/null 2>&1; then
  echo "== restic check --read-data (restic reads cairn's repository)"
  RESTIC_PASSWORD="$CAIRN_PASSWORD" restic -r "$CAIRN_REPOSITORY" --no-cache check --read-data 2>&1 | tail -1
fi
