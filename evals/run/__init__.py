"""One eval run over the suites, and the gate that compares it with thresholds and the baseline."""
