#!/usr/bin/env bash
# The main job on a local sample: builds a sample tree, chunks it with cairn's FastCDC and checks
# the result against the reference (fastcdc-rs) vectors and restic's Rabin cut of all-zero data.
# (Grows into init → snapshot → restore → verify as the repository commands land.)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x dist/cli/bin.js ] || npm run build >/dev/null
cairn() { node dist/cli/bin.js "$@"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== fastcdc-rs v2020 vectors on test/fixtures/SekienAkashita.jpg (4096/16384/65535, NC1)"
got=$(cairn chunk test/fixtures/SekienAkashita.jpg --min 4096 --avg 16384 --max 65535 --normalization 1 --json | tr -d '\n')
want='{"offset":0,"length":21325,"hash":"17968276318003433923"}{"offset":21325,"length":17140,"hash":"8197189939299398838"}{"offset":38465,"length":28084,"hash":"13019990849178155730"}{"offset":66549,"length":18217,"hash":"4509236223063678303"}{"offset":84766,"length":24700,"hash":"2504464741100432583"}'
[ "$got" = "$want" ] && echo "   ok: identical to the reference" || { echo "   MISMATCH"; echo "$got"; exit 1; }

echo "== 64 MiB of random data: serial and 2 workers give the same boundaries"
head -c $((64 << 20)) /dev/urandom > "$work/random.bin"
cairn chunk "$work/random.bin" --json > "$work/serial.jsonl"
cairn chunk "$work/random.bin" --json --workers 2 > "$work/parallel.jsonl"
cmp -s "$work/serial.jsonl" "$work/parallel.jsonl" && echo "   ok: $(wc -l < "$work/serial.jsonl") chunks, identical" || { echo "   MISMATCH"; exit 1; }

echo "== restic's Rabin chunker on 2 MiB of zeros: four 512 KiB chunks"
head -c $((2 << 20)) /dev/zero > "$work/zeros.bin"
n=$(cairn chunk "$work/zeros.bin" --algorithm rabin --polynomial 3da3358b4dc173 --json | grep -c '"length":524288')
[ "$n" = 4 ] && echo "   ok" || { echo "   MISMATCH ($n)"; exit 1; }

cairn chunk "$work/random.bin"
