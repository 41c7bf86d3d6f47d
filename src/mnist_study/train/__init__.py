"""Training: the batched engine (engine), a job that trains a spec's members and writes their
files (job), the metrics a job records (metrics), and a job's recorded outcome (outcome).
Importing this package imports nothing: the workflow reads `outcome` while it parses."""
