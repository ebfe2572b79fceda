#!/usr/bin/env bash
# Download the course datasets into this folder, verified and all-or-nothing.
#
#   bash datasets/get_datasets.sh                      # cifar10 and fashion_mnist
#   bash datasets/get_datasets.sh cifar10              # one of them
#   bash datasets/get_datasets.sh coco_captioning      # assignment 3's captioning data
#   bash datasets/get_datasets.sh all
#
# Safe to re-run: verified data is skipped. The work is done by
# `python3 -m course_utils.download` (PYTHON=... picks another interpreter);
# its exit code is passed through: 0 ok, 1 verification failure, 2 usage, 3 network.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ "$#" -eq 0 ]; then
    set -- cifar10 fashion_mnist
fi
exec "${PYTHON:-python3}" -m course_utils.download "$@"
