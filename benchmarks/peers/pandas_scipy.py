"""Peer: pandas read_csv + scipy log_softmax (what a user writes instead of xent)."""

import sys

import numpy as np
import pandas as pd
from scipy.special import log_softmax

scores = pd.read_csv(sys.argv[1], header=None).to_numpy(dtype=np.float64)
labels = pd.read_csv(sys.argv[2], header=None).to_numpy().ravel()
logp = log_softmax(scores, axis=1)
print(repr(float(-logp[np.arange(len(labels)), labels].mean())))
