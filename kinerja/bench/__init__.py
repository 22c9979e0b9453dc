"""`make bench`: Kinerja's workloads at agency scale against baselines measured in the same run."""
