#!/usr/bin/env bash
# Writes a tiny synthetic MNIST-style IDX dataset into DIR, with nothing but bash and awk:
# TRAIN training and TEST test images of 8x8 pixels in 3 classes, each class a bright vertical band,
# so that a small model learns it in a few epochs. Load it with
#   lethe-rpc dataset/load name=tiny path=DIR classes=3
# Usage: tiny-idx.sh DIR [TRAIN [TEST [SEED]]]   (defaults: 200 100 1)
set -euo pipefail
dir=${1:?usage: tiny-idx.sh DIR [TRAIN [TEST [SEED]]]}
train=${2:-200} test=${3:-100} seed=${4:-1}
mkdir -p "$dir"

# write_part N IMAGES LABELS SEED: IDX files (magic 0x0803 / 0x0801, big-endian dimensions, unsigned bytes).
# awk prints every byte as a \xHH escape and printf %b turns them into bytes (NUL included).
write_part() {
    local n=$1 images=$2 labels=$3 s=$4 escapes
    escapes=$(LC_ALL=C awk -v n="$n" -v seed="$s" '
        function be32(v) { return sprintf("\\x%02x\\x%02x\\x%02x\\x%02x", int(v / 16777216) % 256, int(v / 65536) % 256, int(v / 256) % 256, v % 256) }
        BEGIN {
            srand(seed); side = 8; classes = 3; band = int(side / classes)
            img = "\\x00\\x00\\x08\\x03" be32(n) be32(side) be32(side); lab = "\\x00\\x00\\x08\\x01" be32(n)
            for (i = 0; i < n; i++) {
                y = int(rand() * classes); lab = lab sprintf("\\x%02x", y)
                for (r = 0; r < side; r++) for (c = 0; c < side; c++) {
                    bright = (c >= y * band && c < (y + 1) * band)
                    img = img sprintf("\\x%02x", bright ? 170 + int(rand() * 86) : int(rand() * 71))
                }
            }
            print img; print lab
        }')
    printf '%b' "$(sed -n 1p <<<"$escapes")" >"$dir/$images"
    printf '%b' "$(sed -n 2p <<<"$escapes")" >"$dir/$labels"
}
write_part "$train" train-images-idx3-ubyte train-labels-idx1-ubyte "$seed"
write_part "$test" t10k-images-idx3-ubyte t10k-labels-idx1-ubyte "$((seed + 1))"
