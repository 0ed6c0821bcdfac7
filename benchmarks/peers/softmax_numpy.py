"""Peer: np.load + a stable numpy softmax + np.save (what a user writes instead of
``xent softmax SCORES.npy -o PROBS.npy``)."""

import sys

import numpy as np

scores = np.load(sys.argv[1])
weights = np.exp(scores - scores.max(axis=1, keepdims=True))
np.save(sys.argv[2], weights / weights.sum(axis=1, keepdims=True))
