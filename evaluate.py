"""Score a model on held-out problems: `python evaluate.py [Hydra overrides]`.

By default it scores the latest finished run of `python run_training.py` (runs/<date>-<time>/checkpoints/weights.npz,
or the LoRA adapters merged into the base; `evaluate.run=<folder>` names another) on the held-out synthetic problems:
greedy accuracy, partial-credit rate and format rate, written to evaluation.json in that run's folder;
`evaluate.num_samples=8` adds the accuracy of sampled completions and pass@8. It composes the same Hydra config as run_training.py, so the same
overrides pick the model and data. See agent_tunix.evaluate (nbs/14_evaluate.ipynb)."""

if __name__ == "__main__":   # (imports inside: the worker processes of guarded rewards re-run this file and need none of it)
    from agent_tunix.evaluate import main
    main()
