"""Train with GRPO through Tunix: `python run_training.py [Hydra overrides]`.

The default is the tiny built-in model on synthetic arithmetic, on CPU. Each run writes only into its own folder,
runs/<date>-<time>/ (config.yaml, checkpoints/, tensorboard/); Ctrl-C saves a checkpoint, and
`python run_training.py training.output_dir=runs/<that folder>` resumes it. Configs live in agent_tunix/conf/;
see agent_tunix.config (nbs/12_config.ipynb) for the keys, e.g.
`python run_training.py training.reward_function=check_answer training.log_rewards=true`."""

if __name__ == "__main__":   # (imports inside: the worker processes of guarded rewards re-run this file and need none of it)
    from agent_tunix.train import main
    main()
