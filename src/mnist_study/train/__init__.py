"""Training: the batched engine (engine), a job that trains a spec's members and writes their
files (job), what its outputs say (metrics: probabilities, the training-set fit), and a job's
recorded outcome (outcome).
Importing this package imports nothing: the workflow reads `outcome` while it parses."""
