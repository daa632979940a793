"""Training: the run's configuration, the loop around the step, its checkpoints, its logs, and
its distribution across devices and machines."""
