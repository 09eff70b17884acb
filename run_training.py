"""Train with GRPO through Tunix: `python run_training.py [Hydra overrides]`.

The default is the tiny built-in model on synthetic arithmetic, on CPU. Configs live in agent_tunix/conf/;
see agent_tunix.train (nbs/12_train.ipynb) for the keys, e.g.
`python run_training.py training.reward_function=check_answer training.log_rewards=true`."""
from agent_tunix.train import main

if __name__ == "__main__":
    main()
