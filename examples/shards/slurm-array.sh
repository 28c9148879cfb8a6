#!/bin/sh
# Convert a large tree in 16 shards as a Slurm job array: `sbatch slurm-array.sh`.
# Slurm gives each task SLURM_ARRAY_TASK_ID, _MIN and _COUNT; `--shard auto` turns them into
# shard i/16 (an array may start at 0 or 1). Then, once every task is done:
#   globpipe verify-shards manifests/shard-*.json
#SBATCH --job-name=globpipe
#SBATCH --array=1-16
#SBATCH --cpus-per-task=4
#SBATCH --output=logs/globpipe-%A_%a.log
set -eu
mkdir -p manifests
exec npx globpipe -C /scratch/corpus '**/*.txt' -t gzip -o /scratch/corpus-gz \
  --shard auto --manifest "manifests/shard-$SLURM_ARRAY_TASK_ID.json"
